"""``minigen train gan``: a GAN on the 2-D toy sets or the digits, with the mode-collapse metrics logged over
training and the figures of the run; and the base of the zoo's 2-D variants, which change only the game.

    minigen train gan --data grid25 --seed 0 --out runs/gan-grid25      # the tuned default, ~3 CPU minutes
    minigen train gan --data ring8 --steps 3000 --pack 1 --r1 0         # a short plain GAN
    minigen sample runs/gan-grid25 --n 2500 --out samples.npy
    minigen eval runs/gan-grid25

What is trained (per-data defaults in ``DEFAULTS``; every setting can be changed, ``--set key=value``):

* G: latent -> MLP -> data, D: data (x ``pack``) -> MLP -> logit, both on *standardised* coordinates
  (``standardize``): the 2-D sets are centred and divided by their overall standard deviation inside the
  networks (G's last step maps back, D's first maps in), so one set of hyper-parameters fits ring8
  (radius 1) and grid25 (spanning +-4).  Digits need none; G ends in a sigmoid (pixels in [0, 1]).
* :class:`minigen.models.GAN`'s step: the non-saturating loss (``loss="minimax"`` for the original),
  ``n_critic`` D updates per G update, PacGAN packing (``pack``), the R1 penalty gamma/2 E||grad D(x)||^2
  on real inputs (``r1``, gamma in standardised units), an EMA of G's weights to sample from (``ema``).
* Adam (``optimizer``: adam, rmsprop, sgd) at ``lr_g`` / ``lr_d``, constant until ``lr_decay_start`` of the
  run, then linear to ``lr_final`` times the rate at the end (:class:`minigen.optim.lr_scheduler.LinearDecayLR`).

Every ``eval_every`` steps the run logs, on ``eval_n`` samples from fixed latents: for the Gaussian
mixtures (ring8, grid25) the modes covered, the fraction of high-quality samples and the reverse KL of
the mode histogram (:func:`minigen.metrics.mode_coverage`); for the other 2-D sets the sliced
Wasserstein distance to the test points; for digits the reference classifier's verdict.  The run folder
also gets ``snapshots/`` (samples at each evaluation) and the figures: samples over training on the true
modes, D's decision surface with real and fake points, both players' losses, the metrics and the mode
(or class) histogram over time.
"""
from __future__ import annotations

import numpy as np

from minigen import backend
from minigen.autograd.mode import no_grad

from minigen.data import DataLoader, catalog
from minigen.models.gan import GAN, first
from minigen.nn import MLP, Module, Sequential
from minigen.optim import SGD, Adam, RMSprop
from minigen.optim.lr_scheduler import LinearDecayLR
from minigen.training.task import COMMON_FLAGS, ConfigError, Samples, Task, coerce_setting, register_task

# The mixtures' default (ring8, grid25), found by a search over the usual levers (see the issue-6 report):
# standardised coordinates, PacGAN packing of 2, R1 with gamma 0.1, Adam(0.5, 0.999) at 1e-3, batch 256,
# 50,000 steps whose last 60% decay the learning rate linearly to 0, and samples from an EMA (0.999) of
# G's weights.  Measured over 5 seeds: every mode on every seed, ~97% (grid25) / ~98.5% (ring8)
# high-quality samples, reverse KL < 0.01; ~2.5-3 CPU minutes a run (one BLAS thread).
_TOY = {"latent_dim": 2, "hidden": 128, "depth": 2, "lr_g": 1e-3, "lr_d": 1e-3, "betas": [0.5, 0.999],
        "batch_size": 256, "steps": 50000, "r1": 0.1, "pack": 2, "n_critic": 1, "lr_decay_start": 0.4,
        "lr_final": 0.0, "eval_every": 1000, "activation": "relu", "ema": 0.999}
DEFAULTS = {
    "mixture": _TOY,                                             # ring8, grid25
    "curve": {**_TOY, "steps": 20000, "eval_every": 500},        # moons, circles, spiral, swiss_roll
    "images": {"latent_dim": 16, "hidden": 256, "depth": 2, "lr_g": 2e-4, "lr_d": 2e-4, "betas": [0.5, 0.999],
               "batch_size": 64, "steps": 6000, "r1": 0.0, "pack": 1, "n_critic": 1, "lr_decay_start": 1.0,
               "lr_final": 1.0, "eval_every": 500, "activation": "leaky_relu", "ema": 0.0},
}
EVAL_N = 2500
OPTIMIZERS = {"adam": Adam, "rmsprop": RMSprop, "sgd": SGD}


def data_kind(name: str) -> str:
    if name in catalog.IMAGE_NAMES:
        return "images"
    return "mixture" if name in ("ring8", "grid25") else "curve"


class Affine(Module):
    """x -> x * scale + shift with fixed (not trained) constants: the standardisation inside G and D."""

    def __init__(self, shift, scale: float):
        super().__init__()
        self.shift_list, self.scale = [float(v) for v in shift], float(scale)
        self.shift = backend.to_device(np.asarray(self.shift_list, dtype=np.float32))

    def forward(self, x):
        if self.scale == 1.0 and not any(self.shift_list):
            return x
        return x * self.scale + self.shift

    def extra_repr(self):
        return f"scale={self.scale:.4g}"


@register_task
class GANTask(Task):
    """A GAN on a named data set: :class:`minigen.models.GAN` with MLP players, Adam, a linear learning-rate
    decay and a DataLoader.  Zoo variants subclass it and override :meth:`make_gan` (the game) and, where
    they measure more, :meth:`progress` and :meth:`evaluate`."""

    name, description = "gan", "GAN on 2-D mixtures or digits"
    defaults = {"data": "grid25", "data_dir": None, "loss": "nonsaturating", "optimizer": "adam",
                "standardize": True, "n_train": 20000, "eval_n": EVAL_N,   # eval_every 0: twenty over the run
                **{k: None for k in _TOY}}
    cli = {**COMMON_FLAGS,
           "--data": ("data", str, "ring8, grid25 (default), moons, circles, spiral, swiss_roll, digits (embedded "
                      "8x8), or mnist / fashion_mnist with --data-dir"),
           "--loss": ("loss", str, "generator loss: nonsaturating (default) or minimax"),
           "--n-critic": ("n_critic", int, "discriminator updates per generator update (default 1)"),
           "--batch-size": ("batch_size", int, "samples per batch (default 256 for 2-D, 64 for images)"),
           "--lr": (("lr_g", "lr_d"), float, "Adam learning rate of both players"),
           "--hidden": ("hidden", int, "hidden units per layer of G and D"),
           "--depth": ("depth", int, "hidden layers of G and D"),
           "--latent": ("latent_dim", int, "latent dimensions"),
           "--pack": ("pack", int, "PacGAN: D judges packs of this many samples (2-D default 2)"),
           "--r1": ("r1", float, "R1 penalty gamma (standardised units; 0 disables)"),
           "--ema": ("ema", float, "sample from an exponential moving average of G's weights with this decay (0: off)")}
    saved = ()

    @classmethod
    def check_config(cls, config):
        try:
            catalog.check_name(config["data"], config["data_dir"])
        except ValueError as e:
            raise ConfigError(str(e)) from None
        for key, value in DEFAULTS[data_kind(config["data"])].items():
            config[key] = value if config.get(key) is None else coerce_setting(cls.name, key, config[key], value)
        if config["eval_every"] == 0:          # 0: twenty evaluations over the run
            config["eval_every"] = max(1, config["steps"] // 20)
        if config["loss"] not in ("nonsaturating", "minimax"):
            raise ConfigError(f"{cls.name}: loss must be nonsaturating or minimax, got {config['loss']!r}")
        if config["optimizer"] not in OPTIMIZERS:
            raise ConfigError(f"{cls.name}: optimizer must be one of {', '.join(OPTIMIZERS)}, got {config['optimizer']!r}")
        if config["batch_size"] > config["n_train"] and config["data"] not in catalog.IMAGE_NAMES:
            raise ConfigError(f"{cls.name}: batch_size {config['batch_size']} is larger than n_train {config['n_train']}")
        if config["batch_size"] % config["pack"]:
            raise ConfigError(f"{cls.name}: batch_size {config['batch_size']} must be a multiple of pack {config['pack']}")
        if not 0.0 <= config["lr_decay_start"] <= 1.0:
            raise ConfigError(f"{cls.name}: lr_decay_start is a fraction of the run in [0, 1], got {config['lr_decay_start']}")

    def __init__(self, config):
        super().__init__(config)
        c = config
        self.data = catalog.load(c["data"], c["data_dir"], seed=self.seed, n_train=c["n_train"])
        self.gan = self.make_gan()
        self.opt_d, self.opt_g, self.schedules = self.optimizers(self.gan)
        self.loader = self.make_loader()
        self.progress_every = c["eval_every"]
        self.z_eval = self.gan.sample_latent(c["eval_n"], backend.Generator(self.seed + 7919))

    # --- what a variant changes ---
    def players(self, d_in: int | None = None, g_out: int | None = None, latent_dim: int | None = None,
                pack: int | None = None):
        """G: latent -> hidden^depth -> data (-> data units), D: (data units ->) data * pack -> hidden^depth -> 1."""
        c, d = self.config, self.data.dim
        pack = pack or c["pack"]
        hidden = [c["hidden"]] * c["depth"]
        shift, scale = self.standardization()
        out_act = "sigmoid" if self.data.is_image else None
        G = Sequential(MLP([latent_dim or c["latent_dim"]] + hidden + [g_out or d], activation=c["activation"],
                           out_activation=out_act), Affine(shift, scale))
        D = Sequential(Affine([-s / scale for s in shift] * pack, 1.0 / scale),
                       MLP([d_in or d * pack] + hidden + [1], activation=c["activation"]))
        return G, D

    def standardization(self) -> tuple:
        """(shift, scale) of the data: G's output is x = u * scale + shift for standardised u."""
        if self.data.is_image or not self.config["standardize"]:
            return [0.0] * self.data.dim, 1.0
        return [float(v) for v in self.data.x_train.mean(0)], float(self.data.x_train.std())

    def make_gan(self) -> GAN:
        c = self.config
        G, D = self.players()
        scale = self.standardization()[1]
        # R1 is given in standardised units; D's input is in data units: grad_x = grad_u / scale
        return GAN(G, D, loss=c["loss"], n_critic=c["n_critic"], latent_dim=c["latent_dim"], pack=c["pack"],
                   r1_gamma=c["r1"] * scale ** 2, ema=c["ema"])

    def make_optimizer(self, module: Module, lr: float):
        kind = OPTIMIZERS[self.config["optimizer"]]
        if kind is Adam:
            return Adam(module.parameters(), lr=lr, betas=tuple(self.config["betas"]))
        return kind(module.parameters(), lr=lr)

    def optimizers(self, gan: GAN) -> tuple:
        """(D's optimiser, G's optimiser, {"d": schedule, "g": schedule}) for the players of ``gan``: constant
        learning rates until ``lr_decay_start`` of the run, then linear to ``lr_final`` times them."""
        c = self.config
        opt_d, opt_g = self.make_optimizer(gan.discriminator, c["lr_d"]), self.make_optimizer(gan.generator, c["lr_g"])
        start = round(c["lr_decay_start"] * c["steps"])
        return opt_d, opt_g, {name: LinearDecayLR(opt, c["steps"], start, c["lr_final"])
                              for name, opt in (("d", opt_d), ("g", opt_g))}

    def make_loader(self) -> DataLoader:
        x = backend.to_device(self.data.x_train)
        return DataLoader(x, batch_size=self.config["batch_size"], shuffle=True, drop_last=True, seed=self.seed)

    def next_real(self):
        return self.loader.next()

    # --- the loop's calls ---
    def step(self, step):
        losses = self.gan.train_step(self.next_real, self.opt_d, self.opt_g, step)
        for s in self.schedules.values():
            s.step()
        return losses

    def progress(self, step) -> dict:
        with no_grad():
            x = first(self.gan.generate(self.z_eval, self.gan.sampler))
        if self.run is not None:
            self.run.save_snapshot(step, x[:32 if self.data.is_image else 1000])
        return self.measure(x)

    def measure(self, samples) -> dict:
        """The metrics of ``samples`` (device array or Tensor) on this task's data."""
        d = self.data
        kind = data_kind(d.name)
        if kind == "mixture":
            from minigen.metrics import mode_coverage
            c = mode_coverage(samples, d.means, d.std)
            return {"modes": c.modes, "n_modes": c.n_modes, "high_quality": c.high_quality,
                    "reverse_kl": c.reverse_kl, "counts": c.counts}
        if kind == "curve":
            from minigen.metrics import sliced_wasserstein
            return {"sliced_wasserstein": sliced_wasserstein(samples, d.x_test, 128, backend.Generator(0))}
        if d.name == "digits":
            from minigen.models.classifier import judge
            j = judge(samples)
            return {"confident": j["confident"], "classes_covered": j["classes_covered"],
                    "class_reverse_kl": j["reverse_kl"], "counts": j["class_counts"]}
        return {}

    def evaluation_samples(self, n: int | None = None):
        """``n`` (default ``eval_n``) samples from latents of their own seed: ``minigen eval`` reproduces the
        run's results whatever the engine RNG holds."""
        with no_grad():
            return first(self.gan.sample(n or self.config["eval_n"], backend.Generator(0)))

    def evaluate(self, run) -> dict:
        self.gan.eval()
        x = self.evaluation_samples()
        res = {"data": self.data.name, "n": x.shape[0], **self.measure(x)}
        kind = data_kind(self.data.name)
        if kind == "curve":       # the distance of real held-out points from the training points, for scale
            from minigen.metrics import sliced_wasserstein
            k = min(res["n"], len(self.data.x_train))
            res["sliced_wasserstein_data"] = sliced_wasserstein(self.data.x_train[:k], self.data.x_test, 128,
                                                                backend.Generator(0))
        if self.data.name == "digits":
            from minigen.models.classifier import reference_classifier
            res["classifier_test_accuracy"] = reference_classifier().accuracy
        self.gan.train()
        return res

    def summary(self, res: dict) -> str:
        if "modes" in res:
            return (f"{res['modes']}/{res['n_modes']} modes, {res['high_quality']:.1%} high quality, "
                    f"reverse KL {res['reverse_kl']:.4f} ({res['n']} samples)")
        if "sliced_wasserstein" in res:
            ref = res.get("sliced_wasserstein_data")
            return f"sliced Wasserstein to test {res['sliced_wasserstein']:.4f}" + (
                f" (data itself: {ref:.4f})" if ref is not None else "")
        if "confident" in res:
            return (f"{res['confident']:.1%} confidently classified, {res['classes_covered']}/10 classes, "
                    f"class reverse KL {res['class_reverse_kl']:.4f}")
        return ""

    def sample(self, n, label=None) -> Samples:
        x = first(self.gan.sample(n)).numpy()
        if self.data.is_image:
            return Samples(x, "images", image_shape=self.data.image_shape)
        return Samples(x, "points")

    # --- figures ---
    def figures(self, run, results) -> list:
        from minigen.training import gan_figures
        return gan_figures.draw(self, run)
