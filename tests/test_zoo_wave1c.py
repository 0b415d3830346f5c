"""PATE-GAN, CEGAN and M3GAN: the moments accountant against a hand computation, the fixtures'
determinism, and the pieces the zoo's generic tests do not see (teacher partitions, samplers, POT, views,
metrics)."""
import itertools
import math

import numpy as np
import pytest

import minigen as mg
from minigen import backend
from minigen.data.tabular import tabular_classification
from minigen.data.timeseries import ANOMALY_KINDS, anomaly_series
from minigen.privacy import (
    MomentsAccountant,
    data_dependent_moment,
    data_independent_moment,
    epsilon_from_moments,
    noisy_argmax_2,
    noisy_vote_q,
    query_moment,
)

LOG_1_DELTA = math.log(1e5)


# ---- the moments accountant ------------------------------------------------------------------------------

def test_accountant_matches_a_hand_computation():
    """lam = 0.5, two queries with vote gaps 10 and 0, moments l = 1..3, delta = 1e-5.

    gap 10: q = (2 + 0.5*10) / (4 e^5) = 0.0117914...; valid since q < (e - 1)/(e^2 - 1) = 0.2689;
            l = 1: log((1-q)^2 / (1 - e q) + q e) = log(0.976557/0.967948 + 0.032052) = 0.040130
    gap 0:  q = 1/2 is not < 0.2689, so only the data-independent bound 2 lam^2 l (l+1) = 1, 3, 6 applies
    alpha = (0.040130 + 1, 0.110771 + 3, 0.253408 + 6)
    eps   = min over l of (alpha(l) + log 1e5) / l = min(12.5531, 7.3118, 5.9221) = 5.9221
    """
    q = (2 + 0.5 * 10) / (4 * math.exp(5))
    assert q == pytest.approx(0.011791407248, rel=1e-9) and noisy_vote_q(0.5, 10) == pytest.approx(q)
    l1 = math.log((1 - q) * (1 - q) / (1 - math.e * q) + q * math.e)
    assert l1 == pytest.approx(0.040129935795, rel=1e-9)
    assert data_dependent_moment(0.5, q, 1) == pytest.approx(l1)
    assert data_dependent_moment(0.5, 0.5, 1) == math.inf             # outside the theorem's range
    assert [data_independent_moment(0.5, l) for l in (1, 2, 3)] == [1.0, 3.0, 6.0]
    expected_alpha = [1.040129935795, 3.110771007448, 6.253407747523]
    acc = MomentsAccountant(0.5, max_moment=3)
    acc.accumulate([10, 0])
    assert acc.queries == 2
    assert acc.alpha == pytest.approx(expected_alpha, rel=1e-9)
    assert acc.epsilon(1e-5) == pytest.approx(5.922111070831, rel=1e-9)
    assert acc.epsilon(1e-5) == pytest.approx(min((a + LOG_1_DELTA) / l for l, a in
                                                  zip((1, 2, 3), expected_alpha)))


def test_batched_accountant_equals_the_scalar_formulas():
    gaps = [100, 90, 61, 40, 13, 2, 0]
    acc = MomentsAccountant(0.3, max_moment=20)
    m = acc.moments(mg.to_device(np.array(gaps, dtype=np.float64)))
    ref = [sum(query_moment(0.3, g, l) for g in gaps) for l in range(1, 21)]
    assert m == pytest.approx(ref, rel=1e-10)
    assert epsilon_from_moments(ref, 1e-5) == pytest.approx(min((a + LOG_1_DELTA) / (i + 1)
                                                                 for i, a in enumerate(ref)))


def test_privacy_cost_behaves():
    split, unanimous = [0] * 20, [100] * 20
    for lam in (0.1, 0.5):
        a, b = MomentsAccountant(lam), MomentsAccountant(lam)
        a.accumulate(split)
        b.accumulate(unanimous)
        assert b.epsilon(1e-5) < a.epsilon(1e-5)                       # agreement is cheap
    eps = []
    for lam in (0.02, 0.05, 0.1, 0.2):                                  # less noise (larger lam): more eps
        a = MomentsAccountant(lam)
        a.accumulate(split)
        eps.append(a.epsilon(1e-5))
    assert eps == sorted(eps) and eps[0] < eps[-1]
    acc, seen = MomentsAccountant(0.5), []
    for gaps in ([100] * 8, [40] * 8, [3] * 8, [100] * 8):              # eps-hat never decreases
        assert acc.epsilon_if(gaps, 1e-5) >= acc.epsilon(1e-5)
        before = list(acc.alpha)
        acc.epsilon_if(gaps, 1e-5)
        assert acc.alpha == before                                      # a what-if records nothing
        acc.accumulate(gaps)
        seen.append(acc.epsilon(1e-5))
    assert seen == sorted(seen)


def test_noisy_vote():
    n0 = mg.to_device(np.array([0.0, 100.0, 30.0] * 2000))
    n1 = 100.0 - n0
    r = mg.to_host(noisy_argmax_2(n0, n1, lam=50.0))                    # almost no noise: the plurality
    assert (r == np.tile([1.0, 0.0, 1.0], 2000)).all()
    r = mg.to_host(noisy_argmax_2(n0 * 0 + 50, n1 * 0 + 50, lam=0.5))   # a tie: a fair coin
    assert abs(r.mean() - 0.5) < 0.03


# ---- the fixtures --------------------------------------------------------------------------------------

def test_tabular_fixture_is_deterministic_and_sensible():
    a, b = tabular_classification(2000, 1000, seed=3), tabular_classification(2000, 1000, seed=3)
    assert np.array_equal(a.x_train, b.x_train) and np.array_equal(a.y_test, b.y_test)
    c = tabular_classification(2000, 1000, seed=4)
    assert not np.array_equal(a.x_train, c.x_train)
    assert a.x_train.shape == (2000, 8) and a.x_train.dtype == np.float32 and a.y_train.dtype == np.int64
    assert 0.2 < a.y_train.mean() < 0.45
    assert (a.x_train[:, 1] > 0).all() and (a.x_train[:, 4] > 0).all()          # the log-normal columns
    corr = np.corrcoef(a.x_train.T)
    assert np.abs(corr[np.triu_indices(8, 1)]).max() > 0.3                       # correlated columns
    assert 0.8 < a.bayes_auroc < 0.97


def test_anomaly_series_fixture_is_deterministic_and_labelled():
    a, b = anomaly_series(seed=1), anomaly_series(seed=1)
    assert np.array_equal(a.test, b.test) and a.events == b.events
    assert not np.array_equal(a.test, anomaly_series(seed=2).test)
    assert a.train.shape == (4000, 5) and a.test.shape == (4000, 5) and a.labels.shape == (4000,)
    assert {e[2] for e in a.events} == set(ANOMALY_KINDS)
    mask = np.zeros(4000, dtype=np.int64)
    for s, e, kind, ch in a.events:
        assert 0 < s < e <= 4000 and 0 <= ch < 5
        mask[s:e] = 1
    assert np.array_equal(mask, a.labels)
    ends = sorted(a.events)
    assert all(n[0] - p[1] > 0 for p, n in itertools.pairwise(ends))                  # non-overlapping


# ---- PATE-GAN pieces --------------------------------------------------------------------------------------

def test_each_teacher_is_fitted_on_its_own_partition_only():
    from minigen.zoo.pategan import Teachers
    g = np.random.default_rng(0)
    parts = g.normal(size=(3, 40, 4)) + np.arange(3)[:, None, None]            # partitions that differ
    parts[..., -1] = (g.uniform(size=(3, 40)) < 0.4)
    fakes = g.normal(size=(3, 40, 4))
    fakes[..., -1] = (g.uniform(size=(3, 40)) < 0.4)
    all3 = Teachers(3, 4)
    all3.refit(mg.to_device(parts), mg.to_device(fakes))
    for j in range(3):
        one = Teachers(1, 4)
        one.refit(mg.to_device(parts[j:j + 1]), mg.to_device(fakes[j:j + 1]))
        assert np.allclose(mg.to_host(all3.W.data[j]), mg.to_host(one.W.data[0]), atol=1e-5)
    n0, n1 = all3.votes(mg.to_device(fakes[0]))
    assert np.allclose(mg.to_host(n0 + n1), 3)


def test_auroc_by_ranks():
    from minigen.zoo.pategan import auroc
    assert auroc(mg.to_device(np.array([0.1, 0.4, 0.35, 0.8])), mg.to_device(np.array([0, 0, 1, 1]))) == 0.75
    g = np.random.default_rng(0)
    s, y = g.normal(size=500), g.uniform(size=500) < 0.3
    pairs = np.mean([a > b for a in s[y] for b in s[~y]])
    assert auroc(mg.to_device(s), mg.to_device(y.astype(np.int64))) == pytest.approx(pairs)


# ---- CEGAN pieces -----------------------------------------------------------------------------------------

def test_imbalanced_split_and_balanced_sampler():
    from minigen.data import digits
    from minigen.zoo.cegan import Sampler, imbalanced_split
    ds = digits()
    x, y = imbalanced_split(ds, (5, 6, 7, 8, 9), 0.1, seed=0)
    counts = np.bincount(mg.to_host(y), minlength=10)
    full = np.bincount(ds.y_train, minlength=10)
    assert (counts[:5] == full[:5]).all()
    assert np.allclose(counts[5:], np.round(0.1 * full[5:]))
    backend.manual_seed(0)
    _, yb = Sampler(x, y).balanced(5000)
    freq = np.bincount(mg.to_host(yb), minlength=10) / 5000
    assert np.abs(freq - 0.1).max() < 0.02


def test_macro_f1_by_hand():
    from minigen.zoo.cegan import macro_f1
    y = mg.to_device(np.array([0, 0, 1, 1, 2, 2]))
    pred = mg.to_device(np.array([0, 1, 1, 1, 2, 0]))
    # class 0: tp 1 fp 1 fn 1 -> 0.5; class 1: tp 2 fp 1 fn 0 -> 0.8; class 2: tp 1 fp 0 fn 1 -> 2/3
    f1, per = macro_f1(pred, y, n=3)
    assert per == pytest.approx([0.5, 0.8, 2 / 3]) and f1 == pytest.approx((0.5 + 0.8 + 2 / 3) / 3)


# ---- M3GAN pieces -----------------------------------------------------------------------------------------

def test_views():
    from minigen.zoo.m3gan import fft_filter, haar_denoise
    t = np.arange(512)
    clean = np.stack([np.sin(2 * np.pi * t / 37), np.cos(2 * np.pi * t / 23)], axis=1)
    noisy = clean + 0.3 * np.random.default_rng(0).normal(size=clean.shape)
    x = mg.to_device(noisy)
    assert np.allclose(mg.to_host(fft_filter(x, 0.0)), noisy)
    for view in (fft_filter(x, 0.3), haar_denoise(x)):
        v = mg.to_host(view)
        assert v.shape == noisy.shape
        assert ((v - clean) ** 2).mean() < ((noisy - clean) ** 2).mean()         # both denoise


def test_pot_threshold_on_an_exponential_tail():
    from minigen.zoo.m3gan import pot_threshold
    s = np.random.default_rng(0).exponential(size=20000)
    pot = pot_threshold(mg.to_device(s), quantile=0.98, risk=1e-3)
    assert pot["threshold"] == pytest.approx(-math.log(1e-3), rel=0.15)         # P(X > z) = 1e-3
    assert abs(pot["xi"]) < 0.3 and pot["peaks"] == pytest.approx(400, abs=2)


def test_scoring_masks_every_step_once_and_window_f1():
    from minigen.zoo.m3gan import DEFAULTS, Branch, f1_score
    backend.manual_seed(0)
    b = Branch({**DEFAULTS, "window": 10, "hidden": 8}, 3)
    cover = sum(((np.arange(10) % 3) == j).astype(int) for j in range(3))
    assert (cover == 1).all()
    x = mg.to_device(np.random.default_rng(0).normal(size=(7, 30)).astype(np.float32))
    s = b.score(x)
    assert s.shape == (7,) and bool((s > 0).all())
    f1, p, r = f1_score(np.array([1, 1, 0, 0, 1]), np.array([1, 0, 0, 1, 1]))
    assert (p, r) == (pytest.approx(2 / 3), pytest.approx(2 / 3)) and f1 == pytest.approx(2 / 3)
