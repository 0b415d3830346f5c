"""Convolutional layers and their companions: Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d, Resize, Upsample,
Unflatten."""
from __future__ import annotations

import math

from minigen import backend
from minigen import functional as F
from minigen.nn import init
from minigen.nn.layers import Equalized
from minigen.nn.module import Module, Parameter


def _pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


class _ConvNd(Module):
    def _init_params(self, w_shape, fan_in, bias, dtype):
        dtype = dtype or backend.default_float()
        self.weight = Parameter(backend.xp.zeros(w_shape, dtype=dtype))
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))      # PyTorch's default for conv layers too
        if bias:
            bound = 1.0 / math.sqrt(fan_in)
            self.bias = Parameter(backend.xp.zeros((self.out_channels,), dtype=dtype))
            init.uniform_(self.bias, -bound, bound)
        else:
            self.bias = None

    def _check(self, x):
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f"{self!r}: expected input (N, {self.in_channels}, H, W), got {tuple(x.shape)}")

    def _check1d(self, x):
        if x.ndim != 3 or x.shape[1] != self.in_channels:
            raise ValueError(f"{self!r}: expected input (N, {self.in_channels}, L), got {tuple(x.shape)}")

    def extra_repr(self):
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}, "
                f"padding={self.padding}" + (f", groups={self.groups}" if self.groups > 1 else ""))


class Conv2d(_ConvNd, Equalized):
    """y = conv2d(x, W) + b with W (out, in/groups, kh, kw); ``equalized=True``: the equalised learning rate
    (:class:`minigen.nn.layers.Equalized`: W ~ N(0, 1) scaled by gain / sqrt(in/groups kh kw) at run time)."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, dtype=None, equalized: bool = False, gain: float = math.sqrt(2.0), lr_mul: float = 1.0,
                 bias_init: float = 0.0):
        super().__init__()
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size, self.stride, self.padding, self.dilation = (_pair(kernel_size), _pair(stride),
                                                                      _pair(padding), _pair(dilation))
        kh, kw = self.kernel_size
        fan_in = in_channels // groups * kh * kw
        self._init_params((out_channels, in_channels // groups, kh, kw), fan_in, bias, dtype)
        self._equalize(equalized, gain, lr_mul, fan_in, bias_init, None)

    def forward(self, x):
        self._check(x)
        w, b = self.scaled_params()
        return F.conv2d(x, w, b, self.stride, self.padding, self.dilation, self.groups)

    def extra_repr(self):
        return super().extra_repr() + self._equalized_repr()


class ConvTranspose2d(_ConvNd):
    """The transposed convolution with W (in, out/groups, kh, kw), PyTorch's layout."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1,
                 bias=True, dilation=1, dtype=None):
        super().__init__()
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size, self.stride, self.padding, self.dilation = (_pair(kernel_size), _pair(stride),
                                                                      _pair(padding), _pair(dilation))
        self.output_padding = _pair(output_padding)
        kh, kw = self.kernel_size
        self._init_params((in_channels, out_channels // groups, kh, kw), out_channels // groups * kh * kw, bias, dtype)

    def forward(self, x):
        self._check(x)
        return F.conv_transpose2d(x, self.weight, self.bias, self.stride, self.padding, self.output_padding,
                                  self.groups, self.dilation)


def _single(v) -> tuple:
    return (v,) if isinstance(v, int) else tuple(v)


class Conv1d(_ConvNd):
    """y = conv1d(x, W) + b with x (N, in, L), W (out, in/groups, k)."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, dtype=None):
        super().__init__()
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size, self.stride, self.padding, self.dilation = (_single(kernel_size), _single(stride),
                                                                      _single(padding), _single(dilation))
        (k,) = self.kernel_size
        self._init_params((out_channels, in_channels // groups, k), in_channels // groups * k, bias, dtype)

    def forward(self, x):
        self._check1d(x)
        return F.conv1d(x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)


class ConvTranspose1d(_ConvNd):
    """The transposed 1-D convolution with W (in, out/groups, k), PyTorch's layout."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1,
                 bias=True, dilation=1, dtype=None):
        super().__init__()
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size, self.stride, self.padding, self.dilation = (_single(kernel_size), _single(stride),
                                                                      _single(padding), _single(dilation))
        self.output_padding = _single(output_padding)
        (k,) = self.kernel_size
        self._init_params((in_channels, out_channels // groups, k), out_channels // groups * k, bias, dtype)

    def forward(self, x):
        self._check1d(x)
        return F.conv_transpose1d(x, self.weight, self.bias, self.stride, self.padding, self.output_padding,
                                  self.groups, self.dilation)


class Resize(Module):
    """``F.resize`` to a fixed ``size`` (H', W') by ``mode`` "nearest", "bilinear" or "area"."""

    def __init__(self, size, mode: str = "bilinear"):
        super().__init__()
        self.size, self.mode = size, mode

    def forward(self, x):
        return F.resize(x, self.size, self.mode)

    def extra_repr(self):
        return f"size={self.size}, mode={self.mode!r}"


class Upsample(Module):
    def __init__(self, scale_factor: int = 2, mode: str = "nearest"):
        super().__init__()
        self.scale_factor, self.mode = scale_factor, mode

    def forward(self, x):
        return F.upsample(x, self.scale_factor, self.mode)

    def extra_repr(self):
        return f"scale_factor={self.scale_factor}, mode={self.mode!r}"


class Unflatten(Module):
    """(N, prod(shape)) -> (N, *shape)."""

    def __init__(self, shape):
        super().__init__()
        self.shape = tuple(shape)

    def forward(self, x):
        if math.prod(x.shape[1:]) != math.prod(self.shape):
            raise ValueError(f"Unflatten{self.shape}: input {tuple(x.shape)} has {math.prod(x.shape[1:])} values per "
                             f"example, expected {math.prod(self.shape)}")
        return F.reshape(x, (x.shape[0],) + self.shape)
