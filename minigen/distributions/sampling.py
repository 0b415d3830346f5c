"""Sampling from a distribution you can only write down: discrete CDF search, inverse transform,
numeric inverse transform, and rejection sampling.

    discrete         P_i = sum_{j<=i} p_j;  u ~ U(0, 1);  take i with P_{i-1} <= u < P_i
    inverse transform  x = F^{-1}(u),  u ~ U(0, 1)        (then P(x <= t) = P(u <= F(t)) = F(t))
    rejection        x ~ q, u ~ U(0, 1); keep x if u M q(x) < p(x)   (needs M q(x) >= p(x) everywhere;
                     a draw is kept with probability 1/M when p and q are normalized)

Every sampler draws from the engine RNG (``minigen.manual_seed``) or an explicit ``generator`` and
returns an array of the active backend; all the work is vectorized over the n draws.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from minigen import backend
from minigen.backend import xp
from minigen.distributions.distribution import check_simplex, generator_or_default
from minigen.ops.shape import data_of


def _array(a):
    """A function's result (Tensor, backend array, list or number) as a backend array."""
    a = data_of(a)
    return a if backend.is_array(a) else backend.to_device(a)


def _check_n(n, who: str) -> int:
    if int(n) != n or n < 0:
        raise ValueError(f"{who}: n must be a non-negative integer, got {n!r}")
    return int(n)


def sample_discrete(p, n: int, generator=None):
    """n indices i in {0..K-1} with P(i) = p_i, by inverse transform on the discrete CDF.

        P_i = p_0 + ... + p_i,   u ~ U(0, 1),   i = the first index with u < P_i
                                               (so P_{i-1} <= u < P_i: a binary search, searchsorted)

    ``p``: a 1-D probability vector (K,) (Tensor, array or list).  Returns int64 indices of shape (n,).
    Raises ValueError when p is not 1-D, has NaN/inf or negative entries, or does not sum to 1.
    """
    n = _check_n(n, "sample_discrete")
    p = _array(p)
    if p.ndim != 1 or p.shape[0] == 0:
        raise ValueError(f"sample_discrete: p must be a non-empty 1-D probability vector, got shape "
                         f"{tuple(p.shape)}")
    p = p.astype(xp.float64)                       # the CDF is a running sum: keep its round-off small
    check_simplex(p, "sample_discrete: p", axis=0)
    cdf = xp.cumsum(p)
    cdf[-1] = 1.0                                  # u < 1 always lands in a bin despite round-off
    u = generator_or_default(generator).uniform((n,), dtype=xp.float64)
    # side="right": the first i with P_i > u; empty bins (P_{i-1} = P_i) can never be chosen
    return xp.searchsorted(cdf, u, side="right").astype(xp.int64)


def inverse_transform_sample(inv_cdf, n: int, generator=None, dtype=None):
    """n draws x = F^{-1}(u), u ~ U(0, 1), for a closed-form inverse CDF.

    ``inv_cdf`` maps an array of uniforms (n,) to the samples (n, ...) with ``xp`` operations; e.g. for
    p(x) = 3/8 x^2 on [0, 2], F(x) = x^3 / 8 and ``inv_cdf = lambda u: 2 * u ** (1/3)``.
    """
    n = _check_n(n, "inverse_transform_sample")
    u = generator_or_default(generator).uniform((n,), dtype=dtype)
    x = _array(inv_cdf(u))
    if x.shape[:1] != (n,):
        raise ValueError(f"inverse_transform_sample: inv_cdf must return one value per uniform, got shape "
                         f"{tuple(x.shape)} for {n} uniforms")
    return x


def numeric_inverse_transform_sample(pdf, a: float, b: float, n: int, grid: int = 4097, generator=None,
                                     dtype=None):
    """n draws from any density on [a, b], with the CDF integrated and inverted numerically.

        x_0..x_{G-1} = linspace(a, b, G),   F_k = sum_{j<=k} (p(x_{j-1}) + p(x_j)) / 2 * h   (trapezoid)
        F <- F / F_{G-1}  (so ``pdf`` need not be normalized);   x = interp(u, F, x)

    Interpolating F linearly samples the density that is constant on each grid cell with the cell's
    trapezoid mass, whose CDF matches the true one up to O(h^2).  ``pdf`` maps an ``xp`` array of points
    (G,) to densities (G,); it must be finite and non-negative with positive total mass.
    """
    n = _check_n(n, "numeric_inverse_transform_sample")
    if not (math.isfinite(a) and math.isfinite(b) and a < b):
        raise ValueError(f"numeric_inverse_transform_sample: need finite a < b, got [{a}, {b}]")
    if grid < 2:
        raise ValueError(f"numeric_inverse_transform_sample: grid must have at least 2 points, got {grid}")
    x = xp.linspace(a, b, grid)                   # float64: the CDF needs the precision
    px = xp.broadcast_to(_array(pdf(x)), x.shape).astype(xp.float64)
    if not bool(xp.isfinite(px).all()):
        raise ValueError("numeric_inverse_transform_sample: pdf returned NaN or inf on [a, b]")
    if float(px.min()) < 0:
        raise ValueError(f"numeric_inverse_transform_sample: pdf is negative (min {float(px.min()):.4g} "
                         f"at x = {float(x[int(px.argmin())]):.4g}); a density must be >= 0")
    h = (b - a) / (grid - 1)
    cdf = xp.concatenate([xp.zeros(1), xp.cumsum((px[1:] + px[:-1]) * (0.5 * h))])
    mass = float(cdf[-1])
    if mass <= 0:
        raise ValueError("numeric_inverse_transform_sample: pdf has zero mass on [a, b]")
    u = generator_or_default(generator).uniform((n,), dtype=xp.float64)
    out = xp.interp(u, cdf / mass, x)
    return out.astype(dtype or backend.default_float())


@dataclass
class RejectionResult:
    """What ``rejection_sample`` returns; unpacks as ``samples, acceptance_rate = result``.

    samples          the n accepted draws (n, ...)
    acceptance_rate  accepted / proposed over every proposal made (about Z / M, Z = the mass of ``pdf``)
    n_proposed       how many proposals were drawn
    """
    samples: object
    acceptance_rate: float
    n_proposed: int

    def __iter__(self):
        return iter((self.samples, self.acceptance_rate))

    @property
    def acceptance_stderr(self) -> float:
        """Binomial standard error of the rate: sqrt(r (1 - r) / n_proposed)."""
        r = self.acceptance_rate
        return math.sqrt(r * (1.0 - r) / max(self.n_proposed, 1))


def rejection_sample(pdf, proposal_sample, proposal_pdf, M: float, n: int, generator=None,
                     batch_size: int | None = None, max_proposals: int | None = None) -> RejectionResult:
    """n draws from ``pdf`` using a proposal q and an envelope M q(x) >= p(x).

        x ~ q;  h = u M q(x), u ~ U(0, 1);  accept x when h < p(x)

    The accepted x are distributed as p (the lecture's recipe with the bound M q in place of q), and
    each proposal is kept with probability Z / M (Z = integral of p; 1/M for a normalized p).

    ``proposal_sample(k, generator)`` returns k proposals (k, ...); ``pdf(x)`` and ``proposal_pdf(x)``
    return densities (k,).  Proposals are drawn in batches of about (remaining draws) * M * 1.1.

    Raises ValueError when a proposal shows the envelope is violated, p(x) > M q(x) (naming the worst
    ratio p/q seen, the smallest M that would do), and RuntimeError after ``max_proposals`` proposals
    (default 1000 * M * n + 1e6) without n acceptances.
    """
    n = _check_n(n, "rejection_sample")
    if not (M > 0 and math.isfinite(M)):
        raise ValueError(f"rejection_sample: M must be a positive finite number, got {M}")
    g = generator_or_default(generator)
    max_proposals = max_proposals or int(1000 * M * n + 1_000_000)
    kept, n_kept, n_proposed = [], 0, 0
    while n_kept < n:
        if n_proposed >= max_proposals:
            raise RuntimeError(f"rejection_sample: only {n_kept} of {n} draws accepted after {n_proposed} "
                               "proposals; is pdf nearly zero where q puts its mass?")
        k = batch_size or int(min(max((n - n_kept) * M * 1.1, 1024), 1 << 22))
        x = _array(proposal_sample(k, g))
        px, qx = _array(pdf(x)), _array(proposal_pdf(x))
        _check_envelope(x, px, qx, M)
        u = g.uniform((k,), dtype=qx.dtype if qx.dtype.kind == "f" else None)
        accept = u * (M * qx) < px           # strict: a point with p(x) = 0 is never kept
        kept.append(x[accept])
        n_kept += int(accept.sum())
        n_proposed += k
    samples = xp.concatenate(kept, axis=0)[:n]
    return RejectionResult(samples, n_kept / n_proposed if n_proposed else float("nan"), n_proposed)


def _check_envelope(x, px, qx, M):
    """Raise if any proposal has p(x) > M q(x) (beyond round-off)."""
    if px.shape != qx.shape or px.shape[:1] != x.shape[:1]:
        raise ValueError(f"rejection_sample: pdf and proposal_pdf must return one density per proposal, got "
                         f"shapes {tuple(px.shape)} and {tuple(qx.shape)} for {x.shape[0]} proposals")
    if not bool(xp.isfinite(px).all()) or float(px.min()) < 0:
        raise ValueError("rejection_sample: pdf returned a negative, NaN or inf density")
    over = px > M * qx * (1.0 + 1e-6)
    if bool(over.any()):
        pos = qx > 0
        ratio = xp.where(pos, px / xp.where(pos, qx, 1.0), math.inf)   # p/q; q = 0 < p is unbounded
        j = int(xp.argmax(xp.where(over, ratio, -1.0)))
        worst = float(ratio[j])
        where = backend.to_host(x[j]).tolist()
        raise ValueError(f"rejection_sample: the envelope is violated: p(x) > M q(x) at x = {where} "
                         f"(p/q = {worst:.4g} > M = {M:.4g}); use a larger M (at least the sup of p/q, "
                         f"e.g. {1.1 * worst:.4g}) or a proposal with heavier tails")
