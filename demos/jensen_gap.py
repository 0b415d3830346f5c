"""The Jensen gap of a VAE, made exact with a linear-Gaussian latent model.

    p(z) = N(0, I_k),   p(x | z) = N(W z + b, s^2 I_d)
    =>  p(x) = N(b, W W^T + s^2 I)               (log p(x) exactly)
        p(z | x) = N(m, S),  S = (I + W^T W / s^2)^{-1},  m = S W^T (x - b) / s^2

For any q(z | x) = N(mu, diag(exp(logvar))) the lecture's decomposition holds exactly:

    log p(x) = ELBO(q) + KL(q(z|x) || p(z|x)),   ELBO(q) = E_q[log p(x|z)] - KL(q(z|x) || p(z))

so the Jensen gap log p(x) - ELBO is the KL to the true posterior.  Here the ELBO has a closed form,

    E_q[log p(x|z)] = -d/2 log(2 pi s^2) - (||x - b - W mu||^2 + sum_j exp(logvar_j) ||W_j||^2) / (2 s^2)

which is maximized over (mu, logvar) with minigen autograd and Adam.  Two models:

* ``orthogonal``: W has orthogonal columns, so the posterior covariance S is diagonal, q's family
  contains it, and the gap closes to 0;
* ``general``: a random W gives a correlated posterior; the best diagonal q has mean m and variances
  1 / (S^{-1})_jj, leaving a gap KL > 0 that no amount of fitting removes (the mean-field limit).

Run:  python demos/jensen_gap.py [--steps 800] [--seed 0] [--out runs/demos/jensen_gap]
"""
# %% [markdown]
# # The Jensen gap, exactly
#
# The course derives the ELBO from Jensen's inequality,
# $\log p(x) = \log \mathbb{E}_{q(z|x)}\big[\tfrac{p(x, z)}{q(z|x)}\big] \ge \mathbb{E}_{q(z|x)}\big[\log \tfrac{p(x, z)}{q(z|x)}\big]$,
# and asks, as homework, what the gap is. Answer:
#
# $$\log p(x) = \mathrm{ELBO}(q) + D_{KL}\big(q(z|x) \,\|\, p(z|x)\big),\qquad
# \mathrm{ELBO}(q) = \mathbb{E}_{q}[\log p(x|z)] - D_{KL}\big(q(z|x) \,\|\, p(z)\big).$$
#
# A linear-Gaussian latent model makes every term exact: $p(x)$, the posterior $p(z|x)$ and the ELBO all have
# closed forms, so the identity is checked to rounding, and fitting $q$ shows when the gap closes (a diagonal
# posterior) and when it cannot (a correlated one: the mean-field limit).

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
from minigen.optim import Adam  # noqa: E402

# %% [markdown]
# The model $p(z) = \mathcal{N}(0, I)$, $p(x|z) = \mathcal{N}(Wz + b, s^2 I)$ with its exact marginal, posterior and ELBO.

# %%
class LinearGaussian:
    """The model's constants (host NumPy for the set-up, device tensors for the computation)."""

    def __init__(self, W: np.ndarray, b: np.ndarray, s: float, x: np.ndarray):
        self.d, self.k = W.shape
        self.s = s
        self.W, self.b, self.x = mg.tensor(W), mg.tensor(b), mg.tensor(x)
        self.col_sq = mg.tensor((W ** 2).sum(0))                    # ||W_j||^2
        self.S = np.linalg.inv(np.eye(self.k) + W.T @ W / s ** 2)   # exact posterior covariance
        self.m = self.S @ W.T @ (x - b) / s ** 2                    # exact posterior mean
        cov_x = mg.tensor(W @ W.T + s ** 2 * np.eye(self.d))
        marginal = D.MultivariateNormal(self.b, covariance_matrix=cov_x)
        self.log_px = float(marginal.log_prob(self.x).item())
        self.posterior = D.MultivariateNormal(mg.tensor(self.m), covariance_matrix=mg.tensor(self.S))

    def elbo(self, mu, logvar):
        """Closed-form ELBO(q) for q = N(mu, diag(exp(logvar))): a differentiable scalar tensor."""
        r = self.x - self.b - self.W @ mu
        var = logvar.exp()
        expected_loglik = (-0.5 * self.d * math.log(2 * math.pi * self.s ** 2)
                           - ((r * r).sum() + (var * self.col_sq).sum()) / (2 * self.s ** 2))
        q = D.Normal(mu, (0.5 * logvar).exp())
        return expected_loglik - D.kl_divergence(q, D.Normal(0.0, 1.0)).sum()

    def elbo_mc(self, mu, logvar, n: int) -> float:
        """The same ELBO by Monte Carlo: mean of log p(x|z) + log p(z) - log q(z), z ~ q (rsample)."""
        q = D.Normal(mu, (0.5 * logvar).exp())
        z = q.rsample((n,))                                          # (n, k)
        loglik = D.Normal(z @ self.W.T + self.b, self.s).log_prob(self.x).sum(axis=1)
        prior = D.Normal(0.0, 1.0).log_prob(z).sum(axis=1)
        return float((loglik + prior - q.log_prob(z).sum(axis=1)).mean().item())

    def kl_to_posterior(self, mu, logvar) -> float:
        q = D.MultivariateNormal(mu, scale_tril=mg.tensor(np.eye(self.k)) * (0.5 * logvar).exp())
        return float(D.kl_divergence(q, self.posterior).item())

    def mean_field_gap(self) -> float:
        """min over diagonal q of KL(q || p(z|x)): q = N(m, diag(1 / (S^{-1})_jj))."""
        var = 1.0 / np.diag(np.linalg.inv(self.S))
        return self.kl_to_posterior(mg.tensor(self.m), mg.tensor(np.log(var)))


def make_model(kind: str, k: int, d: int, s: float, rng: np.random.Generator) -> LinearGaussian:
    A = rng.normal(size=(d, k))
    if kind == "orthogonal":
        Q, _ = np.linalg.qr(A)                       # orthonormal columns, then scaled: W^T W is diagonal
        W = Q[:, :k] * np.linspace(2.0, 1.0, k)
    else:
        W = A
    b = rng.normal(size=d) * 0.5
    z0 = rng.normal(size=k)
    x = W @ z0 + b + s * rng.normal(size=d)        # one observation from the model
    return LinearGaussian(W, b, s, x)


# %% [markdown]
# Check $\log p(x) = \mathrm{ELBO} + \mathrm{KL}$ for random $q$, then fit $q$ by gradient ascent on the ELBO (minigen autograd, Adam).

# %%
def identity_table(model: LinearGaussian, n_q: int, rng: np.random.Generator, n_mc: int) -> float:
    print(f"  {'q mean':>20} {'q var':>18} {'ELBO':>10} {'ELBO (MC)':>10} {'KL(q||post)':>12} "
          f"{'ELBO+KL':>10} {'log p(x)':>10}")
    worst = 0.0
    for _ in range(n_q):
        mu = mg.tensor(model.m + rng.normal(size=model.k))              # q's scattered around the posterior
        logvar = mg.tensor(np.log(np.diag(model.S)) + rng.normal(size=model.k))
        elbo, kl = float(model.elbo(mu, logvar).item()), model.kl_to_posterior(mu, logvar)
        worst = max(worst, abs(elbo + kl - model.log_px))
        mean_s = np.array2string(mu.numpy(), precision=2)
        var_s = np.array2string(np.exp(logvar.numpy()), precision=2)
        print(f"  {mean_s:>20} {var_s:>18}"
              f" {elbo:>10.4f} {model.elbo_mc(mu, logvar, n_mc):>10.4f} {kl:>12.4f} {elbo + kl:>10.4f}"
              f" {model.log_px:>10.4f}")
    print(f"  max |ELBO + KL - log p(x)| = {worst:.2e}")
    return worst


def fit(model: LinearGaussian, steps: int, lr: float) -> list:
    """Gradient ascent on the ELBO over (mu, logvar); returns the gap log p(x) - ELBO at every step."""
    mu = mg.tensor(np.zeros(model.k), requires_grad=True)
    logvar = mg.tensor(np.zeros(model.k), requires_grad=True)
    opt = Adam([mu, logvar], lr=lr)
    gaps = []
    for t in range(steps):
        for g in opt.param_groups:              # linear decay: Adam's steps shrink, so it settles exactly
            g["lr"] = lr * (1 - t / steps)
        opt.zero_grad()
        elbo = model.elbo(mu, logvar)
        (-elbo).backward()
        opt.step()
        gaps.append(model.log_px - float(elbo.item()))
    with mg.no_grad():
        gaps.append(model.log_px - float(model.elbo(mu, logvar).item()))
    model.fitted = (mu.detach(), logvar.detach())
    return gaps


# %% [markdown]
# ## Run (`python demos/jensen_gap.py`)

# %%
def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--k", type=int, default=2, help="latent dimensions")
    ap.add_argument("--d", type=int, default=5, help="observed dimensions")
    ap.add_argument("--noise", type=float, default=0.5, help="observation noise s")
    ap.add_argument("--steps", type=int, default=800)
    ap.add_argument("--lr", type=float, default=0.1)
    ap.add_argument("--table", type=int, default=6, help="random q's in the identity table")
    ap.add_argument("--mc", type=int, default=20_000, help="draws for the Monte Carlo ELBO column")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="runs/demos/jensen_gap")
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    mg.manual_seed(args.seed)
    t0 = time.perf_counter()

    result, curves = {}, {}
    for i, kind in enumerate(("orthogonal", "general")):
        # one stream per model and one for the table, so --table does not change the models
        model = make_model(kind, args.k, args.d, args.noise, np.random.default_rng([args.seed, i]))
        rng = np.random.default_rng([args.seed, i, 1])
        print(f"[{kind} W]  log p(x) = {model.log_px:.6f}")
        result[f"{kind}_identity_error"] = identity_table(model, args.table, rng, args.mc)
        gaps = fit(model, args.steps, args.lr)
        mu, logvar = model.fitted
        floor = model.mean_field_gap()
        curves[kind] = (gaps, floor)
        result[f"{kind}_gap_initial"], result[f"{kind}_gap_final"] = gaps[0], gaps[-1]
        result[f"{kind}_mean_field_gap"] = floor
        result[f"{kind}_kl_final"] = model.kl_to_posterior(mu, logvar)
        print(f"  fitted q: mean {np.array2string(mu.numpy(), precision=4)}, "
              f"var {np.array2string(np.exp(logvar.numpy()), precision=4)}")
        print(f"  posterior: mean {np.array2string(model.m, precision=4)}, "
              f"var {np.array2string(np.diag(model.S), precision=4)}"
              + (f", corr(z1, z2) {model.S[0, 1] / math.sqrt(model.S[0, 0] * model.S[1, 1]):.3f}"
                 if model.k > 1 else ""))
        print(f"  gap log p(x) - ELBO: {gaps[0]:.4f} at the start -> {gaps[-1]:.2e} after {args.steps} steps "
              f"(= KL(q||posterior) {result[f'{kind}_kl_final']:.2e}; best diagonal q: {floor:.2e})")

    fig, ax = plt.subplots(figsize=(7, 4))
    for kind, style in (("orthogonal", "-"), ("general", "--")):
        gaps, floor = curves[kind]
        ax.semilogy(np.maximum(gaps, 1e-16), style, label=f"{kind} W: log p(x) - ELBO")
        if floor > 1e-12:
            ax.axhline(floor, color="gray", ls=":", label=f"mean-field limit {floor:.3g}")
    ax.set(xlabel="Adam step", ylabel="Jensen gap = KL(q || p(z|x))",
           title="maximizing the ELBO closes the gap (down to the mean-field limit)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "jensen_gap.png", dpi=100)
    plt.close(fig)
    print(f"figure in {out}/  ({time.perf_counter() - t0:.1f} s)")
    return result


# %%
if __name__ == "__main__":
    main(None if "__file__" in globals() else [])   # a notebook kernel's argv is not ours: the defaults
