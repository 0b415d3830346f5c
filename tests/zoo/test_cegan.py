"""CEGAN: the imbalanced split, the class-balanced batches, macro-F1, and a run's whole life."""
import numpy as np
import pytest

import minigen as mg
from minigen.data import digits
from minigen.zoo import load_all
from minigen.zoo.cegan import CEGANTask, imbalanced_split, macro_f1

from helpers import check_run_lifecycle


def test_imbalanced_split_and_balanced_batches():
    ds = digits()
    x, y = imbalanced_split(ds.x_train, ds.y_train, (5, 6, 7, 8, 9), 0.1, seed=0)
    counts = np.bincount(mg.to_host(y), minlength=10)
    full = np.bincount(ds.y_train, minlength=10)
    assert (counts[:5] == full[:5]).all() and np.allclose(counts[5:], np.round(0.1 * full[5:]))
    t = CEGANTask(CEGANTask.make_config(0, batch_size=100))
    labels = np.concatenate([mg.to_host(t.balanced.next()[1].data) for _ in range(50)])
    assert np.abs(np.bincount(labels, minlength=10) / len(labels) - 0.1).max() < 0.02


def test_macro_f1_by_hand():
    y = mg.to_device(np.array([0, 0, 1, 1, 2, 2]))
    pred = mg.to_device(np.array([0, 1, 1, 1, 2, 0]))
    # class 0: tp 1 fp 1 fn 1 -> 0.5; class 1: tp 2 fp 1 fn 0 -> 0.8; class 2: tp 1 fp 0 fn 1 -> 2/3
    f1, per = macro_f1(pred, y, n=3)
    assert per == pytest.approx([0.5, 0.8, 2 / 3]) and f1 == pytest.approx((0.5 + 0.8 + 2 / 3) / 3)


def test_run(tmp_path):
    r = check_run_lifecycle(tmp_path, "cegan", {"steps": 30, "augment_after": 10, "g_hidden": 32, "d_hidden": 32},
                            stop_after=17, label=6)
    assert r["train_counts"][9] < r["train_counts"][0]


def test_judge_rejects_an_untrained_generator_and_a_remedy_that_is_as_good():
    """C trained with the top-up of a generator that never learns (lr_g = 0) does not beat random
    oversampling or class weighting; and a result that merely ties the best remedy fails too."""
    v = load_all()["cegan"]
    r = v.fit(v.config(steps=300, augment_after=0, lr_g=0.0, g_hidden=32, d_hidden=32), seed=0)
    assert r["macro_f1"] <= max(r["macro_f1_oversampled"], r["macro_f1_weighted"]), r
    assert not v.judge([r] * 3)[1]
    good = {"macro_f1": 0.95, "macro_f1_imbalanced": 0.85, "macro_f1_oversampled": 0.90, "macro_f1_weighted": 0.91,
            "gain_points": 10.0}
    assert v.judge([good] * 3)[1]
    assert not v.judge([good, good, {**good, "macro_f1_weighted": 0.95}])[1]
