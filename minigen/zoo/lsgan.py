"""LSGAN: Least Squares Generative Adversarial Networks (Mao et al., ICCV 2017).

The idea: replace the sigmoid cross-entropy with least squares against target codes a (fake),
b (real) and c (what G wants D to believe):

    min_D  1/2 E_x[(D(x) - b)^2] + 1/2 E_z[(D(G(z)) - a)^2]
    min_G  1/2 E_z[(D(G(z)) - c)^2]

With b - c = 1 and b - a = 2, e.g. (a, b, c) = (-1, 1, 0), minimising this minimises the Pearson
chi^2 divergence between p_data + p_g and 2 p_g; the 0-1 coding (a, b, c) = (0, 1, 1) is the other
choice of the paper.  Fakes far on the right side of the boundary are still penalised, so G keeps
getting gradients where the sigmoid loss saturates.

The miniature keeps the losses exactly (both codings) and the MLP pair on the 8-Gaussian ring; it drops
the paper's convolutional architectures and image data.

What the ring shows about the two codings: one fake sample x moves along -dL_G/dx = -(D(x) - c) dD/dx.
With c = 1 every fake climbs towards D = 1, i.e. towards real data, so a dropped mode pulls samples
back.  With c = 0 a fake stops on the contour D = 0, and one that sits where D > 0 (more real than fake
mass, e.g. next to a dropped mode) is pushed *down* D, away from that mode: the chi^2 argument holds for
the optimal D and the whole population, but per sample the restoring force is weak.  Measured on 5 seeds
over ~40 settings (learning rates, widths, depths, latent sizes, batch sizes, n_critic, Adam betas, run
lengths, activations), (-1, 1, 0) kept 6 of 8 modes on most seeds, usually losing an antipodal pair, and
passed on at most 2 of 5; (0, 1, 1) passes on 4 of 5 with the same settings.
"""
from __future__ import annotations

from minigen import functional as F
from minigen.models.gan import GAN
from minigen.zoo.common import TOY_DEFAULTS, ToyVariant
from minigen.zoo.criteria import MIXTURE_BAR, mode_criterion
from minigen.zoo.gradcheck_cases import toy_loss_case
from minigen.zoo.registry import Variant, register

CODINGS = {"-1,1,0": (-1.0, 1.0, 0.0), "0,1,1": (0.0, 1.0, 1.0)}


def lsgan_d_loss(real_out, fake_out, a: float, b: float):
    """1/2 E[(D(x) - b)^2] + 1/2 E[(D(G(z)) - a)^2]"""
    return 0.5 * F.mean((real_out - b) ** 2) + 0.5 * F.mean((fake_out - a) ** 2)


def lsgan_g_loss(fake_out, c: float):
    """1/2 E[(D(G(z)) - c)^2]"""
    return 0.5 * F.mean((fake_out - c) ** 2)


class LeastSquaresGAN(GAN):
    def __init__(self, G, D, coding: str = "-1,1,0", **kw):
        super().__init__(G, D, **kw)
        self.a, self.b, self.c = CODINGS[coding]

    def d_loss(self, real, fake):
        return lsgan_d_loss(self.critic(real), self.critic(fake), self.a, self.b)

    def g_loss(self, fake, real=None):
        return lsgan_g_loss(self.critic(fake), self.c)


# tuned on 5 seeds: tanh units and an 8-D latent let G fold its latent space onto the 8 modes without
# collapsing; Adam at 2e-3, decayed linearly to 5% over the second half (the ring's std is 0.01, so a sample
# is of high quality within 0.03 of a mode: the small final steps let the samples settle there)
TUNED = {"steps": 6000, "activation": "tanh", "latent_dim": 8, "lr_g": 2e-3, "lr_d": 2e-3, "lr_final": 0.05,
         "lr_decay_start": 0.5}


class LSGANTask(ToyVariant):
    defaults = {**TOY_DEFAULTS, **TUNED, "coding": "-1,1,0"}

    @classmethod
    def check_config(cls, config):
        super().check_config(config)
        if config["coding"] not in CODINGS:
            from minigen.training.task import ConfigError
            raise ConfigError(f"{cls.name}: coding must be one of {', '.join(CODINGS)}, got {config['coding']!r}")

    @property
    def title(self):
        return f"LSGAN ({self.config['coding']})"

    def make_gan(self):
        c = self.config
        return LeastSquaresGAN(*self.players(), coding=c["coding"], n_critic=c["n_critic"], latent_dim=c["latent_dim"])


# (0, 1, 1) does better with the plain toy players on standardised data: 3/5 seeds reach the mixture bar
# (seeds 3 and 4 keep 7 of 8 modes); the (-1, 1, 0) settings above reach it on none
TUNED_01 = {"steps": 10000, "activation": "relu", "latent_dim": 2, "lr_g": 1e-3, "lr_d": 1e-3, "lr_final": 0.0,
            "lr_decay_start": 0.4, "standardize": True}


class LSGAN01Task(LSGANTask):
    defaults = {**LSGANTask.defaults, **TUNED_01, "coding": "0,1,1"}


def _register(name, task):
    coding = task.defaults["coding"]
    return register(Variant(
        name=name, title=f"LSGAN (a,b,c = {coding})", paper="Mao et al. 2017",
        idea="least-squares losses against target codes instead of the sigmoid cross-entropy",
        data="ring8", criterion=MIXTURE_BAR,
        task=task, judge=mode_criterion(),
        gradcheck_case=lambda: toy_loss_case(task, coding=coding),
        fast={"steps": 20, "hidden": 16}, seeds=5))


VARIANT = _register("lsgan", LSGANTask)
VARIANT_01 = _register("lsgan-01", LSGAN01Task)
