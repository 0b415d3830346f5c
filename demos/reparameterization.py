"""Two ways to differentiate an expectation  J(mu, sigma) = E_{z ~ N(mu, sigma^2)}[f(z)]:

    reparameterization (pathwise)   z = mu + sigma eps, eps ~ N(0, 1):
                                    dJ/dtheta = E[f'(z) dz/dtheta]         (autograd through Normal.rsample)
    score function (REINFORCE)      dJ/dtheta = E[f(z) d log N(z; mu, sigma^2) / dtheta]
                                    (autograd through Normal.log_prob, with z held fixed)

Both are unbiased; their variances differ.  With f(z) = (z - 1)^2 the exact answer is known,
J = (mu - 1)^2 + sigma^2, so dJ/dmu = 2 (mu - 1) and dJ/dsigma = 2 sigma.  Each estimator is repeated R
times at every sample size n (all R copies in one batched backward pass) and its variance across
the repeats is plotted against n on log-log axes: both fall as 1/n, the score function's from higher up.

Run:  python demos/reparameterization.py [--mu 0.5] [--sigma 1.2] [--repeats 400] [--seed 0]
"""
# %% [markdown]
# # Why VAEs backprop through $z = \mu + \sigma \epsilon$
#
# The course's **reparameterization trick**: a sample $z \sim \mathcal{N}(\mu, \Sigma)$ can be written
# $z = \mu + \Sigma^{1/2} \epsilon$ with $\epsilon \sim \mathcal{N}(0, I)$, so the randomness sits in $\epsilon$
# and the gradient flows through $\mu$ and $\sigma$. Two unbiased estimators of
# $\nabla_\theta\, \mathbb{E}_{z \sim \mathcal{N}(\mu, \sigma^2)}[f(z)]$:
#
# * **pathwise** (reparameterization): $\mathbb{E}_\epsilon[f'(\mu + \sigma\epsilon)\, \partial z / \partial \theta]$;
# * **score function** (REINFORCE): $\mathbb{E}_z[f(z)\, \nabla_\theta \log \mathcal{N}(z; \mu, \sigma^2)]$.
#
# With $f(z) = (z - 1)^2$ the exact gradients are $2(\mu - 1)$ and $2\sigma$; the demo measures each estimator's
# variance against the sample size.

# %%
from __future__ import annotations

import argparse
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

# %% [markdown]
# The test function and the two estimators, each run $R$ times at once in one batched backward pass.

# %%
def f(z):
    return (z - 1.0) ** 2


def estimates(mu: float, sigma: float, n: int, repeats: int, method: str):
    """``repeats`` independent n-sample estimates of (dJ/dmu, dJ/dsigma), as two host arrays (repeats,)."""
    loc = mg.tensor(np.full(repeats, mu), requires_grad=True)       # one copy of the parameters per repeat
    scale = mg.tensor(np.full(repeats, sigma), requires_grad=True)
    q = D.Normal(loc, scale)
    if method == "reparameterization":
        objective = f(q.rsample((n,))).mean(axis=0)                 # gradients flow through z
    else:
        z = q.sample((n,))                                          # z is a constant here
        objective = (f(z) * q.log_prob(z)).mean(axis=0)             # its gradient is the estimator
    g_mu, g_sigma = mg.grad(objective.sum(), [loc, scale])          # repeats are independent: sum is fine
    return g_mu.numpy(), g_sigma.numpy()


# %% [markdown]
# ## Run: variance against $n$ on log-log axes (`python demos/reparameterization.py`)

# %%
def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mu", type=float, default=0.5)
    ap.add_argument("--sigma", type=float, default=1.2)
    ap.add_argument("--repeats", type=int, default=400, help="independent estimates per sample size")
    ap.add_argument("--max-log2-n", type=int, default=10, help="sample sizes n = 1, 2, 4, ..., 2^this")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="runs/demos/reparameterization")
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    mg.manual_seed(args.seed)
    t0 = time.perf_counter()

    mu, sigma = args.mu, args.sigma
    exact = {"mu": 2 * (mu - 1), "sigma": 2 * sigma}
    # per-draw variance of the pathwise terms 2(z-1) and 2(z-1) eps:  4 sigma^2  and  4((mu-1)^2 + 2 sigma^2)
    reparam_var1 = {"mu": 4 * sigma ** 2, "sigma": 4 * ((mu - 1) ** 2 + 2 * sigma ** 2)}
    ns = [2 ** k for k in range(args.max_log2_n + 1)]
    methods = ("reparameterization", "score")
    var = {(m, p): [] for m in methods for p in ("mu", "sigma")}
    final = {}
    for n in ns:
        for m in methods:
            g_mu, g_sigma = estimates(mu, sigma, n, args.repeats, m)
            var[m, "mu"].append(g_mu.var(ddof=1))
            var[m, "sigma"].append(g_sigma.var(ddof=1))
            final[m] = (g_mu, g_sigma)

    print(f"f(z) = (z - 1)^2, z ~ N({mu}, {sigma}^2):  exact dJ/dmu = {exact['mu']:.4f}, "
          f"dJ/dsigma = {exact['sigma']:.4f}")
    print(f"{'n':>6} {'Var reparam mu':>15} {'Var score mu':>13} {'Var reparam sigma':>18}"
          f" {'Var score sigma':>16}")
    for i, n in enumerate(ns):
        print(f"{n:>6} {var['reparameterization', 'mu'][i]:>15.4g} {var['score', 'mu'][i]:>13.4g} "
              f"{var['reparameterization', 'sigma'][i]:>18.4g} {var['score', 'sigma'][i]:>16.4g}")
    result = {"exact_mu": exact["mu"], "exact_sigma": exact["sigma"], "n": ns,
              "reparam_var_per_draw_mu": reparam_var1["mu"],
              "reparam_var_per_draw_sigma": reparam_var1["sigma"]}
    for m in methods:
        g_mu, g_sigma = final[m]
        # the mean of R estimates at the largest n, and its standard error
        result[f"{m}_mu"], result[f"{m}_sigma"] = float(g_mu.mean()), float(g_sigma.mean())
        result[f"{m}_mu_se"] = float(g_mu.std(ddof=1) / np.sqrt(len(g_mu)))
        result[f"{m}_sigma_se"] = float(g_sigma.std(ddof=1) / np.sqrt(len(g_sigma)))
        for p in ("mu", "sigma"):
            v = np.array(var[m, p], dtype=float)
            result[f"var_{m}_{p}"] = v.tolist()
            result[f"slope_{m}_{p}"] = float(np.polyfit(np.log(ns), np.log(v), 1)[0])   # ~ -1: Var ~ 1/n
        print(f"{m:>18}: mean at n = {ns[-1]}:"
              f" dJ/dmu = {result[f'{m}_mu']:.4f} +- {result[f'{m}_mu_se']:.4f},"
              f" dJ/dsigma = {result[f'{m}_sigma']:.4f} +- {result[f'{m}_sigma_se']:.4f};"
              f" log-log slopes {result[f'slope_{m}_mu']:.2f}, {result[f'slope_{m}_sigma']:.2f}")
    for p in ("mu", "sigma"):
        ratio = float(np.mean(np.array(var["score", p]) / np.array(var["reparameterization", p])))
        result[f"variance_ratio_{p}"] = ratio
        print(f"score / reparameterization variance for d/d{p}: {ratio:.1f}x (mean over n)")

    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for ax, p in zip(axes, ("mu", "sigma")):
        for m, style in zip(methods, ("o-", "s--")):
            ax.loglog(ns, var[m, p], style, label=m)
        ax.loglog(ns, reparam_var1[p] / np.array(ns), "k:", lw=1,
                  label=f"exact reparam. variance {reparam_var1[p]:.2f}/n")
        ax.set(xlabel="samples per estimate n", ylabel="variance across repeats",
               title=f"d/d{p} E[(z-1)^2]   (exact {exact[p]:.2f})")
        ax.legend()
    fig.tight_layout()
    fig.savefig(out / "gradient_variance.png", dpi=100)
    plt.close(fig)
    print(f"figure in {out}/  ({time.perf_counter() - t0:.1f} s)")
    return result


# %%
if __name__ == "__main__":
    main(None if "__file__" in globals() else [])   # a notebook kernel's argv is not ours: the defaults
