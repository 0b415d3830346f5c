"""The ops of progressive and style-based generators (ProGAN, StyleGAN2), composed of conv2d, reshapes,
reductions and arithmetic, so their first and second derivatives come from those ops' rules and stay exact
(the path-length regulariser differentiates a modulated convolution's gradient once more).  gy: the
output's gradient; s: the style (N, C); w: the shared weight (O, C, kh, kw):

    minibatch_stddev  y = [x, sigma]: sigma = mean_{c,h,w} sqrt(var_group x + eps), one value per group of
                      samples, broadcast as one extra channel      gx = from the ops (reshape, mean, sqrt)
    modulated_conv2d  y_n = conv2d(x_n, w s_n d_n),  w'_{n,o,c} = w_{o,c} s_{n,c}
                      d_{n,o} = (sum_{c,k} w'^2_{n,o,c,k} + eps)^(-1/2)   (1 without demodulation)
                      "grouped": one conv2d with groups = N over the per-sample weights w' d
                      "scale":   d * conv2d(x * s, w), the same numbers without per-sample weights
                      gx, gw, gs = from conv2d's rules and the products around it
    inject_noise      y = x + b_c noise,  noise (N, 1, H, W)       gx = gy,  gb = sum_{n,h,w} gy noise

Minibatch standard deviation (Karras et al. 2018, section 3): the batch is split into groups of G samples
(sample n is in group n mod N/G, as in the authors' code); for each group the standard deviation of every
feature at every pixel over its G members is averaged into one number, appended to each member as a
constant feature map, so D can see how varied a batch is and penalise a collapsed G.

Modulated convolution with weight demodulation (Karras et al. 2020, eqs. 1-3): the style scales each input
channel of the weight for one sample, and demodulation divides each output channel by the norm of its
scaled weights, so the output of unit-variance inputs has unit variance whatever the style's scale
(replacing AdaIN's instance normalisation, which made StyleGAN's "droplet" artifacts).
"""
from __future__ import annotations

from minigen.ops.arithmetic import matmul
from minigen.ops.conv import conv2d
from minigen.ops.elementwise import sqrt
from minigen.ops.reduction import mean, sum
from minigen.ops.shape import broadcast_to, concatenate, reshape, shape_of, transpose

MODULATION_METHODS = ("grouped", "scale")


def minibatch_stddev(x, group_size: int = 4, eps: float = 1e-8):
    """x (N, C, H, W) -> (N, C + 1, H, W): x with one channel holding, for each sample's group of
    G = min(group_size, N) samples, the mean over features and pixels of the group's standard deviation
    (biased, sqrt(var + eps)).  N must be a multiple of G."""
    xs = shape_of(x)
    if len(xs) != 4:
        raise ValueError(f"minibatch_stddev: input must be (N, C, H, W), got shape {xs}")
    N, C, H, W = xs
    G = min(int(group_size), N)
    if G < 1 or N % G:
        raise ValueError(f"minibatch_stddev: a batch of {N} cannot be split into groups of {G} "
                         f"(group_size={group_size})")
    M = N // G
    y = reshape(x, (G, M, C, H, W))                              # member g of group m is sample g M + m
    y = y - mean(y, 0, keepdims=True)
    sd = sqrt(mean(y * y, 0) + eps)                              # (M, C, H, W)
    s = mean(sd, (1, 2, 3))                                      # (M,)
    s = broadcast_to(reshape(s, (1, M, 1, 1, 1)), (G, M, 1, H, W))
    return concatenate([x, reshape(s, (N, 1, H, W))], 1)


def demodulation(weight, style, eps: float = 1e-8):
    """d (N, O) = (sum_{c,k} (w_{o,c,k} s_{n,c})^2 + eps)^(-1/2) = (s^2 @ sum_k(w^2)^T + eps)^(-1/2)."""
    w2 = sum(weight * weight, (2, 3))                             # (O, C)
    return 1.0 / sqrt(matmul(style * style, transpose(w2)) + eps)


def modulated_conv2d(x, weight, style, demodulate: bool = True, padding: int = 0, eps: float = 1e-8,
                     method: str = "grouped"):
    """StyleGAN2's convolution: x (N, C, H, W), weight (O, C, kh, kw) shared, style (N, C) per sample ->
    (N, O, H', W') (stride 1, zero ``padding``).  Sample n is convolved with w'_{o,c} = w_{o,c} s_{n,c},
    divided per output channel by (sum_{c,k} w'^2 + eps)^(1/2) when ``demodulate``.  ``method`` "grouped"
    builds the N per-sample weights and runs one grouped convolution (groups = N); "scale" scales the input
    channels by s, convolves with the shared weight and scales the output channels by d (the same numbers)."""
    xs, ws, ss = shape_of(x), shape_of(weight), shape_of(style)
    if len(xs) != 4 or len(ws) != 4:
        raise ValueError(f"modulated_conv2d: input (N, C, H, W) and weight (O, C, kh, kw) expected, got {xs} "
                         f"and {ws}")
    N, C, H, W = xs
    O, Cw, kh, kw = ws
    if Cw != C or tuple(ss) != (N, C):
        raise ValueError(f"modulated_conv2d: input {xs}, weight {ws} and style {ss} disagree (the weight needs "
                         f"{C} input channels and the style shape ({N}, {C}))")
    if method not in MODULATION_METHODS:
        raise ValueError(f"modulated_conv2d: method must be one of {MODULATION_METHODS}, got {method!r}")
    d = demodulation(weight, style, eps) if demodulate else None            # (N, O)
    if method == "scale":
        y = conv2d(x * reshape(style, (N, C, 1, 1)), weight, padding=padding)
        return y * reshape(d, (N, O, 1, 1)) if demodulate else y
    w = reshape(weight, (1, O, C, kh, kw)) * reshape(style, (N, 1, C, 1, 1))     # (N, O, C, kh, kw)
    if demodulate:
        w = w * reshape(d, (N, O, 1, 1, 1))
    y = conv2d(reshape(x, (1, N * C, H, W)), reshape(w, (N * O, C, kh, kw)), padding=padding, groups=N)
    _, _, Ho, Wo = shape_of(y)
    return reshape(y, (N, O, Ho, Wo))


def inject_noise(x, noise, strength):
    """x (N, C, H, W) + strength (C,) * noise (N, 1, H, W): per-pixel noise, one image per sample shared by
    the channels, scaled per channel by a learned strength (StyleGAN's noise inputs)."""
    xs, ns = shape_of(x), shape_of(noise)
    if len(xs) != 4 or tuple(ns) != (xs[0], 1, xs[2], xs[3]) or tuple(shape_of(strength)) != (xs[1],):
        raise ValueError(f"inject_noise: x (N, C, H, W) = {xs} needs noise (N, 1, H, W) and strength (C,), got "
                         f"{ns} and {shape_of(strength)}")
    return x + reshape(strength, (1, xs[1], 1, 1)) * noise
