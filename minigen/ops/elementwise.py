"""Elementwise functions.  Each derivative is one line (y: the output):

    exp          y = e^x                       y' = y
    log          y = log x                     y' = 1/x
    sqrt         y = x^(1/2)                   y' = 1/(2y)
    abs          y = |x|                       y' = sign(x)
    sigmoid      y = 1/(1 + e^-x)              y' = y(1-y)
    tanh         y = tanh x                    y' = 1 - y^2
    relu         y = max(x, 0)                 y' = [x > 0]
    leaky_relu   y = x or slope x              y' = [x > 0] + slope [x <= 0]
    softplus     y = log(1 + e^x)              y' = sigmoid(x)
    log_sigmoid  y = log sigmoid(x)            y' = sigmoid(-x)
    clip         y = min(max(x, lo), hi)       y' = [lo <= x <= hi]
    maximum      y = max(a, b)                 ga = gy [a > b],  gb = gy [a < b]  (ties: half each)
    minimum      y = min(a, b)                 ga = gy [a < b],  gb = gy [a > b]  (ties: half each)
    where        y = a if c else b             ga = gy c,  gb = gy (not c)

Masks such as [x > 0] are constants (computed on raw data), so second derivatives through them are 0,
which is the true second derivative away from the kinks.
"""
from __future__ import annotations

from minigen import kernels, workspace
from minigen.autograd.function import Function
from minigen.backend import xp
from minigen.ops.shape import data_of, product, unbroadcast


class Exp(Function):
    def forward(self, x):
        return xp.exp(x)

    def backward(self, gy, x, y):
        return gy * y


def exp(x):
    """e^x"""
    return Exp()(x)


class Log(Function):
    def forward(self, x):
        return xp.log(x)

    def backward(self, gy, x, y):
        return gy / x


def log(x):
    """Natural logarithm."""
    return Log()(x)


class Sqrt(Function):
    def forward(self, x):
        return xp.sqrt(x)

    def backward(self, gy, x, y):
        return gy / (2.0 * y)


def sqrt(x):
    return Sqrt()(x)


class Abs(Function):
    def forward(self, x):
        return xp.abs(x)

    def backward(self, gy, x, y):
        return gy * xp.sign(data_of(x))


def abs(x):  # noqa: A001
    """|x| (derivative sign(x); 0 at 0)."""
    return Abs()(x)


class Sigmoid(Function):
    def forward(self, x):
        if kernels.sigmoid.on:                   # one CuPy launch for the seven below
            return kernels.sigmoid(x)
        e = xp.exp(-xp.abs(x))                   # 1/(1+e^-x) and e^x/(1+e^x): never an overflowing exp
        r = 1.0 / (1.0 + e)
        return xp.where(x >= 0, r, e * r)

    def backward(self, gy, x, y):
        return gy * (y * (1.0 - y))


def sigmoid(x):
    """1 / (1 + e^-x), computed without overflow."""
    return Sigmoid()(x)


class Tanh(Function):
    def forward(self, x):
        return xp.tanh(x)

    def backward(self, gy, x, y):
        return gy * (1.0 - y * y)


def tanh(x):
    return Tanh()(x)


class ReLU(Function):
    def forward(self, x):
        return xp.maximum(x, 0, out=workspace.empty(x.shape, x.dtype))

    def backward(self, gy, x, y):
        return product(gy, data_of(x) > 0)


def relu(x):
    """max(x, 0)"""
    return ReLU()(x)


class LeakyReLU(Function):
    """y = f x with the slope factor f = [x > 0] + slope [x <= 0], which is also dy/dx: the forward keeps
    it, so the backward is one product."""

    def __init__(self, slope):
        self.slope = slope

    def forward(self, x):
        if kernels.leaky_relu.on:
            y, self.saved = kernels.leaky_relu(x, self.slope)
            return y
        # arithmetic on the mask, not xp.where: a select on random signs is ~8x slower in NumPy
        f = self.saved = xp.greater(x, 0, out=workspace.empty(x.shape, x.dtype))
        f *= 1 - self.slope
        f += self.slope
        return xp.multiply(x, f, out=workspace.empty(x.shape, x.dtype))

    def backward(self, gy, x, y):
        return product(gy, self.saved)


def leaky_relu(x, negative_slope: float = 0.01):
    """x for x > 0, negative_slope * x otherwise."""
    return LeakyReLU(negative_slope)(x)


def softplus_raw(x):
    """log(1 + e^x) = max(x, 0) + log1p(e^-|x|) on raw arrays: no overflow, and (unlike NumPy's float32
    logaddexp) plain fast kernels."""
    if kernels.softplus.on:
        return kernels.softplus(x)
    return xp.maximum(x, 0) + xp.log1p(xp.exp(-xp.abs(x)))


class Softplus(Function):
    def forward(self, x):
        return softplus_raw(x)

    def backward(self, gy, x, y):
        return gy * sigmoid(x)


def softplus(x):
    """log(1 + e^x), stable for |x| up to the float range."""
    return Softplus()(x)


class LogSigmoid(Function):
    def forward(self, x):
        if kernels.log_sigmoid.on:
            return kernels.log_sigmoid(x)
        return xp.minimum(x, 0) - xp.log1p(xp.exp(-xp.abs(x)))     # log sigmoid(x) = -softplus(-x)

    def backward(self, gy, x, y):
        return gy * sigmoid(-x)


def log_sigmoid(x):
    """log sigmoid(x) = -softplus(-x), stable for large |x|."""
    return LogSigmoid()(x)


class Clip(Function):
    def __init__(self, lo, hi):
        self.lo, self.hi = lo, hi

    def forward(self, x):
        return xp.clip(x, self.lo, self.hi)

    def backward(self, gy, x, y):
        d = data_of(x)
        inside = xp.ones(d.shape, dtype=bool)
        if self.lo is not None:
            inside &= d >= self.lo
        if self.hi is not None:
            inside &= d <= self.hi
        return gy * inside


def clip(x, lo=None, hi=None):
    """Limit values to [lo, hi] (either bound may be None); the gradient is 0 outside."""
    return Clip(lo, hi)(x)


class Maximum(Function):
    broadcasts = True
    pick = "maximum"                                   # looked up on the active backend at call time
    wins = staticmethod(lambda a, b: a > b)

    def forward(self, a, b):
        return getattr(xp, self.pick)(a, b)

    def backward(self, gy, a, b, y):
        da, db = data_of(a), data_of(b)
        wa = self.wins(da, db) + 0.5 * (da == db)      # ties send half the gradient each way
        ga, gb = self.needs_grad
        return (unbroadcast(gy * wa.astype(gy.dtype), a) if ga else None,
                unbroadcast(gy * (1 - wa).astype(gy.dtype), b) if gb else None)


def maximum(a, b):
    """Elementwise max of two tensors (broadcasting)."""
    return Maximum()(a, b)


class Minimum(Maximum):
    pick = "minimum"
    wins = staticmethod(lambda a, b: a < b)


def minimum(a, b):
    """Elementwise min of two tensors (broadcasting)."""
    return Minimum()(a, b)


class Where(Function):
    broadcasts = True

    def __init__(self, cond):
        self.cond = cond

    def forward(self, a, b):
        return xp.where(self.cond, a, b)

    def backward(self, gy, a, b, y):
        ga, gb = self.needs_grad
        zero = xp.zeros((), dtype=gy.dtype)
        return (unbroadcast(where(self.cond, gy, zero), a) if ga else None,
                unbroadcast(where(self.cond, zero, gy), b) if gb else None)


def where(cond, a, b):
    """Elementwise ``a if cond else b``; ``cond`` is a constant boolean array or tensor."""
    cond = data_of(cond)
    if not hasattr(cond, "dtype") or cond.dtype != bool:
        cond = xp.asarray(cond).astype(bool)
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        raise TypeError("where: at least one of a, b must be an array or tensor")
    return Where(cond)(a, b)
