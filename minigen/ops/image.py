"""Image ops on NCHW tensors: pooling, upsampling, pixel shuffle, padding; normalisation; embedding.

Most are compositions of differentiable ops (strided slices, reshapes, reductions), so their first and
second derivatives come for free and stay exact:

    avg_pool2d   mean of the kh*kw strided slices x[:, :, i::s, j::s]
    max_pool2d   max over the same slices (the gradient goes to the arg-max)
    upsample     nearest: repeat each pixel; bilinear: two gathers per axis, mixed by fixed weights
    pixel_shuffle (N, C r^2, H, W) -> (N, C, H r, W r) by reshape and transpose
    batch_norm   (x - mean) / sqrt(var + eps) * weight + bias over (N, H, W) (or N) per channel
    instance_norm the same over (H, W) per example and channel
    layer_norm   the same over the trailing ``normalized_shape`` dims
"""
from __future__ import annotations

import math

from minigen.autograd.function import Function, is_raw
from minigen.autograd.mode import no_grad
from minigen.backend import xp
from minigen.ops.conv import _pair, out_size
from minigen.ops.reduction import max as _max
from minigen.ops.reduction import mean, var
from minigen.ops.elementwise import sqrt
from minigen.ops.shape import broadcast_to, data_of, getitem, reshape, shape_of, stack, transpose


def _taps(x, kernel, stride, padding, fill):
    """The kh*kw strided slices that a pooling window visits, each (N, C, Ho, Wo)."""
    (kh, kw), (sh, sw), (ph, pw) = _pair(kernel), _pair(stride if stride is not None else kernel), _pair(padding)
    N, C, H, W = shape_of(x)
    if ph or pw:
        x = pad(x, (ph, ph, pw, pw), value=fill)
    Ho, Wo = out_size(H, kh, sh, ph, 1), out_size(W, kw, sw, pw, 1)
    if Ho < 1 or Wo < 1:
        raise ValueError(f"pool: input {H}x{W} is smaller than the window {kh}x{kw}")
    return [getitem(x, (slice(None), slice(None), slice(i, i + sh * (Ho - 1) + 1, sh),
                        slice(j, j + sw * (Wo - 1) + 1, sw)))
            for i in range(kh) for j in range(kw)]


def _check4(x, who):
    if len(shape_of(x)) != 4:
        raise ValueError(f"{who}: input must be (N, C, H, W), got shape {shape_of(x)}")


def avg_pool2d(x, kernel_size, stride=None, padding=0):
    """Mean over each kh x kw window (zero padding counts, as PyTorch's count_include_pad)."""
    _check4(x, "avg_pool2d")
    taps = _taps(x, kernel_size, stride, padding, 0.0)
    total = taps[0]
    for t in taps[1:]:
        total = total + t
    return total * (1.0 / len(taps))


def max_pool2d(x, kernel_size, stride=None, padding=0):
    """Max over each kh x kw window (padding with -inf)."""
    _check4(x, "max_pool2d")
    return _max(stack(_taps(x, kernel_size, stride, padding, -math.inf), 0), 0)


def upsample(x, scale_factor: int = 2, mode: str = "nearest"):
    """Enlarge H and W by an integer ``scale_factor``; ``bilinear`` follows PyTorch's align_corners=False."""
    _check4(x, "upsample")
    N, C, H, W = shape_of(x)
    s = int(scale_factor)
    if mode == "nearest":
        y = broadcast_to(reshape(x, (N, C, H, 1, W, 1)), (N, C, H, s, W, s))
        return reshape(y, (N, C, H * s, W * s))
    if mode == "bilinear":
        return _lerp_axis(_lerp_axis(x, 2, s), 3, s)
    raise ValueError(f"upsample: mode must be 'nearest' or 'bilinear', got {mode!r}")


def _lerp_axis(x, axis, s):
    n = shape_of(x)[axis]
    src = (xp.arange(n * s, dtype=xp.float64) + 0.5) / s - 0.5      # source coordinate of each output pixel
    src = xp.clip(src, 0, n - 1)
    i0 = xp.floor(src).astype(xp.int64)
    i1 = xp.minimum(i0 + 1, n - 1)
    w1 = (src - i0).astype(x.dtype)
    shape = [1] * 4
    shape[axis] = n * s
    w1 = w1.reshape(shape)
    idx = [slice(None)] * 4
    idx[axis] = i0
    a = getitem(x, tuple(idx))
    idx[axis] = i1
    b = getitem(x, tuple(idx))
    return a * (1.0 - w1) + b * w1


def pixel_shuffle(x, upscale_factor: int):
    """(N, C r^2, H, W) -> (N, C, H r, W r): channels become sub-pixel positions."""
    _check4(x, "pixel_shuffle")
    N, Cr2, H, W = shape_of(x)
    r = int(upscale_factor)
    if Cr2 % (r * r):
        raise ValueError(f"pixel_shuffle: {Cr2} channels are not divisible by r^2 = {r * r}")
    C = Cr2 // (r * r)
    y = transpose(reshape(x, (N, C, r, r, H, W)), (0, 1, 4, 2, 5, 3))
    return reshape(y, (N, C, H * r, W * r))


class Pad(Function):
    """Constant padding of the last two axes by (left, right, top, bottom) as in PyTorch's F.pad."""

    def __init__(self, widths, value):
        self.widths, self.value = widths, value

    def forward(self, x):
        return xp.pad(x, self.widths, constant_values=self.value)

    def backward(self, gy, x, y):
        crop = tuple(slice(a, a + n) for (a, _), n in zip(self.widths, shape_of(x)))
        return getitem(gy, crop)


def pad(x, padding, value: float = 0.0):
    """Pad the last axes: ``padding`` = (left, right) or (left, right, top, bottom), PyTorch's order."""
    p = tuple(padding)
    if len(p) % 2 or len(p) // 2 > len(shape_of(x)):
        raise ValueError(f"pad: padding must hold (before, after) pairs for the last axes, got {p}")
    pairs = [(p[i], p[i + 1]) for i in range(0, len(p), 2)]            # last axis first
    widths = [(0, 0)] * (len(shape_of(x)) - len(pairs)) + pairs[::-1]
    return Pad(tuple(widths), value)(x)


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
        xc = x - self.mean
        self.var = (xc * xc).mean(axis=self.axes, keepdims=True)
        self.saved = xp.sqrt(self.var + self.eps)
        return xc / self.saved

    def backward(self, gy, x, y):
        a = self.axes
        s = self.saved if is_raw(x) else sqrt(var(x, a, keepdims=True) + self.eps)
        return (gy - mean(gy, a, keepdims=True) - y * mean(gy * y, a, keepdims=True)) / s


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
    _check4(x, "instance_norm")
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


def embedding(indices, weight):
    """Rows of ``weight`` (num, dim) picked by integer ``indices`` of any shape -> indices.shape + (dim,)."""
    idx = data_of(indices)
    if not hasattr(idx, "dtype") or idx.dtype.kind not in "iu":
        raise TypeError(f"embedding: indices must be integers, got {getattr(idx, 'dtype', type(idx).__name__)}")
    n = shape_of(weight)[0]
    if idx.size and (int(idx.min()) < 0 or int(idx.max()) >= n):
        raise ValueError(f"embedding: indices must be in [0, {n}), got [{int(idx.min())}, {int(idx.max())}]")
    return getitem(weight, idx)
