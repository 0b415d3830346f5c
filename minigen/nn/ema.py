"""An exponential moving average of a model's weights, the usual way to sample from a GAN's generator
(Yazici et al. 2019; BigGAN, StyleGAN):

    theta_ema <- d_t * theta_ema + (1 - d_t) * theta        after every optimizer step t
    d_t = 0 before ``start`` (the copy follows the model), then ``decay``, or with ``warmup``
          min(decay, (1 + t') / (10 + t')) with t' = t - start, so a short run is not dominated by the
          model's first weights (0.999 is reached after ~9,000 steps)
"""
from __future__ import annotations

import copy

from minigen.nn.module import Module


class EMA(Module):
    """``ema = EMA(G, decay=0.999)``; call ``ema.update(step)`` after each optimizer step and sample from
    ``ema(z)`` (the averaged copy, ``ema.module``, in eval mode).  Buffers (BatchNorm statistics,
    spectral-norm vectors) are copied from the model, not averaged.  Its state is the copy's, so a run
    that saves ``ema.state_dict()`` resumes exactly."""

    def __init__(self, module: Module, decay: float = 0.999, warmup: bool = False, start: int = 0):
        super().__init__()
        if not 0.0 <= decay < 1.0:
            raise ValueError(f"EMA: decay must be in [0, 1), got {decay}")
        self.decay, self.warmup, self.start = float(decay), bool(warmup), int(start)
        self.module = copy.deepcopy(module)
        self.module.requires_grad_(False)
        self.module.eval()
        object.__setattr__(self, "source", module)     # not registered: its weights are saved by their owner

    def decay_at(self, step: int) -> float:
        if step < self.start:
            return 0.0
        if self.warmup:
            t = step - self.start
            return min(self.decay, (1.0 + t) / (10.0 + t))
        return self.decay

    def update(self, step: int | None = None) -> None:
        """Average in the model's current weights (``step``: the 0-based step just taken; None: use
        ``decay`` as it is)."""
        ema_update_(self.module, self.source, self.decay if step is None else self.decay_at(step))
        source = dict(self.source.named_buffers())
        for name, _ in self.module.named_buffers():      # matched by name, not by position
            owner, attr = _owner(self.module, name)
            object.__setattr__(owner, attr, source[name].copy())

    def forward(self, *args, **kwargs):
        return self.module(*args, **kwargs)

    def extra_repr(self):
        return f"decay={self.decay}" + (", warmup" if self.warmup else "") + (f", start={self.start}" if self.start else "")


def ema_update_(target: Module, source: Module, decay: float) -> None:
    """In place, parameter by parameter: target <- decay * target + (1 - decay) * source."""
    for p_ema, p in zip(target.parameters(), source.parameters()):
        if decay == 0.0:
            p_ema.data[...] = p.data
            continue
        p_ema.data *= decay
        p_ema.data += (1.0 - decay) * p.data


def _owner(module, dotted):
    *path, attr = dotted.split(".")
    for p in path:
        module = module._modules[p]
    return module, attr
