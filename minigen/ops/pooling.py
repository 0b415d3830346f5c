"""Pooling on NCHW tensors, composed of strided slices (getitem) and reductions, so the first and second
derivatives come from those ops and stay exact.  With x[i, j] the strided slice that kernel tap (i, j)
visits, x[:, :, i::s, j::s] of the padded input (N, C, Ho, Wo each):

    avg_pool2d   y = mean over taps of x[i, j]     gx = gy / (kh kw) added back into each tap's slice
    max_pool2d   y = max over taps of x[i, j]      gx = gy to each window's arg-max (ties share it)

Ho = (H + 2 p - k) // s + 1; padding counts zeros for avg_pool2d (PyTorch's count_include_pad) and -inf
for max_pool2d.
"""
from __future__ import annotations

import math

from minigen.ops.conv import _pair, out_size
from minigen.ops.reduction import max as _max
from minigen.ops.shape import getitem, pad, require_nchw, shape_of, stack


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


def avg_pool2d(x, kernel_size, stride=None, padding=0):
    """Mean over each kh x kw window (zero padding counts, as PyTorch's count_include_pad)."""
    require_nchw(x, "avg_pool2d")
    taps = _taps(x, kernel_size, stride, padding, 0.0)
    total = taps[0]
    for t in taps[1:]:
        total = total + t
    return total * (1.0 / len(taps))


def max_pool2d(x, kernel_size, stride=None, padding=0):
    """Max over each kh x kw window (padding with -inf)."""
    require_nchw(x, "max_pool2d")
    return _max(stack(_taps(x, kernel_size, stride, padding, -math.inf), 0), 0)
