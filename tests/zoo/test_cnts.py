"""CNTS: the contaminated fixture, the masks, the detector's target and loss, R's kept steps, the judge
against degenerate detectors, and a run's whole life."""
import numpy as np
import pytest

import minigen as mg
from minigen.data.timeseries import anomaly_series
from minigen.zoo.cnts import (CNTSTask, average_over_windows, detector_loss, entry_masks, keep_mask,
                              series_windows)

from helpers import check_run_lifecycle


def test_contaminated_training_segment_leaves_the_default_series_unchanged():
    plain, dirty = anomaly_series(seed=3), anomaly_series(seed=3, train_events=8)
    again = anomaly_series(seed=3)
    assert np.array_equal(plain.train, again.train) and np.array_equal(plain.test, again.test)
    assert np.array_equal(dirty.test, plain.test) and np.array_equal(dirty.labels, plain.labels)
    assert dirty.events == plain.events and plain.train_events == [] and plain.train_labels.sum() == 0
    assert len(dirty.train_events) == 8 and dirty.train_labels.sum() > 0
    changed = np.abs(dirty.train - plain.train).max(1) > 0
    assert np.array_equal(changed, dirty.train_labels.astype(bool))        # exactly the labelled steps differ


def test_entry_masks_hide_every_entry_once():
    m = mg.to_host(entry_masks(5, 64, 5))
    assert m.shape == (5, 5, 64) and (m.sum(0) == 1).all()
    assert (m.sum(1) == 1).all()                  # one channel per step in each mask


def test_detector_loss_is_cross_entropy_between_softmaxes_over_time():
    rng = np.random.default_rng(0)
    logits, target = rng.normal(size=(3, 7)), rng.exponential(size=(3, 7))
    p = np.exp(target) / np.exp(target).sum(1, keepdims=True)
    logq = logits - np.log(np.exp(logits).sum(1, keepdims=True))
    got = float(mg.to_host(detector_loss(mg.Tensor(mg.to_device(logits)), mg.to_device(target)).data))
    assert got == pytest.approx(-(p * logq).sum(1).mean())
    # minimal (= the target's entropy) when D's logits equal the target up to a constant per window
    best = float(mg.to_host(detector_loss(mg.Tensor(mg.to_device(target + 5.0)), mg.to_device(target)).data))
    assert best == pytest.approx(-(p * np.log(p)).sum(1).mean()) and best < got


def test_keep_mask_drops_the_most_suspicious_steps():
    s = mg.to_device(np.array([[0.0, 9.0, 1.0, 2.0, 8.0, 3.0, 4.0, 5.0, 6.0, 7.0]]))
    keep = mg.to_host(keep_mask(s, 0.2))
    assert keep.shape == (1, 1, 10) and np.array_equal(keep[0, 0], [1, 0, 1, 1, 0, 1, 1, 1, 1, 1])
    assert mg.to_host(keep_mask(s, 0.0)).all()


def test_windows_cover_the_series_and_average_back():
    x = mg.to_device(np.arange(100 * 2, dtype=np.float32).reshape(100, 2))
    w, starts = series_windows(x, 16, 7)
    assert w.shape == (len(starts), 2, 16) and starts[-1] == 84
    assert np.array_equal(mg.to_host(w[1, 0]), mg.to_host(x[7:23, 0]))
    steps = mg.to_host(average_over_windows(w[:, 0, :], starts, 100))      # each window's copy of the steps
    assert np.allclose(steps, mg.to_host(x[:, 0]))


def test_run(tmp_path):
    r = check_run_lifecycle(tmp_path, "cnts", {"steps": 12, "hidden": 8, "layers": 2}, stop_after=7,
                            sample_png=False)
    assert 0.0 <= r["auc"] <= 1.0 and 0.0 <= r["baseline_best_f1"] <= 1.0 and r["windows"] == 400


def test_judge_rejects_degenerate_detectors():
    """Scores that rank the anomalous windows on top and beat the baseline pass; a constant score, random
    scores, scores flagging every window, an untrained D, and a good D that does not beat the baseline (the
    baseline's own scores fed as CNTS's) fail."""
    from minigen.zoo import load_all
    judge = load_all()["cnts"].judge
    t = CNTSTask(CNTSTask.make_config(0, hidden=8, layers=2))
    truth = mg.to_host(t.truth).astype(float)
    rng = np.random.default_rng(0)
    normal = rng.exponential(size=truth.shape)
    base = t.measure(mg.to_device(normal + 3.0 * truth))                # a decent baseline
    assert base["best_f1"] < 1.0
    untrained = t.measure(t.window_scores(t.step_scores("cnts")))
    scorers = {"true": normal + 50.0 * truth, "random": normal, "constant": np.ones_like(truth),
               "flag everything": 100.0 + 0.0 * normal, "as good as the baseline": normal + 3.0 * truth}
    results = {name: t.measure(mg.to_device(s)) for name, s in scorers.items()}
    results["untrained D"] = untrained
    for name, r in results.items():
        row = {**r, "baseline_best_f1": base["best_f1"], "baseline_auc": base["auc"]}
        verdict = judge([row] * 3)
        assert verdict[1] == (name == "true"), (name, verdict[0])
    good = {**results["true"], "baseline_best_f1": base["best_f1"], "baseline_auc": base["auc"]}
    bad = {**good, "baseline_auc": 1.0}                     # one seed where the baseline is better
    assert not judge([good, good, bad])[1]
