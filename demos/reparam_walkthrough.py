"""One VAE training step, completely: backprop through the reparameterization by hand, next to autograd.

The model is minigen's own ``VAE(2, 1, hidden=(1,), likelihood="gaussian", fixed_variance=s2,
activation="tanh")``, in float64, on one example x (so the batch mean is that example's value):

    encoder   a = W_e x + b_e            h = tanh(a)                      (one hidden unit)
              mu = W_mu h + b_mu         logvar = W_lv h + b_lv           (q(z|x) = N(mu, sigma^2))
    sample    sigma = exp(logvar / 2)    z = mu + sigma * eps             (eps fixed: the trick)
    decoder   c = W_d1 z + b_d1          g = tanh(c)      xhat = W_d2 g + b_d2     (one hidden unit)
    loss      L = -ELBO = -log N(x; xhat, s2 I) + KL(N(mu, sigma^2) || N(0, 1))
                = |x - xhat|^2 / (2 s2) + D/2 log(2 pi s2) + 1/2 (mu^2 + sigma^2 - 1 - logvar)

The gradients, derived by hand with the chain rule (each written in NumPy below, none taken from autograd):

    dL/dxhat   = (xhat - x) / s2
    dL/dg      = W_d2^T dL/dxhat            dL/dc = dL/dg (1 - g^2)          dL/dz = W_d1 dL/dc
    dL/dmu     = dL/dz * dz/dmu + dKL/dmu          = dL/dz + mu
    dL/dlogvar = dL/dz * dz/dlogvar + dKL/dlogvar  = dL/dz * eps * sigma / 2 + (sigma^2 - 1) / 2
    dL/dh      = W_mu dL/dmu + W_lv dL/dlogvar     dL/da = dL/dh (1 - h^2)
    weights    dL/dW = (dL/d output) (input)^T,  dL/db = dL/d output     for every Linear layer

Each is printed next to autograd's value (``loss.backward()`` with ``retain_grad()`` on the
intermediate tensors) and a central finite difference [L(q + d) - L(q - d)] / 2d (for an intermediate q,
the forward pass is restarted from the perturbed q).  The demo also writes the computation graph
(``minigen.viz.graph``, pictures by ``minigen.viz.draw``), the backward trace (``loss.backward(trace=True)``)
and a page that steps through it (``minigen.viz.backward_page``: backprop.html), then takes the SGD step.

Run:  python demos/reparam_walkthrough.py [--eps 0.7] [--s2 0.5] [--lr 0.1] [--seed N]
      (without --seed the weights are the fixed, hand-picked values of docs/reparam_walkthrough.md;
       with --seed they are drawn from N(0, 1))
"""
# %% [markdown]
# # One VAE step by hand: backprop through the reparameterization
#
# The VAE of the course: $p(z) = \mathcal{N}(0, I)$, $p(x|z) = \mathcal{N}(x; D(z), s^2 I)$ and an encoder
# $q(z|x) = \mathcal{N}(\mu, \sigma^2)$. The loss is the negative ELBO, reconstruction plus prior matching,
#
# $$L = -\mathbb{E}_{q}[\log p(x|z)] + D_{KL}\big(q(z|x) \,\|\, p(z)\big),$$
#
# with the one sample $z = \mu + \sigma \epsilon$ (the reparameterization trick: $\epsilon$ fixed, so $z$ is
# differentiable in $\mu$ and $\log\sigma^2$). Every gradient is derived by hand with the chain rule and compared
# with autograd and finite differences; where two paths meet ($\mu$ feeds $z$ and the KL) the gradients add:
#
# $$\frac{\partial L}{\partial \mu} = \frac{\partial L}{\partial z} + \mu, \qquad
# \frac{\partial L}{\partial \log\sigma^2} = \frac{\partial L}{\partial z}\,\frac{\epsilon\sigma}{2} + \frac{\sigma^2 - 1}{2}.$$
#
# The demo also draws the graph (`graph.svg`, `graph.png`) and writes `backprop.html`, a page that steps through
# the backward pass op by op.

# %%
from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import re
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent if "__file__" in globals() else Path.cwd()   # a notebook: its folder
sys.path.insert(0, str(HERE.parent))   # run from a checkout without installing

import numpy as np  # noqa: E402

import minigen as mg  # noqa: E402
import minigen.functional as F  # noqa: E402
from minigen.models.vae import VAE  # noqa: E402
from minigen.optim import SGD  # noqa: E402

# %% [markdown]
# The fixed example and weights, the model, and the forward pass node by node (each intermediate named, so the graph reads like the equations).

# %%
# the fixed example and weights of the docs page (shapes as minigen stores them: W is (out, in))
X = [[0.9, -0.3]]
WEIGHTS = {
    "encoder.0.weight": [[0.8, -0.4]], "encoder.0.bias": [0.1],
    "fc_mu.weight": [[1.5]], "fc_mu.bias": [-0.2],
    "fc_logvar.weight": [[-0.7]], "fc_logvar.bias": [0.3],
    "decoder.0.weight": [[1.2]], "decoder.0.bias": [0.05],
    "decoder.2.weight": [[0.9], [-0.6]], "decoder.2.bias": [0.2, 0.1],
}
NODES = ("a", "h", "mu", "logvar", "z", "c", "g", "xhat")   # the intermediate tensors, in forward order


def build_model(s2: float, seed: int | None) -> VAE:
    """The tiny VAE with float64 weights: the fixed ones, or N(0, 1) draws when a seed is given."""
    model = VAE(2, 1, hidden=(1,), likelihood="gaussian", fixed_variance=s2, activation="tanh")
    rng = np.random.default_rng(seed) if seed is not None else None
    for name, p in model.named_parameters():
        w = np.asarray(WEIGHTS[name], np.float64)
        if rng is not None:
            w = rng.normal(size=w.shape)
        p.data = mg.to_device(w)
    return model


def forward(model: VAE, x, eps, inject: dict | None = None) -> dict:
    """The forward pass, node by node, with the model's own layers and functions (the same computation
    as ``model.elbo(x, eps=eps).loss()``).  ``inject`` {node: host array} restarts it from a given value of
    an intermediate node (for the finite differences).  Returns {node: Tensor} plus rec, kl, loss."""
    enc, dec1, dec2 = model.encoder[0], model.decoder[0], model.decoder[2]
    v: dict = {}

    def node(name, compute):
        t = mg.tensor(mg.to_device(inject[name])) if inject and name in inject else compute()
        t.name = name
        v[name] = t
        return t

    a = node("a", lambda: enc(x))
    h = node("h", lambda: F.tanh(a))
    mu = node("mu", lambda: model.fc_mu(h))
    logvar = node("logvar", lambda: model.fc_logvar(h))
    z = node("z", lambda: model.reparameterize(mu, logvar, eps))      # mu + exp(logvar / 2) * eps
    c = node("c", lambda: dec1(z))
    g = node("g", lambda: F.tanh(c))
    xhat = node("xhat", lambda: dec2(g))
    v["rec"] = model.log_likelihood(x, xhat)                            # log N(x; xhat, s2 I), (N,)
    v["kl"] = F.sum(F.kl_normal_standard(mu, logvar), axis=-1)          # (N,)
    v["loss"] = -F.mean(v["rec"] - v["kl"])
    for k in ("rec", "kl", "loss"):
        v[k].name = k
    return v


# %% [markdown]
# ## The chain rule written out in NumPy, no autograd

# %%
def by_hand(P: dict, x: np.ndarray, eps: float, s2: float) -> tuple[dict, dict]:
    """Forward values and every gradient, in plain NumPy from the formulas (host float64 arrays)."""
    We, be = P["encoder.0.weight"], P["encoder.0.bias"]
    Wmu, bmu, Wlv, blv = P["fc_mu.weight"], P["fc_mu.bias"], P["fc_logvar.weight"], P["fc_logvar.bias"]
    Wd1, bd1 = P["decoder.0.weight"], P["decoder.0.bias"]
    Wd2, bd2 = P["decoder.2.weight"], P["decoder.2.bias"]
    D = x.shape[1]
    # forward: x (1, 2) rows, every quantity a (1, k) row like the tensors
    a = x @ We.T + be
    h = np.tanh(a)
    mu = h @ Wmu.T + bmu
    logvar = h @ Wlv.T + blv
    sigma = np.exp(logvar / 2)
    z = mu + sigma * eps
    c = z @ Wd1.T + bd1
    g = np.tanh(c)
    xhat = g @ Wd2.T + bd2
    rec = -((x - xhat) ** 2).sum() / (2 * s2) - D / 2 * math.log(2 * math.pi * s2)
    kl = 0.5 * (mu ** 2 + sigma ** 2 - 1 - logvar).sum()
    loss = -rec + kl
    fwd = dict(x=x, a=a, h=h, mu=mu, logvar=logvar, sigma=sigma, eps=np.array([[eps]]), z=z, c=c, g=g,
               xhat=xhat, rec=rec, kl=kl, loss=loss)
    # backward, the chain rule written out (L = -rec + kl, one example)
    d = {}
    d["xhat"] = (xhat - x) / s2                                   # d/dxhat |x - xhat|^2 / (2 s2)
    d["g"] = d["xhat"] @ Wd2                                      # xhat = W_d2 g + b_d2
    d["c"] = d["g"] * (1 - g ** 2)                                # tanh' = 1 - tanh^2
    d["z"] = d["c"] @ Wd1                                         # c = W_d1 z + b_d1
    d["mu"] = d["z"] * 1.0 + mu                                   # dz/dmu = 1;  dKL/dmu = mu
    d["logvar"] = d["z"] * eps * sigma / 2 + (sigma ** 2 - 1) / 2   # dz/dlogvar = eps sigma / 2;  dKL/dlogvar
    d["h"] = d["mu"] @ Wmu + d["logvar"] @ Wlv                    # h feeds both heads: the gradients add
    d["a"] = d["h"] * (1 - h ** 2)
    d["decoder.2.weight"], d["decoder.2.bias"] = d["xhat"].T @ g, d["xhat"].sum(0)
    d["decoder.0.weight"], d["decoder.0.bias"] = d["c"].T @ z, d["c"].sum(0)
    d["fc_mu.weight"], d["fc_mu.bias"] = d["mu"].T @ h, d["mu"].sum(0)
    d["fc_logvar.weight"], d["fc_logvar.bias"] = d["logvar"].T @ h, d["logvar"].sum(0)
    d["encoder.0.weight"], d["encoder.0.bias"] = d["a"].T @ x, d["a"].sum(0)
    return fwd, d


FORMULAS = {
    "xhat": "(xhat - x) / s2",
    "g": "W_d2^T dL/dxhat",
    "c": "dL/dg (1 - g^2)",
    "z": "W_d1 dL/dc",
    "mu": "dL/dz + mu",
    "logvar": "dL/dz eps sigma/2 + (sigma^2 - 1)/2",
    "h": "W_mu dL/dmu + W_lv dL/dlogvar",
    "a": "dL/dh (1 - h^2)",
    "decoder.2.weight": "dL/dxhat g",
    "decoder.2.bias": "dL/dxhat",
    "decoder.0.weight": "dL/dc z",
    "decoder.0.bias": "dL/dc",
    "fc_mu.weight": "dL/dmu h",
    "fc_mu.bias": "dL/dmu",
    "fc_logvar.weight": "dL/dlogvar h",
    "fc_logvar.bias": "dL/dlogvar",
    "encoder.0.weight": "dL/da x",
    "encoder.0.bias": "dL/da",
}
ORDER = ("xhat", "decoder.2.weight", "decoder.2.bias", "g", "c", "decoder.0.weight", "decoder.0.bias", "z",
         "mu", "logvar", "fc_mu.weight", "fc_mu.bias", "fc_logvar.weight", "fc_logvar.bias", "h", "a",
         "encoder.0.weight", "encoder.0.bias")


# %% [markdown]
# ## Central finite differences, the referee

# %%
def finite_differences(model: VAE, x, eps, fwd_host: dict, delta: float) -> dict:
    """Central differences of the loss: for each parameter element, and for each intermediate node's
    element (forward restarted from the perturbed node, everything upstream held)."""
    def loss_of(inject=None) -> float:
        with mg.no_grad():
            return forward(model, x, eps, inject)["loss"].item()

    out = {}
    params = dict(model.named_parameters())
    for name in ORDER:
        if name in params:
            p = params[name]
            base = mg.to_host(p.data).copy()
            g = np.zeros_like(base)
            for idx in np.ndindex(base.shape):
                vals = []
                for s in (+1, -1):
                    w = base.copy()
                    w[idx] += s * delta
                    p.data = mg.to_device(w)
                    vals.append(loss_of())
                g[idx] = (vals[0] - vals[1]) / (2 * delta)
            p.data = mg.to_device(base)
        else:
            base = fwd_host[name]
            g = np.zeros_like(base)
            for idx in np.ndindex(base.shape):
                vals = []
                for s in (+1, -1):
                    w = base.copy()
                    w[idx] += s * delta
                    vals.append(loss_of({name: w}))
                g[idx] = (vals[0] - vals[1]) / (2 * delta)
        out[name] = g
    return out


def _fmt_idx(idx) -> str:
    return "[" + ",".join(str(i) for i in idx) + "]"


def _key(name: str, idx) -> str:
    """dL/dz[0,0] for a tensor of the forward pass, dL/d(fc_mu.weight)[0,0] for a parameter."""
    return f"dL/d{name if name in NODES else '(' + name + ')'}{_fmt_idx(idx)}"


def _stable_ids(dot: str) -> str:
    """minigen.viz.graph names nodes by Python id(); renumber them t0, t1, ... / f0, f1, ... in order of
    appearance, so the DOT text of two runs can be compared (the graph itself is unchanged)."""
    names: dict = {}

    def sub(m):
        return names.setdefault(m.group(0), f"{m.group(1)}{sum(k[0] == m.group(1) for k in names.values())}")
    return re.sub(r"\b([tf])\d{6,}\b", sub, dot)


# %% [markdown]
# ## Run: forward, graph, traced backward, the three-way table, the SGD step

# %%
def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--eps", type=float, default=0.7, help="the fixed noise draw eps (default 0.7)")
    ap.add_argument("--s2", type=float, default=0.5, help="the decoder's fixed variance s2 (default 0.5)")
    ap.add_argument("--lr", type=float, default=0.1, help="the SGD step size of the training step")
    ap.add_argument("--delta", type=float, default=1e-6, help="finite-difference step")
    ap.add_argument("--seed", type=int, default=None, help="draw the weights and x from N(0, 1) with this "
                    "seed (default: the fixed values of the docs page)")
    ap.add_argument("--out", default="runs/demos/reparam_walkthrough")
    ap.add_argument("--quiet", action="store_true", help="print only the summary line")
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    say = (lambda *a, **k: None) if args.quiet else print

    model = build_model(args.s2, args.seed)
    x_host = np.asarray(X, np.float64) if args.seed is None else \
        np.random.default_rng([args.seed, 1]).normal(size=(1, 2))
    x = mg.tensor(mg.to_device(x_host))
    eps = mg.tensor(mg.to_device(np.array([[args.eps]])))
    x.name, eps.name = "x", "eps"
    params = dict(model.named_parameters())
    P = {k: mg.to_host(p.data).copy() for k, p in params.items()}
    for k, p in params.items():
        p.name = k                                  # labels in the graph

    # ---------------- 1. forward ----------------
    v = forward(model, x, eps)
    for k in NODES:
        v[k].retain_grad()                          # keep dL/d(node) for the table
    loss = v["loss"]
    library_loss = model.elbo(x, eps=eps).loss().item()   # the same number from VAE.elbo
    fwd, hand = by_hand(P, x_host, args.eps, args.s2)
    say("== the model: minigen VAE(2, 1, hidden=(1,), likelihood='gaussian', "
        f"fixed_variance={args.s2}, activation='tanh'), float64, one example, eps = {args.eps} ==")
    say("weights: " + ", ".join(f"{k} = {P[k].tolist()}" for k in P))
    say("\n== 1. forward pass ==")
    fwd_rows = [("x", fwd["x"]), ("a = W_e x + b_e", fwd["a"]), ("h = tanh(a)", fwd["h"]),
                ("mu = W_mu h + b_mu", fwd["mu"]), ("logvar = W_lv h + b_lv", fwd["logvar"]),
                ("sigma = exp(logvar / 2)", fwd["sigma"]), ("eps", fwd["eps"]),
                ("z = mu + sigma eps", fwd["z"]), ("c = W_d1 z + b_d1", fwd["c"]),
                ("g = tanh(c)", fwd["g"]), ("xhat = W_d2 g + b_d2", fwd["xhat"]),
                ("rec = log N(x; xhat, s2 I)", fwd["rec"]),
                ("KL = (mu^2 + sigma^2 - 1 - logvar)/2", fwd["kl"]),
                ("L = -rec + KL", fwd["loss"])]
    forward_values = {}
    for label, val in fwd_rows:
        arr = np.atleast_1d(np.asarray(val, np.float64)).ravel()
        say(f"  {label:<40s} {'  '.join(f'{u: .10f}' for u in arr)}")
        forward_values[label.split(" =")[0]] = arr.tolist() if arr.size > 1 else float(arr[0])
    say(f"  minigen forward loss {loss.item():.12f}   VAE.elbo(x, eps).loss() {library_loss:.12f}   "
        f"by hand {fwd['loss']:.12f}")

    # ---------------- 2. the graph ----------------
    dot = _stable_ids(mg.viz.graph(loss))
    (out / "graph.dot").write_text(dot)
    n_ops = sum(1 for line in dot.splitlines() if "shape=box" in line)
    n_tensors = sum(1 for line in dot.splitlines() if "shape=ellipse" in line)
    say(f"\n== 2. the computation graph: {n_ops} ops, {n_tensors} tensors -> {out / 'graph.dot'} (the pictures "
        "graph.svg / graph.png follow the backward, to show each gradient's norm) ==")
    say(dot)

    # ---------------- 3. backward, traced ----------------
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        loss.backward(trace=True, retain_graph=True)
    trace = buf.getvalue()
    (out / "backward_trace.txt").write_text(trace)
    # the same graph again, now with each tensor's |grad| in its label
    (out / "graph_with_grads.dot").write_text(_stable_ids(mg.viz.graph(loss)))
    # pictures with nothing but matplotlib (Graphviz's layout where it is installed), and the step-by-step page
    graph_files = ["graph.dot"] + [mg.viz.draw(loss, out / f).name for f in ("graph.svg", "graph.png")]
    page = mg.viz.backward_page(loss, out / "backprop.html",
                                title="one VAE step: the backward pass through the reparameterization")
    graph_files.append(page.name)
    say("\n== 3. loss.backward(trace=True) ==")
    say(trace, end="")
    say(f"   pictures: {out / 'graph.svg'}, {out / 'graph.png'};  open {page} in a browser to step through "
        "this backward pass op by op")
    auto = {k: v[k].grad.numpy() for k in NODES}
    auto.update({k: p.grad.numpy() for k, p in params.items()})

    # ---------------- 4. hand vs autograd vs finite differences ----------------
    fwd_host = {k: v[k].numpy().copy() for k in NODES}
    fd = finite_differences(model, x, eps, fwd_host, args.delta)
    say("\n== 4. each gradient by hand, by autograd, by finite differences ==")
    say("  dL/dmu     = dL/dz * 1 + mu                      "
        f"= {hand['z'].item():.8f} + {fwd['mu'].item():.8f}   (reconstruction path through z + KL path)")
    say("  dL/dlogvar = dL/dz * eps * sigma/2 + (sigma^2-1)/2 "
        f"= {(hand['z'] * args.eps * fwd['sigma'] / 2).item():.8f} + "
        f"({((fwd['sigma'] ** 2 - 1) / 2).item():.8f})"
        "   (reconstruction path through z + KL path)")
    head = f"  {'quantity':<30s}{'hand formula':<38s}{'hand':>17s}{'autograd':>17s}{'finite diff.':>17s}"
    say(head)
    table, md = {}, ["| quantity | hand formula | hand | autograd | finite difference |",
                     "|---|---|---:|---:|---:|"]
    max_rel_auto = max_rel_fd = 0.0
    for name in ORDER:
        for idx in np.ndindex(hand[name].shape):
            key = _key(name, idx)
            hv, av, fv = float(hand[name][idx]), float(auto[name][idx]), float(fd[name][idx])
            table[key] = {"formula": FORMULAS[name], "hand": hv, "autograd": av, "finite_difference": fv}
            max_rel_auto = max(max_rel_auto, abs(hv - av) / max(abs(av), 1e-300))
            max_rel_fd = max(max_rel_fd, abs(hv - fv) / max(abs(fv), 1e-300))
            say(f"  {key:<30s}{FORMULAS[name]:<38s}{hv:>17.10f}{av:>17.10f}{fv:>17.10f}")
            md.append(f"| `{key}` | `{FORMULAS[name]}` | {hv:.10f} | {av:.10f} | {fv:.10f} |")
    say(f"  largest relative difference: hand vs autograd {max_rel_auto:.1e}, hand vs finite differences "
        f"{max_rel_fd:.1e}")
    (out / "table.md").write_text("\n".join(md) + "\n")

    # ---------------- 5. the step ----------------
    opt = SGD(model.parameters(), lr=args.lr)
    opt.step()                                                      # p <- p - lr dL/dp
    loss_after = model.elbo(x, eps=eps).loss().item()
    say(f"\n== 5. SGD step, lr = {args.lr}: p <- p - lr dL/dp ==")
    for k, p in params.items():
        say(f"  {k:<18s} {np.round(P[k], 6).tolist()} -> {np.round(p.numpy(), 6).tolist()}")
    say(f"  loss (same eps) {fwd['loss']:.8f} -> {loss_after:.8f}   "
        f"(first-order prediction {fwd['loss'] - args.lr * sum((hand[k] ** 2).sum() for k in P):.8f})")

    result = {"forward": forward_values, "loss": float(fwd["loss"]), "loss_minigen": loss.item(),
              "loss_vae_elbo": library_loss, "loss_after_step": loss_after, "table": table,
              "max_rel_err_autograd": max_rel_auto, "max_rel_err_fd": max_rel_fd, "graph_files": graph_files,
              "n_graph_ops": n_ops, "trace_lines": trace.count("\n")}
    with open(out / "results.json", "w") as f:
        json.dump(result, f, indent=2)
    say(f"files in {out}/  ({time.perf_counter() - t0:.2f} s)")
    if args.quiet:
        print(f"hand vs autograd {max_rel_auto:.1e}, hand vs finite differences {max_rel_fd:.1e}")
    return result


# %%
if __name__ == "__main__":
    main(None if "__file__" in globals() else [])   # a notebook kernel's argv is not ours: the defaults

# %% [markdown]
# In a notebook the picture shows here; open `runs/demos/reparam_walkthrough/backprop.html` in a browser to step
# through the backward pass.

# %%
if "__file__" not in globals():
    from IPython.display import SVG, display
    display(SVG(filename="runs/demos/reparam_walkthrough/graph.svg"))
