"""What the zoo's variants share: the 2-D variants' defaults (the GAN task's settings, on the raw coordinates
of the 8-Gaussian ring, without the tuned default's extras) and one-panel figure, and the digits variants'
data and batches."""
from __future__ import annotations

from minigen import backend
from minigen.autograd.tensor import Tensor
from minigen.backend import xp
from minigen.data import DataLoader, catalog
from minigen.optim import Adam
from minigen.training.gan_task import GANTask
from minigen.training.task import ConfigError, Task

# the game of the papers' toy experiments: MLP players on raw coordinates, no packing, no R1, no EMA,
# Adam(0.5, 0.999) at 1e-3 for both players, 3,000 steps of 256 points, constant learning rates
TOY_DEFAULTS = {**GANTask.defaults, "data": "ring8", "steps": 3000, "batch_size": 256, "latent_dim": 2,
                "hidden": 128, "depth": 2, "lr_g": 1e-3, "lr_d": 1e-3, "betas": [0.5, 0.999], "optimizer": "adam",
                "n_critic": 1, "activation": "relu", "lr_decay_start": 0.5, "lr_final": 1.0, "standardize": False,
                "pack": 1, "r1": 0.0, "ema": 0.0, "eval_every": 0}


class ToyVariant(GANTask):
    """The base of a 2-D zoo variant: the GAN task with :data:`TOY_DEFAULTS`; ``figure.png`` shows the
    samples on the data and the modes, titled with the run's measurements."""

    defaults = TOY_DEFAULTS
    cli = {}
    title = ""

    def figures(self, run, results) -> list:
        from minigen.viz import plots
        d = self.data
        x = self.evaluation_samples().numpy()
        lim = float(abs(d.x_train).max()) * 1.25
        layers = [(d.x_train[:2500], "data", "tab:blue"), (x, "samples", "tab:red")]
        if d.means is not None:
            layers.append((d.means, "modes", "black"))
        title = f"{self.title or self.name} on {d.name}, seed {self.seed}: {self.summary(results)}"
        return [plots.scatter_2d(layers, run.dir / "figure.png", title=title, lim=lim)]


N_CLASSES = 10


class DigitsTask(Task):
    """The base of a zoo variant on the 8x8 digits (or MNIST where a variant allows it): the split as
    host arrays (``self.data``, a :class:`minigen.data.catalog.Dataset`) and a DataLoader of ``(x, y)``
    training batches on the device, shuffled every epoch.  ``signed`` images are (N, 1, H, W) in [-1, 1]
    (for a tanh generator); otherwise rows of H*W pixels in [0, 1]."""

    defaults = {"data": "digits", "data_dir": None, "steps": 2000, "batch_size": 64}
    data_sets = ("digits",)
    signed = False

    @classmethod
    def check_config(cls, config):
        if config["data"] not in cls.data_sets:
            raise ConfigError(f"{cls.name}: data must be one of {', '.join(cls.data_sets)}, got {config['data']!r}")
        try:
            catalog.check_name(config["data"], config["data_dir"])
        except ValueError as e:
            raise ConfigError(str(e)) from None

    def __init__(self, config):
        super().__init__(config)
        self.data = catalog.load(config["data"], config["data_dir"])
        self.image_shape = tuple(self.data.image_shape)
        x, y = self.images(self.data.x_train), backend.to_device(self.data.y_train)
        self.loader = DataLoader((x, y), batch_size=config["batch_size"], shuffle=True, drop_last=True, seed=self.seed)

    def images(self, rows):
        """Host or device rows in [0, 1] -> the device layout the players use."""
        x = backend.to_device(rows, dtype=backend.default_float())
        if not self.signed:
            return x
        return x.reshape(x.shape[0], 1, *self.image_shape) * 2.0 - 1.0

    def rows(self, images):
        """The players' layout -> rows (N, H*W) in [0, 1] (device array), what the judge classifies."""
        a = images.data if isinstance(images, Tensor) else images
        if not self.signed:
            return a
        return xp.clip((a.reshape(a.shape[0], -1) + 1.0) * 0.5, 0.0, 1.0)

    def class_labels(self, n: int, label=None):
        """``n`` labels: all ``label``, or every class in turn."""
        if label is not None:
            return xp.full((n,), int(label), dtype=xp.int64)
        return xp.arange(n, dtype=xp.int64) % N_CLASSES




class DigitsGANTask(DigitsTask):
    """A digits variant that is one GAN: :meth:`make_gan` builds it, Adam (``lr_g``, ``lr_d``, ``betas``)
    trains its players, and a step is the GAN's step on the training batches: ``(x, y)`` pairs for a
    conditional GAN, the images alone otherwise."""

    conditional = True

    def __init__(self, config):
        super().__init__(config)
        c = config
        self.gan = self.make_gan()
        self.opt_g = Adam(self.gan.generator.parameters(), lr=c["lr_g"], betas=tuple(c["betas"]))
        self.opt_d = Adam(self.gan.discriminator.parameters(), lr=c["lr_d"], betas=tuple(c["betas"]))

    def make_gan(self):
        raise NotImplementedError

    def next_real(self):
        return self.loader.next() if self.conditional else self.loader.next()[0]

    def step(self, step):
        return self.gan.train_step(self.next_real, self.opt_d, self.opt_g, step)

    @property
    def labels(self):
        return N_CLASSES if self.conditional else None
