"""Basic layers: Linear, Identity, Dropout, Flatten."""
from __future__ import annotations

import math

from minigen import backend
from minigen import functional as F
from minigen.nn import init
from minigen.nn.module import Module, Parameter


class Linear(Module):
    """y = x W^T + b with W of shape (out_features, in_features).

    Initialised as in PyTorch: W, b ~ U(-1/sqrt(in), 1/sqrt(in)) (kaiming_uniform_ with a = sqrt(5)).
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, dtype=None, generator=None):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        dtype = dtype or backend.default_float()
        self.weight = Parameter(backend.xp.zeros((out_features, in_features), dtype=dtype))
        init.kaiming_uniform_(self.weight, a=math.sqrt(5), generator=generator)
        if bias:
            bound = 1.0 / math.sqrt(in_features) if in_features else 0.0
            self.bias = Parameter(backend.xp.zeros((out_features,), dtype=dtype))
            init.uniform_(self.bias, -bound, bound, generator=generator)
        else:
            self.bias = None

    def forward(self, x):
        if x.shape[-1] != self.in_features:
            raise ValueError(f"Linear({self.in_features}, {self.out_features}): expected input (..., "
                             f"{self.in_features}), got {tuple(x.shape)}")
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Identity(Module):
    def forward(self, x):
        return x


class Dropout(Module):
    """Zero each element with probability p during training (and scale by 1/(1-p)); identity in eval."""

    def __init__(self, p: float = 0.5):
        super().__init__()
        if not 0.0 <= p < 1.0:
            raise ValueError(f"Dropout: p must be in [0, 1), got {p}")
        self.p = p

    def forward(self, x):
        return F.dropout(x, self.p, self.training)

    def extra_repr(self):
        return f"p={self.p}"


class Flatten(Module):
    """(N, d1, d2, ...) -> (N, d1*d2*...)."""

    def forward(self, x):
        return F.reshape(x, (x.shape[0], -1))
