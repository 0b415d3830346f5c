"""The "no framework" reference: each workload's forward and backward written out by hand in NumPy,
and a plain NumPy Adam.  Float32 for the benchmark; the same functions run in float64 for the gradient
checks in ``tests/test_benchmarks.py``.

Linear layers use PyTorch's layout, y = x W^T + b with W (out, in):

    dx = gy W        dW = gy^T x        db = sum_rows gy

Only the gradients a step needs are computed (no input gradient for the data, no discriminator weight
gradients in the generator step): that is what writing it by hand buys.
"""

from __future__ import annotations

import math

import numpy as np

from benchmarks import common

# ----------------------------------------------------------------------------------------------------
# building blocks
# ----------------------------------------------------------------------------------------------------


def linear(x, W, b):
    y = x @ W.T
    y += b
    return y


def linear_grads(gy, x, W, need_dx=True):
    """(dx, dW, db) of y = x W^T + b."""
    return (gy @ W if need_dx else None), gy.T @ x, gy.sum(0)


def relu_(y):
    """max(y, 0) in place (y is a fresh pre-activation)."""
    np.maximum(y, 0, out=y)
    return y


def sigmoid(x):
    """1/(1 + e^-x) through tanh: one transcendental, no overflow for any x."""
    s = np.tanh(0.5 * x)
    s *= 0.5
    s += 0.5
    return s


def softplus_sum(x):
    """sum of log(1 + e^x) = max(x, 0) + log1p(e^-|x|): stable for any x, and an order of magnitude
    faster than ``np.logaddexp(0, x)``, which NumPy computes without SIMD."""
    a = np.abs(x)
    np.negative(a, out=a)
    np.exp(a, out=a)
    np.log1p(a, out=a)
    return a.sum(dtype=x.dtype) + np.maximum(x, 0).sum(dtype=x.dtype)


def bce_with_logits_sum(logits, t):
    """sum of softplus(l) - t l  (= -[t log s + (1-t) log(1-s)], s = sigmoid(l))."""
    return softplus_sum(logits) - np.vdot(logits, t)


# ----------------------------------------------------------------------------------------------------
# W1: the VAE
# ----------------------------------------------------------------------------------------------------


def vae_loss_grad(p: dict, x, eps, need_grad: bool = True):
    """loss = (sum BCE(logits, x) + sum KL(N(mu, e^lv) || N(0, 1))) / B, and its parameter gradients."""
    B = x.shape[0]
    dt = x.dtype
    inv_b = dt.type(1.0 / B)
    h = relu_(linear(x, p["enc.weight"], p["enc.bias"]))
    mu = linear(h, p["mu.weight"], p["mu.bias"])
    lv = linear(h, p["logvar.weight"], p["logvar.bias"])
    std = np.exp(0.5 * lv)
    z = mu + std * eps
    h2 = relu_(linear(z, p["dec1.weight"], p["dec1.bias"]))
    logits = linear(h2, p["dec2.weight"], p["dec2.bias"])
    var = std * std
    kl = 0.5 * (np.vdot(mu, mu) + var.sum(dtype=dt) - lv.sum(dtype=dt) - lv.size)
    loss = (bce_with_logits_sum(logits, x) + kl) * inv_b
    if not need_grad:
        return loss, None
    g = {}
    dlogits = sigmoid(logits)
    dlogits -= x
    dlogits *= inv_b
    dh2, g["dec2.weight"], g["dec2.bias"] = linear_grads(dlogits, h2, p["dec2.weight"])
    dh2 *= h2 > 0
    dz, g["dec1.weight"], g["dec1.bias"] = linear_grads(dh2, z, p["dec1.weight"])
    # z = mu + std eps:  dmu = dz + mu/B;  dlv = dz eps std/2 + (e^lv - 1)/(2B)
    dmu = mu * inv_b
    dmu += dz
    dlv = dz * eps
    dlv *= std
    dlv += var * inv_b - inv_b
    dlv *= 0.5
    dh_mu, g["mu.weight"], g["mu.bias"] = linear_grads(dmu, h, p["mu.weight"])
    dh_lv, g["logvar.weight"], g["logvar.bias"] = linear_grads(dlv, h, p["logvar.weight"])
    dh = dh_mu
    dh += dh_lv
    dh *= h > 0
    _, g["enc.weight"], g["enc.bias"] = linear_grads(dh, x, p["enc.weight"], need_dx=False)
    return loss, g


# ----------------------------------------------------------------------------------------------------
# W2: the 2-D GAN
# ----------------------------------------------------------------------------------------------------


def mlp3_forward(p: dict, prefix: str, x):
    """Linear-ReLU-Linear-ReLU-Linear; returns the output and what backward needs."""
    h0 = relu_(linear(x, p[f"{prefix}0.weight"], p[f"{prefix}0.bias"]))
    h1 = relu_(linear(h0, p[f"{prefix}1.weight"], p[f"{prefix}1.bias"]))
    return linear(h1, p[f"{prefix}2.weight"], p[f"{prefix}2.bias"]), (x, h0, h1)


def mlp3_backward(p: dict, prefix: str, gy, cache, need_dx: bool, need_dw: bool = True):
    """Gradients of the 3-layer MLP: (dx, {name: grad}); ``need_dw=False`` only backpropagates."""
    x, h0, h1 = cache
    g = {}
    W2, W1, W0 = (p[f"{prefix}{i}.weight"] for i in (2, 1, 0))
    if need_dw:
        dh1, g[f"{prefix}2.weight"], g[f"{prefix}2.bias"] = linear_grads(gy, h1, W2)
    else:
        dh1 = gy @ W2
    dh1 *= h1 > 0
    if need_dw:
        dh0, g[f"{prefix}1.weight"], g[f"{prefix}1.bias"] = linear_grads(dh1, h0, W1)
    else:
        dh0 = dh1 @ W1
    dh0 *= h0 > 0
    if need_dw:
        dx, g[f"{prefix}0.weight"], g[f"{prefix}0.bias"] = linear_grads(dh0, x, W0, need_dx)
    else:
        dx = dh0 @ W0
    return dx, g


def bce_mean_and_grad(logits, target: float):
    """mean BCE-with-logits against a constant target (1 or 0), and d(loss)/d(logits)."""
    n = logits.size
    dt = logits.dtype
    loss = (softplus_sum(logits) - target * logits.sum(dtype=dt)) / dt.type(n)
    g = sigmoid(logits)
    if target:
        g -= target
    g *= dt.type(1.0 / n)
    return loss, g


def gan_d_loss_grad(p: dict, real, fake):
    """D step: BCE(D(real), 1) + BCE(D(fake), 0), means over the batch; gradients for D only."""
    out_r, cache_r = mlp3_forward(p, "D", real)
    out_f, cache_f = mlp3_forward(p, "D", fake)
    loss_r, g_r = bce_mean_and_grad(out_r, 1.0)
    loss_f, g_f = bce_mean_and_grad(out_f, 0.0)
    _, gr = mlp3_backward(p, "D", g_r, cache_r, need_dx=False)
    _, gf = mlp3_backward(p, "D", g_f, cache_f, need_dx=False)
    for k in gr:
        gr[k] += gf[k]
    return loss_r + loss_f, gr


def gan_g_loss_grad(p: dict, fake, cache_g):
    """G step (non-saturating): BCE(D(G(z)), 1); gradients for G only (D is only backpropagated)."""
    out, cache_d = mlp3_forward(p, "D", fake)
    loss, g_out = bce_mean_and_grad(out, 1.0)
    dfake, _ = mlp3_backward(p, "D", g_out, cache_d, need_dx=True, need_dw=False)
    _, g = mlp3_backward(p, "G", dfake, cache_g, need_dx=False)
    return loss, g


# ----------------------------------------------------------------------------------------------------
# W3: the big MLP
# ----------------------------------------------------------------------------------------------------


def mlp_loss_grad(p: dict, x, y, need_grad: bool = True):
    """loss = mean (MLP(x) - y)^2, MLP = Linear-ReLU-Linear-ReLU-Linear (any number of layers)."""
    n = len(p) // 2
    acts = [x]
    a = x
    for i in range(n):
        a = linear(a, p[f"L{i}.weight"], p[f"L{i}.bias"])
        if i < n - 1:
            a = relu_(a)
        acts.append(a)
    d = a - y
    loss = np.vdot(d, d) / d.dtype.type(d.size)
    if not need_grad:
        return loss, None
    g = {}
    gy = d
    gy *= d.dtype.type(2.0 / d.size)
    for i in reversed(range(n)):
        gx, g[f"L{i}.weight"], g[f"L{i}.bias"] = linear_grads(gy, acts[i], p[f"L{i}.weight"], need_dx=i > 0)
        if i > 0:
            gx *= acts[i] > 0
        gy = gx
    return loss, g


# ----------------------------------------------------------------------------------------------------
# Adam
# ----------------------------------------------------------------------------------------------------


class Adam:
    """PyTorch's Adam, in place with one scratch buffer per parameter (no allocation per step)."""

    def __init__(self, params: dict, lr=common.LR, betas=common.BETAS, eps=common.ADAM_EPS):
        self.params = params
        self.lr, (self.b1, self.b2), self.eps = lr, betas, eps
        self.m = {k: np.zeros_like(v) for k, v in params.items()}
        self.v = {k: np.zeros_like(v) for k, v in params.items()}
        self.tmp = {k: np.empty_like(v) for k, v in params.items()}
        self.t = 0

    def step(self, grads: dict):
        self.t += 1
        b1, b2 = self.b1, self.b2
        bc2 = 1.0 / math.sqrt(1.0 - b2**self.t)
        step = -self.lr / (1.0 - b1**self.t)
        for k, g in grads.items():
            p, m, v, tmp = self.params[k], self.m[k], self.v[k], self.tmp[k]
            m *= b1  # m = b1 m + (1 - b1) g
            np.multiply(g, 1.0 - b1, out=tmp)
            m += tmp
            v *= b2  # v = b2 v + (1 - b2) g^2
            np.multiply(g, g, out=tmp)
            tmp *= 1.0 - b2
            v += tmp
            np.sqrt(v, out=tmp)  # p -= lr/(1-b1^t) m / (sqrt(v)/sqrt(1-b2^t) + eps)
            tmp *= bc2
            tmp += self.eps
            np.divide(m, tmp, out=tmp)
            tmp *= step
            p += tmp


# ----------------------------------------------------------------------------------------------------
# the harness's interface
# ----------------------------------------------------------------------------------------------------


def sync():
    pass


def to_float(loss) -> float:
    return float(loss)


def make(workload: str, seed: int = 0, noise=None, sizes=None, option=None, dtype=np.float32):
    """One training step of ``workload`` as a callable; it returns the loss (W2: (loss_D, loss_G))."""
    p = common.init_params(workload, seed, sizes, dtype)
    batches = common.make_data(workload, seed, sizes, dtype)
    rng = np.random.default_rng([seed, 100])
    shape = common.noise_shape(workload, sizes)
    k = [0]

    def draw():
        if noise is not None:
            return noise(k[0]).astype(dtype, copy=False)
        return rng.standard_normal(shape, dtype=dtype)

    if workload == "W1":
        opt = Adam(p)

        def step():
            (x,) = batches[k[0] % len(batches)]
            loss, g = vae_loss_grad(p, x, draw())
            opt.step(g)
            k[0] += 1
            return loss
    elif workload == "W2":
        opt_g = Adam({n: a for n, a in p.items() if n.startswith("G")})
        opt_d = Adam({n: a for n, a in p.items() if n.startswith("D")})

        def step():
            (real,) = batches[k[0] % len(batches)]
            fake, cache_g = mlp3_forward(p, "G", draw())
            loss_d, gd = gan_d_loss_grad(p, real, fake)
            opt_d.step(gd)
            loss_g, gg = gan_g_loss_grad(p, fake, cache_g)
            opt_g.step(gg)
            k[0] += 1
            return loss_d, loss_g
    elif workload == "W3":
        opt = Adam(p)

        def step():
            x, y = batches[k[0] % len(batches)]
            loss, g = mlp_loss_grad(p, x, y)
            opt.step(g)
            k[0] += 1
            return loss
    else:
        raise ValueError(f"unknown workload {workload!r}")
    step.params = p
    return step
