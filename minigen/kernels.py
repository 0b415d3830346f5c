"""Fused elementwise kernels for CuPy: one launch where the NumPy code needs several.

On a GPU each ``xp`` call is a kernel launch that reads and writes whole arrays, so ``sigmoid`` (exp, abs,
add, divide, multiply, compare, select) costs seven passes over memory; one ``cupy.ElementwiseKernel``
does it in one.  Each kernel here is the same formula as the NumPy code beside its use, in CUDA C; the
ops call it only when the backend is CuPy (``kernel.on``), so the NumPy and strict paths are unchanged.
The bodies are compiled with NVRTC in ``tests/backend/test_kernels.py`` when NVRTC is installed, and checked
against the NumPy formulas whenever the test suite runs on CuPy.
"""
from __future__ import annotations

from minigen import backend


class Kernel:
    """``cupy.ElementwiseKernel(params_in, params_out, body, name)``, built on first use.

    ``T`` is the arrays' float type; Python floats passed for ``T`` parameters are cast to it.
    Outputs passed as arguments are updated in place (Adam's parameter and moments).
    """

    def __init__(self, params_in: str, params_out: str, body: str, name: str):
        self.params_in, self.params_out, self.body, self.name = params_in, params_out, body, name
        self._kernel = None

    @property
    def on(self) -> bool:
        return backend.get_backend() == "cupy"

    def __call__(self, *args):
        if self._kernel is None:
            import cupy
            self._kernel = cupy.ElementwiseKernel(self.params_in, self.params_out, self.body, self.name)
        return self._kernel(*args)


# y = 1 / (1 + e^-x) without an overflowing exp (Sigmoid.forward)
sigmoid = Kernel("T x", "T y", "T e = exp(-fabs(x)); T r = T(1) / (T(1) + e); y = x >= T(0) ? r : e * r;",
                 "minigen_sigmoid")

# y = f x with f = 1 for x > 0, slope otherwise; f is dy/dx, kept for the backward (LeakyReLU.forward)
leaky_relu = Kernel("T x, T slope", "T y, T f", "f = x > T(0) ? T(1) : slope; y = f * x;", "minigen_leaky_relu")

# log(1 + e^x) = max(x, 0) + log1p(e^-|x|) (softplus_raw)
softplus = Kernel("T x", "T y", "y = fmax(x, T(0)) + log1p(exp(-fabs(x)));", "minigen_softplus")

# log sigmoid(x) = min(x, 0) - log1p(e^-|x|) (LogSigmoid.forward)
log_sigmoid = Kernel("T x", "T y", "y = fmin(x, T(0)) - log1p(exp(-fabs(x)));", "minigen_log_sigmoid")

# one Adam step in place (Adam.update without amsgrad): g += wd p (L2; wd = 0 for AdamW, which decays p
# before), m += (1 - b1)(g - m), v += (1 - b2)(g^2 - v), p -= c1 m / (c2 sqrt(v) + eps)
# with c1 = lr / (1 - b1^t) and c2 = 1 / sqrt(1 - b2^t)
adam = Kernel("T g, T b1, T b2, T c1, T c2, T eps, T wd", "T p, T m, T v",
              "T gg = g + wd * p; m += (T(1) - b1) * (gg - m); v += (T(1) - b2) * (gg * gg - v); "
              "p -= c1 * m / (c2 * sqrt(v) + eps);", "minigen_adam")

ALL = {"sigmoid": sigmoid, "leaky_relu": leaky_relu, "softplus": softplus, "log_sigmoid": log_sigmoid,
       "adam": adam}
