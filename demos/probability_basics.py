"""The lecture's probability basics, each computed with minigen.distributions rather than typed in.

1. A joint table p(x, y):  p(x=1) = sum_y p(1, y),  E[x] = sum_x x p(x),  p(y=2 | x=1) = p(1, 2) / p(x=1)
2. The KL homework:  KL(N(mu, s^2 I) || N(0, I)) = 1/2 (d s^2 + ||mu||^2 - d - 2 d log s),
   checked against the closed-form Gaussian KL and a Monte Carlo estimate
3. Entropy as code length: 4 equally likely symbols need 2 bits; with p = 1/2, 1/4, 1/8, 1/8 the prefix
   code A=0, B=10, C=110, D=111 averages H(p) = 1.75 bits, and the 2-bit code wastes KL(p || uniform)
4. Jensen's inequality for the concave log:  E[log X] <= log E[X]

Run:  python demos/probability_basics.py [--seed 0] [--out runs/demos/probability_basics]
"""
# %% [markdown]
# # Probability basics, computed rather than typed in
#
# The course's toolbox before VAEs and GANs, each number computed with `minigen.distributions`:
#
# * **marginal and conditional** of a joint table: $p(x) = \sum_y p(x, y)$, $p(y \mid x) = p(x, y) / p(x)$,
#   $\mathbb{E}[x] = \sum_x x\, p(x)$;
# * **KL divergence** $D_{KL}(p \,\|\, q) = \mathbb{E}_p[\log p / q]$; the homework
#   $D_{KL}(\mathcal{N}(\mu, s^2 I) \,\|\, \mathcal{N}(0, I)) = \frac12 (d s^2 + \|\mu\|^2 - d - 2 d \log s)$;
# * **entropy as code length**: $H(p) = -\sum p \log_2 p$ bits; a code built for $q$ costs the cross-entropy
#   $H(p, q)$, and $H(p, q) - H(p) = D_{KL}(p \,\|\, q)$ is the waste;
# * **Jensen's inequality** for the concave $\log$: $\mathbb{E}[\log X] \le \log \mathbb{E}[X]$ -- the step
#   that gives the ELBO.

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

import minigen as mg  # noqa: E402
import minigen.distributions as D  # noqa: E402
from minigen.backend import xp  # noqa: E402

# %% [markdown]
# The lecture's joint table, the prefix code and the skewed source of the entropy example.

# %%
JOINT = [[0.32, 0.03, 0.01],     # rows x = 1..3, columns y = 1..3 (the lecture's table)
         [0.06, 0.24, 0.02],
         [0.02, 0.03, 0.27]]
CODE = {"A": "0", "B": "10", "C": "110", "D": "111"}
P_SKEWED = [0.5, 0.25, 0.125, 0.125]


def f(a) -> float:
    """A 0-d tensor or array as a Python float (an explicit device -> host step)."""
    return float(mg.to_host(a.data if isinstance(a, mg.Tensor) else a))


# %% [markdown]
# ## 1. Marginal, expectation and conditional of the joint table

# %%
def joint_table(out: Path) -> dict:
    px = D.marginal(JOINT, 0)                         # p(x) = sum_y p(x, y)
    py = D.marginal(JOINT, 1)
    values = [1, 2, 3]
    res = {"p_x1": f(px[0]),
           "E_x": f(D.expectation(values, px)),
           "p_y2_given_x1": f(D.conditional(JOINT, 0, 0)[1]),       # p(y | x = 1), entry y = 2
           "E_y_given_x1": f(D.expectation(values, D.conditional(JOINT, 0, 0)))}
    fig, ax = plt.subplots(figsize=(5, 4))
    J = np.asarray(JOINT)
    ax.imshow(J, cmap="Blues")
    for i in range(3):
        for j in range(3):
            ax.text(j, i, f"{J[i, j]:.2f}", ha="center", va="center", color="w" if J[i, j] > 0.15 else "k")
        ax.text(2.6, i, f"p(x={i + 1}) = {mg.to_host(px)[i]:.2f}", va="center", fontsize=9)
        ax.text(i, 2.75, f"p(y={i + 1}) = {mg.to_host(py)[i]:.2f}", ha="center", fontsize=9)
    ax.set(xticks=range(3), xticklabels=["y=1", "y=2", "y=3"], yticks=range(3),
           yticklabels=["x=1", "x=2", "x=3"])
    ax.xaxis.tick_top()
    ax.set_title("joint p(x, y) with its marginals", pad=24)
    fig.tight_layout()
    fig.savefig(out / "joint_table.png", dpi=100)
    plt.close(fig)
    return res


# %% [markdown]
# ## 2. The KL homework: formula, closed-form Gaussian KL and Monte Carlo agree

# %%
def kl_homework(n_mc: int) -> dict:
    mu, s = np.array([1.0, -0.5, 2.0]), 0.7
    d = len(mu)
    formula = 0.5 * (d * s ** 2 + mu @ mu - d - 2 * d * math.log(s))           # the homework's answer
    p = D.MultivariateNormal(mg.tensor(mu), scale_tril=mg.tensor(s * np.eye(d)))
    q = D.MultivariateNormal(mg.tensor(np.zeros(d)), scale_tril=mg.tensor(np.eye(d)))
    closed = f(D.kl_divergence(p, q))
    est, se = D.mc_kl(p, q, n_mc)
    return {"kl_formula": formula, "kl_closed": closed, "kl_mc": f(est), "kl_mc_se": f(se),
            "kl_self": f(D.kl_divergence(p, p))}


# %% [markdown]
# ## 3. Entropy and codes: 2 bits for 4 equal symbols, 1.75 for $(\frac12, \frac14, \frac18, \frac18)$

# %%
def is_prefix_free(code: dict) -> bool:
    words = list(code.values())
    return not any(a != b and b.startswith(a) for a in words for b in words)


def coding(n_symbols: int) -> dict:
    symbols = list(CODE)
    lengths = [len(CODE[s]) for s in symbols]
    # a message drawn from p, encoded and decoded again: its bits per symbol approach H(p)
    msg = [symbols[i] for i in mg.to_host(D.sample_discrete(P_SKEWED, n_symbols)).tolist()]
    bits = "".join(CODE[s] for s in msg)
    decode = {v: k for k, v in CODE.items()}
    decoded, word = [], ""
    for b in bits:                      # prefix-free: a codeword ends as soon as it matches
        word += b
        if word in decode:
            decoded.append(decode[word])
            word = ""
    return {"H_uniform_bits": f(D.entropy([0.25] * 4, base=2)),
            "H_skewed_bits": f(D.entropy(P_SKEWED, base=2)),
            "expected_code_length": f(D.expectation(lengths, P_SKEWED)),
            "cross_entropy_2bit_code": f(D.cross_entropy(P_SKEWED, [0.25] * 4, base=2)),
            "kl_skewed_uniform_bits": f(D.kl_divergence(P_SKEWED, [0.25] * 4, base=2)),
            "empirical_bits_per_symbol": len(bits) / n_symbols,
            "prefix_free": is_prefix_free(CODE),
            "round_trip": decoded == msg,
            "message_head": "".join(msg[:12]), "bits_head": "".join(CODE[s] for s in msg[:12])}


# %% [markdown]
# ## 4. Jensen for the log, by Monte Carlo and exactly

# %%
def jensen(n: int, out: Path) -> dict:
    # X ~ U(0.5, 4): E[log X] = [x log x - x] / 3.5 over [0.5, 4];  log E[X] = log 2.25
    lo, hi = 0.5, 4.0
    exact_E_log = ((hi * math.log(hi) - hi) - (lo * math.log(lo) - lo)) / (hi - lo)
    x = mg.backend.rng().uniform((n,), lo, hi, dtype=xp.float64)
    E_log, log_E = f(xp.log(x).mean()), math.log(f(x.mean()))
    # the picture: a two-point X (values x1, x2 with weights 1-t, t): the chord lies below the log curve
    x1, x2, t = 0.5, 4.0, 0.4
    ex = (1 - t) * x1 + t * x2
    ef = (1 - t) * math.log(x1) + t * math.log(x2)
    g = np.linspace(0.3, 4.5, 300)
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(g, np.log(g), "k", label="log x (concave)")
    ax.plot([x1, x2], [math.log(x1), math.log(x2)], "b--",
            label=f"chord: X = {x1} w.p. {1 - t:.1f}, {x2} w.p. {t:.1f}")
    ax.plot([ex], [math.log(ex)], "go", label=f"log E[X] = {math.log(ex):.3f}")
    ax.plot([ex], [ef], "ro", label=f"E[log X] = {ef:.3f}")
    ax.vlines(ex, ef, math.log(ex), colors="gray", linestyles=":")
    ax.set(xlabel="x", title=f"Jensen: E[log X] <= log E[X]\n(X ~ U({lo}, {hi}): {E_log:.3f} <= {log_E:.3f})")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "jensen.png", dpi=100)
    plt.close(fig)
    return {"jensen_E_log": E_log, "jensen_log_E": log_E, "jensen_E_log_exact": exact_E_log,
            "jensen_log_E_exact": math.log((lo + hi) / 2)}


# %% [markdown]
# ## Run (`python demos/probability_basics.py`)

# %%
def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=200_000, help="Monte Carlo draws (KL check, Jensen)")
    ap.add_argument("--symbols", type=int, default=20_000, help="length of the encoded message")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="runs/demos/probability_basics")
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    mg.manual_seed(args.seed)
    t0 = time.perf_counter()
    r = {**joint_table(out), **kl_homework(args.n), **coding(args.symbols), **jensen(args.n, out)}

    print("1. joint table")
    print(f"   p(x=1)       = {r['p_x1']:.4f}")
    print(f"   E[x]         = {r['E_x']:.4f}")
    print(f"   p(y=2 | x=1) = {r['p_y2_given_x1']:.4f}  (= 0.03 / 0.36)")
    print(f"   E[y | x=1]   = {r['E_y_given_x1']:.4f}")
    print("2. KL(N(mu, s^2 I) || N(0, I)), mu = (1, -0.5, 2), s = 0.7")
    print(f"   1/2 (d s^2 + |mu|^2 - d - 2d log s) = {r['kl_formula']:.6f}")
    print(f"   closed-form Gaussian KL             = {r['kl_closed']:.6f}")
    print(f"   {f'Monte Carlo ({args.n} draws)':<36}= {r['kl_mc']:.6f} +- {r['kl_mc_se']:.6f}")
    print(f"   KL(p || p)                          = {r['kl_self']:.2e}")
    print("3. entropy and codes")
    print(f"   H(uniform over 4) = {r['H_uniform_bits']:.4f} bits;"
          f"  H(1/2,1/4,1/8,1/8) = {r['H_skewed_bits']:.4f} bits")
    print(f"   code {CODE} prefix-free: {r['prefix_free']}")
    print(f"   expected length sum p(x) len(x) = {r['expected_code_length']:.4f} bits")
    print(f"   a message {r['message_head']}... -> {r['bits_head']}...:"
          f" {r['empirical_bits_per_symbol']:.4f} bits/symbol, decodes back: {r['round_trip']}")
    print(f"   the 2-bit code costs H(p, uniform) = {r['cross_entropy_2bit_code']:.4f} bits,"
          f" wasting KL(p || uniform) = {r['kl_skewed_uniform_bits']:.4f}")
    print("4. Jensen for X ~ U(0.5, 4)")
    print(f"   E[log X] = {r['jensen_E_log']:.4f} (exact {r['jensen_E_log_exact']:.4f})"
          f"  <=  log E[X] = {r['jensen_log_E']:.4f} (exact {r['jensen_log_E_exact']:.4f})")
    print(f"figures in {out}/  ({time.perf_counter() - t0:.1f} s)")
    return r


# %%
if __name__ == "__main__":
    main(None if "__file__" in globals() else [])   # a notebook kernel's argv is not ours: the defaults
