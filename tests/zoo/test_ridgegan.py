"""RidgeGAN: the landscape metrics, the KS statistic, the kernel ridge regression, a run's whole life, and
the judge against degenerate generators."""
import numpy as np
import pytest

import minigen as mg
from minigen import backend
from minigen.data.procedural import settlements
from minigen.zoo import load_all
from minigen.zoo.ridgegan import KernelRidge, RidgeGANTask, ks_statistic, landscape_metrics, r2

from helpers import check_run_lifecycle, host


def test_landscape_metrics_count_8_connected_patches():
    m = np.zeros((1, 8, 8), np.float32)
    m[0, 0:2, 0:2] = 1          # a 2x2 patch ...
    m[0, 2, 2] = 1              # ... touching it at a corner: the same patch (8-connected)
    m[0, 5:8, 5:8] = 1          # a 3x3 patch
    ca, n, lpi = host(landscape_metrics(mg.to_device(m)))[0]
    assert n == 2
    assert ca == pytest.approx(100 * 14 / 64) and lpi == pytest.approx(100 * 9 / 64)


def test_ks_statistic_matches_scipy():
    stats = pytest.importorskip("scipy.stats")
    g = np.random.default_rng(0)
    a, b = g.normal(size=300), np.round(g.normal(0.3, 1.2, size=200), 1)        # ties in b
    got = ks_statistic(mg.to_device(a), mg.to_device(b))
    assert got == pytest.approx(stats.ks_2samp(a, b).statistic, abs=1e-12)


def test_kernel_ridge_fits_a_smooth_map_and_predicts_the_mean_far_away():
    g = np.random.default_rng(1)
    m = g.uniform(-2, 2, (400, 3))
    y = np.sin(m[:, 0]) + 0.5 * m[:, 1] ** 2 + 0.05 * g.normal(size=400)
    krr = KernelRidge().fit(mg.to_device(m[:300]), mg.to_device(y[:300]))
    assert r2(mg.to_device(y[300:]), krr.predict(mg.to_device(m[300:]))) > 0.9
    far = krr.predict(mg.to_device(np.full((1, 3), 1e3)))
    assert float(host(far)[0]) == pytest.approx(float(y[:300].mean()), abs=1e-6)


def test_the_settlements_road_density_is_carried_by_the_metrics():
    maps, density = settlements(300, seed=3)
    assert set(np.unique(maps)) <= {0.0, 1.0} and (density > 0).all()
    np.testing.assert_array_equal(settlements(5, seed=3)[0], maps[:5])       # the same seed, the same towns
    krr = KernelRidge().fit(landscape_metrics(mg.to_device(maps[:200])), mg.to_device(density[:200].astype("float64")))
    assert r2(mg.to_device(density[200:].astype("float64")), krr.predict(landscape_metrics(mg.to_device(maps[200:])))) > 0.8


def test_run(tmp_path):
    r = check_run_lifecycle(tmp_path, "ridgegan", load_all()["ridgegan"].fast, stop_after=6)
    assert {"ks_CA", "ks_NP", "ks_LPI", "in_range", "r2", "copies"} <= set(r)


@pytest.fixture(scope="module")
def small_task():
    return RidgeGANTask(RidgeGANTask.make_config(0, n_train=300, n_test=200, ch=4, latent_dim=8))


def test_judge_passes_real_towns_and_rejects_degenerate_generators(small_task):
    """Fresh real towns pass; uniform noise, empty maps, one town repeated, copies of the training maps and
    the untrained generator fail."""
    t, judge = small_task, load_all()["ridgegan"].judge
    S = t.config["size"]
    real = mg.to_device(settlements(200, S, seed=7)[0])
    assert judge([t.measure(real)] * 3)[1]
    g = np.random.default_rng(2)
    degenerate = {
        "noise": (g.random((200, S, S)) < 0.25).astype(np.float32),
        "empty": np.zeros((200, S, S), np.float32),
        "one town": np.repeat(settlements(1, S, seed=7)[0], 200, 0),
        "copies": host(t.train_maps[:200]),
    }
    for name, maps in degenerate.items():
        assert not judge([t.measure(mg.to_device(maps))] * 3)[1], name
    untrained = t.measure(t.generate(200, backend.Generator(1)))
    assert not judge([untrained] * 3)[1]
    # one bad seed among good ones is a FAIL
    assert not judge([t.measure(real), t.measure(real), t.measure(mg.to_device(degenerate["noise"]))])[1]
