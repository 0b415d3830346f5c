"""Activation modules: thin wrappers of the functional ops, so they can sit in a Sequential."""
from __future__ import annotations

from minigen import functional as F
from minigen.nn.module import Module


class ReLU(Module):
    def forward(self, x):
        return F.relu(x)


class LeakyReLU(Module):
    def __init__(self, negative_slope: float = 0.01):
        super().__init__()
        self.negative_slope = negative_slope

    def forward(self, x):
        return F.leaky_relu(x, self.negative_slope)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}"


class Tanh(Module):
    def forward(self, x):
        return F.tanh(x)


class Sigmoid(Module):
    def forward(self, x):
        return F.sigmoid(x)


class Softplus(Module):
    def forward(self, x):
        return F.softplus(x)


ACTIVATIONS = {"relu": ReLU, "leaky_relu": LeakyReLU, "tanh": Tanh, "sigmoid": Sigmoid,
               "softplus": Softplus}


def get_activation(name):
    """A fresh activation module from its name ("relu", "leaky_relu", "tanh", "sigmoid", "softplus"),
    None -> None, or a Module passed through."""
    if name is None or isinstance(name, Module):
        return name
    try:
        return ACTIVATIONS[name]()
    except KeyError:
        raise ValueError(f"unknown activation {name!r}; choose from {sorted(ACTIVATIONS)}") from None
