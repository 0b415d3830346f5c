"""MLP: the encoder / decoder / generator / discriminator of every model in minigen."""
from __future__ import annotations

from minigen.nn.activation import get_activation
from minigen.nn.container import Sequential
from minigen.nn.layers import Dropout, Linear
from minigen.nn.normalization import BatchNorm1d, LayerNorm


class MLP(Sequential):
    """Linear layers of ``sizes`` = (in, hidden..., out) with ``activation`` between them.

    ``out_activation`` (default None: raw outputs, e.g. logits) follows the last layer; ``norm``
    ("batch" | "layer" | None) and ``dropout`` go after each hidden activation.
    """

    def __init__(self, sizes, activation="relu", out_activation=None, norm=None, dropout: float = 0.0):
        sizes = list(sizes)
        if len(sizes) < 2:
            raise ValueError(f"MLP needs at least (in, out) sizes, got {sizes}")
        layers = []
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers.append(Linear(a, b))
            last = i == len(sizes) - 2
            if not last:
                if norm == "batch":
                    layers.append(BatchNorm1d(b))
                elif norm == "layer":
                    layers.append(LayerNorm(b))
                elif norm is not None:
                    raise ValueError(f"MLP: norm must be 'batch', 'layer' or None, got {norm!r}")
                layers.append(get_activation(activation))
                if dropout:
                    layers.append(Dropout(dropout))
            elif out_activation is not None:
                layers.append(get_activation(out_activation))
        super().__init__(*layers)
        self.sizes = tuple(sizes)
