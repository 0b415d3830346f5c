"""Distributions over discrete values, and the Gumbel-softmax relaxation that makes them differentiable.

    Bernoulli(logits=l)      x in {0, 1}, P(x = 1) = sigmoid(l)
    Categorical(logits=l)    x in {0..K-1}, P(x = k) = softmax(l)_k
    RelaxedOneHotCategorical(tau, logits=l)   y = softmax((l + g) / tau), g ~ Gumbel(0, 1): a point of the
                             simplex that tends to a one-hot sample of Categorical(l) as tau -> 0

All work from logits, so log-probabilities stay finite however confident the model is (|l| = 1e4).
"""
from __future__ import annotations

import math

from minigen import backend
from minigen.autograd.tensor import Tensor
from minigen.backend import xp
from minigen.distributions.distribution import (Distribution, all_true, as_params, broadcast_shapes,
                                                check_simplex, generator_or_default)
from minigen.ops.elementwise import clip, log, sigmoid, where
from minigen.ops.losses import binary_cross_entropy_with_logits
from minigen.ops.nn import log_softmax, softmax
from minigen.ops.reduction import logsumexp, sum as _sum
from minigen.ops.shape import broadcast_to, data_of, getitem, reshape


def _one_of(probs, logits, who: str):
    if (probs is None) == (logits is None):
        raise ValueError(f"{who}: pass exactly one of probs or logits")


class Bernoulli(Distribution):
    """P(x = 1) = p = sigmoid(l), for x in {0, 1}; ``batch_shape`` is the logits' shape.

        log p(x) = x log p + (1 - x) log(1 - p) = x l - softplus(l)     ( = -BCE-with-logits(l, x) )
        H        = softplus(l) - l sigmoid(l)

    Both are computed from the logits, finite for any logit.  Given ``probs`` instead, the logits are
    log p - log(1 - p) with p clipped into (0, 1) by float epsilon.
    """

    def __init__(self, probs=None, logits=None, validate_args: bool = True):
        _one_of(probs, logits, "Bernoulli")
        self._probs = None
        if probs is not None:
            (p,) = as_params(probs)
            if validate_args and not all_true((p.data >= 0) & (p.data <= 1)):
                raise ValueError("Bernoulli: probs must lie in [0, 1]")
            eps = float(xp.finfo(p.dtype).eps)
            pc = clip(p, eps, 1.0 - eps)             # p = 0 or 1 would give infinite logits
            logits, self._probs = log(pc) - log(1.0 - pc), p
        (self.logits,) = as_params(logits)
        super().__init__(self.logits.shape, ())

    @property
    def probs(self) -> Tensor:
        return self._probs if self._probs is not None else sigmoid(self.logits)

    def sample(self, sample_shape=(), generator=None) -> Tensor:
        """x = [u < p], u ~ U(0, 1): 0./1. floats of shape ``sample_shape + batch_shape``."""
        shape = self._extended_shape(sample_shape)
        u = generator_or_default(generator).uniform(shape, dtype=self.logits.dtype)
        return Tensor((u < data_of(self.probs)).astype(self.logits.dtype))

    def log_prob(self, value) -> Tensor:
        """x l - softplus(l), shape ``broadcast(value, batch_shape)``."""
        value, _ = as_params(value, self.logits)
        shape = broadcast_shapes(value.shape, self.batch_shape)
        return -binary_cross_entropy_with_logits(broadcast_to(self.logits, shape),
                                                 broadcast_to(value, shape), reduction="none")

    def entropy(self) -> Tensor:
        """softplus(l) - l sigmoid(l), shape ``batch_shape``."""
        return binary_cross_entropy_with_logits(self.logits, sigmoid(self.logits), reduction="none")

    @property
    def mean(self) -> Tensor:
        return self.probs

    @property
    def variance(self) -> Tensor:
        p = self.probs
        return p * (1.0 - p)


class Categorical(Distribution):
    """P(x = k) = softmax(l)_k over the last axis of the logits (K categories); ``batch_shape`` is the
    logits' shape without that axis and a value is an integer label.

        log p(k) = l_k - logsumexp(l) = log_softmax(l)_k
        H        = -sum_k p_k log p_k          (0 log 0 = 0)

    ``sample`` uses the Gumbel-max trick: argmax_k (l_k + g_k), g_k ~ Gumbel(0, 1) i.i.d., is exactly a
    draw of Categorical(l).  ``self.logits`` holds the normalized logits log p.
    """

    def __init__(self, probs=None, logits=None, validate_args: bool = True):
        _one_of(probs, logits, "Categorical")
        if probs is not None:
            (p,) = as_params(probs)
            if validate_args:
                check_simplex(p.data, "Categorical: probs")
            pos = p.data > 0
            logits = where(pos, log(where(pos, p, 1.0)), -math.inf)   # log 0 = -inf, without a warning
        (logits,) = as_params(logits)
        if logits.ndim < 1:
            raise ValueError("Categorical: logits need a category axis (..., K)")
        self.logits = log_softmax(logits, axis=-1)
        self.num_categories = logits.shape[-1]
        super().__init__(logits.shape[:-1], ())

    @property
    def probs(self) -> Tensor:
        return self.logits.exp()

    def sample(self, sample_shape=(), generator=None) -> Tensor:
        """Integer labels of shape ``sample_shape + batch_shape`` (Gumbel-max)."""
        shape = self._extended_shape(sample_shape) + (self.num_categories,)
        g = generator_or_default(generator).gumbel(shape, dtype=self.logits.dtype)
        return Tensor(xp.argmax(self.logits.data + g, axis=-1))

    def log_prob(self, value) -> Tensor:
        """log_softmax(l)[value], shape ``broadcast(value, batch_shape)``; ``value`` holds integer labels."""
        v = data_of(value)
        if not backend.is_array(v):
            v = backend.to_device(v)
        if v.dtype.kind not in "iu":
            raise TypeError(f"Categorical.log_prob: value must hold integer labels, got {v.dtype}")
        K = self.num_categories
        if v.size and (int(v.min()) < 0 or int(v.max()) >= K):
            raise ValueError(f"Categorical.log_prob: labels must be in [0, {K}), got range "
                             f"[{int(v.min())}, {int(v.max())}]")
        shape = broadcast_shapes(tuple(v.shape), self.batch_shape)
        flat = reshape(broadcast_to(self.logits, shape + (K,)), (-1, K))     # one row per label
        n = flat.shape[0]
        picked = getitem(flat, (xp.arange(n), xp.broadcast_to(v, shape).reshape(-1)))
        return reshape(picked, shape)

    def entropy(self) -> Tensor:
        """-sum_k p_k log p_k, shape ``batch_shape``."""
        lp = self.logits
        pos = lp.data > -math.inf
        safe = where(pos, lp, 0.0)                  # p = 0 terms contribute 0 (and no NaN gradient)
        return -_sum(safe.exp() * safe * pos, axis=-1)


class RelaxedOneHotCategorical(Distribution):
    """The Concrete / Gumbel-softmax distribution on the simplex (Maddison et al.; Jang et al. 2017).

        y_k = exp((l_k + g_k) / tau) / sum_j exp((l_j + g_j) / tau),   g ~ Gumbel(0, 1)

        log p(y) = log (K-1)! + (K-1) log tau + sum_k (log pi_k - (tau + 1) log y_k)
                   - K logsumexp_k (log pi_k - tau log y_k)

    with pi = softmax(l).  ``rsample`` is differentiable in the logits (and in ``temperature`` when it is
    a Tensor); ``event_shape = (K,)``.  As tau -> 0 the draws approach one-hot samples of Categorical(l).
    """

    has_rsample = True

    def __init__(self, temperature, probs=None, logits=None, validate_args: bool = True):
        cat = Categorical(probs=probs, logits=logits, validate_args=validate_args)
        self.logits = cat.logits
        self.temperature, _ = as_params(temperature, self.logits)      # a number follows the logits' dtype
        if validate_args and not all_true(self.temperature.data > 0):
            raise ValueError("RelaxedOneHotCategorical: temperature must be positive")
        super().__init__(cat.batch_shape, (cat.num_categories,))

    @property
    def probs(self) -> Tensor:
        return self.logits.exp()

    def rsample(self, sample_shape=(), generator=None) -> Tensor:
        """A relaxed one-hot vector, shape ``sample_shape + batch_shape + (K,)``."""
        shape = self._extended_shape(sample_shape)
        return gumbel_softmax(broadcast_to(self.logits, shape), self.temperature, generator=generator)

    def log_prob(self, value) -> Tensor:
        """The Concrete density at a point ``value`` of the simplex (last axis), shape ``(...)``."""
        K = self.event_shape[0]
        tau = self.temperature
        log_y = log(value)
        t = self.logits - tau * log_y
        return (math.lgamma(K) + (K - 1) * log(tau)
                + _sum(self.logits - (tau + 1.0) * log_y, axis=-1) - K * logsumexp(t, axis=-1))


def gumbel_softmax(logits, tau=1.0, hard: bool = False, generator=None) -> Tensor:
    """A differentiable sample of Categorical(logits) over the last axis.

        y_soft = softmax((logits + g) / tau),   g ~ Gumbel(0, 1) = -log(-log u)

    ``hard=True`` returns the one-hot vector of argmax y_soft in the forward pass with y_soft's gradient
    in the backward pass (straight-through):  y = y_hard - y_soft.detach() + y_soft, written here as
    y_hard + (y_soft - y_soft.detach()) so the forward value is exactly one-hot.
    Shapes: logits (..., K) -> y (..., K).
    """
    if not isinstance(logits, Tensor):
        (logits,) = as_params(logits)
    g = generator_or_default(generator).gumbel(logits.shape, dtype=logits.dtype)
    y_soft = softmax((logits + g) / tau, axis=-1)
    if not hard:
        return y_soft
    K = logits.shape[-1]
    idx = xp.argmax(y_soft.data, axis=-1)
    y_hard = (xp.arange(K) == idx[..., None]).astype(y_soft.dtype)
    return y_hard + (y_soft - y_soft.detach())       # exactly y_hard forward, d y / d y_soft = I backward


__all__ = ["Bernoulli", "Categorical", "RelaxedOneHotCategorical", "gumbel_softmax"]
