"""PATE-GAN: the moments accountant, the noisy vote, the teachers' partitions, AUROC, the fixture, and a
run's whole life (the accountant resumes with the run)."""
import math

import numpy as np
import pytest

import minigen as mg
from minigen.data.tabular import tabular_classification
from minigen.privacy import (
    MomentsAccountant,
    data_dependent_moment,
    data_independent_moment,
    epsilon_from_moments,
    noisy_argmax_2,
    noisy_vote_q,
    query_moment,
)
from minigen.zoo.pategan import Teachers, auroc

from helpers import check_run_lifecycle

LOG_1_DELTA = math.log(1e5)


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


def test_accountant_state_round_trips():
    a = MomentsAccountant(0.5, max_moment=4)
    a.accumulate([3, 50, 0])
    b = MomentsAccountant(0.5, max_moment=4)
    b.load_state_dict(a.state_dict())
    assert b.alpha == a.alpha and b.queries == 3 and b.epsilon(1e-5) == a.epsilon(1e-5)
    with pytest.raises(ValueError, match="moments"):
        MomentsAccountant(0.5, max_moment=3).load_state_dict(a.state_dict())


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


def test_tabular_fixture_is_deterministic_and_sensible():
    a, b = tabular_classification(2000, 1000, seed=3), tabular_classification(2000, 1000, seed=3)
    assert np.array_equal(a.x_train, b.x_train) and np.array_equal(a.y_test, b.y_test)
    assert not np.array_equal(a.x_train, tabular_classification(2000, 1000, seed=4).x_train)
    assert a.x_train.shape == (2000, 8) and a.x_train.dtype == np.float32 and a.y_train.dtype == np.int64
    assert 0.2 < a.y_train.mean() < 0.45
    assert (a.x_train[:, 1] > 0).all() and (a.x_train[:, 4] > 0).all()          # the log-normal columns
    corr = np.corrcoef(a.x_train.T)
    assert np.abs(corr[np.triu_indices(8, 1)]).max() > 0.3                       # correlated columns
    assert 0.8 < a.bayes_auroc < 0.97


def test_each_teacher_is_fitted_on_its_own_partition_only():
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
    assert auroc(mg.to_device(np.array([0.1, 0.4, 0.35, 0.8])), mg.to_device(np.array([0, 0, 1, 1]))) == 0.75
    g = np.random.default_rng(0)
    s, y = g.normal(size=500), g.uniform(size=500) < 0.3
    pairs = np.mean([a > b for a in s[y] for b in s[~y]])
    assert auroc(mg.to_device(s), mg.to_device(y.astype(np.int64))) == pytest.approx(pairs)


def test_run(tmp_path):
    settings = {"iterations": 10, "n_teachers": 10, "n_train": 2000, "n_test": 1000, "clf_steps": 30}
    r = check_run_lifecycle(tmp_path, "pategan", settings, stop_after=2, sample_png=False)
    assert r["queries"] == 16 * r["iterations"] and r["epsilon"] <= 10
    from minigen.cli import main
    assert main(["sample", str(tmp_path / "full"), "--n", "5", "--out", str(tmp_path / "rows.csv")]) == 0
    lines = (tmp_path / "rows.csv").read_text().splitlines()
    assert lines[0].split(",")[-1] == "y" and len(lines) == 6


def test_judge_rejects_a_generator_without_utility_at_eps_1():
    """Rows as useful as the real ones at eps 1 pass; the untrained generator's rows, and a generator that is
    only useful at eps 10, fail (measured TSTR of the untrained generator of a small run)."""
    from minigen.zoo import load_all
    v = load_all()["pategan"]
    r = v.fit(v.config(iterations=3, n_teachers=10, n_train=2000, n_test=1000, clf_steps=30), seed=0)
    untrained = r["tstr_untrained"] / r["trtr_auroc"]

    def result(at_1, at_10):
        return {**r, "ratio": at_10, "curve": [{"epsilon_budget": 1.0, "epsilon": 0.9, "ratio": at_1},
                                               {"epsilon_budget": 10.0, "epsilon": 9.5, "ratio": at_10}]}
    assert v.judge([result(0.95, 0.97)] * 5)[1]
    assert untrained < 0.8 and not v.judge([result(untrained, untrained)] * 5)[1]
    assert not v.judge([result(untrained, 0.95)] * 5)[1]
