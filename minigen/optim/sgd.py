"""Stochastic gradient descent with momentum (PyTorch's formulation).

    g <- g + weight_decay * p
    b <- momentum * b + (1 - dampening) * g          (b = g on the first step)
    g <- g + momentum * b   if nesterov   else   b
    p <- p - lr * g
"""
from __future__ import annotations

from minigen.backend import xp
from minigen.optim.optimizer import Optimizer


class SGD(Optimizer):
    defaults = {"lr": 1e-2, "momentum": 0.0, "dampening": 0.0, "nesterov": False, "weight_decay": 0.0}

    def __init__(self, params, lr: float = 1e-2, momentum: float = 0.0, dampening: float = 0.0,
                 nesterov: bool = False, weight_decay: float = 0.0):
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("SGD: nesterov needs momentum > 0 and dampening = 0")
        super().__init__(params, lr=lr, momentum=momentum, dampening=dampening, nesterov=nesterov,
                         weight_decay=weight_decay)

    def update(self, p, g, state, group):
        if group["weight_decay"]:
            g = g + group["weight_decay"] * p
        mu = group["momentum"]
        if mu:
            b = state.get("momentum_buffer")
            if b is None:                   # b = g, as an array of p's shape (0-d too) for the in-place steps
                b = state["momentum_buffer"] = xp.zeros_like(p)
                b += g
            else:
                b *= mu
                b += (1 - group["dampening"]) * g
            g = g + mu * b if group["nesterov"] else b
        p -= group["lr"] * g
