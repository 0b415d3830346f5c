"""Losses, all taking logits or log-variances so they stay finite for any input.

    binary_cross_entropy_with_logits   l = softplus(x) - t x         dl/dx = sigmoid(x) - t
    cross_entropy(logits, labels)      l = -log_softmax(x)[label]
    mse_loss, l1_loss                  (a - b)^2,  |a - b|
    gaussian_nll(x, mean, logvar)      -log N(x; mean, e^logvar) = 1/2 (log 2 pi + logvar + (x-mean)^2 e^-logvar)
    kl_normal_standard(mu, logvar)     KL(N(mu, e^logvar) || N(0, 1)) = 1/2 (mu^2 + e^logvar - 1 - logvar)
    kl_normal(mu1, lv1, mu2, lv2)      KL(N(mu1, e^lv1) || N(mu2, e^lv2))
                                        = 1/2 (lv2 - lv1 + (e^lv1 + (mu1 - mu2)^2) e^-lv2 - 1)

``reduction`` follows PyTorch: ``"mean"`` (default for the classic losses), ``"sum"`` or ``"none"``.
The Gaussian and KL terms are elementwise by default (``reduction="none"``), since models sum them
over dimensions themselves.
"""
from __future__ import annotations

import math

from minigen.autograd.function import Function
from minigen.backend import xp
from minigen.ops.elementwise import abs, exp, sigmoid, softplus_raw
from minigen.ops.nn import log_softmax
from minigen.ops.reduction import mean, sum
from minigen.ops.shape import check_range, data_of, getitem, shape_of

_LOG_2PI = math.log(2.0 * math.pi)


def _reduce(loss, reduction: str, who: str):
    if reduction == "mean":
        return mean(loss)
    if reduction == "sum":
        return sum(loss)
    if reduction == "none":
        return loss
    raise ValueError(f"{who}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def _same_shape(a, b, who: str):
    if shape_of(a) != shape_of(b):
        raise ValueError(f"{who}: input has shape {shape_of(a)} but target has shape {shape_of(b)}; "
                         "they must match")


class BCEWithLogits(Function):
    def forward(self, x, t):
        return softplus_raw(x) - x * t          # softplus(x) - t x, finite at |x| = 1e4

    def backward(self, gy, x, t, y):
        gx, gt = self.needs_grad
        return (gy * (sigmoid(x) - t) if gx else None,
                -(gy * x) if gt else None)


def binary_cross_entropy_with_logits(logits, target, reduction: str = "mean"):
    """-[t log sigmoid(x) + (1 - t) log(1 - sigmoid(x))], computed from the logits x."""
    _same_shape(logits, target, "binary_cross_entropy_with_logits")
    return _reduce(BCEWithLogits()(logits, target), reduction, "binary_cross_entropy_with_logits")


def mse_loss(input, target, reduction: str = "mean"):  # noqa: A002
    """(input - target)^2"""
    _same_shape(input, target, "mse_loss")
    d = input - target
    return _reduce(d * d, reduction, "mse_loss")


def l1_loss(input, target, reduction: str = "mean"):  # noqa: A002
    """|input - target|"""
    _same_shape(input, target, "l1_loss")
    return _reduce(abs(input - target), reduction, "l1_loss")


def cross_entropy(logits, target, reduction: str = "mean"):
    """-log softmax(logits)[target] for logits (N, C) and integer class labels (N,)."""
    labels = data_of(target)
    ls = shape_of(logits)
    if len(ls) != 2:
        raise ValueError(f"cross_entropy: logits must be (N, C), got shape {ls}")
    if not hasattr(labels, "dtype") or labels.dtype.kind not in "iu":
        raise TypeError(f"cross_entropy: target must hold integer class labels, got "
                        f"{getattr(labels, 'dtype', type(labels).__name__)}")
    if tuple(labels.shape) != ls[:1]:
        raise ValueError(f"cross_entropy: target has shape {tuple(labels.shape)}, expected ({ls[0]},)")
    check_range(labels, ls[1], "cross_entropy", "labels")
    picked = getitem(log_softmax(logits, axis=1), (xp.arange(ls[0]), labels))
    return _reduce(-picked, reduction, "cross_entropy")


def gaussian_nll(x, mean_, logvar, reduction: str = "none"):
    """-log N(x; mean, exp(logvar)) elementwise: 1/2 (log 2 pi + logvar + (x - mean)^2 exp(-logvar))."""
    d = x - mean_
    nll = 0.5 * (logvar + d * d * exp(-logvar) + _LOG_2PI)
    return _reduce(nll, reduction, "gaussian_nll")


def kl_normal_standard(mu, logvar, reduction: str = "none"):
    """KL(N(mu, exp(logvar)) || N(0, 1)) elementwise = 1/2 (mu^2 + exp(logvar) - 1 - logvar)."""
    kl = 0.5 * (mu * mu + exp(logvar) - logvar - 1.0)
    return _reduce(kl, reduction, "kl_normal_standard")


def kl_normal(mu1, logvar1, mu2, logvar2, reduction: str = "none"):
    """KL(N(mu1, e^logvar1) || N(mu2, e^logvar2)) elementwise."""
    d = mu1 - mu2
    kl = 0.5 * (logvar2 - logvar1 + (exp(logvar1) + d * d) * exp(-logvar2) - 1.0)
    return _reduce(kl, reduction, "kl_normal")
