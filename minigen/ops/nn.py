"""Neural-network ops: linear, softmax, log_softmax, dropout.

    linear(x, W, b)   y = x W^T + b              gx = gy W     gW = gy^T x     gb = sum_rows gy
    softmax           y = e^x / sum e^x          gx = y (gy - sum(gy y))
    log_softmax       y = x - logsumexp(x)       gx = gy - e^y sum(gy)
    dropout           y = x m / (1 - p)          gx = gy m / (1 - p)     (m a fixed 0/1 mask: a mul)

Shapes: x (batch, in) or (..., in), W (out, in), b (out,); softmax and log_softmax along ``axis``.
``linear`` is one fused op (one node instead of matmul + transpose + add), which matters for speed.
"""
from __future__ import annotations

from minigen import backend, workspace
from minigen.autograd.function import Function
from minigen.backend import xp
from minigen.ops.arithmetic import mul
from minigen.ops.elementwise import exp
from minigen.ops.reduction import sum
from minigen.ops.shape import reshape, shape_of, swap_last


class Linear(Function):
    def forward(self, x, W, b=None):
        if x.shape[-1] != W.shape[1]:
            raise ValueError(f"input {tuple(x.shape)} has {x.shape[-1]} features but the weight "
                             f"{tuple(W.shape)} expects {W.shape[1]} (weight is (out, in))")
        y = xp.matmul(x, W.T, out=workspace.empty((x.shape[0], W.shape[0]), xp.result_type(x, W)))
        if b is not None:
            y += b
        return y

    def backward(self, gy, x, W, b, y):
        gx, gW, gb = self.needs_grad
        return (gy @ W if gx else None,
                swap_last(gy) @ x if gW else None,
                sum(gy, 0) if gb else None)


def linear(x, W, b=None):
    """y = x W^T + b, with W of shape (out, in) as in PyTorch; x is (batch, in) or (..., in)."""
    xs = shape_of(x)
    if len(xs) != 2:
        lead = xs[:-1]
        y = Linear()(reshape(x, (-1, xs[-1])), W, b)
        return reshape(y, lead + (shape_of(W)[0],))
    return Linear()(x, W, b)


class Softmax(Function):
    def __init__(self, axis=-1):
        self.axis = axis

    def forward(self, x):
        e = xp.exp(x - x.max(axis=self.axis, keepdims=True))
        return e / e.sum(axis=self.axis, keepdims=True)

    def backward(self, gy, x, y):
        # dx = y * (gy - sum(gy * y))
        return y * (gy - sum(gy * y, self.axis, keepdims=True))


def softmax(x, axis: int = -1):
    """exp(x) / sum exp(x) along ``axis`` (shifted by the max, so no overflow)."""
    return Softmax(axis)(x)


class LogSoftmax(Function):
    def __init__(self, axis=-1):
        self.axis = axis

    def forward(self, x):
        m = x.max(axis=self.axis, keepdims=True)
        s = x - m
        return s - xp.log(xp.exp(s).sum(axis=self.axis, keepdims=True))

    def backward(self, gy, x, y):
        # dx = gy - softmax(x) * sum(gy)
        return gy - exp(y) * sum(gy, self.axis, keepdims=True)


def log_softmax(x, axis: int = -1):
    """x - logsumexp(x) along ``axis``."""
    return LogSoftmax(axis)(x)


def dropout(x, p: float = 0.5, training: bool = True, generator=None):
    """Zero each element with probability ``p`` and scale the rest by 1/(1-p) (identity in eval)."""
    if not 0.0 <= p < 1.0:
        raise ValueError(f"dropout: p must be in [0, 1), got {p}")
    if not training or p == 0.0:
        return x
    g = generator or backend.rng()
    keep = g.uniform(shape_of(x), dtype=x.dtype) >= p
    return mul(x, keep.astype(x.dtype) * (1.0 / (1.0 - p)))
