"""Information theory and probability tables for discrete distributions given as arrays (or Tensors).

    entropy        H(p)      = -sum_x p(x) log p(x)                    (0 log 0 = 0)
    cross_entropy  H(p, q)   = -sum_x p(x) log q(x)
    kl_divergence  KL(p||q)  = sum_x p(x) log(p(x) / q(x)) = H(p, q) - H(p)  >= 0, and 0 iff p = q
    mc_kl          KL(p||q) ~ 1/n sum_i [log p(x_i) - log q(x_i)],  x_i ~ p   (distribution objects)

    marginal       p(x)      = sum_y p(x, y)
    conditional    p(y | x)  = p(x, y) / p(x)
    expectation    E_p[f]    = sum_x f(x) p(x)

``base`` picks the unit: e (nats, the default) or 2 (bits).  A probability table is reduced over
``axis`` (default None: the whole array is one distribution; pass ``axis=-1`` for a batch of vectors).
Inputs may be Tensors (the results are then differentiable), backend arrays, or lists.  Where
q(x) = 0 < p(x), H(p, q) and KL(p||q) are +inf: an event that q calls impossible costs infinitely many
nats.
"""
from __future__ import annotations

import math
from typing import NamedTuple

from minigen import backend
from minigen.autograd.tensor import Tensor
from minigen.backend import xp
from minigen.distributions.distribution import Distribution, check_simplex
from minigen.distributions import kl as _kl
from minigen.ops.elementwise import log, where
from minigen.ops.reduction import sum as _sum
from minigen.ops.shape import data_of, getitem


def _as_probs(p, who: str, axis):
    """Probabilities, checked: Tensors and backend arrays pass through; lists and host arrays move to
    the device (float64)."""
    if not isinstance(p, Tensor) and not backend.is_array(p):
        p = backend.to_device(p)
    if data_of(p).dtype.kind != "f":
        p = data_of(p).astype(xp.float64)
    check_simplex(data_of(p), who, axis=axis)
    return p


def _xlogy(p, q):
    """p log q elementwise with 0 log q = 0 (also for q = 0); p > 0 = q gives -inf."""
    pos = data_of(p) > 0
    qd = data_of(q)
    term = where(pos, p, 0.0) * log(where(pos & (qd > 0), q, 1.0))
    impossible = pos & (qd <= 0)
    if bool(impossible.any()):                     # q says impossible where p does not
        term = where(impossible, -math.inf, term)
    return term


def _in_base(nats, base):
    """Convert nats to units of log ``base`` (bits for base 2): divide by ln(base)."""
    if base is None or base == math.e:
        return nats
    if base <= 0 or base == 1:
        raise ValueError(f"base must be positive and not 1, got {base}")
    return nats * (1.0 / math.log(base))


def entropy(p, base=math.e, axis=None):
    """H(p) = -sum_x p(x) log p(x) over ``axis`` (all axes when None), in units of log ``base``.

    Example: entropy([0.5, 0.25, 0.125, 0.125], base=2) is 1.75 (bits).
    """
    p = _as_probs(p, "entropy: p", axis)
    return _in_base(-_sum(_xlogy(p, p), axis=axis), base)


def cross_entropy(p, q, base=math.e, axis=None):
    """H(p, q) = -sum_x p(x) log q(x): the expected code length when coding p with a code built for q."""
    p = _as_probs(p, "cross_entropy: p", axis)
    q = _as_probs(q, "cross_entropy: q", axis)
    return _in_base(-_sum(_xlogy(p, q), axis=axis), base)


def kl_divergence(p, q, base=math.e, axis=None):
    """KL(p || q) = sum_x p(x) log(p(x) / q(x)) for probability arrays, in units of log ``base``.

    For two distribution objects (Normal, MultivariateNormal, Bernoulli, Categorical) this dispatches
    to the closed forms of :mod:`minigen.distributions.kl` (in nats; ``base`` rescales).
    """
    if isinstance(p, Distribution) or isinstance(q, Distribution):
        return _in_base(_kl.kl_divergence(p, q), base)
    p = _as_probs(p, "kl_divergence: p", axis)
    q = _as_probs(q, "kl_divergence: q", axis)
    return _in_base(_sum(_xlogy(p, p) - _xlogy(p, q), axis=axis), base)


class MCEstimate(NamedTuple):
    """A Monte Carlo estimate and its standard error (std of the terms / sqrt(n))."""
    estimate: Tensor
    stderr: Tensor


def mc_kl(p, q, n: int = 10_000, generator=None) -> MCEstimate:
    """Estimate KL(p || q) = E_{x~p}[log p(x) - log q(x)] from n draws of p.

    Returns ``MCEstimate(estimate, stderr)``, both of shape ``batch_shape``; the true value lies within
    about 2 stderr of the estimate 95% of the time.  When p can ``rsample`` the estimate is
    differentiable in both distributions' parameters (the reparameterized KL estimator of a VAE).
    """
    if n < 2:
        raise ValueError(f"mc_kl: need n >= 2 draws for a standard error, got {n}")
    x = p.rsample((n,), generator) if p.has_rsample else p.sample((n,), generator)
    terms = p.log_prob(x) - q.log_prob(x)                       # (n, *batch_shape)
    est = terms.mean(axis=0)
    t = data_of(terms)
    se = xp.sqrt(((t - t.mean(axis=0)) ** 2).sum(axis=0) / (n - 1) / n)
    return MCEstimate(est, Tensor(se))


# ----------------------------------------------------------------------------------------------------
# joint tables
# ----------------------------------------------------------------------------------------------------

def marginal(joint, axis=0):
    """The marginal of the variable(s) on ``axis`` (an int or a tuple): sum the joint over all other axes.

    For a table p(x, y) with x on axis 0:  marginal(joint, 0)[i] = p(x_i) = sum_j p(x_i, y_j).
    Shape: joint's shape at ``axis`` only.
    """
    joint = _as_probs(joint, "marginal: joint", None)
    nd = data_of(joint).ndim
    keep = {a % nd for a in (axis if isinstance(axis, tuple) else (axis,))}
    others = tuple(a for a in range(nd) if a not in keep)
    return _sum(joint, axis=others) if others else joint


def conditional(joint, given_axis: int, given_index: int):
    """p(others | variable on ``given_axis`` = its ``given_index``-th value) = p(x, y) / p(x).

    For a table p(x, y) with x on axis 0:  conditional(joint, 0, i)[j] = p(y_j | x_i).
    Shape: joint's shape without ``given_axis``.
    """
    joint = _as_probs(joint, "conditional: joint", None)
    nd = data_of(joint).ndim
    idx = (slice(None),) * (given_axis % nd) + (given_index,)
    row = getitem(joint, idx)                                   # p(x_i, y) for every y
    mass = _sum(row)
    if float(data_of(mass)) <= 0:
        raise ValueError(f"conditional: p(axis {given_axis} = index {given_index}) is 0, so the conditional "
                         "is undefined")
    return row / mass


def expectation(values, probs, axis=None):
    """E_p[f] = sum_x f(x) p(x): ``values`` (f at each outcome) broadcast against ``probs``, reduced over
    ``axis`` (all axes when None).  E.g. E[x] = expectation([1, 2, 3], marginal(joint, 0))."""
    probs = _as_probs(probs, "expectation: probs", axis)
    if not isinstance(values, Tensor) and not backend.is_array(values):
        values = backend.to_device(values)
    return _sum(values * probs, axis=axis)
