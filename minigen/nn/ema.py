"""An exponential moving average of a model's weights, the usual way to sample from a GAN's generator:

    theta_ema <- decay * theta_ema + (1 - decay) * theta        after every optimizer step
"""
from __future__ import annotations

import copy

from minigen.nn.module import Module


class EMA:
    """``ema = EMA(G, decay=0.999)``; call ``ema.update()`` after each step (or register it as an
    optimizer post-step hook: ``opt.register_step_post_hook(lambda o: ema.update())``); sample from
    ``ema.module``.  Buffers (e.g. BatchNorm statistics) are copied, not averaged."""

    def __init__(self, module: Module, decay: float = 0.999):
        if not 0.0 <= decay < 1.0:
            raise ValueError(f"EMA: decay must be in [0, 1), got {decay}")
        self.decay, self.source = decay, module
        self.module = copy.deepcopy(module)
        self.module.requires_grad_(False)
        self.module.eval()

    def update(self) -> None:
        ema_update_(self.module, self.source, self.decay)
        source = dict(self.source.named_buffers())
        for name, _ in self.module.named_buffers():      # matched by name, not by position
            owner, attr = _owner(self.module, name)
            object.__setattr__(owner, attr, source[name].copy())


def ema_update_(target: Module, source: Module, decay: float) -> None:
    """In place, parameter by parameter: target <- decay * target + (1 - decay) * source."""
    for p_ema, p in zip(target.parameters(), source.parameters()):
        p_ema.data *= decay
        p_ema.data += (1.0 - decay) * p.data


def _owner(module, dotted):
    *path, attr = dotted.split(".")
    for p in path:
        module = module._modules[p]
    return module, attr
