"""Closed-form KL divergences between distribution objects, looked up by the pair of types.

    KL(p || q) = E_{x~p}[log p(x) - log q(x)]

    Normal:        log(s_q / s_p) + (s_p^2 + (m_p - m_q)^2) / (2 s_q^2) - 1/2          (elementwise)
    MVN:           1/2 [ tr(S_q^-1 S_p) + (m_q - m_p)^T S_q^-1 (m_q - m_p) - d + log det S_q - log det S_p ]
                   with S = L L^T:  tr(S_q^-1 S_p) = ||L_q^-1 L_p||_F^2,
                                    the quadratic form = ||L_q^-1 (m_q - m_p)||^2
    Bernoulli:     p (log p - log q) + (1 - p)(log(1 - p) - log(1 - q))   (from log-sigmoids of the logits)
    Categorical:   sum_k p_k (log p_k - log q_k)    (0 log 0 = 0; q_k = 0 < p_k gives inf)

The result has shape ``broadcast(p.batch_shape, q.batch_shape)`` and is differentiable in both
distributions' Tensor parameters (for MVN, in ``scale_tril``; see ``MultivariateNormal``).  A pair with
no closed form raises NotImplementedError; estimate it with ``mc_kl`` instead.
"""
from __future__ import annotations

import math

from minigen.distributions.discrete import Bernoulli, Categorical
from minigen.distributions.linalg import solve_tril
from minigen.distributions.normal import MultivariateNormal, Normal
from minigen.ops.elementwise import log, log_sigmoid, sigmoid, where
from minigen.ops.reduction import sum as _sum
from minigen.ops.shape import reshape

_KL = {}


def register_kl(type_p, type_q):
    """Decorator: ``@register_kl(Normal, Normal) def f(p, q): ...`` adds a closed form."""
    def deco(fn):
        _KL[(type_p, type_q)] = fn
        return fn
    return deco


def kl_divergence(p, q):
    """KL(p || q) in closed form for two distribution objects (see the module table)."""
    for tp in type(p).__mro__:
        for tq in type(q).__mro__:
            fn = _KL.get((tp, tq))
            if fn is not None:
                return fn(p, q)
    known = ", ".join(f"({a.__name__}, {b.__name__})" for a, b in _KL)
    raise NotImplementedError(f"kl_divergence: no closed form for ({type(p).__name__}, {type(q).__name__}); "
                              f"known pairs: {known}. Use mc_kl(p, q, n) for a Monte Carlo estimate")


@register_kl(Normal, Normal)
def _kl_normal_normal(p, q):
    r = p.scale / q.scale
    d = (p.loc - q.loc) / q.scale
    return 0.5 * (r * r + d * d - 1.0) - log(r)


@register_kl(MultivariateNormal, MultivariateNormal)
def _kl_mvn_mvn(p, q):
    dp, dq = p.event_shape[0], q.event_shape[0]
    if dp != dq:
        raise ValueError(f"kl_divergence: MultivariateNormals of different sizes ({dp} vs {dq})")
    M = solve_tril(q.scale_tril, p.scale_tril)                         # L_q^-1 L_p
    trace = _sum(_sum(M * M, axis=-1), axis=-1)
    diff = q.loc - p.loc
    y = solve_tril(q.scale_tril, reshape(diff, tuple(diff.shape) + (1,)))
    maha = _sum(reshape(y * y, tuple(diff.shape)), axis=-1)
    return 0.5 * (trace + maha - dp) + q._half_log_det() - p._half_log_det()


@register_kl(Bernoulli, Bernoulli)
def _kl_bernoulli(p, q):
    lp, lq = p.logits, q.logits
    return (sigmoid(lp) * (log_sigmoid(lp) - log_sigmoid(lq))
            + sigmoid(-lp) * (log_sigmoid(-lp) - log_sigmoid(-lq)))


@register_kl(Categorical, Categorical)
def _kl_categorical(p, q):
    lp, lq = p.logits, q.logits
    pos = lp.data > -math.inf
    safe_p = where(pos, lp, 0.0)                   # terms with p_k = 0 are 0 (and keep a finite gradient)
    safe_q = where(pos, lq, 0.0)
    return _sum(safe_p.exp() * (safe_p - safe_q) * pos, axis=-1)
