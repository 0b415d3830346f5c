"""The "no framework" reference: each workload's forward and backward written out by hand in NumPy,
and a plain NumPy Adam.  Float32 for the benchmark; the same functions run in float64 for the gradient
checks in ``tests/test_benchmarks.py``.

Linear layers use PyTorch's layout, y = x W^T + b with W (out, in):

    dx = gy W        dW = gy^T x        db = sum_rows gy

Only the gradients a step needs are computed (no input gradient for the data, no discriminator weight
gradients in the generator step): that is what writing it by hand buys.

W4 (the DCGAN) keeps its activations channel-major, (C, N, H, W), so that a convolution is one GEMM of
the weight (O, C k k) with im2col's columns (C k k, N Ho Wo) and its result is already the next layer's
(O, N, Ho, Wo), and BatchNorm reduces over contiguous rows.  im2col copies each of the k*k kernel taps
as one strided slice, col2im adds them back (a loop over the kernel, never over pixels).

W5 (the LSTM) runs time-major, (T, B, .): one GEMM for every step's input product, one per weight
gradient, and only the recurrent product and its adjoint inside the loops over time.
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
# W4: the DCGAN, on channel-major (C, N, H, W) arrays
# ----------------------------------------------------------------------------------------------------


def _taps(k, s, Ho, Wo):
    """The (row, column) slices that pick kernel tap (i, j) for every output pixel, for all taps."""
    return [
        (i, j, slice(i, i + s * (Ho - 1) + 1, s), slice(j, j + s * (Wo - 1) + 1, s))
        for i in range(k)
        for j in range(k)
    ]


def im2col(x, k, s, p):
    """(C, N, H, W) -> columns (C k k, N Ho Wo) of a k x k convolution with stride s, padding p."""
    if p:
        x = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    C, N, H, W = x.shape
    Ho, Wo = (H - k) // s + 1, (W - k) // s + 1
    cols = np.empty((C, k, k, N, Ho, Wo), x.dtype)
    for i, j, rows, columns in _taps(k, s, Ho, Wo):
        cols[:, i, j] = x[:, :, rows, columns]
    return cols.reshape(C * k * k, N * Ho * Wo)


def col2im(cols, shape, k, s, p):
    """The adjoint of im2col: columns (C k k, N Ho Wo) summed back into an image of ``shape`` (C, N, H, W)."""
    C, N, H, W = shape
    Ho, Wo = (H + 2 * p - k) // s + 1, (W + 2 * p - k) // s + 1
    cols = cols.reshape(C, k, k, N, Ho, Wo)
    x = np.zeros((C, N, H + 2 * p, W + 2 * p), cols.dtype)
    for i, j, rows, columns in _taps(k, s, Ho, Wo):
        x[:, :, rows, columns] += cols[:, i, j]
    return x[:, :, p : p + H, p : p + W] if p else x


def conv(x, w, s, p):
    """conv2d of x (C, N, H, W) with w (O, C, k, k): y (O, N, Ho, Wo), and the columns for backward."""
    O, _, k, _ = w.shape
    _, N, H, W = x.shape
    cols = im2col(x, k, s, p)
    y = w.reshape(O, -1) @ cols
    return y.reshape(O, N, (H + 2 * p - k) // s + 1, (W + 2 * p - k) // s + 1), cols


def conv_grads(gy, cols, w, x_shape, s, p, need_dx=True, need_dw=True):
    """(dx, dw) of y = conv(x, w), from the forward's columns."""
    O, _, k, _ = w.shape
    g2 = gy.reshape(O, -1)
    dw = (g2 @ cols.T).reshape(w.shape) if need_dw else None
    dx = col2im(w.reshape(O, -1).T @ g2, x_shape, k, s, p) if need_dx else None
    return dx, dw


def conv_t(x, w, s, p):
    """PyTorch's conv_transpose2d of x (Cin, N, H, W) with w (Cin, Cout, k, k): the adjoint of conv in its
    input, so col2im of w^T x; y (Cout, N, (H - 1) s - 2 p + k, ...)."""
    Cin, Cout, k, _ = w.shape
    _, N, H, W = x.shape
    shape = (Cout, N, (H - 1) * s - 2 * p + k, (W - 1) * s - 2 * p + k)
    return col2im(w.reshape(Cin, -1).T @ x.reshape(Cin, -1), shape, k, s, p)


def conv_t_grads(gy, x, w, s, p, need_dx=True, need_dw=True):
    """(dx, dw) of y = conv_t(x, w): dx = conv(gy, w), dw = x im2col(gy)^T (one im2col for both)."""
    Cin, _, k, _ = w.shape
    cols = im2col(gy, k, s, p)
    dw = (x.reshape(Cin, -1) @ cols.T).reshape(w.shape) if need_dw else None
    dx = (w.reshape(Cin, -1) @ cols).reshape(x.shape) if need_dx else None
    return dx, dw


def batch_norm(x, gamma, beta, running):
    """Training-mode BatchNorm over (N, H, W) of x (C, N, H, W); updates ``running`` (mean, var) in place
    as PyTorch does (the unbiased variance).  Returns y and what backward needs."""
    C = x.shape[0]
    x2 = x.reshape(C, -1)
    M = x2.shape[1]
    mean = x2.mean(1, keepdims=True)
    xhat = x2 - mean
    var = np.einsum("ij,ij->i", xhat, xhat)[:, None] / x.dtype.type(M)
    inv = 1.0 / np.sqrt(var + x.dtype.type(common.BN_EPS))
    xhat *= inv
    y = xhat * gamma[:, None]
    y += beta[:, None]
    m = common.BN_MOMENTUM
    rm, rv = running
    rm *= 1 - m
    rm += m * mean[:, 0]
    rv *= 1 - m
    rv += (m * M / (M - 1)) * var[:, 0]
    return y.reshape(x.shape), (xhat, inv, gamma)


def batch_norm_grads(gy, cache):
    """(dx, dgamma, dbeta) of batch_norm: dx = gamma inv (gy - mean(gy) - xhat mean(gy xhat))."""
    xhat, inv, gamma = cache
    g2 = gy.reshape(xhat.shape)
    M = xhat.dtype.type(xhat.shape[1])
    dbeta = g2.sum(1)
    dgamma = np.einsum("ij,ij->i", g2, xhat)
    dx = xhat * (dgamma / M)[:, None]
    np.subtract(g2, dx, out=dx)
    dx -= (dbeta / M)[:, None]
    dx *= (gamma * inv[:, 0])[:, None]
    return dx.reshape(gy.shape), dgamma, dbeta


def leaky_relu(x, slope=0.2):
    """(y, dy/dx) of LeakyReLU."""
    d = np.where(x > 0, x.dtype.type(1), x.dtype.type(slope))
    return x * d, d


def _col(b):
    return b[:, None, None, None]


def dcgan_g_forward(p, bufs, z):
    """G(z): z (N, latent) -> images (1, N, S, S) in [-1, 1], and the cache for backward."""
    x0 = z.T.reshape(z.shape[1], z.shape[0], 1, 1)
    h1, bn1 = batch_norm(conv_t(x0, p["G.0.weight"], 1, 0), p["G.1.weight"], p["G.1.bias"], bufs["G.1"])
    relu_(h1)
    h2, bn2 = batch_norm(conv_t(h1, p["G.3.weight"], 2, 1), p["G.4.weight"], p["G.4.bias"], bufs["G.4"])
    relu_(h2)
    a3 = conv_t(h2, p["G.6.weight"], 2, 1)
    a3 += _col(p["G.6.bias"])
    out = np.tanh(a3, out=a3)
    return out, (x0, h1, bn1, h2, bn2, out)


def dcgan_g_grads(p, gout, cache):
    """G's parameter gradients from d(loss)/d(images)."""
    x0, h1, bn1, h2, bn2, out = cache
    g = {}
    da3 = out * out
    np.subtract(1, da3, out=da3)
    da3 *= gout
    g["G.6.bias"] = da3.sum((1, 2, 3))
    dh2, g["G.6.weight"] = conv_t_grads(da3, h2, p["G.6.weight"], 2, 1)
    dh2 *= h2 > 0
    da2, g["G.4.weight"], g["G.4.bias"] = batch_norm_grads(dh2, bn2)
    dh1, g["G.3.weight"] = conv_t_grads(da2, h1, p["G.3.weight"], 2, 1)
    dh1 *= h1 > 0
    da1, g["G.1.weight"], g["G.1.bias"] = batch_norm_grads(dh1, bn1)
    _, g["G.0.weight"] = conv_t_grads(da1, x0, p["G.0.weight"], 1, 0, need_dx=False)
    return g


def dcgan_d_forward(p, bufs, x):
    """D(x): images (1, N, S, S) -> logits (N,), and the cache for backward."""
    a1, cols1 = conv(x, p["D.0.weight"], 2, 1)
    a1 += _col(p["D.0.bias"])
    h1, d1 = leaky_relu(a1)
    a2, cols2 = conv(h1, p["D.2.weight"], 2, 1)
    b2, bn = batch_norm(a2, p["D.3.weight"], p["D.3.bias"], bufs["D.3"])
    h2, d2 = leaky_relu(b2)
    logits, cols3 = conv(h2, p["D.5.weight"], 1, 0)
    logits = logits.reshape(-1) + p["D.5.bias"]
    return logits, (x.shape, cols1, d1, h1.shape, cols2, bn, d2, h2.shape, cols3)


def dcgan_d_grads(p, glogits, cache, need_dx: bool, need_dw: bool = True):
    """(d(loss)/dx, D's parameter gradients) from d(loss)/d(logits); ``need_dw=False`` only backpropagates."""
    x_shape, cols1, d1, h1_shape, cols2, bn, d2, h2_shape, cols3 = cache
    g = {}
    if need_dw:
        g["D.5.bias"] = glogits.sum(keepdims=True)
    dh2, g["D.5.weight"] = conv_grads(glogits, cols3, p["D.5.weight"], h2_shape, 1, 0, need_dw=need_dw)
    dh2 *= d2
    da2, g["D.3.weight"], g["D.3.bias"] = batch_norm_grads(dh2, bn)
    dh1, g["D.2.weight"] = conv_grads(da2, cols2, p["D.2.weight"], h1_shape, 2, 1, need_dw=need_dw)
    dh1 *= d1
    if need_dw:
        g["D.0.bias"] = dh1.sum((1, 2, 3))
    dx, g["D.0.weight"] = conv_grads(dh1, cols1, p["D.0.weight"], x_shape, 2, 1, need_dx, need_dw)
    return dx, ({k: v for k, v in g.items() if v is not None} if need_dw else {})


def dcgan_d_loss_grad(p, bufs, real, fake):
    """D step: BCE(D(real), 1) + BCE(D(fake), 0), real and fake as separate batches (each with its own
    BatchNorm statistics); gradients for D only."""
    out_r, cache_r = dcgan_d_forward(p, bufs, real)
    out_f, cache_f = dcgan_d_forward(p, bufs, fake)
    loss_r, g_r = bce_mean_and_grad(out_r, 1.0)
    loss_f, g_f = bce_mean_and_grad(out_f, 0.0)
    _, gr = dcgan_d_grads(p, g_r, cache_r, need_dx=False)
    _, gf = dcgan_d_grads(p, g_f, cache_f, need_dx=False)
    for k in gr:
        gr[k] += gf[k]
    return loss_r + loss_f, gr


def dcgan_g_loss_grad(p, bufs, fake, cache_g):
    """G step (non-saturating): BCE(D(G(z)), 1); gradients for G only (D is only backpropagated, but its
    BatchNorm statistics are updated by this forward, as in a framework's training mode)."""
    out, cache_d = dcgan_d_forward(p, bufs, fake)
    loss, g_out = bce_mean_and_grad(out, 1.0)
    dfake, _ = dcgan_d_grads(p, g_out, cache_d, need_dx=True, need_dw=False)
    return loss, dcgan_g_grads(p, dfake, cache_g)


def dcgan_buffers(params: dict) -> dict:
    """BatchNorm running (mean, var) per BatchNorm layer name ("G.1", ...), zeros and ones."""
    return {
        n[: -len(".weight")]: (np.zeros_like(a), np.ones_like(a))
        for n, a in params.items()
        if n.endswith(".weight") and a.ndim == 1
    }


# ----------------------------------------------------------------------------------------------------
# Adam
# ----------------------------------------------------------------------------------------------------


# ----------------------------------------------------------------------------------------------------
# W5: the LSTM, on time-major (T, B, .) arrays
# ----------------------------------------------------------------------------------------------------


def lstm_loss_grad(p: dict, x, y, need_grad: bool = True):
    """loss = mean (out(h_t) - y_t)^2 over an LSTM with PyTorch's gates, x and y time-major (T, B, I):

        a_t = x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh = [a_i, a_f, a_g, a_o]     (B, 4H)
        c_t = s(a_f) c_{t-1} + s(a_i) tanh(a_g)       h_t = s(a_o) tanh(c_t)       (h_0 = c_0 = 0)

    and backprop through time: the input products of all steps are one GEMM before the loop, the weight
    gradients one GEMM each after it; only ``h W_hh^T`` and its adjoint run once per step.
    """
    T, B, I = x.shape
    Wih, Whh, Wo = p["lstm.weight_ih_l0"], p["lstm.weight_hh_l0"], p["out.weight"]
    H = Whh.shape[1]
    dt = x.dtype
    A = linear(x.reshape(T * B, I), Wih, p["lstm.bias_ih_l0"]).reshape(T, B, 4 * H)
    A += p["lstm.bias_hh_l0"]
    hs = np.zeros((T + 1, B, H), dt)  # h_0 .. h_T
    cs = np.zeros((T + 1, B, H), dt)  # c_0 .. c_T
    tc = np.empty((T, B, H), dt)  # tanh(c_t)
    for t in range(T):
        a = A[t]
        a += hs[t] @ Whh.T
        a[:, : 2 * H] = sigmoid(a[:, : 2 * H])  # i, f
        np.tanh(a[:, 2 * H : 3 * H], out=a[:, 2 * H : 3 * H])  # g
        a[:, 3 * H :] = sigmoid(a[:, 3 * H :])  # o
        i, f, g, o = a[:, :H], a[:, H : 2 * H], a[:, 2 * H : 3 * H], a[:, 3 * H :]
        np.multiply(f, cs[t], out=cs[t + 1])
        cs[t + 1] += i * g
        np.tanh(cs[t + 1], out=tc[t])
        np.multiply(o, tc[t], out=hs[t + 1])
    h = hs[1:].reshape(T * B, H)
    d = linear(h, Wo, p["out.bias"])
    d -= y.reshape(T * B, I)
    loss = np.vdot(d, d) / dt.type(d.size)
    if not need_grad:
        return loss, None
    g = {}
    d *= dt.type(2.0 / d.size)
    dh_all, g["out.weight"], g["out.bias"] = linear_grads(d, h, Wo)
    dh_all = dh_all.reshape(T, B, H)
    dA = np.empty_like(A)  # gradients of the pre-activations, step by step
    dc = np.zeros((B, H), dt)
    dh = np.zeros((B, H), dt)
    for t in reversed(range(T)):
        a, da = A[t], dA[t]
        i, f, gg, o = a[:, :H], a[:, H : 2 * H], a[:, 2 * H : 3 * H], a[:, 3 * H :]
        dh += dh_all[t]
        # dc += dh o (1 - tanh(c)^2);  then the gates: d a_i = dc g i (1 - i), ...
        dc += dh * o * (1 - tc[t] * tc[t])
        np.multiply(dh * tc[t], o * (1 - o), out=da[:, 3 * H :])
        np.multiply(dc * gg, i * (1 - i), out=da[:, :H])
        np.multiply(dc * cs[t], f * (1 - f), out=da[:, H : 2 * H])
        np.multiply(dc * i, 1 - gg * gg, out=da[:, 2 * H : 3 * H])
        dc *= f
        np.matmul(da, Whh, out=dh)
    dA2 = dA.reshape(T * B, 4 * H)
    g["lstm.weight_ih_l0"] = dA2.T @ x.reshape(T * B, I)
    g["lstm.weight_hh_l0"] = dA2.T @ hs[:-1].reshape(T * B, H)
    g["lstm.bias_ih_l0"] = dA2.sum(0)
    g["lstm.bias_hh_l0"] = g["lstm.bias_ih_l0"].copy()
    return loss, g


# ----------------------------------------------------------------------------------------------------
# W6: StyleGAN2's modulated convolution
# ----------------------------------------------------------------------------------------------------


def im2col_batched(x, k: int, p: int):
    """(N, C, H, W) -> columns (N, C k k, H W) of a stride-1 k x k convolution with padding p = (k - 1) / 2."""
    N, C, H, W = x.shape
    xp_ = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    cols = np.empty((N, C, k, k, H, W), x.dtype)
    for i in range(k):
        for j in range(k):
            cols[:, :, i, j] = xp_[:, :, i : i + H, j : j + W]
    return cols.reshape(N, C * k * k, H * W)


def modconv_loss_grad(p: dict, x, w, target, need_grad: bool = True):
    """loss = mean (y - target)^2 of one modulated convolution with demodulation (Karras et al. 2020):

        s = w (a A)^T + b                (N, C)       a = 1/sqrt(w_dim), the equalised scale
        w'_n = (c W) s_n                 (N, O, C, 3, 3)   c = 1/sqrt(C 9)
        d_n = (sum_{c,k} w'_n^2 + eps)^(-1/2)   (N, O)
        y_n = conv(x_n, w'_n d_n)        one batched GEMM of the per-sample weights with im2col's columns

    backward: g(w' d) = gy cols^T;  gd = sum g(w' d) w';  gw' = g(w' d) d - gd d^3 w';
    gW = c sum_n gw' s_n;  gs = sum_{o,k} gw' c W;  gA = a gs^T w;  gb = sum_n gs."""
    N, C, H, Wd = x.shape
    cw, ca = common.w6_scales({"ch": C, "w_dim": w.shape[1]})
    Wt, A, b = p["mod.weight"], p["mod.affine.weight"], p["mod.affine.bias"]
    O = Wt.shape[0]
    dt = x.dtype
    s = linear(w, A * dt.type(ca), b)
    Ws = Wt * dt.type(cw)
    wm = Ws[None] * s[:, None, :, None, None]
    d = 1.0 / np.sqrt(np.einsum("nock,nock->no", wm.reshape(N, O, C, 9), wm.reshape(N, O, C, 9))
                      + dt.type(common.MODCONV_EPS))
    wd = wm * d[:, :, None, None, None]
    cols = im2col_batched(x, 3, 1)
    y = np.matmul(wd.reshape(N, O, C * 9), cols)
    y -= target.reshape(N, O, H * Wd)
    loss = np.vdot(y, y) / dt.type(y.size)
    if not need_grad:
        return loss, None
    y *= dt.type(2.0 / y.size)
    g_wd = np.matmul(y, cols.transpose(0, 2, 1)).reshape(wm.shape)
    gd = np.einsum("nock,nock->no", g_wd.reshape(N, O, C, 9), wm.reshape(N, O, C, 9))
    g_wm = g_wd * d[:, :, None, None, None]
    g_wm -= wm * (gd * d**3)[:, :, None, None, None]
    g = {"mod.weight": np.einsum("nochw,nc->ochw", g_wm, s) * dt.type(cw)}
    gs = np.einsum("nochw,ochw->nc", g_wm, Ws)
    g["mod.affine.weight"] = (gs.T @ w) * dt.type(ca)
    g["mod.affine.bias"] = gs.sum(0)
    return loss, g


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
    """One training step of ``workload`` as a callable; it returns the loss (W2, W4: (loss_D, loss_G)).
    ``step.params`` is the name -> array dict it trains."""
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
    elif workload in ("W3", "W5", "W6"):      # one model, one Adam: loss_grad(params, *batch)
        opt = Adam(p)
        loss_grad = {"W3": mlp_loss_grad, "W5": lstm_loss_grad, "W6": modconv_loss_grad}[workload]
        if workload == "W5":  # (B, T, I) -> time-major (T, B, I) once: a step's slices x_t are then contiguous
            batches = [tuple(np.ascontiguousarray(a.transpose(1, 0, 2)) for a in b) for b in batches]

        def step():
            loss, g = loss_grad(p, *batches[k[0] % len(batches)])
            opt.step(g)
            k[0] += 1
            return loss
    elif workload == "W4":
        hp = common.adam_args(workload)
        opt_g = Adam({n: a for n, a in p.items() if n.startswith("G")}, **hp)
        opt_d = Adam({n: a for n, a in p.items() if n.startswith("D")}, **hp)
        bufs = dcgan_buffers(p)
        # (N, 1, H, W) -> (1, N, H, W): the same memory for one channel
        batches = [(x.transpose(1, 0, 2, 3),) for (x,) in batches]

        def step():
            (real,) = batches[k[0] % len(batches)]
            fake, cache_g = dcgan_g_forward(p, bufs, draw())
            loss_d, gd = dcgan_d_loss_grad(p, bufs, real, fake)
            opt_d.step(gd)
            loss_g, gg = dcgan_g_loss_grad(p, bufs, fake, cache_g)
            opt_g.step(gg)
            k[0] += 1
            return loss_d, loss_g

        step.buffers = bufs
    else:
        raise ValueError(f"unknown workload {workload!r}")
    step.params = p
    return step
