"""Normalisation: one op, Normalize, standardises x over some axes; batch_norm, instance_norm and
layer_norm choose the axes A and add a learned scale and shift.  With m = mean_A x, s = sqrt(var_A x + eps)
(the biased variance) and the means over A:

    normalize      y = (x - m) / s                gx = (gy - mean(gy) - y mean(gy y)) / s
    batch_norm     A = (N, H, W) or (N,); then y weight + bias per channel (eval mode: the running
                   statistics are constants, so (x - rm) / sqrt(rv + eps) is plain arithmetic)
    instance_norm  A = (H, W), per example and channel
    layer_norm     A = the trailing ``normalized_shape`` dims, then y weight + bias elementwise
    pixel_norm     y = x r,  r = (mean_c x^2 + eps)^(-1/2) over the channels   gx = r (gy - y mean_c(gy y))
                   (ProGAN's pixelwise feature vector normalisation; no centring, no learned scale)
"""
from __future__ import annotations

from minigen import workspace
from minigen.autograd.function import Function, is_raw
from minigen.autograd.mode import no_grad
from minigen.backend import xp
from minigen.ops.elementwise import sqrt
from minigen.ops.reduction import mean, var
from minigen.ops.shape import buffered, data_of, product, require_nchw, reshape, shape_of


class Normalize(Function):
    """y = (x - m) / s over ``axes``, m the mean and s = sqrt(v + eps) with v the biased variance: the core
    of batch_norm, instance_norm and layer_norm as one op (composed, it was ~10 ops each way).

    Backward, the means over ``axes``:  gx = (gy - mean(gy) - y mean(gy y)) / s.  It is written with
    differentiable ops on y (this node's output) and s, so it can be differentiated again; under
    create_graph s is rebuilt from x as a recorded expression rather than taken from the forward."""

    def __init__(self, axes, eps):
        self.axes, self.eps = axes, eps

    def forward(self, x):
        self.mean = x.mean(axis=self.axes, keepdims=True)           # kept: batch_norm's running statistics
        xc = buffered("subtract", x, self.mean)
        self.var = product(xc, xc).mean(axis=self.axes, keepdims=True)
        self.saved = xp.sqrt(self.var + self.eps)
        xc /= self.saved
        return xc

    def backward(self, gy, x, y):
        a = self.axes
        if is_raw(gy) and is_raw(x):
            # the same formula in place, in two reused buffers instead of five fresh temporaries
            t = product(gy, y)
            m = t.mean(axis=a, keepdims=True)
            xp.multiply(y, m, out=t)
            g = xp.subtract(gy, gy.mean(axis=a, keepdims=True), out=workspace.empty(gy.shape, gy.dtype))
            g -= t
            g /= self.saved
            return g
        s = self.saved if is_raw(x) else sqrt(var(x, a, keepdims=True) + self.eps)
        return (gy - mean(gy, a, keepdims=True) - y * mean(gy * y, a, keepdims=True)) / s


class PixelNorm(Function):
    """y = x r with r = (mean_c x^2 + eps)^(-1/2), the mean over the channel axis 1 (kept): each pixel's
    feature vector scaled to unit root mean square (Karras et al. 2018, eq. 2).

    Backward:  gx = r (gy - y mean_c(gy y)).  Written with differentiable ops on y (this node's output) and
    r, so it can be differentiated again; under create_graph r is rebuilt from x as a recorded expression."""

    def __init__(self, eps):
        self.eps = eps

    def forward(self, x):
        self.saved = 1.0 / xp.sqrt((x * x).mean(axis=1, keepdims=True) + self.eps)
        return x * self.saved

    def backward(self, gy, x, y):
        r = self.saved if is_raw(x) else 1.0 / sqrt(mean(x * x, 1, keepdims=True) + self.eps)
        return r * (gy - y * mean(gy * y, 1, keepdims=True))


def pixel_norm(x, eps: float = 1e-8):
    """Pixelwise feature normalisation (ProGAN): x (N, C) or (N, C, H, W) divided by the root mean square of
    its channels at each pixel, y = x / sqrt(mean_c x^2 + eps)."""
    if len(shape_of(x)) not in (2, 4):
        raise ValueError(f"pixel_norm: input must be (N, C) or (N, C, H, W), got shape {shape_of(x)}")
    return PixelNorm(float(eps))(x)


def _normalize(x, axes, eps):
    """(y, mean, biased var) of Normalize; the statistics as raw arrays."""
    op = Normalize(axes, eps)
    y = op(x)
    return y, op.mean, op.var


def _affine(y, weight, bias, ndim, channel_axis=1):
    shape = [1] * ndim
    shape[channel_axis] = -1
    if weight is not None:
        y = y * reshape(weight, tuple(shape))
    if bias is not None:
        y = y + reshape(bias, tuple(shape))
    return y


def batch_norm(x, running_mean=None, running_var=None, weight=None, bias=None, training: bool = True,
               momentum: float = 0.1, eps: float = 1e-5):
    """Normalise each channel over the batch (and H, W for 4-D input).  In training the batch statistics
    are used and the running ones updated in place (running var with the unbiased variance, as PyTorch);
    in eval the running statistics are used."""
    nd = len(shape_of(x))
    if nd not in (2, 4):
        raise ValueError(f"batch_norm: input must be (N, C) or (N, C, H, W), got {shape_of(x)}")
    axes = (0,) if nd == 2 else (0, 2, 3)
    shape = (1, -1) + (1, 1) * (nd == 4)
    if training:
        n = 1
        for a in axes:
            n *= shape_of(x)[a]
        if n < 2:
            raise ValueError("batch_norm: training needs more than one value per channel")
        y, m, v = _normalize(x, axes, eps)
        if running_mean is not None:
            with no_grad():
                running_mean *= 1 - momentum
                running_mean += momentum * data_of(m).reshape(-1)
                running_var *= 1 - momentum
                running_var += momentum * data_of(v).reshape(-1) * (n / (n - 1))
    else:
        if running_mean is None:
            raise ValueError("batch_norm: eval mode needs running_mean and running_var")
        y = (x - reshape(running_mean, shape)) / sqrt(reshape(running_var, shape) + eps)
    return _affine(y, weight, bias, nd)


def instance_norm(x, weight=None, bias=None, eps: float = 1e-5):
    """Normalise each example's channel over its H x W pixels."""
    require_nchw(x, "instance_norm")
    return _affine(_normalize(x, (2, 3), eps)[0], weight, bias, 4)


def layer_norm(x, normalized_shape, weight=None, bias=None, eps: float = 1e-5):
    """Normalise over the trailing ``normalized_shape`` dimensions of each example."""
    ns = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    xs = shape_of(x)
    if xs[-len(ns):] != ns:
        raise ValueError(f"layer_norm: input shape {xs} does not end with normalized_shape {ns}")
    axes = tuple(range(len(xs) - len(ns), len(xs)))
    y = _normalize(x, axes, eps)[0]
    if weight is not None:
        y = y * weight
    if bias is not None:
        y = y + bias
    return y
