"""Upsampling of NCHW tensors by an integer factor, composed of shape ops and fixed-weight mixes, so the
first and second derivatives come from those ops and stay exact:

    upsample nearest    y = each pixel repeated s x s          gx = gy summed over each s x s block
    upsample bilinear   per axis  y = (1 - w) x[i0] + w x[i1]   gx = (1 - w) gy and w gy added back at i0, i1
    pixel_shuffle       (N, C r^2, H, W) -> (N, C, H r, W r)    gx = gy moved back by the inverse permutation
    resize(x, size)     y = A x B^T per image and channel       gx = A^T gy B   (itself a resize: the family
                        A (H', H), B (W', W) fixed matrices     is closed, every order of derivative exact)

Bilinear follows PyTorch's align_corners=False: output pixel o reads source coordinate (o + 1/2)/s - 1/2.

``resize`` goes to any size (H', W'), integer factor or not (SinGAN's 4/3 pyramid), as one separable linear
map whose rows say what each output pixel reads (PyTorch's ``interpolate`` modes, align_corners=False):

    nearest   A[o, floor(o H / H')] = 1
    bilinear  source coordinate c = max((o + 1/2) H / H' - 1/2, 0):  A[o, floor c] = 1 - frac c,
              A[o, min(floor c + 1, H - 1)] += frac c
    area      A[o, i] = 1 / (e - s) for s <= i < e,  s = floor(o H / H'), e = ceil((o + 1) H / H')
              (the average over the input pixels the output pixel covers: avg-pool down for any factor)
"""
from __future__ import annotations

import math

from minigen.autograd.function import Function
from minigen.backend import xp
from minigen.ops.shape import broadcast_to, getitem, require_nchw, reshape, shape_of, transpose

RESIZE_MODES = ("nearest", "bilinear", "area")


def upsample(x, scale_factor: int = 2, mode: str = "nearest"):
    """(N, C, H, W) -> (N, C, H s, W s) for an integer ``scale_factor`` s; ``bilinear`` follows PyTorch's
    align_corners=False."""
    require_nchw(x, "upsample")
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
    require_nchw(x, "pixel_shuffle")
    N, Cr2, H, W = shape_of(x)
    r = int(upscale_factor)
    if Cr2 % (r * r):
        raise ValueError(f"pixel_shuffle: {Cr2} channels are not divisible by r^2 = {r * r}")
    C = Cr2 // (r * r)
    y = transpose(reshape(x, (N, C, r, r, H, W)), (0, 1, 4, 2, 5, 3))
    return reshape(y, (N, C, H * r, W * r))


def resize_matrix(n_in: int, n_out: int, mode: str, dtype=None):
    """The (n_out, n_in) matrix of a 1-D resize (see the module docstring), built on the host with Python
    floats and moved to the device once; each row sums to 1."""
    from minigen import backend
    if n_in < 1 or n_out < 1:
        raise ValueError(f"resize: sizes must be positive, got {n_in} -> {n_out}")
    m = [[0.0] * n_in for _ in range(n_out)]
    for o in range(n_out):
        if mode == "nearest":
            m[o][min(o * n_in // n_out, n_in - 1)] = 1.0
        elif mode == "bilinear":
            c = max((o + 0.5) * n_in / n_out - 0.5, 0.0)
            i0 = min(math.floor(c), n_in - 1)
            f = c - i0 if i0 < n_in - 1 else 0.0
            m[o][i0] += 1.0 - f
            m[o][min(i0 + 1, n_in - 1)] += f
        elif mode == "area":
            s, e = (o * n_in) // n_out, -((-(o + 1) * n_in) // n_out)
            for i in range(s, e):
                m[o][i] = 1.0 / (e - s)
        else:
            raise ValueError(f"resize: mode must be one of {RESIZE_MODES}, got {mode!r}")
    return backend.to_device(m, dtype=dtype or backend.default_float())


class Resize(Function):
    """y = A x B^T on each (H, W) image of x (N, C, H, W): A (H', H) acts on the rows, B (W', W) on the
    columns, so y is (N, C, H', W').

    Backward:  gx = A^T gy B, the resize by the transposed matrices (a Resize node again, so under
    create_graph its own derivative is this op: every order is exact and no extra rule is needed)."""

    def __init__(self, a, b):
        self.a, self.b = a, b

    def forward(self, x):
        return xp.matmul(xp.matmul(self.a, x), self.b.T)

    def backward(self, gy, x, y):
        return Resize(self.a.T, self.b.T)(gy)


def resize(x, size, mode: str = "bilinear"):
    """(N, C, H, W) -> (N, C, H', W') for ``size`` = (H', W') (or one int for both) by ``mode`` "nearest",
    "bilinear" (align_corners=False) or "area" (the mean over the covered input pixels), as PyTorch's
    ``interpolate``; any factor, up or down."""
    require_nchw(x, "resize")
    _, _, H, W = shape_of(x)
    ho, wo = (size, size) if isinstance(size, int) else tuple(int(v) for v in size)
    if mode not in RESIZE_MODES:
        raise ValueError(f"resize: mode must be one of {RESIZE_MODES}, got {mode!r}")
    dtype = getattr(x, "dtype", None)
    return Resize(resize_matrix(H, ho, mode, dtype), resize_matrix(W, wo, mode, dtype))(x)
