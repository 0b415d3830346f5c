"""``minigen train vae|ae``: a VAE or a plain autoencoder, evaluated on the test set, with its figures.

    minigen train vae                          # the embedded 8x8 digits, 2-D latent, ~1 minute on 2 cores
    minigen train vae --latent 16 --data mnist --data-dir DIR
    minigen train ae --data ring8

Defaults are tuned for the digits (1,437 training images): hidden layers of 256 and 128 units, Adam 2e-3,
batch 64, 300 epochs (2-D toy sets: 64, 64 units, 20 epochs, a Gaussian decoder with learned variance).
The evaluation: the test ELBO, its two terms and the IWAE bound (VAE) or the reconstruction error (AE),
and a 5-nearest-neighbour classifier on the test codes.
"""
from __future__ import annotations

import numpy as np

from minigen import backend
from minigen.autograd.mode import no_grad
from minigen.autograd.tensor import Tensor
from minigen.data import DataLoader, catalog
from minigen.models.gan import update
from minigen.models.vae import VAE, build
from minigen.optim import Adam
from minigen.training.task import COMMON_FLAGS, ConfigError, Samples, Task, register_task


def _sizes(text) -> list:
    return [int(h) for h in str(text).split(",")]


class AutoencoderTask(Task):
    """The shared training of ``vae`` and ``ae``: minibatches of the training images, Adam, -ELBO (or the
    reconstruction loss), one line of metrics per epoch."""

    kind = "ae"
    defaults = {"data": "digits", "data_dir": None, "latent_dim": 2, "hidden": None, "likelihood": None,
                "epochs": None, "batch_size": 64, "lr": 2e-3, "activation": "relu"}
    cli = {**COMMON_FLAGS,
           "--data": ("data", str, "digits (embedded, default), mnist, fashion_mnist (with --data-dir), or a 2-D "
                      "toy set: ring8, grid25, moons, circles, spiral, swiss_roll"),
           "--latent": ("latent_dim", int, "latent dimensions (default 2)"),
           "--hidden": ("hidden", _sizes, "hidden sizes, comma separated (default 256,128 for images, 64,64 for 2-D)"),
           "--likelihood": ("likelihood", str, "decoder p(x|z): bernoulli (images' default) or gaussian (2-D's)"),
           "--epochs": ("epochs", int, "passes over the training set (default 300; 2-D: 20)"),
           "--batch-size": ("batch_size", int, "examples per batch (default 64)"),
           "--lr": ("lr", float, "Adam's learning rate (default 2e-3)")}

    @classmethod
    def check_config(cls, config):
        try:
            catalog.check_name(config["data"], config["data_dir"])
        except ValueError as e:
            raise ConfigError(str(e)) from None
        images = config["data"] in catalog.IMAGE_NAMES
        if config["hidden"] is None:
            config["hidden"] = [256, 128] if images else [64, 64]
        if config["likelihood"] is None:
            config["likelihood"] = "bernoulli" if images else "gaussian"
        if config["likelihood"] not in ("bernoulli", "gaussian"):
            raise ConfigError(f"{cls.name}: likelihood must be bernoulli or gaussian, got {config['likelihood']!r}")
        if config["epochs"] is None:
            config["epochs"] = 300 if images else 20
        if config["epochs"] <= 0:
            raise ConfigError(f"{cls.name}: epochs must be positive, got {config['epochs']}")

    def __init__(self, config):
        super().__init__(config)
        self.data = catalog.load(config["data"], config["data_dir"], seed=self.seed)
        self.model = build(self.model_config())
        self.opt = Adam(self.model.parameters(), lr=config["lr"])
        self.loader = DataLoader(self.data.x_train, batch_size=config["batch_size"], shuffle=True, drop_last=True,
                                 seed=self.seed)
        self.log_every = len(self.loader)                 # one line per epoch

    def model_config(self) -> dict:
        c = self.config
        return {"kind": self.kind, "data_dim": self.data.dim, "latent_dim": c["latent_dim"], "hidden": c["hidden"],
                "likelihood": c["likelihood"], "activation": c["activation"]}

    @property
    def total_steps(self) -> int:
        return self.config["epochs"] * len(self.loader)

    def step(self, step):
        loss = self.model.loss(self.loader.next())
        update(self.opt, loss)
        return {"loss": loss.detach()}

    # --- evaluation ---
    def codes(self, x):
        with no_grad():
            return self.model.encode(Tensor(backend.to_device(x)))

    def evaluate(self, run) -> dict:
        self.model.eval()
        x = Tensor(backend.to_device(self.data.x_test))
        with no_grad():
            res = {"n_test": len(self.data.x_test),
                   "test_reconstruction_error": self.model.reconstruction_error(x).mean().item()}
        res.update(self._knn())
        return res

    def _knn(self) -> dict:
        if self.data.y_train is None or not self.data.is_image:
            return {}
        z_tr, z_te = (self._mean_code(self.codes(a)).numpy() for a in (self.data.x_train, self.data.x_test))
        return {"knn_accuracy": knn_accuracy(z_tr, self.data.y_train, z_te, self.data.y_test, k=5)}

    @staticmethod
    def _mean_code(codes):
        return codes[0] if isinstance(codes, tuple) else codes

    def summary(self, r: dict) -> str:
        parts = []
        for key, label in (("test_elbo", "test ELBO"), ("test_iwae", f"test IWAE(k={r.get('iwae_k')})"),
                           ("test_reconstruction", "reconstruction"), ("test_kl", "KL"),
                           ("test_reconstruction_error", "test reconstruction error")):
            if key in r:
                parts.append(f"{label}: {r[key]:.3f}" + (" nats" if key != "test_reconstruction_error" else ""))
        if "knn_accuracy" in r:
            parts.append(f"5-NN accuracy on codes: {r['knn_accuracy']:.2%}")
        return "  ".join(parts)

    # --- sampling ---
    def _decode(self, z):
        with no_grad():
            return self.model.mean_of(self.model.decode(Tensor(z))).numpy()

    def sample(self, n, label=None):
        """The autoencoder has no prior: z is drawn from a Gaussian fitted to the training codes, which shows
        why its latent space has holes (``demos/ae_vs_vae.py``)."""
        z = self._mean_code(self.codes(self.data.x_train)).numpy().astype(np.float64)
        mean, cov = z.mean(0), np.cov(z, rowvar=False).reshape(z.shape[1], z.shape[1])
        g = np.random.default_rng(int(backend.rng().integers(0, 2 ** 31 - 1, size=(1,))[0]))
        draws = g.multivariate_normal(mean, cov, size=n).astype(np.float32)
        return self._samples(self._decode(backend.to_device(draws)))

    def _samples(self, x) -> Samples:
        if self.data.is_image:
            return Samples(x, "images", image_shape=self.data.image_shape)
        return Samples(x, "points")

    # --- figures ---
    def figures(self, run, results) -> list:
        from minigen.viz import plots
        made, d = [], self.data
        vae = isinstance(self.model, VAE)
        keys = [["loss"], ["reconstruction", "kl"]] if vae else [["loss"]]
        made.append(plots.loss_curves(run.metrics(), keys, run.dir / "loss.png",
                                      title="-ELBO = -(reconstruction - KL)" if vae else "reconstruction loss"))
        codes = self._mean_code(self.codes(d.x_test)).numpy()
        made.append(plots.latent_scatter(codes, d.y_test, run.dir / "latent.png"))
        if d.is_image:
            n = 16
            with no_grad():
                rec = self.model.reconstruct(Tensor(backend.to_device(d.x_test[:n]))).numpy()
            made.append(plots.save_image_grid(np.concatenate([d.x_test[:n], rec]), d.image_shape,
                                              run.dir / "reconstructions.png",
                                              "test inputs (top two rows) and their reconstructions", nrow=8))
            if vae:
                made.append(plots.save_image_grid(self.sample(64).data, d.image_shape, run.dir / "samples.png",
                                                  "samples from the prior, decoded"))
                if self.model.latent_dim == 2:
                    made.append(manifold(self.model, d.image_shape, run.dir / "manifold.png"))
        else:
            lim = float(np.abs(d.x_test).max()) * 1.2
            layers = [(d.x_test, "data", "tab:blue")]
            if vae:
                layers.append((self.sample(2500).data, "samples", "tab:red"))
            made.append(plots.scatter_2d(layers, run.dir / "samples.png", title=d.name, lim=lim))
        return made


@register_task
class AETask(AutoencoderTask):
    name, kind, description = "ae", "ae", "plain autoencoder"


@register_task
class VAETask(AutoencoderTask):
    name, kind, description = "vae", "vae", "variational autoencoder"
    defaults = {**AutoencoderTask.defaults, "fixed_variance": None, "iwae_k": 1000}
    cli = {**AutoencoderTask.cli,
           "--fixed-variance": ("fixed_variance", float, "a Gaussian decoder with this fixed variance"),
           "--iwae-k": ("iwae_k", int, "importance samples for the test IWAE (default 1000)")}

    def model_config(self) -> dict:
        return {**super().model_config(), "fixed_variance": self.config["fixed_variance"]}

    def step(self, step):
        e = self.model.elbo(self.loader.next())
        loss = e.loss()
        update(self.opt, loss)
        return {"loss": loss.detach(), "reconstruction": e.reconstruction.mean().detach(), "kl": e.kl.mean().detach()}

    def evaluate(self, run) -> dict:
        """Test-set numbers: the ELBO (10 samples per image) and its terms, the IWAE bound, 5-NN on the codes."""
        self.model.eval()
        x = Tensor(backend.to_device(self.data.x_test))
        backend.manual_seed(self.seed + 1)
        with no_grad():
            e = self.model.elbo(x, n_samples=10)
            res = {"n_test": len(self.data.x_test), "test_elbo": e.elbo.mean().item(),
                   "test_reconstruction": e.reconstruction.mean().item(), "test_kl": e.kl.mean().item(),
                   "test_iwae": self.model.iwae(x, k=self.config["iwae_k"]).mean().item(),
                   "iwae_k": self.config["iwae_k"]}
        res.update(self._knn())
        return res

    def sample(self, n, label=None):
        """x = E[x | z] with z ~ N(0, I), the prior."""
        return self._samples(self.model.sample(n).numpy())


def knn_accuracy(z_train, y_train, z_test, y_test, k: int = 5) -> float:
    """Accuracy of a k-nearest-neighbour vote (Euclidean) of test codes among training codes."""
    d = ((z_test[:, None, :] - z_train[None, :, :]) ** 2).sum(-1)
    nn = np.argsort(d, axis=1)[:, :k]
    votes = y_train[nn]
    pred = np.array([np.bincount(v, minlength=int(y_train.max()) + 1).argmax() for v in votes])
    return float((pred == y_test).mean())


def manifold(model, image_shape, path, n: int = 15):
    """Decode a grid of z at the N(0, 1) quantiles (Kingma & Welling's learned manifold figure)."""
    from scipy.stats import norm

    from minigen.viz import plots
    u = np.linspace(0.5 / n, 1 - 0.5 / n, n)
    zs = norm.ppf(u)
    grid = np.array([[zx, zy] for zy in zs[::-1] for zx in zs], np.float32)
    with no_grad():
        imgs = model.mean_of(model.decode(Tensor(backend.to_device(grid)))).numpy()
    return plots.save_image_grid(imgs, image_shape, path, "decoded latent grid (z at Gaussian quantiles)", nrow=n)
