"""Basic layers: Linear, Identity, Dropout, Flatten."""
from __future__ import annotations

import math

from minigen import backend
from minigen import functional as F
from minigen.nn import init
from minigen.nn.module import Module, Parameter


class Equalized:
    """The equalised learning rate (Karras et al. 2018, section 4.1) as an option of a layer: the stored
    weight is drawn from N(0, 1 / lr_mul^2) and scaled at run time,

        W_used = W * gain * lr_mul / sqrt(fan_in),     b_used = b * lr_mul      (b starts at ``bias_init``)

    so every weight's update by Adam (which is invariant to the gradient's scale) moves the layer's output
    by the same relative amount whatever its fan-in: the layers learn at the same speed.  ``gain`` is He's
    constant sqrt(2) by default (ProGAN); StyleGAN2 uses 1.  ``lr_mul`` < 1 slows a layer (StyleGAN's mapping
    network: 0.01)."""

    def _equalize(self, equalized: bool, gain: float, lr_mul: float, fan_in: int, bias_init: float, generator):
        self.equalized = bool(equalized)
        if not self.equalized:
            return
        if lr_mul <= 0 or gain <= 0:
            raise ValueError(f"{type(self).__name__}: equalized layers need gain > 0 and lr_mul > 0, got "
                             f"gain={gain}, lr_mul={lr_mul}")
        self.lr_mul = float(lr_mul)
        self.weight_scale = float(gain) * self.lr_mul / math.sqrt(fan_in)
        init.normal_(self.weight, 0.0, 1.0 / self.lr_mul, generator=generator)
        if self.bias is not None:
            init.constant_(self.bias, bias_init / self.lr_mul)

    def scaled_params(self):
        """(weight, bias) as the layer uses them (run-time scaled when equalised)."""
        if not self.equalized:
            return self.weight, self.bias
        b = self.bias * self.lr_mul if self.bias is not None and self.lr_mul != 1.0 else self.bias
        return self.weight * self.weight_scale, b

    def _equalized_repr(self):
        return f", equalized (scale {self.weight_scale:.4g}, lr_mul {self.lr_mul:g})" if self.equalized else ""


class Linear(Module, Equalized):
    """y = x W^T + b with W of shape (out_features, in_features).

    Initialised as in PyTorch: W, b ~ U(-1/sqrt(in), 1/sqrt(in)) (kaiming_uniform_ with a = sqrt(5)); with
    ``equalized=True`` the equalised learning rate instead (:class:`Equalized`: W ~ N(0, 1) scaled by
    gain / sqrt(in) at run time, b from ``bias_init``).
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, dtype=None, generator=None,
                 equalized: bool = False, gain: float = math.sqrt(2.0), lr_mul: float = 1.0,
                 bias_init: float = 0.0):
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
        self._equalize(equalized, gain, lr_mul, in_features, bias_init, generator)

    def forward(self, x):
        if x.shape[-1] != self.in_features:
            raise ValueError(f"Linear({self.in_features}, {self.out_features}): expected input (..., "
                             f"{self.in_features}), got {tuple(x.shape)}")
        return F.linear(x, *self.scaled_params())

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"
                + self._equalized_repr())


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
