"""M3GAN: the fixture, the views, the POT threshold, the scoring masks, and a run's whole life."""
import itertools
import math

import numpy as np
import pytest

import minigen as mg
from minigen.data.timeseries import ANOMALY_KINDS, anomaly_series
from minigen.zoo.m3gan import MaskedWindowGAN, f1_score, fft_filter, haar_denoise, pot_threshold

from helpers import check_run_lifecycle


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


def test_views():
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
    s = np.random.default_rng(0).exponential(size=20000)
    pot = pot_threshold(mg.to_device(s), quantile=0.98, risk=1e-3)
    assert pot["threshold"] == pytest.approx(-math.log(1e-3), rel=0.15)         # P(X > z) = 1e-3
    assert abs(pot["xi"]) < 0.3 and pot["peaks"] == pytest.approx(400, abs=2)


def test_scoring_masks_every_step_once_and_window_f1():
    b = MaskedWindowGAN(10, 3, 8, 0.4, "context", 1.0)
    b.n_masks = 3
    cover = sum(((np.arange(10) % 3) == j).astype(int) for j in range(3))
    assert (cover == 1).all()
    x = mg.to_device(np.random.default_rng(0).normal(size=(7, 30)).astype(np.float32))
    s = b.score(x)
    assert s.shape == (7,) and bool((s > 0).all())
    f1, p, r = f1_score(np.array([1, 1, 0, 0, 1]), np.array([1, 0, 0, 1, 1]))
    assert (p, r) == (pytest.approx(2 / 3), pytest.approx(2 / 3)) and f1 == pytest.approx(2 / 3)


def test_masks_hide_a_fraction_of_the_steps_and_g_sees_only_the_context():
    b = MaskedWindowGAN(10, 2, 8, 0.4, "context", 1.0)
    x = mg.to_device(np.random.default_rng(1).normal(size=(5, 20)).astype(np.float32))
    _, mask = b.latent_for(x)
    assert np.array_equal(mg.to_host(mask).sum(1), [4] * 5)
    rec, out, m, x0 = b.generate((x, mask))
    kept = mg.to_host(1 - m) > 0
    assert np.array_equal(mg.to_host(rec.data)[kept], mg.to_host(x)[kept])      # the unmasked steps stay


def test_run(tmp_path):
    r = check_run_lifecycle(tmp_path, "m3gan", {"steps": 20, "hidden": 16}, stop_after=17, sample_png=False)
    assert r["view"] in ("raw", "fft", "wavelet") and set(r["views"]) == {"raw", "fft", "wavelet"}


def test_judge_rejects_degenerate_scorers():
    """Scores that rank the anomalous windows on top pass; random scores, a constant score, scores that
    flag every window and the untrained model's scores fail."""
    from minigen.zoo import load_all
    from minigen.zoo.m3gan import M3GANTask
    judge = load_all()["m3gan"].judge
    t = M3GANTask(M3GANTask.make_config(0, hidden=16))
    rng = np.random.default_rng(0)
    truth = mg.to_host(t.truth).astype(float)
    calib, normal = rng.exponential(size=3000), rng.exponential(size=truth.shape)     # clean windows' scores
    scorers = {"true": normal + 50.0 * truth, "random": normal, "constant": np.ones_like(truth),
               "flag everything": 100.0 + normal}
    b = t.branches["raw"]
    untrained = b.score(t.views["raw"]["test"]), b.score(t.views["raw"]["calib"])
    results = {name: t.measure(mg.to_device(calib), mg.to_device(s)) for name, s in scorers.items()}
    results["untrained"] = t.measure(untrained[1], untrained[0])
    for name, r in results.items():
        verdict = judge([{**r, "view": "raw"}] * 3)
        assert verdict[1] == (name == "true"), (name, verdict[0])
