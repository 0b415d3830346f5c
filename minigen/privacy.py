"""PATE's noisy vote and its privacy bookkeeping: the data-dependent moments accountant.

The mechanism (Papernot et al., "Semi-supervised knowledge transfer for deep learning from private
training data", ICLR 2017; used as is by PATE-GAN, Jordon et al., ICLR 2019).  k teachers, each trained
on its own disjoint part of the private data, vote on a query x; with n_c(x) the votes for class c,

    M(x) = argmax_c ( n_c(x) + Lap(1/lam) )            one Laplace draw per class, scale b = 1/lam

Changing one private record changes one teacher, so one count goes down by one and another up by one:
M is (2 lam, 0)-differentially private per query.  (lam is Papernot's gamma: the *inverse* noise scale;
the PATE-GAN repo draws Lap(lam) but accounts with lam as gamma, which agrees only at lam = 1.)

The moments accountant (Abadi et al. 2016) tracks, for l = 1..L, the log moment of the privacy loss
random variable, alpha(l) = max log E[exp(l * c(o))], which composes additively over queries:

    alpha_total(l) = sum over queries of alpha_query(l)
    eps(delta)     = min_l ( alpha_total(l) + log(1/delta) ) / l           (the tail bound)

and for each query the smaller of two bounds (Papernot et al. 2017, Theorems 2 and 3):

    data-independent:  alpha(l) <= 2 lam^2 l (l + 1)
    data-dependent:    alpha(l) <= log( (1 - q) ((1 - q) / (1 - e^{2 lam} q))^l + q e^{2 lam l} )
                       valid when  q < (e^{2 lam} - 1) / (e^{4 lam} - 1)

where q bounds the probability that the noisy answer differs from the plurality o*; for two classes
(their Lemma 4 / PATE-GAN's Algorithm 1), with gap = |n_0 - n_1|,

    q = (2 + lam * gap) / (4 exp(lam * gap))

So unanimous votes on many teachers (lam * gap large) cost almost nothing; split votes cost the full
data-independent price.  The accountant is evaluated in float64 with ``xp`` for a batch of queries at
once; the scalar helpers (plain ``math``) give the same numbers for hand checks.
"""
from __future__ import annotations

import math

from minigen import backend
from minigen.backend import xp

__all__ = [
    "MomentsAccountant",
    "data_dependent_moment",
    "data_independent_moment",
    "epsilon_from_moments",
    "laplace",
    "noisy_argmax_2",
    "noisy_vote_q",
    "query_moment",
]


# ---- scalar formulas (the hand-checkable definitions) ----------------------------------------------------

def noisy_vote_q(lam: float, gap: float) -> float:
    """Bound on P[noisy answer != plurality] for two classes with vote gap |n0 - n1| (capped at 1)."""
    return min(1.0, (2.0 + lam * gap) / (4.0 * math.exp(lam * gap)))


def data_independent_moment(lam: float, l: int) -> float:
    """2 lam^2 l (l + 1): the log moment of any (2 lam, 0)-DP mechanism."""
    return 2.0 * lam * lam * l * (l + 1)


def data_dependent_moment(lam: float, q: float, l: int) -> float:
    """log((1-q)((1-q)/(1-e^{2lam} q))^l + q e^{2lam l}); ``inf`` outside q < (e^{2lam}-1)/(e^{4lam}-1)."""
    if not q < (math.exp(2 * lam) - 1.0) / (math.exp(4 * lam) - 1.0):
        return math.inf
    return math.log((1 - q) * ((1 - q) / (1 - math.exp(2 * lam) * q)) ** l + q * math.exp(2 * lam * l))


def query_moment(lam: float, gap: float, l: int) -> float:
    """One query's log-moment bound: the smaller of the two."""
    return min(data_independent_moment(lam, l), data_dependent_moment(lam, noisy_vote_q(lam, gap), l))


def epsilon_from_moments(alpha, delta: float) -> float:
    """min over l = 1..L of (alpha(l) + log(1/delta)) / l; ``alpha[i]`` is the moment of order i + 1."""
    return min((float(a) + math.log(1.0 / delta)) / (i + 1) for i, a in enumerate(alpha))


# ---- the batched accountant ----------------------------------------------------------------------------

class MomentsAccountant:
    """Accumulates the log moments alpha(1..L) of PATE's two-class noisy vote over queries.

        acc = MomentsAccountant(lam=0.5, max_moment=20)
        acc.accumulate(gaps)              # |n0 - n1| of a batch of queries (device array, list or number)
        acc.epsilon(1e-5)                 # eps spent so far at delta = 1e-5
        acc.epsilon_if(gaps, 1e-5)        # what it would be after those queries (nothing recorded)
    """

    def __init__(self, lam: float, max_moment: int = 20):
        self.lam, self.L = float(lam), int(max_moment)
        self.alpha = [0.0] * self.L
        self.queries = 0
        e2 = math.exp(2 * self.lam)
        self._q_max = (e2 - 1.0) / (math.exp(4 * self.lam) - 1.0)

    def moments(self, gaps) -> list[float]:
        """sum over the queries of min(data-independent, data-dependent) for l = 1..L (float64)."""
        g = backend.to_device(gaps if backend.is_array(gaps) else xp.asarray(gaps), dtype=xp.float64).reshape(-1)
        lam = self.lam
        q = xp.minimum((2.0 + lam * g) / (4.0 * xp.exp(lam * g)), 1.0)
        ok = q < self._q_max
        qs = xp.where(ok, q, 0.0)                                # safe value where the bound does not hold
        l = xp.arange(1, self.L + 1, dtype=xp.float64)[None, :]
        base = xp.log1p(-qs) - xp.log1p(-math.exp(2 * lam) * qs)     # log((1-q)/(1-e^{2lam} q)) >= 0
        a = xp.log1p(-qs)[:, None] + l * base[:, None]               # log of the first term
        b = xp.log(xp.maximum(qs, 1e-300))[:, None] + 2 * lam * l    # log of the second
        dep = xp.logaddexp(a, b)
        dep = xp.where(ok[:, None], dep, xp.inf)
        indep = 2.0 * lam * lam * l * (l + 1.0)
        per_query = xp.minimum(dep, indep)
        return [float(v) for v in backend.to_host(per_query.sum(0))]

    def accumulate(self, gaps, moments: list | None = None) -> None:
        """Add the queries with vote gaps ``gaps`` (their ``moments`` if already computed)."""
        m = self.moments(gaps) if moments is None else moments
        self.alpha = [a + b for a, b in zip(self.alpha, m)]
        self.queries += 1 if isinstance(gaps, (int, float)) else len(gaps) if isinstance(gaps, (list, tuple)) \
            else int(gaps.size)

    def epsilon(self, delta: float) -> float:
        return epsilon_from_moments(self.alpha, delta)

    def epsilon_with(self, moments: list, delta: float) -> float:
        """eps after adding queries whose summed log moments are ``moments`` (nothing recorded)."""
        return epsilon_from_moments([a + b for a, b in zip(self.alpha, moments)], delta)

    def state_dict(self) -> dict:
        """The moments and the query count: what a resumed run needs to go on spending the same budget."""
        return {"alpha": list(self.alpha), "queries": self.queries}

    def load_state_dict(self, state: dict) -> None:
        if len(state["alpha"]) != self.L:
            raise ValueError(f"MomentsAccountant.load_state_dict: {len(state['alpha'])} moments saved, this "
                             f"accountant has {self.L}")
        self.alpha, self.queries = [float(a) for a in state["alpha"]], int(state["queries"])

    def epsilon_if(self, gaps, delta: float) -> float:
        return self.epsilon_with(self.moments(gaps), delta)


# ---- the noisy vote itself -----------------------------------------------------------------------------

def laplace(size, scale: float, generator=None, dtype=None):
    """Lap(0, scale) draws as the difference of two Exp(1) draws times ``scale``."""
    g = generator or backend.rng()
    dtype = dtype or xp.float64
    u1 = g.uniform(size, dtype=dtype)
    u2 = g.uniform(size, dtype=dtype)
    return scale * (xp.log1p(-u2) - xp.log1p(-u1))       # -log(1-u) ~ Exp(1); u in [0, 1)


def noisy_argmax_2(n0, n1, lam: float, generator=None):
    """PATE's noisy answer for two classes: 1 where n1 + Lap(1/lam) > n0 + Lap(1/lam), else 0 (float)."""
    shape = tuple(n0.shape)
    noisy1 = n1 + laplace(shape, 1.0 / lam, generator)
    noisy0 = n0 + laplace(shape, 1.0 / lam, generator)
    return (noisy1 > noisy0).astype(xp.float32)
