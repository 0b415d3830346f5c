"""WGAN: Wasserstein GAN (Arjovsky, Chintala & Bottou, ICML 2017).

The idea: train G to minimise the Earth-Mover (Wasserstein-1) distance, in its Kantorovich-Rubinstein
dual form

    W(P_r, P_g) = sup_{||f||_L <= 1}  E_{x~P_r}[f(x)] - E_{x~P_g}[f(x)]

with f a *critic* (no sigmoid: its output is a score, not a probability) kept K-Lipschitz by clipping
every weight to [-c, c] after each update, c = 0.01.  Algorithm 1 of the paper:

    repeat n_critic = 5 times:   w <- clip(w + a RMSProp(grad_w [mean f_w(x) - mean f_w(G(z))]), -c, c)
    once:                        theta <- theta - a RMSProp(grad_theta [-mean f_w(G(z))])

with RMSProp (no momentum: momentum made the critic unstable in the paper) at a = 5e-5.  Because the
critic approximates K * W, its value is a loss that means something: it falls as the samples improve
(the paper's Figure 3), unlike the GAN discriminator's loss.

The miniature keeps the critic loss, the clipping of every critic parameter after every critic step,
n_critic = 5 and RMSProp, on the 8-Gaussian ring with MLPs.  It measures the paper's "meaningful loss"
claim: at 20 checkpoints the critic's estimate E f(x) - E f(G(z)) on a held-out batch is compared with a
sliced Wasserstein distance from the same samples to held-out data (computed on the side); their Spearman
rank correlation should be high.  It drops the paper's DCGAN/MLP image experiments and keeps the reference
code's bursts of 100 critic steps (the first 25 generator steps and every 500th).  The learning rates are
of the paper's order (G 3e-5, critic 1e-4 against its 5e-5): a G that converges in a few checkpoints
leaves a plateau where both curves are noise and the rank correlation ~0, so G is kept slow enough to
improve over most of the run, while a critic learning rate much above G's makes the estimate noisy.
The clipped critic is very smooth (Gulrajani et al. 2017, section 3): G ends as a ring smeared through
the modes (a few percent high-quality samples), not as 8 sharp clusters.
"""
from __future__ import annotations

from minigen import backend
from minigen import functional as F
from minigen.autograd.mode import no_grad
from minigen.autograd.tensor import Tensor
from minigen.backend import xp
from minigen.metrics import sliced_wasserstein
from minigen.models.gan import GAN
from minigen.nn import MLP
from minigen.zoo.common import TOY_DEFAULTS, ToyVariant
from minigen.zoo.criteria import MIXTURE_BAR, mean_std, mode_criterion
from minigen.zoo.gradcheck_cases import toy_loss_case
from minigen.zoo.registry import Variant, register


def critic_loss(real_out, fake_out):
    """-(E f(x) - E f(G(z))): the critic ascends the Wasserstein estimate."""
    return F.mean(fake_out) - F.mean(real_out)


def generator_loss(fake_out):
    """-E f(G(z))"""
    return -F.mean(fake_out)


def ranks(values) -> list[float]:
    """1-based ranks, ties sharing their mean rank."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    r = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            r[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return r


def spearman(a, b) -> float:
    """Spearman's rank correlation: the Pearson correlation of the ranks."""
    ra, rb = ranks(list(a)), ranks(list(b))
    ma, mb = sum(ra) / len(ra), sum(rb) / len(rb)
    cov = sum((x - ma) * (y - mb) for x, y in zip(ra, rb))
    va = sum((x - ma) ** 2 for x in ra)
    vb = sum((y - mb) ** 2 for y in rb)
    return cov / (va * vb) ** 0.5 if va > 0 and vb > 0 else 0.0


class WassersteinGAN(GAN):
    """The critic's and G's Wasserstein losses, every critic parameter clipped to [-clip, clip] after each
    critic step, and the reference code's critic schedule: ``burst`` critic steps for the first ``warmup``
    generator steps and every ``burst_every``-th, ``n_critic`` otherwise."""

    def __init__(self, G, D, clip: float = 0.01, warmup: int = 25, burst: int = 100, burst_every: int = 500, **kw):
        super().__init__(G, D, **kw)
        self.clip, self.warmup, self.burst, self.burst_every = clip, warmup, burst, burst_every

    def d_loss(self, real, fake):
        return critic_loss(self.critic(real), self.critic(fake))

    def g_loss(self, fake, real=None):
        return generator_loss(self.critic(fake))

    def critic_steps(self, step):
        # so the critic is near its optimum before its estimate is used (and measured)
        bursting = step < self.warmup or (self.burst_every and step % self.burst_every == 0)
        return self.burst if bursting else self.n_critic

    def after_d_step(self):
        # keep the critic in a compact set of functions (hence K-Lipschitz): clip every parameter
        for p in self.discriminator.parameters():
            xp.clip(p.data, -self.clip, self.clip, out=p.data)


class WGANTask(ToyVariant):
    """WGAN on the ring; every evaluation also records the critic's estimate on a held-out batch and the
    sliced Wasserstein distance of the same samples to held-out data."""

    title = "WGAN"
    # critic_hidden / critic_activation: the critic's width and units when they differ from G's (None: the same);
    # critic_warmup, critic_burst, burst_every: the reference code's 100 critic steps per G step early and every 500
    defaults = {**TOY_DEFAULTS, "optimizer": "rmsprop", "lr_g": 3e-5, "lr_d": 1e-4, "n_critic": 5, "clip": 0.01,
                "monitor_n": 2000, "critic_hidden": None, "critic_activation": None, "critic_warmup": 25,
                "critic_burst": 100, "burst_every": 500}

    def __init__(self, config):
        super().__init__(config)
        from minigen.data import toy2d
        n = config["monitor_n"]       # a held-out batch of real points and fixed latents, for the estimate
        self.held_real = backend.to_device(toy2d(config["data"], n, seed=self.seed + 20_000).x)
        self.held_z = self.gan.sample_latent(n, backend.Generator(self.seed + 20_001))

    def make_gan(self):
        c = self.config
        G, _ = self.players()
        width = c["critic_hidden"] or c["hidden"]
        D = MLP([2] + [width] * c["depth"] + [1], activation=c["critic_activation"] or c["activation"])
        return WassersteinGAN(G, D, clip=c["clip"], warmup=c["critic_warmup"], burst=c["critic_burst"],
                              burst_every=c["burst_every"], n_critic=c["n_critic"], latent_dim=c["latent_dim"])

    def progress(self, step):
        with no_grad():
            fake = self.gan.generate(self.held_z)
            w_est = (F.mean(self.gan.critic(Tensor(self.held_real))) - F.mean(self.gan.critic(fake))).item()
            swd = sliced_wasserstein(fake, self.held_real, n_projections=128,
                                     generator=backend.Generator(self.seed + 20_002))
        return {**super().progress(step), "w_estimate": w_est, "swd": swd}

    def evaluate(self, run):
        evals = [m for m in run.metrics() if m.get("eval")]
        w, s = [m["w_estimate"] for m in evals], [m["swd"] for m in evals]
        return {**super().evaluate(run), "spearman_w_swd": spearman(w, s),
                "final_swd": s[-1] if s else float("nan"), "checkpoints": len(evals)}


def judge(results):
    """The mixture bar and Spearman(critic estimate, SWD) >= 0.8, on every seed."""
    rho, rhos = mean_std(r["spearman_w_swd"] for r in results)
    low = min(r["spearman_w_swd"] for r in results)
    return mode_criterion(lambda r: r["spearman_w_swd"] >= 0.8,
                          f"Spearman(W estimate, SWD) {rho:.2f} ± {rhos:.2f} (min {low:.2f})")(results)


VARIANT = register(Variant(
    name="wgan", title="WGAN", paper="Arjovsky et al. 2017",
    idea="a critic without sigmoid estimates the Wasserstein-1 distance; weights clipped to ±0.01 after each "
         "critic step; n_critic = 5; RMSProp",
    data="ring8",
    criterion=f"{MIXTURE_BAR}; and Spearman rank correlation >= 0.8 between the critic's estimate on a held-out "
              "batch and a sliced Wasserstein distance to held-out data, over 20 checkpoints, on every seed",
    task=WGANTask, judge=judge,
    gradcheck_case=lambda: toy_loss_case(WGANTask, monitor_n=8),
    fast={"steps": 20, "hidden": 16, "critic_hidden": 16, "monitor_n": 64, "critic_warmup": 2}, seeds=3))
