"""Statistical tests of the samplers in minigen.distributions.sampling.

Each test draws with a fixed seed, so it is deterministic; the thresholds are chosen so a correct
sampler passes with a wide margin and the stated alternatives fail.  Power: with n = 20,000 draws the
Kolmogorov-Smirnov test at level 0.01 rejects any CDF off by D >= 1.63 / sqrt(n) ~ 0.012 (asymptotic
critical value); a chi-square test with 50,000 draws detects a shift of 0.01 in a probability of 0.2
(about 5.6 standard errors).
"""
import math

import numpy as np
import pytest
from scipy import stats

import minigen as mg
import minigen.distributions as D
from minigen.backend import Generator, xp

from helpers import assert_seeded, host

N_KS = 20_000


def cubic_cdf(t):
    """The CDF of p(x) = 3/8 x^2 on [0, 2]: x^3 / 8."""
    return np.clip(t, 0.0, 2.0) ** 3 / 8.0


def numeric_cdf(pdf, lo, hi, m=200_001):
    """A host CDF by trapezoid integration of ``pdf`` on [lo, hi] (for targets with no closed form)."""
    t = np.linspace(lo, hi, m)
    p = pdf(t)
    F = np.concatenate([[0.0], np.cumsum((p[1:] + p[:-1]) * 0.5 * (t[1] - t[0]))])
    F /= F[-1]
    return lambda x: np.interp(x, t, F)


# ----------------------------------------------------------------------------------------------------
# discrete CDF sampling
# ----------------------------------------------------------------------------------------------------

P5 = [0.1, 0.2, 0.05, 0.4, 0.25]


def test_sample_discrete_matches_p_by_chi_square():
    idx = host(D.sample_discrete(P5, 50_000, generator=Generator(1)))
    counts = np.bincount(idx, minlength=len(P5))
    assert idx.dtype == np.int64 and idx.shape == (50_000,)
    assert stats.chisquare(counts, 50_000 * np.array(P5)).pvalue > 0.01
    # the test has power: the same counts are firmly rejected against a slightly different p
    shifted = np.array([0.11, 0.19, 0.05, 0.4, 0.25])
    assert stats.chisquare(counts, 50_000 * shifted).pvalue < 1e-6


class _FixedUniforms:
    """A stand-in generator that hands out chosen uniforms (to test the CDF rule at its boundaries)."""

    def __init__(self, u):
        self.u = u

    def uniform(self, size=None, dtype=None, **_):
        return mg.to_device(np.asarray(self.u, dtype=dtype or np.float64))


def test_sample_discrete_uses_half_open_cdf_intervals():
    # P = [0.25, 0.5, 1.0]: index i is taken when P_{i-1} <= u < P_i
    u = [0.0, 0.2499, 0.25, 0.4999, 0.5, 0.9999]
    idx = host(D.sample_discrete([0.25, 0.25, 0.5], len(u), generator=_FixedUniforms(u)))
    assert idx.tolist() == [0, 0, 1, 1, 2, 2]


def test_sample_discrete_never_picks_a_zero_probability():
    p = [0.0, 0.5, 0.0, 0.5, 0.0]
    idx = host(D.sample_discrete(mg.tensor(np.array(p)), 20_000, generator=Generator(2)))
    counts = np.bincount(idx, minlength=5)
    assert counts[[0, 2, 4]].sum() == 0
    assert abs(counts[1] / 20_000 - 0.5) < 4 * math.sqrt(0.25 / 20_000)


@pytest.mark.parametrize("p, message", [
    ([[0.5, 0.5]], "1-D"),
    ([], "1-D"),
    ([0.5, -0.1, 0.6], "non-negative"),
    ([0.5, float("nan"), 0.5], "NaN"),
    ([0.5, 0.6], "sum to 1"),
])
def test_sample_discrete_validates_p(p, message):
    with pytest.raises(ValueError, match=message):
        D.sample_discrete(p, 10)


# ----------------------------------------------------------------------------------------------------
# inverse transform: p(x) = 3/8 x^2 on [0, 2]
# ----------------------------------------------------------------------------------------------------

def test_inverse_transform_of_the_cubic_passes_ks():
    x = host(D.inverse_transform_sample(lambda u: 2.0 * u ** (1.0 / 3.0), N_KS, generator=Generator(3)))
    assert x.shape == (N_KS,) and x.min() >= 0 and x.max() <= 2
    assert stats.kstest(x, cubic_cdf).pvalue > 0.01


@pytest.mark.parametrize("scale", [1.0, 7.3])     # the pdf need not be normalized
def test_numeric_inverse_transform_of_the_cubic_passes_ks(scale):
    x = host(D.numeric_inverse_transform_sample(lambda t: scale * 3.0 / 8.0 * t ** 2, 0.0, 2.0, N_KS,
                                                generator=Generator(4)))
    assert x.shape == (N_KS,) and x.min() >= 0 and x.max() <= 2
    assert stats.kstest(x, cubic_cdf).pvalue > 0.01


def test_ks_rejects_a_wrong_sampler():
    """2 u^(1/2) samples p(x) = x/2 (CDF x^2/4), off from x^3/8 by D = 0.148 at x = 4/3: the KS test
    with these n draws must reject it, or the passing tests above would mean nothing."""
    x = host(D.inverse_transform_sample(lambda u: 2.0 * u ** 0.5, N_KS, generator=Generator(3)))
    assert stats.kstest(x, cubic_cdf).pvalue < 1e-10


def test_numeric_inverse_transform_of_a_bimodal_density():
    def pdf(t, e):      # a two-bump mixture (e = xp.exp or np.exp): no closed-form inverse CDF
        return 0.3 * e(-0.5 * ((t + 2) / 0.5) ** 2) / 0.5 + 0.7 * e(-0.5 * ((t - 1) / 0.8) ** 2) / 0.8

    x = host(D.numeric_inverse_transform_sample(lambda t: pdf(t, xp.exp), -6.0, 6.0, N_KS,
                                                generator=Generator(5)))
    assert stats.kstest(x, numeric_cdf(lambda t: pdf(t, np.exp), -6.0, 6.0)).pvalue > 0.01


@pytest.mark.parametrize("pdf, a, b, message", [
    (lambda t: t - 1.0, 0.0, 2.0, "negative"),
    (lambda t: t * float("nan"), 0.0, 2.0, "NaN"),
    (lambda t: 0.0 * t, 0.0, 2.0, "zero mass"),
    (lambda t: t, 2.0, 0.0, "a < b"),
])
def test_numeric_inverse_transform_validates(pdf, a, b, message):
    with pytest.raises(ValueError, match=message):
        D.numeric_inverse_transform_sample(pdf, a, b, 10)


# ----------------------------------------------------------------------------------------------------
# rejection sampling
# ----------------------------------------------------------------------------------------------------

Z_QUARTIC = 2.0 * math.gamma(1.25)                        # integral of exp(-x^4) over the line
M_QUARTIC = math.sqrt(2 * math.pi) * math.exp(1 / 16) / Z_QUARTIC   # sup p/q for q = N(0, 1), at x^2 = 1/4


def quartic_pdf(x):
    return xp.exp(-x ** 4) / Z_QUARTIC


def normal_sample(k, g):
    return g.normal((k,), dtype=xp.float64)


def normal_pdf(x):
    return xp.exp(-0.5 * x ** 2) / math.sqrt(2 * math.pi)


def test_rejection_sampling_of_exp_minus_x4_matches_and_accepts_one_in_m():
    res = D.rejection_sample(quartic_pdf, normal_sample, normal_pdf, M_QUARTIC, N_KS, generator=Generator(6))
    x = host(res.samples)
    assert x.shape == (N_KS,)
    assert stats.kstest(x, numeric_cdf(lambda t: np.exp(-t ** 4), -4.0, 4.0)).pvalue > 0.01
    # a kept proposal has probability 1/M: the observed rate within 4 binomial standard errors
    assert res.n_proposed >= N_KS
    assert abs(res.acceptance_rate - 1 / M_QUARTIC) < 4 * res.acceptance_stderr
    samples, rate = res                                   # unpacks as (samples, acceptance_rate)
    assert rate == res.acceptance_rate and samples is res.samples


def test_rejection_sampling_of_a_bimodal_mixture():
    def mix(t, e):
        return 0.5 * e(-0.5 * ((t + 1.5) / 0.6) ** 2) / 0.6 + 0.5 * e(-0.5 * ((t - 1.5) / 0.6) ** 2) / 0.6

    def q_sample(k, g):
        return g.normal((k,), loc=0.0, scale=2.0, dtype=xp.float64)

    def q_pdf(t):
        return xp.exp(-0.5 * (t / 2.0) ** 2) / 2.0

    t = np.linspace(-10, 10, 200_001)
    M = 1.01 * float(np.max(mix(t, np.exp) / (np.exp(-0.5 * (t / 2) ** 2) / 2)))
    res = D.rejection_sample(lambda t: mix(t, xp.exp), q_sample, q_pdf, M, N_KS, generator=Generator(7))
    assert stats.kstest(host(res.samples), numeric_cdf(lambda t: mix(t, np.exp), -8, 8)).pvalue > 0.01
    assert abs(res.acceptance_rate - 1 / M) < 4 * res.acceptance_stderr


def test_rejection_sampling_detects_an_envelope_violation():
    # sup p/q = 1.47, so M = 1 is too small around x = +-1/2, where proposals land all the time
    with pytest.raises(ValueError, match=r"envelope is violated.*larger M"):
        D.rejection_sample(quartic_pdf, normal_sample, normal_pdf, 1.0, 1000, generator=Generator(8))


def test_rejection_sampling_rejects_bad_arguments():
    with pytest.raises(ValueError, match="M must be"):
        D.rejection_sample(quartic_pdf, normal_sample, normal_pdf, -1.0, 10)
    with pytest.raises(ValueError, match="one density per proposal"):
        D.rejection_sample(lambda x: quartic_pdf(x)[:1], normal_sample, normal_pdf, 2.0, 10)
    with pytest.raises(RuntimeError, match="accepted after"):       # p is 0 wherever q proposes
        D.rejection_sample(lambda x: 0.0 * x, normal_sample, normal_pdf, 2.0, 10, max_proposals=5000)


# ----------------------------------------------------------------------------------------------------
# reproducibility
# ----------------------------------------------------------------------------------------------------

def _draw_all():
    return [host(D.sample_discrete(P5, 50)),
            host(D.inverse_transform_sample(lambda u: 2.0 * u ** (1.0 / 3.0), 50)),
            host(D.numeric_inverse_transform_sample(lambda t: t ** 2, 0.0, 2.0, 50)),
            host(D.rejection_sample(quartic_pdf, normal_sample, normal_pdf, M_QUARTIC, 50).samples)]


def test_same_seed_same_samples():
    assert_seeded(_draw_all, 123)
