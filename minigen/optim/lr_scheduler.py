"""Learning-rate schedules, as in PyTorch: make one per optimiser, call ``step()`` after ``optimizer.step()``
(once per training step here, or per epoch), and the optimiser's ``lr`` follows lr_t for t = 0, 1, ...

    StepLR             lr_t = lr_0 * gamma^floor(t / step_size)
    MultiStepLR        lr_t = lr_0 * gamma^(number of milestones <= t)
    CosineAnnealingLR  lr_t = eta_min + (lr_0 - eta_min) (1 + cos(pi t / T_max)) / 2
    LinearDecayLR      lr_t = lr_0 until t = start, then linear to final * lr_0 at t = total

``state_dict()`` / ``load_state_dict()`` save and restore the position, so a resumed run continues the
schedule where it stopped.
"""
from __future__ import annotations

import bisect
import math


class LRScheduler:
    """The base: ``lr_at(base_lr, t)`` is the rate for step t; the constructor sets t = 0's."""

    def __init__(self, optimizer):
        self.optimizer = optimizer
        self.base_lrs = [g.setdefault("initial_lr", g["lr"]) for g in optimizer.param_groups]
        self.last_epoch = 0
        self._apply()

    def lr_at(self, base_lr: float, t: int) -> float:
        raise NotImplementedError

    def _apply(self) -> None:
        for g, base in zip(self.optimizer.param_groups, self.base_lrs):
            g["lr"] = self.lr_at(base, self.last_epoch)

    def step(self) -> None:
        self.last_epoch += 1
        self._apply()

    def get_last_lr(self) -> list:
        return [g["lr"] for g in self.optimizer.param_groups]

    def state_dict(self) -> dict:
        return {"last_epoch": self.last_epoch, "base_lrs": list(self.base_lrs)}

    def load_state_dict(self, sd: dict) -> None:
        self.last_epoch, self.base_lrs = int(sd["last_epoch"]), list(sd["base_lrs"])
        self._apply()

    def __repr__(self):
        return f"{type(self).__name__}(t={self.last_epoch}, lr={self.get_last_lr()})"


class StepLR(LRScheduler):
    def __init__(self, optimizer, step_size: int, gamma: float = 0.1):
        if step_size < 1:
            raise ValueError(f"StepLR: step_size must be >= 1, got {step_size}")
        self.step_size, self.gamma = int(step_size), gamma
        super().__init__(optimizer)

    def lr_at(self, base_lr, t):
        return base_lr * self.gamma ** (t // self.step_size)


class MultiStepLR(LRScheduler):
    def __init__(self, optimizer, milestones, gamma: float = 0.1):
        self.milestones, self.gamma = sorted(int(m) for m in milestones), gamma
        super().__init__(optimizer)

    def lr_at(self, base_lr, t):
        return base_lr * self.gamma ** bisect.bisect_right(self.milestones, t)


class CosineAnnealingLR(LRScheduler):
    def __init__(self, optimizer, T_max: int, eta_min: float = 0.0):
        if T_max < 1:
            raise ValueError(f"CosineAnnealingLR: T_max must be >= 1, got {T_max}")
        self.T_max, self.eta_min = T_max, eta_min
        super().__init__(optimizer)

    def lr_at(self, base_lr, t):
        t = min(t, self.T_max)
        return self.eta_min + (base_lr - self.eta_min) * (1 + math.cos(math.pi * t / self.T_max)) / 2


class LinearDecayLR(LRScheduler):
    """Constant, then a straight line to ``final`` times the initial rate:

        lr_t = lr_0                                                   t <= start
        lr_t = lr_0 (1 + (final - 1) (t - start) / (total - start))   start < t <= total  (and final after)

    ``start`` and ``total`` count steps.  GANs often end this way: the small last steps let the samples
    settle on the modes."""

    def __init__(self, optimizer, total: int, start: int = 0, final: float = 0.0):
        if not 0 <= start <= total or total < 1:
            raise ValueError(f"LinearDecayLR: need 0 <= start <= total and total >= 1, got start={start}, "
                             f"total={total}")
        if final < 0:
            raise ValueError(f"LinearDecayLR: final must be >= 0, got {final}")
        self.total, self.start, self.final = int(total), int(start), float(final)
        super().__init__(optimizer)

    def lr_at(self, base_lr, t):
        if t <= self.start or self.total == self.start:
            return base_lr
        frac = min(1.0, (t - self.start) / (self.total - self.start))
        return base_lr * (1.0 + (self.final - 1.0) * frac)
