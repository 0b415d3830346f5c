"""Sampling from a distribution you can write down: discrete CDF search, inverse transform, rejection.

    discrete           P_i = p_1 + ... + p_i;  u ~ U(0,1);  take i with P_{i-1} <= u < P_i
    inverse transform  p(x) = 3/8 x^2 on [0, 2]:  F(x) = x^3 / 8,  x = F^{-1}(u) = 2 u^(1/3)
    rejection          x ~ q, h ~ U(0, M q(x)); keep x when h < p(x)   (kept with probability 1/M)

Run:  python demos/sampling.py [--n 20000] [--seed 0] [--out runs/demos/sampling]
Writes discrete.png, inverse_transform.png, rejection.png and prints the test statistics.
"""
# %% [markdown]
# # Sampling a distribution you can write down
#
# The course's statistical view of generation: the data are **samples** of a probability distribution, and if we
# know its density we can sample from it directly. Three ways, each checked here against the distribution:
#
# * **discrete** -- the CDF $P_i = \sum_{j \le i} p_j$; draw $u \sim \mathcal{U}(0, 1)$ and take $x_i$ with
#   $P_{i-1} \le u < P_i$;
# * **inverse transform** -- for $p(x) = \frac{3}{8} x^2$ on $[0, 2]$ the CDF is $F(x) = x^3 / 8$, so
#   $x = F^{-1}(u) = 2 \sqrt[3]{u}$;
# * **rejection** -- when $F^{-1}$ is unknown: draw $x \sim q$ from an envelope with $M q(x) \ge p(x)$, draw
#   $h \sim \mathcal{U}(0, M q(x))$ and keep $x$ when $h \le p(x)$ (a fraction $1/M$ is kept).

# %%
from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent if "__file__" in globals() else Path.cwd()   # a notebook: its folder
sys.path.insert(0, str(HERE.parent))   # run from a checkout without installing

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from scipy import stats  # noqa: E402

import minigen as mg  # noqa: E402
import minigen.distributions as D  # noqa: E402
from minigen.backend import xp  # noqa: E402

# %% [markdown]
# The distributions: a 5-value discrete one, a two-Gaussian mixture for rejection, and its envelope $q$.

# %%
P = [0.1, 0.2, 0.05, 0.4, 0.25]


def mixture_pdf(x):
    """The rejection target: 0.6 N(-1.5, 0.6^2) + 0.4 N(1.8, 0.8^2) (its CDF has no closed-form inverse)."""
    def n(m, s):
        return xp.exp(-0.5 * ((x - m) / s) ** 2) / (s * math.sqrt(2 * math.pi))
    return 0.6 * n(-1.5, 0.6) + 0.4 * n(1.8, 0.8)


Q_SCALE = 2.5                                  # proposal q = N(0, 2.5^2)


def q_pdf(x):
    return xp.exp(-0.5 * (x / Q_SCALE) ** 2) / (Q_SCALE * math.sqrt(2 * math.pi))


def q_sample(k, g):
    return g.normal((k,), scale=Q_SCALE, dtype=xp.float64)


def on_host(f, t):
    """Evaluate an xp function on a host grid and bring the result back (plots and scipy run on the host)."""
    return mg.to_host(f(mg.to_device(t)))


def host_cdf(pdf, lo, hi, m=200_001):
    t = np.linspace(lo, hi, m)
    p = on_host(pdf, t)
    F = np.concatenate([[0.0], np.cumsum((p[1:] + p[:-1]) * 0.5 * (t[1] - t[0]))])
    return lambda x: np.interp(x, t, F / F[-1])


# %% [markdown]
# ## 1. Discrete: search the CDF
# `searchsorted` finds $i$ with $P_{i-1} \le u < P_i$; the histogram of the draws is compared with $p$ by a
# $\chi^2$ test.

# %%
def discrete_part(n, out: Path) -> float:
    idx = mg.to_host(D.sample_discrete(P, n))
    counts = np.bincount(idx, minlength=len(P))
    pval = stats.chisquare(counts, n * np.array(P)).pvalue
    cdf = np.cumsum(P)
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4))
    k = np.arange(len(P))
    a.bar(k - 0.2, P, 0.4, label="p_i")
    a.bar(k + 0.2, counts / n, 0.4, label=f"frequency in {n} draws")
    a.set(title=f"sample_discrete: chi-square p = {pval:.3f}", xlabel="i")
    a.legend()
    b.step(np.r_[-1, k], np.r_[0, cdf], where="post", color="k", label="CDF  P_i")
    for u in mg.to_host(mg.backend.Generator(1).uniform((4,), dtype=xp.float64)):
        i = int(np.searchsorted(cdf, u, side="right"))
        b.plot([-1, i], [u, u], "r--", lw=1)
        b.plot([i, i], [0, u], "r:", lw=1)
        b.annotate(f"u={u:.2f} -> {i}", (i, u), textcoords="offset points", xytext=(4, 4), fontsize=8)
    b.set(title="u ~ U(0,1) picks i with P_{i-1} <= u < P_i", xlabel="i", ylim=(0, 1.05), xlim=(-1, 5))
    fig.tight_layout()
    fig.savefig(out / "discrete.png", dpi=100)
    plt.close(fig)
    return float(pval)


# %% [markdown]
# ## 2. Inverse transform: $x = 2 u^{1/3}$ has density $\frac{3}{8} x^2$

# %%
def inverse_part(n, out: Path):
    exact = mg.to_host(D.inverse_transform_sample(lambda u: 2.0 * u ** (1.0 / 3.0), n))
    numeric = mg.to_host(D.numeric_inverse_transform_sample(lambda t: 3.0 / 8.0 * t ** 2, 0.0, 2.0, n))

    def cdf(t):
        return np.clip(t, 0, 2) ** 3 / 8

    p_exact, p_numeric = stats.kstest(exact, cdf).pvalue, stats.kstest(numeric, cdf).pvalue
    t = np.linspace(0, 2, 200)
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, x, name, pv in ((axes[0], exact, "x = 2 u^(1/3)", p_exact),
                            (axes[1], numeric, "numeric F^{-1} (trapezoid + interp)", p_numeric)):
        ax.hist(x, bins=50, density=True, alpha=0.6, label=f"{n} samples")
        ax.plot(t, 3 / 8 * t ** 2, "k", label="p(x) = 3/8 x^2")
        ax.set(title=f"{name}: KS p = {pv:.3f}", xlabel="x")
        ax.legend()
    fig.tight_layout()
    fig.savefig(out / "inverse_transform.png", dpi=100)
    plt.close(fig)
    return float(p_exact), float(p_numeric)


# %% [markdown]
# ## 3. Rejection sampling under the envelope $M q(x)$

# %%
def rejection_part(n, out: Path, seed: int):
    t = np.linspace(-10, 10, 100_001)
    M = 1.02 * float(np.max(on_host(mixture_pdf, t) / on_host(q_pdf, t)))   # envelope: just above sup p/q
    res = D.rejection_sample(mixture_pdf, q_sample, q_pdf, M, n)
    x = mg.to_host(res.samples)
    pval = stats.kstest(x, host_cdf(mixture_pdf, -10, 10)).pvalue

    # the picture: 1500 proposals and their heights h = u M q(x); the ones under p are the ones kept
    g = mg.backend.Generator(seed + 1)
    xs = q_sample(1500, g)
    h = g.uniform((1500,), dtype=xp.float64) * M * q_pdf(xs)
    keep = mg.to_host(h < mixture_pdf(xs))
    xs, h = mg.to_host(xs), mg.to_host(h)
    grid = np.linspace(-7, 7, 500)
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4))
    a.scatter(xs[keep], h[keep], s=4, c="tab:green", label="accepted (h < p(x))")
    a.scatter(xs[~keep], h[~keep], s=4, c="tab:red", alpha=0.5, label="rejected")
    a.plot(grid, M * on_host(q_pdf, grid), "k--", label=f"envelope M q(x), M = {M:.2f}")
    a.plot(grid, on_host(mixture_pdf, grid), "b", label="p(x)")
    a.set(title="x ~ q, h ~ U(0, M q(x))", xlabel="x")
    a.legend(fontsize=8)
    b.hist(x, bins=80, density=True, alpha=0.6, label=f"{n} accepted samples")
    b.plot(grid, on_host(mixture_pdf, grid), "b", label="p(x)")
    b.set(title=f"rejection samples: KS p = {pval:.3f}\n"
                f"accepted {res.acceptance_rate:.3f} vs 1/M = {1 / M:.3f}",
          xlabel="x")
    b.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "rejection.png", dpi=100)
    plt.close(fig)
    return float(pval), res.acceptance_rate, res.acceptance_stderr, M


# %% [markdown]
# ## Run all three (`python demos/sampling.py --n 20000`)

# %%
def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=20_000, help="samples per method")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="runs/demos/sampling")
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    mg.manual_seed(args.seed)
    t0 = time.perf_counter()

    chi2_p = discrete_part(args.n, out)
    ks_exact, ks_numeric = inverse_part(args.n, out)
    ks_rej, rate, rate_se, M = rejection_part(args.n, out, args.seed)

    print(f"discrete CDF sampling      chi-square p-value vs p      {chi2_p:.4f}")
    print(f"inverse transform 2u^(1/3) KS p-value vs F(x) = x^3/8  {ks_exact:.4f}")
    print(f"numeric inverse transform  KS p-value vs F(x) = x^3/8  {ks_numeric:.4f}")
    print(f"rejection sampling         KS p-value vs the mixture   {ks_rej:.4f}")
    print(f"acceptance rate {rate:.4f} +- {rate_se:.4f}   vs 1/M = {1 / M:.4f}  (M = {M:.3f})")
    print(f"figures in {out}/  ({time.perf_counter() - t0:.1f} s)")
    return {"chi2_pvalue": chi2_p, "ks_inverse": ks_exact, "ks_numeric": ks_numeric, "ks_rejection": ks_rej,
            "acceptance_rate": rate, "acceptance_stderr": rate_se, "one_over_M": 1 / M, "M": M}


# %%
if __name__ == "__main__":
    main(None if "__file__" in globals() else [])   # a notebook kernel's argv is not ours: the defaults
