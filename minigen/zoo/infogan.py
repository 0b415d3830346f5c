"""InfoGAN: Interpretable Representation Learning by Information Maximizing GANs (Chen et al., NeurIPS 2016).

The idea: split G's input into incompressible noise z and a latent code c, and make c *recoverable* from
G(z, c) by maximising the mutual information I(c; G(z, c)).  Its variational lower bound

    L_I(G, Q) = E_{c ~ p(c), x ~ G(z, c)}[log Q(c | x)] + H(c)  <=  I(c; G(z, c))

uses an auxiliary posterior Q(c | x), a head on D's trunk.  The game becomes

    min_{G, Q} max_D  V_GAN(D, G) - lambda L_I(G, Q)

so the D step also trains Q (on the detached fake batch and the codes that made it), and G's loss gets
the same -lambda L_I term (through Q into G).  For a categorical code c ~ Cat(K), log Q(c | x) is the
log-softmax of Q's K logits at c and H(c) = log K; lambda = 1 for discrete codes, as in the paper.

The miniature keeps exactly that: an 8-way categorical code (one-hot, concatenated to a 2-d noise z),
a D with a shared trunk and two heads (the real/fake logit and the K logits of Q), the MI term in both
objectives with lambda = 1, the non-saturating G loss.  It drops the continuous Gaussian codes, the
conv nets and MNIST, for the 8-Gaussian ring (the GAN task's MLPs): with 8 modes and 8 codes, the information
term pushes each code value onto its own mode.  The criterion: for each code value, 1,000 samples are
assigned to their nearest mode if of high quality; the code's purity is the fraction of those in its
majority mode.  Purity alone would also be perfect for a G collapsed onto one mode (every code "pure"),
so the criterion also asks the codes' majority modes to be 8 distinct modes, and the mixture bar of every
2-D variant; with lambda = 0 codes mix modes or collapse.

Good practice that is not the paper's idea (tuned on seeds 0-2 against the mixture bar): 6,000 steps with
Adam decayed linearly to 0 over the last 60% of the run, so the samples settle within a mode's width.
"""
from __future__ import annotations

import math

from minigen import backend
from minigen import functional as F
from minigen import losses
from minigen.autograd.mode import no_grad
from minigen.autograd.tensor import Tensor
from minigen.backend import xp
from minigen.models.gan import GAN, one_hot
from minigen.nn import MLP, Linear, Module
from minigen.training.task import Samples
from minigen.zoo.common import TOY_DEFAULTS, ToyVariant
from minigen.zoo.criteria import MIXTURE_BAR, mean_std, mode_criterion
from minigen.zoo.gradcheck_cases import small_game
from minigen.zoo.registry import Variant, register



class InfoDiscriminator(Module):
    """A shared trunk (2 -> hidden^depth, activated) and two linear heads: D's real/fake logit (n, 1) and
    Q's code logits (n, K)."""

    def __init__(self, hidden: int, depth: int, n_codes: int, activation: str = "relu"):
        super().__init__()
        self.trunk = MLP([2] + [hidden] * depth, activation=activation, out_activation=activation)
        self.d_head = Linear(hidden, 1)
        self.q_head = Linear(hidden, n_codes)

    def forward(self, x):
        h = self.trunk(x)
        return self.d_head(h), self.q_head(h)


def info_loss(q_logits, codes, n_codes: int):
    """-L_I = -(E[log Q(c | x)] + H(c)) for c ~ Cat(K) uniform: the cross-entropy of Q's logits at the
    codes that generated x, minus log K.  Its minimum, -log K, means I(c; x) reaches its maximum H(c)."""
    return F.cross_entropy(q_logits, codes) - math.log(n_codes)


class InfoGANGame(GAN):
    """G's input is noise z and a one-hot code c; generated batches carry their codes, ``(x, c)``; both
    players' losses gain lambda (-L_I) on the generated batch."""

    def __init__(self, G, D, n_codes: int, lam: float = 1.0, **kw):
        super().__init__(G, D, **kw)
        self.k, self.lam = n_codes, lam

    def sample_latent(self, n, generator=None, codes=None):
        g = generator or backend.rng()
        if codes is None:
            codes = g.integers(0, self.k, size=(n,))
        return Tensor(g.normal((n, self.latent_dim))), codes

    def generate(self, latent, net=None):
        z, codes = latent
        return (net or self.generator)(F.concatenate([z, one_hot(codes, self.k, z.dtype)], axis=1)), codes

    def critic(self, x):
        return self.discriminator(x[0] if isinstance(x, tuple) else x)[0]

    def d_loss(self, real, fake):
        """D and Q: -V_GAN + lambda (-L_I); ``fake`` = (G(z, c) detached, c)."""
        real_logit, _ = self.discriminator(real)
        fake_logit, q_logits = self.discriminator(fake[0])
        return losses.discriminator_loss(real_logit, fake_logit) + self.lam * info_loss(q_logits, fake[1], self.k)

    def g_loss(self, fake, real=None):
        """G: -E log D(G(z, c)) + lambda (-L_I)."""
        fake_logit, q_logits = self.discriminator(fake[0])
        info = info_loss(q_logits, fake[1], self.k)
        self.last_info = info.detach()
        return losses.generator_loss_nonsaturating(fake_logit) + self.lam * info


class InfoGANTask(ToyVariant):
    title = "InfoGAN"
    defaults = {**TOY_DEFAULTS, "steps": 6000, "lr_decay_start": 0.4, "lr_final": 0.0, "n_codes": 8, "lam": 1.0, "per_code": 1000}

    def make_gan(self):
        c = self.config
        G, _ = self.players(latent_dim=c["latent_dim"] + c["n_codes"])
        D = InfoDiscriminator(c["hidden"], c["depth"], c["n_codes"], c["activation"])
        return InfoGANGame(G, D, n_codes=c["n_codes"], lam=c["lam"], latent_dim=c["latent_dim"])

    def step(self, step):
        out = super().step(step)
        return {**out, "mi_lower_bound": -self.gan.last_info}     # L_I on G's batch, before its step

    @property
    def labels(self):
        return self.config["n_codes"]

    def sample_code(self, code: int, n: int, generator=None):
        """n samples G(z, c = code) as a device array (n, 2)."""
        with no_grad():
            latent = self.gan.sample_latent(n, generator, codes=xp.full((n,), code, dtype=xp.int64))
            return self.gan.generate(latent, self.gan.sampler)[0].data

    def sample(self, n, label=None):
        codes = (xp.full((n,), label, dtype=xp.int64) if label is not None else xp.arange(n) % self.gan.k)
        with no_grad():
            x, c = self.gan.generate(self.gan.sample_latent(n, codes=codes), self.gan.sampler)
        return Samples(x.numpy(), "points", labels=backend.to_host(c))

    def code_purity(self) -> dict:
        """For each code value: ``per_code`` samples; those of high quality (within 3 std of a mode) are
        assigned to their mode, and the code's purity is the fraction of them in its majority mode (0 for a
        code with no high-quality sample).  Purity over all samples would also reward codes that cut a
        smeared ring into sectors at any radius.  Returns the mean and worst purity, each code's majority
        mode and how many distinct modes the codes map to, plus the samples (for the figure)."""
        mu = backend.to_device(self.data.means).astype(xp.float64)
        per_code, g = self.config["per_code"], backend.Generator(1)
        radius = (3.0 * self.data.std) ** 2
        purities, loose, majority, majority_all, samples = [], [], [], [], []
        for c in range(self.gan.k):
            x = self.sample_code(c, per_code, g).astype(xp.float64)
            d2 = ((x[:, None, :] - mu[None, :, :]) ** 2).sum(-1)
            nearest = d2.argmin(1)
            counts = xp.bincount(nearest[d2.min(1) < radius], minlength=mu.shape[0])
            n_hq = int(counts.sum())
            purities.append(float(counts.max()) / n_hq if n_hq else 0.0)
            majority.append(int(counts.argmax()) if n_hq else -1 - c)      # no high-quality sample: no mode
            every = xp.bincount(nearest, minlength=mu.shape[0])
            loose.append(float(every.max()) / per_code)
            majority_all.append(int(every.argmax()))
            samples.append(x)
        return {"purity": sum(purities) / len(purities), "min_purity": min(purities), "code_purity": purities,
                "purity_all_samples": sum(loose) / len(loose), "distinct_modes_all_samples": len(set(majority_all)),
                "code_mode": majority,
                "distinct_modes": len({m for m in majority if m >= 0}), "samples": samples}

    def evaluate(self, run):
        p = self.code_purity()
        res = super().evaluate(run)
        train = [m for m in run.metrics() if not m.get("eval") and "mi_lower_bound" in m]
        res.update({k: v for k, v in p.items() if k != "samples"}, mi_max=math.log(self.gan.k),
                   mi_lower_bound=train[-1]["mi_lower_bound"] if train else float("nan"))
        return res

    def summary(self, r):
        return f"code purity {r['purity']:.1%}, {r['distinct_modes']} distinct modes; {super().summary(r)}"

    def figures(self, run, results):
        from minigen.viz import plots
        colors = ["tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown", "tab:pink",
                  "tab:olive", "tab:cyan", "tab:gray"]
        layers = [(backend.to_host(x[:300]), f"c={c}", colors[c % len(colors)])
                  for c, x in enumerate(self.code_purity()["samples"])]
        layers.append((self.data.means, "modes", "black"))
        return [plots.scatter_2d(layers, run.dir / "figure.png", lim=1.5,
                                 title=f"InfoGAN on {self.data.name}, seed {self.seed}: purity "
                                       f"{results['purity']:.1%}, {results['distinct_modes']} distinct modes")]


def judge(results):
    """The mixture bar; each code's high-quality samples >= 90% in one mode (mean over codes); every code on a
    mode of its own; on every seed."""
    m, s = mean_std(r["purity"] for r in results)
    lo = min(r["min_purity"] for r in results)
    dm, _ = mean_std(r["distinct_modes"] for r in results)
    mi, _ = mean_std(r["mi_lower_bound"] for r in results)
    k = len(results[0]["code_purity"])
    text = (f"code purity (high-quality samples) {m:.1%} ± {s:.1%} (worst code {lo:.0%}); the {k} codes map to "
            f"{dm:.1f} distinct modes; L_I {mi:.2f} / log {k} = {math.log(k):.2f} nats")
    return mode_criterion(lambda r: r["purity"] >= 0.9 and r["distinct_modes"] == len(r["code_purity"]),
                          text)(results)


def gradcheck_case():
    """Both objectives with the MI term, as a function of G's, D's trunk and both heads' parameters
    (float64); the D step's fake batch and the codes are constants."""
    backend.manual_seed(0)
    gan = small_game(InfoGANTask, n_codes=3)
    g = backend.Generator(1)
    real = Tensor(g.normal((6, 2), dtype=xp.float64))
    fake = Tensor(g.normal((6, 2), dtype=xp.float64))
    codes = g.integers(0, 3, size=(6,))
    z = Tensor(g.normal((6, gan.latent_dim), dtype=xp.float64))
    params = list(gan.discriminator.parameters()) + list(gan.generator.parameters())

    def fn(*ps):
        return gan.d_loss(real, (fake, codes)) + gan.g_loss(gan.generate((z, codes)))
    return fn, params, False


VARIANT = register(Variant(
    name="infogan", title="InfoGAN", paper="Chen et al. 2016",
    idea="a categorical code c and a Q head on D's trunk; lambda * (E log Q(c ∣ G(z, c)) + H(c)) is "
         "maximised by both G and Q",
    data="ring8, 8-way code",
    criterion=f"{MIXTURE_BAR}; and each code value maps to a mode of its own: purity (the fraction of a code's "
              "high-quality samples in its majority mode) >= 90% averaged over the 8 codes, 8 distinct majority modes, "
              "on every seed",
    task=InfoGANTask, judge=judge, gradcheck_case=gradcheck_case,
    fast={"steps": 20, "hidden": 16, "per_code": 50}, seeds=3))
