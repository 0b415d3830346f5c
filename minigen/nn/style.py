"""Layers and sampling tools of progressive and style-based generators (ProGAN, StyleGAN2):

    PixelNorm          y = x / sqrt(mean_c x^2 + eps)                  (ProGAN: after each conv of G)
    MinibatchStdDev    y = [x, group std averaged]   (N, C+1, H, W)    (ProGAN, StyleGAN2: D's last block)
    NoiseInjection     y = x + b_c noise, noise ~ N(0, 1) (N, 1, H, W) (StyleGAN: per-pixel noise, b learned)
    ModulatedConv2d    y = conv2d(x, w * s * d),  s = A(w_latent)       (StyleGAN2: style A, demodulation d)
    truncate           w' = w_avg + psi (w - w_avg)                    (the truncation trick in W)
    mix_styles         ws[:, :k] from one latent, ws[:, k:] from another (style mixing)

The weights of ModulatedConv2d and of its style layer use the equalised learning rate (gain 1, as StyleGAN2).
"""
from __future__ import annotations

import math

from minigen import backend
from minigen import functional as F
from minigen.backend import xp
from minigen.nn import init
from minigen.nn.layers import Linear
from minigen.nn.module import Module, Parameter


class PixelNorm(Module):
    def __init__(self, eps: float = 1e-8):
        super().__init__()
        self.eps = eps

    def forward(self, x):
        return F.pixel_norm(x, self.eps)


class MinibatchStdDev(Module):
    def __init__(self, group_size: int = 4):
        super().__init__()
        self.group_size = int(group_size)

    def forward(self, x):
        return F.minibatch_stddev(x, self.group_size)

    def extra_repr(self):
        return f"group_size={self.group_size}"


class NoiseInjection(Module):
    """x (N, C, H, W) + strength (C,) * noise, the noise N(0, 1) of shape (N, 1, H, W) drawn from the engine
    RNG at each call (or given: ``forward(x, noise)``, e.g. fixed noise for reconstruction or PPL).  The
    strength starts at zero, as in StyleGAN: the noise is learned into use."""

    def __init__(self, channels: int, dtype=None):
        super().__init__()
        self.channels = int(channels)
        self.weight = Parameter(xp.zeros((self.channels,), dtype=dtype or backend.default_float()))

    def forward(self, x, noise=None):
        if noise is None:
            N, _, H, W = x.shape
            noise = backend.rng().normal((N, 1, H, W), dtype=x.dtype)
        return F.inject_noise(x, noise, self.weight)

    def extra_repr(self):
        return f"{self.channels}"


class ModulatedConv2d(Module):
    """StyleGAN2's convolution layer: ``forward(x, w)`` with x (N, C, H, W) and the latent w (N, w_dim):

        s = A(w) = w A^T + 1   (an equalised Linear with bias 1: the style starts at identity)
        y = modulated_conv2d(x, W, s, demodulate)     W ~ N(0, 1) scaled by 1 / sqrt(C k^2) at run time

    ``method`` picks the grouped-convolution or the scale-trick form (the same numbers)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, w_dim: int, demodulate: bool = True,
                 method: str = "grouped", dtype=None):
        super().__init__()
        if kernel_size % 2 == 0:
            raise ValueError(f"ModulatedConv2d: an odd kernel keeps the image size, got {kernel_size}")
        self.in_channels, self.out_channels, self.kernel_size = in_channels, out_channels, kernel_size
        self.demodulate, self.method = bool(demodulate), method
        dtype = dtype or backend.default_float()
        self.weight = Parameter(xp.zeros((out_channels, in_channels, kernel_size, kernel_size), dtype=dtype))
        init.normal_(self.weight)
        self.weight_scale = 1.0 / math.sqrt(in_channels * kernel_size * kernel_size)
        self.affine = Linear(w_dim, in_channels, equalized=True, gain=1.0, bias_init=1.0, dtype=dtype)

    def style(self, w):
        """s = A(w) (N, in_channels)."""
        return self.affine(w)

    def forward(self, x, w):
        return F.modulated_conv2d(x, self.weight * self.weight_scale, self.style(w), self.demodulate,
                                  self.kernel_size // 2, method=self.method)

    def extra_repr(self):
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, demodulate="
                f"{self.demodulate}, method={self.method!r}")


def truncate(w, w_avg, psi: float):
    """The truncation trick in W (Karras et al. 2019): w' = w_avg + psi (w - w_avg); psi = 1 leaves w, psi = 0
    gives every sample the average latent.  w (N, ..., w_dim) Tensor or array, w_avg (w_dim,) array."""
    if not 0.0 <= psi <= 1.0:
        raise ValueError(f"truncate: psi must be in [0, 1], got {psi}")
    if psi == 1.0:
        return w
    return w_avg + psi * (w - w_avg)


def broadcast_styles(w, num_layers: int):
    """w (N, w_dim) -> (N, num_layers, w_dim): the same latent for every layer."""
    N, D = w.shape
    return F.broadcast_to(F.reshape(w, (N, 1, D)), (N, num_layers, D))


def mix_styles(w1, w2, crossover, num_layers: int):
    """Style mixing (Karras et al. 2019, section 3.1): per-layer latents (N, num_layers, w_dim) that take w1
    (N, w_dim) at the layers before ``crossover`` and w2 at and after it: coarse styles from one latent, fine
    ones from the other.  ``crossover``: an int or an array of N ints in [0, num_layers] (0: all w2)."""
    N = w1.shape[0]
    k = xp.full((N,), int(crossover), dtype=xp.int64) if isinstance(crossover, int) else crossover
    if tuple(k.shape) != (N,):
        raise ValueError(f"mix_styles: crossover must be an int or one per sample ({N},), got shape "
                         f"{tuple(k.shape)}")
    first = (xp.arange(num_layers)[None, :] < k[:, None]).astype(w1.dtype)[:, :, None]     # (N, L, 1): 1 -> w1
    return broadcast_styles(w1, num_layers) * first + broadcast_styles(w2, num_layers) * (1.0 - first)
