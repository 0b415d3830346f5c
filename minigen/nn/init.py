"""Weight initialisers, in place on a Parameter's data, drawing from the engine RNG (or ``generator``).

    xavier_uniform_   U(-a, a),  a = gain * sqrt(6 / (fan_in + fan_out))         (Glorot & Bengio 2010)
    xavier_normal_    N(0, s^2), s = gain * sqrt(2 / (fan_in + fan_out))
    kaiming_uniform_  U(-b, b),  b = gain * sqrt(3 / fan)                        (He et al. 2015)
    kaiming_normal_   N(0, s^2), s = gain / sqrt(fan)
    gain: 1 (linear, sigmoid), 5/3 (tanh), sqrt(2) (relu), sqrt(2 / (1 + slope^2)) (leaky_relu)

``nn.Linear`` uses PyTorch's default: kaiming_uniform_ with a = sqrt(5), i.e. W ~ U(-1/sqrt(fan_in),
1/sqrt(fan_in)), and the bias ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
"""
from __future__ import annotations

import math

from minigen import backend
from minigen.backend import xp


def _gen(generator):
    return generator or backend.rng()


def calculate_gain(nonlinearity: str = "linear", param: float | None = None) -> float:
    if nonlinearity in ("linear", "identity", "sigmoid", "conv2d"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3.0
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        return math.sqrt(2.0 / (1 + slope ** 2))
    raise ValueError(f"calculate_gain: unknown nonlinearity {nonlinearity!r}")


def fans(t) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight (out, in, *kernel)."""
    shape = t.shape
    if len(shape) < 2:
        raise ValueError(f"fan in/out needs a weight with at least 2 dimensions, got shape {shape}")
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def uniform_(t, a: float = 0.0, b: float = 1.0, generator=None):
    t.data = _gen(generator).uniform(t.shape, a, b, dtype=t.dtype)
    return t


def normal_(t, mean: float = 0.0, std: float = 1.0, generator=None):
    t.data = _gen(generator).normal(t.shape, mean, std, dtype=t.dtype)
    return t


def constant_(t, value: float):
    t.data = xp.full_like(t.data, value)
    return t


def zeros_(t):
    return constant_(t, 0.0)


def ones_(t):
    return constant_(t, 1.0)


def xavier_uniform_(t, gain: float = 1.0, generator=None):
    fan_in, fan_out = fans(t)
    a = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(t, -a, a, generator)


def xavier_normal_(t, gain: float = 1.0, generator=None):
    fan_in, fan_out = fans(t)
    return normal_(t, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), generator)


def _fan(t, mode):
    fan_in, fan_out = fans(t)
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode must be 'fan_in' or 'fan_out', got {mode!r}")
    return fan_in if mode == "fan_in" else fan_out


def kaiming_uniform_(t, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu", generator=None):
    bound = calculate_gain(nonlinearity, a) * math.sqrt(3.0 / _fan(t, mode))
    return uniform_(t, -bound, bound, generator)


def kaiming_normal_(t, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu", generator=None):
    return normal_(t, 0.0, calculate_gain(nonlinearity, a) / math.sqrt(_fan(t, mode)), generator)
