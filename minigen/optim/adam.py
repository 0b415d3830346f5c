"""Adam and AdamW (Kingma & Ba 2015; Loshchilov & Hutter 2019), as in PyTorch.

    t <- t + 1
    g <- g + weight_decay * p                      (Adam's L2 term; AdamW decays p directly instead:
                                                    p <- p (1 - lr weight_decay))
    m <- b1 m + (1 - b1) g                         first moment
    v <- b2 v + (1 - b2) g^2                       second moment
    v_max <- max(v_max, v)   if amsgrad
    p <- p - lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)

The update runs in place with one scratch buffer per parameter kept between steps, so a step makes no
new arrays.  (A numexpr-fused version was measured slower here than these in-place NumPy passes, and its
thread pool fought OpenBLAS's for the cores: see benchmarks/README.md.)  On CuPy the step is one fused
kernel (``minigen.kernels.adam``).
"""
from __future__ import annotations

import math
from functools import partial

from minigen import kernels, threads
from minigen.backend import xp
from minigen.optim.optimizer import Optimizer


class Adam(Optimizer):
    defaults = {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0, "amsgrad": False}
    decoupled = False

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, amsgrad: bool = False):
        if not 0.0 <= betas[0] < 1.0 or not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"{type(self).__name__}: betas must be in [0, 1), got {betas}")
        super().__init__(params, lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, amsgrad=amsgrad)
        self._scratch: dict = {}          # id(param) -> a work array of its shape (not state: never saved)

    def update(self, p, g, state, group):
        lr, (b1, b2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
        if not state:
            state["step"] = 0
            state["exp_avg"] = xp.zeros_like(p)
            state["exp_avg_sq"] = xp.zeros_like(p)
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = xp.zeros_like(p)
        state["step"] += 1
        t = state["step"]
        m, v = state["exp_avg"], state["exp_avg_sq"]
        if wd and self.decoupled:
            p *= 1.0 - lr * wd
        if kernels.adam.on and not group["amsgrad"]:   # the eleven passes below as one CuPy launch
            kernels.adam(g, b1, b2, lr / (1.0 - b1 ** t), 1.0 / math.sqrt(1.0 - b2 ** t), eps,
                         0.0 if self.decoupled else wd, p, m, v)
            return
        if wd and not self.decoupled:
            g = g + wd * p
        tmp = self._scratch.get(id(p))
        if tmp is None or tmp.shape != p.shape:
            tmp = self._scratch[id(p)] = xp.empty_like(p)
        step = partial(_adam, b1=b1, b2=b2, c2=1.0 / math.sqrt(1.0 - b2 ** t), eps=eps, c1=-lr / (1.0 - b1 ** t))
        if group["amsgrad"]:
            threads.chunked(step, p, g, m, v, tmp, state["max_exp_avg_sq"])
        else:
            threads.chunked(step, p, g, m, v, tmp)        # large parameters on several cores


def _adam(p, g, m, v, tmp, vmax=None, *, b1, b2, c2, eps, c1):
    """One Adam step on raw arrays (or equal chunks of them), in place, through the scratch ``tmp``."""
    xp.subtract(g, m, out=tmp)              # m += (1 - b1)(g - m)  ==  b1 m + (1 - b1) g
    tmp *= 1.0 - b1
    m += tmp
    xp.multiply(g, g, out=tmp)              # v += (1 - b2)(g^2 - v)
    tmp -= v
    tmp *= 1.0 - b2
    v += tmp
    if vmax is not None:                    # amsgrad
        xp.maximum(vmax, v, out=vmax)
        v = vmax
    xp.sqrt(v, out=tmp)                     # denominator: sqrt(v) / sqrt(1 - b2^t) + eps
    tmp *= c2
    tmp += eps
    xp.divide(m, tmp, out=tmp)
    tmp *= c1
    p += tmp


class AdamW(Adam):
    """Adam with decoupled weight decay: p <- p (1 - lr wd) before the Adam step (default wd 1e-2)."""

    decoupled = True

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad)
