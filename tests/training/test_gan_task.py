"""``minigen train gan`` end to end (run folder, metrics, figures, sample, eval, a run's whole life), its
per-data defaults and the digits judge."""
import json

import numpy as np

import minigen as mg
from minigen import cli
from minigen.models import classifier as C

from helpers import check_run_lifecycle

SMALL = ["--hidden", "32", "--batch-size", "64"]


def train(out, *flags):
    return cli.main(["train", "gan", "--quiet", "--out", str(out), *flags])


def test_train_sample_eval_ring8(tmp_path, capsys):
    run = tmp_path / "ring"
    assert train(run, "--data", "ring8", "--steps", "40", "--set", "eval_every=20") == 0
    out = capsys.readouterr().out
    assert "gan:" in out and "modes" in out
    for f in ("checkpoint.npz", "metrics.jsonl", "results.json", "config.json", "losses.png", "metrics.png",
              "modes.png", "snapshots.png", "discriminator.png", "samples.png"):
        assert (run / f).stat().st_size > 0, f
    res = json.loads((run / "results.json").read_text())
    assert res["n_modes"] == 8 and 0 <= res["modes"] <= 8 and 0 <= res["high_quality"] <= 1
    lines = [json.loads(v) for v in (run / "metrics.jsonl").read_text().splitlines()]
    evals = [m for m in lines if m.get("eval")]
    assert [m["step"] for m in evals] == [20, 40] and len(evals[0]["counts"]) == 8
    assert any("d_loss" in m and "g_loss" in m for m in lines)
    assert len(list((run / "snapshots").glob("step_*.npy"))) == 2
    assert cli.main(["sample", str(run), "--n", "100", "--out", str(tmp_path / "x.npy")]) == 0
    x = np.load(tmp_path / "x.npy")
    assert x.shape == (100, 2) and np.isfinite(x).all()
    capsys.readouterr()
    assert cli.main(["eval", str(run)]) == 0
    assert f"{res['modes']}/8 modes" in capsys.readouterr().out      # the readable summary


def test_gan_run(tmp_path):
    """Every option that carries state: packing, R1, two critic steps, the learning-rate decay, the EMA."""
    settings = {"data": "grid25", "steps": 30, "eval_every": 10, "pack": 2, "r1": 0.5, "n_critic": 2,
                "lr_decay_start": 0.5, "lr_final": 0.0, "ema": 0.9, "hidden": 32, "batch_size": 64, "n_train": 1000}
    check_run_lifecycle(tmp_path, "gan", settings, stop_after=15)
    state = mg.load(tmp_path / "full" / "checkpoint.npz", device=False)["task"]
    assert any(k.startswith("ema.") for k in state["gan"]) and "schedules.d" in state   # EMA and schedule saved


def test_per_data_defaults_and_flags(tmp_path):
    from minigen.training.gan_task import DEFAULTS, GANTask
    assert DEFAULTS["mixture"]["r1"] > 0 and DEFAULTS["mixture"]["pack"] == 2
    assert GANTask.make_config(0, data="ring8")["steps"] == 50000
    train(tmp_path / "m", "--data", "moons", "--steps", "10", "--loss", "minimax", "--set", "standardize=false",
          "--no-figures", *SMALL)
    cfg = json.loads((tmp_path / "m" / "config.json").read_text())
    assert cfg["loss"] == "minimax" and cfg["standardize"] is False and cfg["hidden"] == 32
    res = json.loads((tmp_path / "m" / "results.json").read_text())
    assert res["sliced_wasserstein"] > 0 and res["sliced_wasserstein_data"] > 0
    assert train(tmp_path / "bad", "--data", "ring8", "--steps", "2", "--pack", "3", "--batch-size", "64") == 2


def test_digits_run_is_judged_by_the_classifier(tmp_path, monkeypatch):
    # a stand-in judge (untrained weights) keeps this test fast; the real one is tested in test_classifier
    stub = C.DigitClassifier(generator=mg.backend.Generator(3))
    stub.accuracy = 0.5
    monkeypatch.setattr(C, "_CACHE", {("digits", mg.get_backend()): stub})
    run = tmp_path / "digits"
    train(run, "--data", "digits", "--steps", "20", "--set", "eval_every=10", "--hidden", "32")
    res = json.loads((run / "results.json").read_text())
    assert 0 <= res["confident"] <= 1 and len(res["counts"]) == 10 and res["classifier_test_accuracy"] == 0.5
    for f in ("samples.png", "snapshots.png", "classes.png", "class_histogram.png", "losses.png"):
        assert (run / f).exists(), f
    assert cli.main(["sample", str(run), "--n", "16", "--out", str(tmp_path / "d.npy")]) == 0
    x = np.load(tmp_path / "d.npy")
    assert x.shape == (16, 64) and x.min() >= 0 and x.max() <= 1
