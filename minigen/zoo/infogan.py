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
conv nets and MNIST, for the 8-Gaussian ring (Game's MLPs): with 8 modes and 8 codes, the information
term pushes each code value onto its own mode.  The criterion: for each code value, 1,000 samples are
assigned to their nearest mode; the code's purity is the fraction in its majority mode.  Purity alone
would also be perfect for a G collapsed onto one mode (every code "pure"), so the criterion also asks the
codes' majority modes to cover at least 7 of the 8 modes; with lambda = 0 codes mix modes or collapse.
"""
from __future__ import annotations

import json
import math
import time
from pathlib import Path

from minigen import backend
from minigen import functional as F
from minigen import losses
from minigen.autograd.mode import no_grad
from minigen.autograd.tensor import Tensor
from minigen.backend import xp
from minigen.metrics import mode_coverage
from minigen.nn import MLP, Linear, Module
from minigen.zoo.criteria import mean_std
from minigen.zoo.digits_game import one_hot
from minigen.zoo.game import TOY_DEFAULTS, Game, Mixture
from minigen.zoo.gradcheck_cases import to_double
from minigen.zoo.registry import Variant, register

DEFAULTS = {**TOY_DEFAULTS, "data": "ring8", "steps": 1500, "latent_dim": 2, "n_codes": 8, "lam": 1.0,
            "per_code": 1000}
MIN_DISTINCT = 7      # purity alone is also 100% when G collapses onto one mode: the codes must spread out


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


class InfoGAN(Game):
    def __init__(self, config):
        super().__init__({**DEFAULTS, **config})
        self.k = self.cfg["n_codes"]
        self.lam = self.cfg["lam"]
        self.last_mi = math.nan

    def make_generator(self):
        c = self.cfg
        sizes = [c["latent_dim"] + c["n_codes"]] + [c["hidden"]] * c["depth"] + [2]
        return MLP(sizes, activation=c["activation"])

    def make_discriminator(self):
        c = self.cfg
        return InfoDiscriminator(c["hidden"], c["depth"], c["n_codes"], c["activation"])

    # G's input: noise z and the one-hot code c
    def latent_and_code(self, n: int, codes=None):
        if codes is None:
            codes = backend.rng().integers(0, self.k, size=(n,))
        z = Tensor(backend.rng().normal((n, self.cfg["latent_dim"])))
        return F.concatenate([z, one_hot(codes, self.k)], axis=1), codes

    def latent(self, n: int) -> Tensor:
        return self.latent_and_code(n)[0]

    # the losses: the GAN terms plus lambda (-L_I) on the fake batch, in both players' objectives
    def d_loss(self, real, fake, codes):
        """D and Q: -V_GAN + lambda (-L_I); ``fake`` is already detached from G."""
        real_logit, _ = self.D(real)
        fake_logit, q_logits = self.D(fake)
        gan = losses.discriminator_loss(real_logit, fake_logit)
        return gan + self.lam * info_loss(q_logits, codes, self.k)

    def g_loss(self, fake, codes):
        """G: -E log D(G(z, c)) + lambda (-L_I)."""
        fake_logit, q_logits = self.D(fake)
        self.last_info = info_loss(q_logits, codes, self.k)
        return losses.generator_loss_nonsaturating(fake_logit) + self.lam * self.last_info

    def d_step(self, real):
        zc, codes = self.latent_and_code(real.shape[0])
        loss = self.d_loss(real, self.G(zc).detach(), codes)
        self.opt_d.zero_grad()
        loss.backward()
        self.opt_d.step()
        self.after_d_step()
        return loss.item()

    def g_step(self, n):
        zc, codes = self.latent_and_code(n)
        fake = self.G(zc)
        loss = self.g_loss(fake, codes)
        self.opt_g.zero_grad()
        loss.backward()
        self.opt_g.step()
        self.last_mi = -self.last_info.item()      # L_I on this batch, before the step
        return loss.item()

    def progress(self):
        return {"mi_lower_bound": self.last_mi}

    def sample_code(self, code: int, n: int):
        """n samples G(z, c = code) as a device array (n, 2)."""
        with no_grad():
            zc, _ = self.latent_and_code(n, xp.full((n,), code, dtype=xp.int64))
            return self.G(zc).data


def code_purity(game: InfoGAN, means, per_code: int) -> dict:
    """For each code value: ``per_code`` samples, each assigned to its nearest mode; the purity is the
    fraction in the code's majority mode.  Returns the mean and worst purity, each code's majority mode
    and how many distinct modes the codes map to, plus the samples (for the figure)."""
    mu = backend.to_device(means).astype(xp.float64)
    purities, majority, samples = [], [], []
    for c in range(game.k):
        x = game.sample_code(c, per_code).astype(xp.float64)
        nearest = ((x[:, None, :] - mu[None, :, :]) ** 2).sum(-1).argmin(1)
        counts = xp.bincount(nearest, minlength=mu.shape[0])
        purities.append(float(counts.max()) / per_code)
        majority.append(int(counts.argmax()))
        samples.append(x)
    return {"purity": sum(purities) / len(purities), "min_purity": min(purities), "code_purity": purities,
            "code_mode": majority, "distinct_modes": len(set(majority)), "samples": samples}


def fit(config: dict, seed: int = 0, out=None, quiet: bool = True) -> dict:
    cfg = {**DEFAULTS, **config}
    backend.manual_seed(seed)
    data = Mixture(cfg["data"], seed)
    game = InfoGAN(cfg)
    t0 = time.perf_counter()
    history = []
    from tqdm import tqdm
    for step in tqdm(range(cfg["steps"]), disable=quiet, desc="InfoGAN"):
        m = game.train_step(lambda: data.batch(cfg["batch_size"]))
        if (step + 1) % max(1, cfg["steps"] // 20) == 0:
            history.append({"step": step + 1, **m, **game.progress()})
    seconds = time.perf_counter() - t0
    p = code_purity(game, data.toy.means, cfg["per_code"])
    cov = mode_coverage(game.sample(2500), data.toy.means, data.toy.std)
    res = {"seed": seed, "purity": p["purity"], "min_purity": p["min_purity"],
           "distinct_modes": p["distinct_modes"], "code_purity": p["code_purity"],
           "code_mode": p["code_mode"],
           "mi_lower_bound": game.last_mi, "mi_max": math.log(game.k),
           "modes": cov.modes, "n_modes": cov.n_modes, "high_quality": cov.high_quality,
           "reverse_kl": cov.reverse_kl, "seconds": round(seconds, 1), "history": history}
    if out is not None:
        from minigen.viz import plots
        out = Path(out)
        colors = ["tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown", "tab:pink",
                  "tab:olive", "tab:cyan", "tab:gray"]
        layers = [(backend.to_host(x[:300]), f"c={c}", colors[c % len(colors)])
                  for c, x in enumerate(p["samples"])]
        layers.append((data.toy.means, "modes", "black"))
        plots.scatter_2d(layers, out / "figure.png", lim=1.5,
                         title=f"InfoGAN on {cfg['data']}, seed {seed}: purity {p['purity']:.1%}, "
                               f"{p['distinct_modes']} distinct modes")
        out.mkdir(parents=True, exist_ok=True)
        (out / "results.json").write_text(json.dumps(res, indent=2))
    return res


def judge(results):
    m, s = mean_std(r["purity"] for r in results)
    lo = min(r["min_purity"] for r in results)
    dm, _ = mean_std(r["distinct_modes"] for r in results)
    mi, _ = mean_std(r["mi_lower_bound"] for r in results)
    good = sum(r["purity"] >= 0.9 and r["distinct_modes"] >= MIN_DISTINCT for r in results)
    k = len(results[0]["code_purity"])
    text = (f"code purity {m:.1%} ± {s:.1%} (worst code {lo:.0%}); the {k} codes map to {dm:.1f} distinct "
            f"modes; L_I {mi:.2f} / log {k} = {math.log(k):.2f} nats; {good}/{len(results)} seeds pass")
    return text, good == len(results)


def gradcheck_case():
    """Both objectives with the MI term, as a function of G's, D's trunk and both heads' parameters
    (float64); the D step's fake batch and the codes are constants."""
    backend.manual_seed(0)
    game = InfoGAN({"hidden": 5, "depth": 1, "activation": "tanh", "n_codes": 3})
    to_double(game.G)
    to_double(game.D)
    g = backend.Generator(1)
    real = Tensor(g.normal((6, 2), dtype=xp.float64))
    fake = Tensor(g.normal((6, 2), dtype=xp.float64))
    codes = g.integers(0, 3, size=(6,))
    z = Tensor(g.normal((6, 2), dtype=xp.float64))
    zc = F.concatenate([z, one_hot(codes, 3, dtype=xp.float64)], axis=1)
    params = list(game.D.parameters()) + list(game.G.parameters())

    def fn(*ps):
        return game.d_loss(real, fake, codes) + game.g_loss(game.G(zc), codes)
    return fn, params, False


VARIANT = register(Variant(
    name="infogan", title="InfoGAN", paper="Chen et al. 2016",
    idea="a categorical code c and a Q head on D's trunk; lambda * (E log Q(c ∣ G(z, c)) + H(c)) is "
         "maximised by both G and Q",
    data="ring8, 8-way code",
    criterion="each code value maps to one mode: purity (fraction of a code's samples in its majority mode) "
              ">= 90% averaged over the 8 codes, and the codes' majority modes cover >= 7 of the 8 modes, "
              "on every seed",
    fit=fit, judge=judge, gradcheck_case=gradcheck_case,
    defaults={"data": "ring8", "steps": 1500, "latent_dim": 2, "n_codes": 8, "lam": 1.0},
    options=tuple(DEFAULTS), fast={"steps": 20, "hidden": 16, "per_code": 50}, seeds=3))
