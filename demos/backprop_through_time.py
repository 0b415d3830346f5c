"""Backprop through time: how much gradient reaches a step k steps back, in a vanilla RNN and in an LSTM, and
the exploding case with and without gradient clipping.

The copy task: a sequence x_0 .. x_{T-1} of N(0, 1) numbers; at the last step the network must output x_0
(every later input is a distractor), L = (y_T - x_0)^2.  Unrolled, the RNN's loss reaches h_{T-1-k} through
k step Jacobians,

    dL/dh_{T-1-k} = J_{T-k}^T ... J_{T-1}^T dL/dh_{T-1}        J_t = dh_t/dh_{t-1}
    vanilla RNN:    J_t = diag(1 - h_t^2) W_hh                   (a product of k of them: shrinks or grows
                                                                  geometrically with W_hh's scale)
    LSTM:           dc_t/dc_{t-1} = diag(f_t)  along the cell    (plus the paths through the gates; the
                                                                  gradient survives as long as f ~ 1)

Measured: ||dL/dh_{T-1-k}|| against k (each step's hidden state keeps its gradient, ``retain_grad()``),
at initialisation and after training with Adam, for a tanh RNN and an LSTM at PyTorch's default
initialisation and an LSTM whose forget gate starts open (the chrono initialisation of Tallec & Ollivier
2018: b_f = log U(1, T - 1), b_i = -b_f); and a tanh RNN whose W_hh = 2 Q (Q random orthogonal) trained
by SGD with and without ``clip_grad_norm_`` on a longer sequence (60 steps).

Run:  python demos/backprop_through_time.py [--T 30] [--steps 600] [--explode-T 60] [--seed 0]
      [--out runs/demos/backprop_through_time]
Writes gradient_vs_distance.png (vanishing vs preserved), exploding.png (with and without clipping) and
results.json, and prints the numbers.
"""
# %% [markdown]
# # Backprop through time: vanishing, preserved and exploding gradients
#
# A recurrent network applies the same cell at every step, $h_t = \phi(x_t W_{ih}^T + h_{t-1} W_{hh}^T + b)$, so
# unrolled over $T$ steps it is a $T$-layer network with shared weights, and backprop through it (BPTT) sums
# the weight gradient over the steps. The gradient of a loss at the last step reaches $h_{T-1-k}$ through $k$
# step Jacobians:
#
# $$\frac{\partial L}{\partial h_{T-1-k}} = \Big(\prod_{t=T-k}^{T-1} J_t\Big)^T \frac{\partial L}{\partial h_{T-1}},
# \qquad J_t = \frac{\partial h_t}{\partial h_{t-1}} = \mathrm{diag}(1 - h_t^2)\, W_{hh} \text{ (tanh RNN)}.$$
#
# A product of $k$ such matrices shrinks or grows geometrically: the gradient **vanishes** when
# $\|J_t\| < 1$ (the network cannot learn what happened long ago) and **explodes** when $\|J_t\| > 1$ (one
# step of gradient descent throws the weights away). The LSTM adds a path with no weight matrix on it: the
# cell $c_t = f_t \odot c_{t-1} + i_t \odot g_t$ has $\partial c_t / \partial c_{t-1} = \mathrm{diag}(f_t)$, so the
# gradient along the cell is **preserved** for as long as the forget gate stays open ($f_t \approx 1$). The
# exploding case has its standard remedy, clipping the gradient's norm:
# $g \leftarrow g \cdot \min(1, \tau / \|g\|)$.

# %%
from __future__ import annotations

import argparse
import json
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
from minigen import functional as F  # noqa: E402
from minigen import nn  # noqa: E402
from minigen.optim import SGD, Adam  # noqa: E402
from minigen.optim.clip import clip_grad_norm_  # noqa: E402

# %% [markdown]
# ## The task and the unrolled network
#
# `copy_batch` draws sequences of $N(0, 1)$ numbers; the target is the first one. `Recurrent` unrolls one
# cell over the sequence by hand (what `nn.RNN` / `nn.LSTM` do inside), so that each step's hidden state
# is a tensor we can ask for its gradient: `h.retain_grad()` keeps $\partial L / \partial h_t$ after
# `backward()`.

# %%
def copy_batch(g: np.random.Generator, T: int, n: int):
    """(x (T, n, 1), target (n, 1)): recall the first of T numbers."""
    x = g.normal(size=(T, n, 1)).astype(np.float32)
    return mg.tensor(x), mg.tensor(x[0])


class Recurrent(nn.Module):
    """One cell unrolled over time and a linear readout of the last hidden state."""

    def __init__(self, kind: str, hidden: int):
        super().__init__()
        self.kind = kind
        self.cell = nn.LSTMCell(1, hidden) if kind == "lstm" else nn.RNNCell(1, hidden)
        self.out = nn.Linear(hidden, 1)

    def forward(self, x, keep: bool = False):
        """The prediction, and (``keep``) every step's hidden state, each keeping its gradient."""
        state, hs = None, []
        for t in range(x.shape[0]):
            state = self.cell(x[t], state)
            h = state[0] if self.kind == "lstm" else state
            if keep:
                h.retain_grad()
                hs.append(h)
        return self.out(h), hs


def chrono_init(cell: nn.LSTMCell, T: int, g: np.random.Generator):
    """Forget-gate bias log U(1, T - 1), input-gate bias its negative (Tallec & Ollivier 2018): the forget
    gate starts open, f = sigmoid(b_f) in [0.5, 1 - 1/(T - 1)], so the cell remembers for ~T steps."""
    H = cell.hidden_size
    bf = np.log(g.uniform(1.0, T - 1.0, size=H))
    b = np.zeros(4 * H)
    b[H:2 * H], b[:H] = bf, -bf
    cell.bias_ih.data = mg.to_device(b.astype(np.float32))
    cell.bias_hh.data = mg.to_device(np.zeros(4 * H, np.float32))


# %% [markdown]
# ## Measuring the gradient that reaches step $T - 1 - k$
#
# One backward pass of the last step's loss; then $\|\partial L / \partial h_{T-1-k}\|$ for every $k$ (summed
# over a batch of 256 sequences).

# %%
def gradient_profile(net: Recurrent, g: np.random.Generator, T: int, n: int = 256) -> tuple[float, list]:
    """(loss, [||dL/dh_{T-1-k}|| for k = 0 .. T-1]) on a fresh batch."""
    x, y = copy_batch(g, T, n)
    pred, hs = net(x, keep=True)
    loss = F.mse_loss(pred, y)
    loss.backward()
    norms = [float(np.sqrt((hs[T - 1 - k].grad.numpy() ** 2).sum())) for k in range(T)]
    net.zero_grad()
    return float(loss.item()), norms


def train(net: Recurrent, g: np.random.Generator, T: int, steps: int, batch: int, opt, clip: float | None = None):
    """``steps`` optimiser steps on fresh batches: the losses and the gradient norms before clipping (a
    non-finite loss stops the run, and is recorded)."""
    losses, norms = [], []
    params = list(net.parameters())
    for _ in range(steps):
        x, y = copy_batch(g, T, batch)
        loss = F.mse_loss(net(x)[0], y)
        opt.zero_grad()
        loss.backward()
        total = clip_grad_norm_(params, clip if clip else math.inf)     # inf: measure, never scale
        losses.append(float(loss.item()))
        norms.append(float(total.item()))
        if not math.isfinite(losses[-1]):
            break
        opt.step()
    return losses, norms


# %% [markdown]
# ## Vanishing vs preserved
#
# Three networks of the same width: a tanh RNN and an LSTM at PyTorch's default initialisation (the LSTM's
# forget gate then starts at $f = \sigma(b) \approx 0.5$, so along the cell the gradient halves every step,
# too), and an LSTM whose forget gate starts open. Each is trained on the copy task with Adam.

# %%
def vanishing(a) -> dict:
    out = {}
    for name, kind, chrono in (("RNN (tanh)", "rnn", False), ("LSTM", "lstm", False),
                               ("LSTM, forget gate open", "lstm", True)):
        mg.manual_seed(a.seed)
        net = Recurrent(kind, a.hidden)
        if chrono:
            chrono_init(net.cell, a.T, np.random.default_rng([a.seed, 3]))
        data = np.random.default_rng([a.seed, 1])           # the same batches for every network
        init_loss, init = gradient_profile(net, data, a.T)
        losses, _ = train(net, data, a.T, a.steps, a.batch_size, Adam(net.parameters(), lr=a.lr))
        loss, trained = gradient_profile(net, np.random.default_rng([a.seed, 2]), a.T)
        out[name] = {"init": init, "trained": trained, "init_loss": init_loss, "test_loss": loss,
                     "train_losses": losses}
    return out


# %% [markdown]
# ## Exploding, and clipping
#
# A tanh RNN whose recurrent matrix is $W_{hh} = 2Q$ ($Q$ random orthogonal): $\|J_t\|$ is near 2 wherever
# the units are not saturated, so the gradient grows with $k$. Plain SGD then takes steps of size
# $\eta \|g\|$; `clip_grad_norm_(params, 1.0)` bounds them by $\eta$.

# %%
def exploding(a) -> dict:
    out = {}
    for name, clip in (("without clipping", None), (f"clip_grad_norm_({a.clip})", a.clip)):
        mg.manual_seed(a.seed)
        net = Recurrent("rnn", a.hidden)
        q, _ = np.linalg.qr(np.random.default_rng(a.seed).normal(size=(a.hidden, a.hidden)))
        net.cell.weight_hh.data = mg.to_device((a.gain * q).astype(np.float32))
        init_loss, init = gradient_profile(net, np.random.default_rng([a.seed, 9]), a.explode_T)
        with np.errstate(over="ignore", invalid="ignore"):      # the unclipped run overflows: that is the point
            losses, norms = train(net, np.random.default_rng([a.seed, 10]), a.explode_T, a.explode_steps, a.batch_size,
                                  SGD(net.parameters(), lr=a.sgd_lr), clip)
        finite = [v for v in losses if math.isfinite(v)]
        tail = finite[-max(1, len(finite) // 5):]
        out[name] = {"init": init, "init_loss": init_loss, "train_losses": losses, "grad_norms": norms,
                     "max_loss": max(finite), "final_loss": sum(tail) / len(tail),
                     "diverged": len(finite) < len(losses)}
    return out


# %% [markdown]
# ## The figures

# %%
def figures(res: dict, a, out: Path) -> list[str]:
    ks = np.arange(a.T)
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.4))
    for name, r in res["vanishing"].items():
        line, = axes[0].semilogy(ks, r["init"], label=name)
        axes[1].semilogy(ks, r["trained"], color=line.get_color(), label=f"{name}: test MSE {r['test_loss']:.3f}")
        axes[2].plot(np.convolve(r["train_losses"], np.ones(20) / 20, "valid"), color=line.get_color(), label=name)
    for ax, title in ((axes[0], "at initialisation"), (axes[1], f"after {a.steps} Adam steps")):
        ax.set_xlabel("k (steps back from the last)")
        ax.set_ylabel("|| dL / dh_{T-1-k} ||")
        ax.set_title(f"gradient reaching step T-1-k, {title}")
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8)
    axes[2].set_yscale("log")
    axes[2].set_xlabel("training step")
    axes[2].set_ylabel("copy-task loss (running mean of 20)")
    axes[2].set_title(f"recall x_0 after {a.T - 1} distractors (predicting 0: MSE 1)")
    axes[2].grid(alpha=0.3, which="both")
    axes[2].legend(fontsize=8)
    fig.tight_layout()
    p1 = out / "gradient_vs_distance.png"
    fig.savefig(p1, dpi=90)
    plt.close(fig)

    fig, axes = plt.subplots(1, 3, figsize=(16, 4.4))
    first = next(iter(res["exploding"].values()))
    axes[0].semilogy(np.arange(a.explode_T), first["init"], color="tab:red")
    axes[0].set_title(f"W_hh = {a.gain} Q, T = {a.explode_T}: the gradient grows with k")
    axes[0].set_xlabel("k (steps back from the last)")
    axes[0].set_ylabel("|| dL / dh_{T-1-k} ||")
    for name, r in res["exploding"].items():
        axes[1].semilogy(r["train_losses"], label=f"{name}: worst {r['max_loss']:.3g}, last fifth {r['final_loss']:.3g}")
        axes[2].semilogy(r["grad_norms"], label=name)
    axes[1].set_title(f"SGD (lr {a.sgd_lr}) on the copy task: loss")
    axes[2].set_title("gradient norm before clipping")
    axes[2].axhline(a.clip, color="k", ls="--", lw=1, label=f"clip at {a.clip}")
    for ax in axes:
        ax.grid(alpha=0.3, which="both")
    for ax in axes[1:]:
        ax.set_xlabel("training step")
        ax.legend(fontsize=8)
    fig.tight_layout()
    p2 = out / "exploding.png"
    fig.savefig(p2, dpi=90)
    plt.close(fig)
    return [str(p1), str(p2)]


# %% [markdown]
# ## Run (`python demos/backprop_through_time.py`)

# %%
def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--T", type=int, default=30, help="sequence length")
    p.add_argument("--hidden", type=int, default=32)
    p.add_argument("--steps", type=int, default=600, help="Adam steps of the vanishing / preserved part")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=1e-2, help="Adam's learning rate")
    p.add_argument("--gain", type=float, default=2.0, help="exploding part: W_hh = gain x a random orthogonal matrix")
    p.add_argument("--sgd-lr", type=float, default=0.1, help="exploding part: SGD's learning rate")
    p.add_argument("--clip", type=float, default=1.0, help="exploding part: max_norm of clip_grad_norm_")
    p.add_argument("--explode-steps", type=int, default=300)
    p.add_argument("--explode-T", type=int, default=60, help="exploding part: sequence length (a long one)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="runs/demos/backprop_through_time")
    a = p.parse_args(argv)
    if a.T < 3 or a.explode_T < 3:
        p.error("--T and --explode-T must be at least 3")
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    res = {"T": a.T, "explode_T": a.explode_T, "vanishing": vanishing(a), "exploding": exploding(a)}

    far = a.T - 1
    print(f"copy task, T = {a.T}: ||dL/dh_(T-1-k)|| at k = 0 and k = {far} (the first step), ratio far / near")
    print(f"{'':>24} {'init k=0':>10} {'init k=T-1':>11} {'ratio':>9}   {'trained k=0':>11} {'k=T-1':>9} "
          f"{'ratio':>9}  {'test MSE':>8}")
    for name, r in res["vanishing"].items():
        r["ratio_init"] = r["init"][far] / r["init"][0]
        r["ratio_trained"] = r["trained"][far] / r["trained"][0]
        print(f"{name:>24} {r['init'][0]:>10.2e} {r['init'][far]:>11.2e} {r['ratio_init']:>9.1e}   "
              f"{r['trained'][0]:>11.2e} {r['trained'][far]:>9.2e} {r['ratio_trained']:>9.1e}  {r['test_loss']:>8.4f}")
    ex = res["exploding"]
    first = next(iter(ex.values()))
    res["exploding_growth"] = first["init"][-1] / first["init"][0]
    print(f"exploding (W_hh = {a.gain} Q, T = {a.explode_T}): the gradient at k = {a.explode_T - 1} is "
          f"{res['exploding_growth']:.1e} x that at k = 0")
    for name, r in ex.items():
        state = "diverged (non-finite loss)" if r["diverged"] else f"mean loss of the last fifth {r['final_loss']:.4g}"
        print(f"  SGD lr {a.sgd_lr}, {name:>22}: worst loss {r['max_loss']:.4g}, largest gradient norm "
              f"{max(r['grad_norms']):.3g}; {state}")
    res["figures"] = figures(res, a, out)
    res["seconds"] = round(time.perf_counter() - t0, 1)
    (out / "results.json").write_text(json.dumps(res, indent=1))
    print(f"figures in {out} ({res['seconds']} s)")
    return res


# %%
if __name__ == "__main__":
    main(None if "__file__" in globals() else [])   # a notebook kernel's argv is not ours: the defaults
