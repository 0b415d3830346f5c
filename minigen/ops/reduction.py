"""Reductions: sum, mean, max, min, logsumexp, var.  Backward spreads the gradient back over the
reduced axes (gy re-expanded to x's shape; n: the number of values reduced into each output):

    sum        y = sum x               gx = gy
    mean       y = sum x / n           gx = gy / n
    max, min   y = max x, min x        gx = gy at the arg-max / arg-min (ties share it equally)
    logsumexp  y = log sum e^x         gx = gy e^(x - y) = gy softmax(x)
    var        y = sum (x - mean x)^2 / (n - ddof)     composed of mean, sub, mul and sum
"""
from __future__ import annotations

from minigen.autograd.function import Function
from minigen.autograd.tensor import Tensor
from minigen.backend import xp
from minigen.ops.elementwise import exp
from minigen.ops.shape import _norm_axis, broadcast_to, data_of, reshape, shape_of


def _keep(g, x_shape, axis, keepdims):
    """Reshape a reduced gradient so it broadcasts against the input (re-insert the reduced axes)."""
    if keepdims:
        return g
    axes = _norm_axis(axis, len(x_shape))
    kept = tuple(1 if i in axes else n for i, n in enumerate(x_shape))
    return reshape(g, kept)


class Sum(Function):
    def __init__(self, axis=None, keepdims=False):
        self.axis, self.keepdims = axis, keepdims

    def forward(self, x):
        return x.sum(axis=self.axis, keepdims=self.keepdims)

    def backward(self, gy, x, y):
        xs = shape_of(x)
        return broadcast_to(_keep(gy, xs, self.axis, self.keepdims), xs)


def sum(x, axis=None, keepdims=False):  # noqa: A001
    """Sum over ``axis`` (all axes when None)."""
    if not isinstance(x, Tensor):          # raw arrays (a fast backward): no node to make
        return x.sum(axis=axis, keepdims=keepdims)
    return Sum(axis, keepdims)(x)


class Mean(Function):
    def __init__(self, axis=None, keepdims=False):
        self.axis, self.keepdims = axis, keepdims

    def forward(self, x):
        return x.mean(axis=self.axis, keepdims=self.keepdims)

    def backward(self, gy, x, y):
        xs = shape_of(x)
        n = x.size // y.size if y.size else 1
        return broadcast_to(_keep(gy, xs, self.axis, self.keepdims) * (1.0 / n), xs)


def mean(x, axis=None, keepdims=False):
    """Mean over ``axis`` (all axes when None)."""
    return Mean(axis, keepdims)(x)


class Max(Function):
    """y = max over ``axis``; gx = gy where x equals y, split equally between ties."""

    reduce = "max"

    def __init__(self, axis=None, keepdims=False):
        self.axis, self.keepdims = axis, keepdims

    def forward(self, x):
        return getattr(x, self.reduce)(axis=self.axis, keepdims=self.keepdims)

    def backward(self, gy, x, y):
        xs = shape_of(x)
        hit = data_of(x) == _keep(data_of(y), xs, self.axis, self.keepdims)
        share = hit / hit.sum(axis=_norm_axis(self.axis, len(xs)), keepdims=True)   # ties share
        return broadcast_to(_keep(gy, xs, self.axis, self.keepdims), xs) * share.astype(x.dtype)


def max(x, axis=None, keepdims=False):  # noqa: A001
    """Largest value over ``axis``; the gradient goes to the arg-max (shared equally between ties)."""
    return Max(axis, keepdims)(x)


class Min(Max):
    reduce = "min"       # Max's rule: the gradient goes where x equals y


def min(x, axis=None, keepdims=False):  # noqa: A001
    """Smallest value over ``axis``; the gradient goes to the arg-min (shared equally between ties)."""
    return Min(axis, keepdims)(x)


class LogSumExp(Function):
    def __init__(self, axis=None, keepdims=False):
        self.axis, self.keepdims = axis, keepdims

    def forward(self, x):
        m = x.max(axis=self.axis, keepdims=True)
        m = xp.where(xp.isfinite(m), m, 0)            # all -inf rows stay -inf, without NaN
        y = xp.log(xp.exp(x - m).sum(axis=self.axis, keepdims=True)) + m
        return y if self.keepdims else y.reshape(
            tuple(n for i, n in enumerate(x.shape) if i not in _norm_axis(self.axis, x.ndim)))

    def backward(self, gy, x, y):
        xs = shape_of(x)
        return _keep(gy, xs, self.axis, self.keepdims) * exp(x - _keep(y, xs, self.axis, self.keepdims))


def logsumexp(x, axis=None, keepdims=False):
    """log sum exp(x) over ``axis``, computed as m + log sum exp(x - m) with m = max x (no overflow)."""
    return LogSumExp(axis, keepdims)(x)


def var(x, axis=None, keepdims=False, ddof=0):
    """Variance  sum (x - mean)^2 / (n - ddof)  over ``axis`` (NumPy's default ddof=0)."""
    xs = shape_of(x)
    n = 1
    for a in _norm_axis(axis, len(xs)):
        n *= xs[a]
    d = x - mean(x, axis, keepdims=True)
    return sum(d * d, axis, keepdims) * (1.0 / (n - ddof))
