"""Upsampling of NCHW tensors by an integer factor, composed of shape ops and fixed-weight mixes, so the
first and second derivatives come from those ops and stay exact:

    upsample nearest    y = each pixel repeated s x s          gx = gy summed over each s x s block
    upsample bilinear   per axis  y = (1 - w) x[i0] + w x[i1]   gx = (1 - w) gy and w gy added back at i0, i1
    pixel_shuffle       (N, C r^2, H, W) -> (N, C, H r, W r)    gx = gy moved back by the inverse permutation

Bilinear follows PyTorch's align_corners=False: output pixel o reads source coordinate (o + 1/2)/s - 1/2.
"""
from __future__ import annotations

from minigen.backend import xp
from minigen.ops.shape import broadcast_to, getitem, require_nchw, reshape, shape_of, transpose


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
