"""AAE: Adversarial Autoencoders (Makhzani, Shlens, Jaitly, Goodfellow & Frey, ICLR workshop 2016).

The idea: make an autoencoder's aggregated posterior q(z) = integral q(z | x) p_data(x) dx match a chosen
prior p(z) by a GAN *on the code*: a discriminator D tells prior samples z' ~ p(z) from codes
z = E(x), and the encoder E, acting as the generator, learns to fool it.  Each minibatch has two phases:

    reconstruction:  min_{E, Dec}  E_x ||x - Dec(E(x))||^2
    regularisation:  max_D  E_{z' ~ p(z)}[log D(z')] + E_x[log(1 - D(E(x)))]     (D on z)
                     min_E  -E_x[log D(E(x))]                                     (E as generator)

When the game is won q(z) = p(z), so the decoder, fed z ~ p(z), generates data: the AAE is a generative
model whose prior can be anything we can sample (a VAE needs its density for the KL term).

The miniature keeps the deterministic encoder, the two phases (three updates) per step, the Gaussian
prior p(z) = N(0, I) on a 2-D code, and the non-saturating generator loss for E.  It drops the paper's
other priors (mixture of 10 Gaussians, swiss roll), its supervised and semi-supervised variants, and
MNIST, for the 8x8 digits.  Criteria: the test codes cannot be told from the prior -- a permutation test of
the unbiased Gaussian-kernel MMD^2 between the 360 test codes and 2,000 prior draws, at bandwidths 0.5, 1
and 2 (around the prior's scale), p >= 0.05 / 3 at each (Bonferroni) -- and the test reconstructions beat a
rank-2 PCA (the best linear 2-D code) in mean squared error.  The test rejects codes from N(0, 1.2^2 I) or
shifted by 0.3 sigma (10 of 10 simulated draws each), which a fixed MMD^2 < 0.01 threshold accepted.

Training: Adam for the three updates (the paper uses SGD with momentum), with the same learning rate for
the regularisation phase as for reconstruction (with a 5x smaller one the encoder's codes drift off to a
scale of ~5 and D wins), all three dropped 10x for the last quarter of the run: before the drop the
game keeps moving the codes, and MMD^2 wanders between ~0.002 and ~0.012 from checkpoint to checkpoint.
"""
from __future__ import annotations

from pathlib import Path

from minigen import backend
from minigen import functional as F
from minigen.autograd.mode import no_grad
from minigen.autograd.tensor import Tensor
from minigen.backend import xp
from minigen.metrics import mmd2, mmd2_permutation_test, pca_reconstruction_mse
from minigen.models.gan import GAN, update
from minigen.nn import MLP, LeakyReLU
from minigen.optim import Adam
from minigen.optim.lr_scheduler import MultiStepLR
from minigen.training.task import Samples
from minigen.zoo.common import DigitsTask
from minigen.zoo.criteria import mean_std
from minigen.zoo.gradcheck_cases import to_double
from minigen.zoo.registry import Variant, register

BANDWIDTHS = (0.5, 1.0, 2.0)
P_LEVEL = 0.05 / len(BANDWIDTHS)     # Bonferroni: three tests per seed


class AAETask(DigitsTask):
    """Encoder 64 -> hidden -> hidden -> code (linear), decoder code -> hidden -> hidden -> 64 (sigmoid),
    discriminator on codes: code -> d_hidden -> d_hidden -> 1 logit (LeakyReLU 0.2).  The GAN on z is a
    :class:`~minigen.models.GAN` whose generator is the encoder, whose "real" samples come from the prior
    and whose "latents" are the data batch."""

    defaults = {**DigitsTask.defaults, "steps": 2000, "batch_size": 128, "code_dim": 2, "hidden": 128,
                "d_hidden": 128, "lr_rec": 1e-3, "lr_d": 1e-3, "lr_g": 1e-3, "betas": [0.5, 0.999],
                "lr_drop_at": 0.75, "lr_drop": 0.1, "bandwidth": 1.0, "n_prior": 2000, "n_permutations": 500}

    def __init__(self, config):
        super().__init__(config)
        c = config
        h, k, betas = c["hidden"], c["code_dim"], tuple(c["betas"])
        E = MLP([64, h, h, k])
        self.decoder = MLP([k, h, h, 64], out_activation="sigmoid")
        D = MLP([k, c["d_hidden"], c["d_hidden"], 1], activation=LeakyReLU(0.2))
        self.gan = GAN(E, D, latent_dim=k)
        self.opt_rec = Adam(list(E.parameters()) + list(self.decoder.parameters()), lr=c["lr_rec"], betas=betas)
        self.opt_d = Adam(D.parameters(), lr=c["lr_d"], betas=betas)
        self.opt_g = Adam(E.parameters(), lr=c["lr_g"], betas=betas)
        # every learning rate drops by lr_drop once, at lr_drop_at of the run (the game settles there)
        drop = [max(1, int(c["lr_drop_at"] * c["steps"]))]
        self.schedules = {name: MultiStepLR(opt, drop, c["lr_drop"])
                          for name, opt in (("rec", self.opt_rec), ("d", self.opt_d), ("g", self.opt_g))}

    @property
    def encoder(self):
        return self.gan.generator

    def prior(self, n: int, generator=None) -> Tensor:
        return Tensor((generator or backend.rng()).normal((n, self.config["code_dim"])))

    def reconstruction_loss(self, x):
        """E_x ||x - Dec(E(x))||^2 (mean over pixels and batch)."""
        return F.mse_loss(self.decoder(self.encoder(x)), x)

    def step(self, step):
        x, _ = self.loader.next()
        rec = self.reconstruction_loss(x)                                        # phase 1: reconstruction
        update(self.opt_rec, rec)
        out = self.gan.train_step(lambda: self.prior(x.shape[0]), self.opt_d, self.opt_g, step, latent=x)  # phase 2
        for s in self.schedules.values():
            s.step()
        return {"reconstruction": rec.detach(), **out}

    def encode(self, x):
        with no_grad():
            return self.encoder(Tensor(backend.to_device(x))).data

    def decode(self, z):
        with no_grad():
            return self.decoder(Tensor(z)).data

    def code_test(self, codes) -> dict:
        """Codes against ``n_prior`` draws of the prior: the MMD^2 permutation test at three bandwidths;
        ``p_min`` is the smallest p-value (the codes pass at >= 0.05 / 3)."""
        c = self.config
        prior = self.prior(c["n_prior"], backend.Generator(1)).data
        t = mmd2_permutation_test(codes, prior, BANDWIDTHS, c["n_permutations"], backend.Generator(3))
        return {"mmd2": mmd2(codes, prior, c["bandwidth"]), "mmd2_test": t, "p_min": min(t["p_values"])}

    def evaluate(self, run):
        c, d = self.config, self.data
        codes = self.encode(d.x_test)
        prior = self.prior(c["n_prior"], backend.Generator(1)).data
        null = self.prior(codes.shape[0], backend.Generator(2)).data          # the estimator's noise level
        rec = self.decode(codes)
        x_test = backend.to_device(d.x_test)
        return {**self.code_test(codes),
                "mmd2_train": mmd2(self.encode(d.x_train), prior, c["bandwidth"]),
                "mmd2_null": mmd2(null, prior, c["bandwidth"]),
                "recon_mse": float(((rec - x_test) ** 2).mean()),
                "pca2_mse": pca_reconstruction_mse(d.x_train, d.x_test, c["code_dim"]),
                "code_mean": [float(v) for v in backend.to_host(codes.mean(0))],
                "code_std": [float(v) for v in backend.to_host(codes.std(0))]}

    def summary(self, r):
        return (f"codes vs prior: smallest p {r['p_min']:.3f} (MMD² {r['mmd2']:.4f}), test MSE {r['recon_mse']:.4f} "
                f"(PCA-2 {r['pca2_mse']:.4f})")

    def sample(self, n, label=None):
        """Dec(z) with z from the prior N(0, I): the AAE as a generative model."""
        return Samples(backend.to_host(self.decode(self.prior(n).data)), "images", image_shape=self.image_shape)

    def figures(self, run, results):
        codes = self.encode(self.data.x_test)
        return [figure(self, codes, self.decode(codes), run.dir / "figure.png",
                       f"AAE, seed {self.seed}: {self.summary(results)}")]


def figure(task: AAETask, codes, rec, path, title: str):
    """Left: the test codes by class over the prior's 1- and 2-sigma circles; middle: the decoder on a
    grid of prior quantiles; right: test digits (odd columns) and their reconstructions (even)."""
    import matplotlib.pyplot as plt

    from minigen.viz import plots
    data = task.data
    fig, axes = plt.subplots(1, 3, figsize=(15, 5))
    c = backend.to_host(codes)
    sc = axes[0].scatter(c[:, 0], c[:, 1], c=data.y_test, cmap="tab10", s=8)
    t = xp.linspace(0, 6.2832, 100)
    for r in (1.0, 2.0):
        axes[0].plot(backend.to_host(r * xp.cos(t)), backend.to_host(r * xp.sin(t)), "k--", lw=0.8)
    axes[0].set_aspect("equal")
    axes[0].set_title("test codes (prior: 1 and 2 sigma)")
    fig.colorbar(sc, ax=axes[0], ticks=range(10))
    q = xp.asarray([-1.64, -1.15, -0.67, -0.32, 0.0, 0.32, 0.67, 1.15, 1.64], dtype=backend.default_float())
    zz = xp.stack([xp.tile(q, q.shape[0]), xp.repeat(q[::-1], q.shape[0])], 1)    # row: z2 high to low
    axes[1].imshow(plots.image_grid(backend.to_host(task.decode(zz)), task.image_shape, q.shape[0]),
                   cmap="gray_r", vmin=0, vmax=1)
    axes[1].set_title("Dec(z) on prior quantiles (5%..95%)")
    pairs = xp.stack([backend.to_device(data.x_test[:50]), rec[:50]], 1).reshape(100, -1)
    axes[2].imshow(plots.image_grid(backend.to_host(pairs), task.image_shape, 10), cmap="gray_r", vmin=0, vmax=1)
    axes[2].set_title("test digit | reconstruction")
    for ax in axes[1:]:
        ax.axis("off")
    fig.suptitle(title)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path


def judge(results):
    m, s = mean_std(r["mmd2"] for r in results)
    p, _ = mean_std(r["p_min"] for r in results)
    rec, rs = mean_std(r["recon_mse"] for r in results)
    pca = results[0]["pca2_mse"]
    good = sum(r["p_min"] >= P_LEVEL and r["recon_mse"] < r["pca2_mse"] for r in results)
    text = (f"test codes vs N(0, I): smallest permutation p-value {p:.3f} (worst seed "
            f"{min(r['p_min'] for r in results):.3f}; bar {P_LEVEL:.4f}), MMD² {m:.4f} ± {s:.4f}; test MSE "
            f"{rec:.4f} ± {rs:.4f} vs PCA-2 {pca:.4f}; {good}/{len(results)} seeds pass both")
    return text, good == len(results)


def gradcheck_case():
    """The three AAE losses summed, as a function of encoder, decoder and code-discriminator parameters
    (float64); the codes of the D phase are a constant (finite differences cannot see a detach)."""
    backend.manual_seed(0)
    task = AAETask(AAETask.make_config(0, hidden=5, d_hidden=4))
    for net in (task.gan, task.decoder):
        to_double(net)
    g = backend.Generator(1)
    x = Tensor(g.uniform((6, 64), dtype=xp.float64))
    z_prior = Tensor(g.normal((6, 2), dtype=xp.float64))
    z_codes = Tensor(g.normal((6, 2), dtype=xp.float64))
    params = list(task.gan.parameters()) + list(task.decoder.parameters())

    def fn(*ps):
        gan = task.gan
        return task.reconstruction_loss(x) + gan.d_loss(z_prior, z_codes) + gan.g_loss(gan.generate(x))
    return fn, params, False


VARIANT = register(Variant(
    name="aae", title="AAE", paper="Makhzani et al. 2016",
    idea="an autoencoder whose codes are pushed to the prior N(0, I) by a GAN on z (the encoder is the "
         "generator)",
    data="digits 8x8, 2-D code",
    criterion="the test codes cannot be told from N(0, I): MMD² permutation test against 2,000 prior draws at "
              "bandwidths 0.5, 1, 2, p >= 0.05/3 at each; and test reconstruction MSE < PCA-2's; on every seed",
    task=AAETask, judge=judge, gradcheck_case=gradcheck_case,
    fast={"steps": 20, "hidden": 32, "d_hidden": 16, "n_prior": 200, "n_permutations": 50}, seeds=3))
