"""Tensor factories with PyTorch's names and argument order: ``zeros(2, 3)``, ``randn((4, 2))``, ...

Sizes are given as separate integers or as one tuple; floats default to float32 (``backend.default_float``);
random ones draw from the backend's generator (``manual_seed``) unless ``generator=`` names another.
"""
from __future__ import annotations

from minigen import backend
from minigen.autograd.tensor import Tensor
from minigen.backend import xp


def _size(size) -> tuple:
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    if not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in size):
        raise TypeError(f"a size is non-negative Python ints, e.g. zeros(2, 3) or zeros((2, 3)); got {size}")
    return tuple(size)


def _make(a, requires_grad: bool) -> Tensor:
    return Tensor(a, requires_grad=requires_grad)


def zeros(*size, dtype=None, requires_grad: bool = False) -> Tensor:
    return _make(xp.zeros(_size(size), dtype=dtype or backend.default_float()), requires_grad)


def ones(*size, dtype=None, requires_grad: bool = False) -> Tensor:
    return _make(xp.ones(_size(size), dtype=dtype or backend.default_float()), requires_grad)


def full(size, fill_value: float, dtype=None, requires_grad: bool = False) -> Tensor:
    return _make(xp.full(_size((size,)), fill_value, dtype=dtype or backend.default_float()), requires_grad)


def zeros_like(t: Tensor, dtype=None, requires_grad: bool = False) -> Tensor:
    return _make(xp.zeros(t.shape, dtype=dtype or t.dtype), requires_grad)


def ones_like(t: Tensor, dtype=None, requires_grad: bool = False) -> Tensor:
    return _make(xp.ones(t.shape, dtype=dtype or t.dtype), requires_grad)


def randn(*size, generator=None, dtype=None, requires_grad: bool = False) -> Tensor:
    """Standard normal draws, N(0, 1)."""
    return _make((generator or backend.rng()).normal(_size(size), dtype=dtype), requires_grad)


def rand(*size, generator=None, dtype=None, requires_grad: bool = False) -> Tensor:
    """Uniform draws on [0, 1)."""
    return _make((generator or backend.rng()).uniform(_size(size), dtype=dtype), requires_grad)


def randint(low: int, high: int, size, generator=None) -> Tensor:
    """Integers uniform on [low, high), int64."""
    return Tensor((generator or backend.rng()).integers(low, high, size=_size((size,))))


def arange(start, end=None, step=1, dtype=None) -> Tensor:
    """``arange(5)`` = 0..4 (int64); a float argument gives the default float dtype."""
    if end is None:
        start, end = 0, start
    if dtype is None:
        floats = any(isinstance(v, float) for v in (start, end, step))
        dtype = backend.default_float() if floats else "int64"
    return Tensor(xp.arange(start, end, step, dtype=dtype))
