"""RMSprop (Hinton's lecture 6e), as in PyTorch.

    v <- alpha v + (1 - alpha) g^2
    centered:  a <- alpha a + (1 - alpha) g;   v~ = v - a^2       else v~ = v
    momentum:  b <- momentum b + g / (sqrt(v~) + eps);  p <- p - lr b
    otherwise: p <- p - lr g / (sqrt(v~) + eps)
"""
from __future__ import annotations

from minigen.backend import xp
from minigen.optim.optimizer import Optimizer


class RMSprop(Optimizer):
    defaults = {"lr": 1e-2, "alpha": 0.99, "eps": 1e-8, "weight_decay": 0.0, "momentum": 0.0, "centered": False}

    def __init__(self, params, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False):
        super().__init__(params, lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                         centered=centered)

    def update(self, p, g, state, group):
        lr, alpha, eps = group["lr"], group["alpha"], group["eps"]
        if group["weight_decay"]:
            g = g + group["weight_decay"] * p
        if not state:
            state["square_avg"] = xp.zeros_like(p)
            if group["centered"]:
                state["grad_avg"] = xp.zeros_like(p)
            if group["momentum"]:
                state["momentum_buffer"] = xp.zeros_like(p)
        v = state["square_avg"]
        v *= alpha
        v += (1.0 - alpha) * g * g
        if group["centered"]:
            a = state["grad_avg"]
            a *= alpha
            a += (1.0 - alpha) * g
            denom = xp.sqrt(v - a * a) + eps
        else:
            denom = xp.sqrt(v) + eps
        if group["momentum"]:
            b = state["momentum_buffer"]
            b *= group["momentum"]
            b += g / denom
            p -= lr * b
        else:
            p -= lr * g / denom
