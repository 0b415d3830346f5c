"""Gradient clipping by global norm: if ||g|| > max_norm, scale every gradient by max_norm / ||g||."""
from __future__ import annotations

import math

from minigen.backend import xp


def clip_grad_norm_(params, max_norm: float, norm_type: float = 2.0, error_if_nonfinite: bool = False):
    """Scale the gradients of ``params`` in place so their joint norm is at most ``max_norm``:
    ``g <- g * min(1, max_norm / (||g|| + 1e-6))`` with ``||g|| = (sum_i ||g_i||_p^p)^(1/p)``.

    Returns the norm before clipping as a 0-d Tensor (PyTorch does the same): everything stays on the
    device, so a training step that clips does not wait for the GPU.  A gradient array shared by two
    parameters is counted and scaled once.
    """
    from minigen.autograd import Tensor

    grads = list({id(p.grad.data): p.grad.data for p in params if p.grad is not None}.values())
    if not grads:
        return Tensor(xp.zeros(()))
    if norm_type == math.inf:
        total = xp.stack([xp.abs(g).max() for g in grads]).max()
    else:
        total = xp.stack([(xp.abs(g) ** norm_type).sum() for g in grads]).sum() ** (1.0 / norm_type)
    if error_if_nonfinite and not bool(xp.isfinite(total)):     # the only read, and only when asked
        raise FloatingPointError(f"clip_grad_norm_: the gradient norm is {float(total)}; "
                                 "pass error_if_nonfinite=False to clip anyway")
    scale = xp.minimum(max_norm / (total + 1e-6), 1.0)
    for g in grads:
        g *= scale.astype(g.dtype)
    return Tensor(total)
