"""Global switches of the autograd engine: gradient recording and anomaly detection."""
from __future__ import annotations

import contextlib


class _Mode:
    grad_enabled = True      # record graphs for ops whose inputs require grad
    anomaly = False          # check every forward and backward result for NaN / inf


mode = _Mode()


def is_grad_enabled() -> bool:
    return mode.grad_enabled


@contextlib.contextmanager
def set_grad_enabled(flag: bool):
    prev, mode.grad_enabled = mode.grad_enabled, bool(flag)
    try:
        yield
    finally:
        mode.grad_enabled = prev


def no_grad():
    """Context manager: nothing is recorded inside, so no graph is kept (evaluation, sampling, updates)."""
    return set_grad_enabled(False)


def enable_grad():
    """Context manager: recording back on, e.g. inside a ``no_grad`` block."""
    return set_grad_enabled(True)


@contextlib.contextmanager
def detect_anomaly(flag: bool = True):
    """Raise at the first op whose forward or backward makes NaN or inf, naming the op.

    Off by default because the check reads every result (one reduction per op).
    """
    prev, mode.anomaly = mode.anomaly, bool(flag)
    try:
        yield
    finally:
        mode.anomaly = prev
