"""The training loop: run folder, exact resume, clean interrupt, NaN guard; and the VAE CLI end to end."""
import json
import os
import signal

import numpy as np
import pytest

import minigen as mg
from minigen.cli import main
from minigen.training.loop import Run, TrainingDiverged, train_loop


def _arrays(path):
    state = mg.load(path, device=False)
    return state["model"], state["optimizer"]["state"]


def test_vae_cli_makes_the_run_folder_and_sample_works(tmp_path, capsys):
    out = tmp_path / "vae"
    main(["train", "vae", "--epochs", "2", "--quiet", "--iwae-k", "20", "--out", str(out)])
    printed = capsys.readouterr().out
    assert "test ELBO" in printed and "IWAE" in printed and "5-NN accuracy" in printed
    for name in ("checkpoint.npz", "metrics.jsonl", "config.json", "results.json", "loss.png", "latent.png",
                 "manifold.png", "reconstructions.png", "samples.png"):
        assert (out / name).exists(), name
    metrics = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert {"loss", "reconstruction", "kl"} <= set(metrics[-1])
    res = json.loads((out / "results.json").read_text())
    assert res["test_iwae"] >= res["test_elbo"] - 0.5        # a k=20 IWAE is a tighter bound (up to MC noise)
    main(["sample", str(out), "--n", "16", "--out", str(tmp_path / "s.npy")])
    s = np.load(tmp_path / "s.npy")
    assert s.shape == (16, 64) and s.min() >= 0 and s.max() <= 1
    main(["sample", str(out), "--n", "16", "--out", str(tmp_path / "s.png")])
    assert (tmp_path / "s.png").stat().st_size > 1000


def test_resume_is_bit_identical(tmp_path):
    common = ["train", "vae", "--epochs", "2", "--quiet", "--no-figures", "--iwae-k", "5", "--seed", "3"]
    main(common + ["--out", str(tmp_path / "full")])
    main(common + ["--out", str(tmp_path / "cut"), "--stop-after", "13"])
    cut_model, _ = _arrays(tmp_path / "cut" / "checkpoint.npz")
    full_model, full_opt = _arrays(tmp_path / "full" / "checkpoint.npz")
    assert any(not np.array_equal(cut_model[k], full_model[k]) for k in full_model)   # really stopped early
    main(common + ["--out", str(tmp_path / "cut"), "--resume"])
    resumed_model, resumed_opt = _arrays(tmp_path / "cut" / "checkpoint.npz")
    for k in full_model:
        np.testing.assert_array_equal(resumed_model[k], full_model[k])
    for k in full_opt:
        for name, v in full_opt[k].items():
            np.testing.assert_array_equal(resumed_opt[k][name], v)
    steps = [json.loads(line)["step"] for line in (tmp_path / "cut" / "metrics.jsonl").read_text().splitlines()]
    assert steps == sorted(set(steps))                          # no duplicated log lines after the resume


def _counter_task(tmp_path, values):
    run = Run(tmp_path / "r", {"test": True})
    state = {"w": 0.0}

    def step_fn(step):
        state["w"] += 1.0
        return {"loss": values(step)}
    return run, state, step_fn


def test_nan_stops_training_naming_step_and_term_and_keeps_last_checkpoint(tmp_path):
    run, state, step_fn = _counter_task(tmp_path, lambda s: float("nan") if s == 7 else 1.0)
    get = lambda step: {"step": step, "w": np.array([state["w"]])}   # noqa: E731
    with pytest.raises(TrainingDiverged, match=r"step 7: loss term 'loss' is nan"):
        train_loop(run, step_fn, 20, get, lambda s: None, checkpoint_every=5, quiet=True)
    saved = mg.load(run.checkpoint_path, device=False)
    assert saved["step"] == 5 and saved["w"][0] == 5.0          # the step-5 checkpoint, untouched


def test_ctrl_c_saves_a_checkpoint_between_steps(tmp_path):
    run, state, _ = _counter_task(tmp_path, lambda s: 1.0)

    def step_fn(step):
        if step == 3:
            os.kill(os.getpid(), signal.SIGINT)                  # arrives mid-step
        state["w"] += 1.0
        return {"loss": 1.0}
    out = train_loop(run, step_fn, 100, lambda step: {"step": step, "w": np.array([state["w"]])},
                     lambda s: None, quiet=True)
    assert out["interrupted"] and out["step"] == 4
    saved = mg.load(run.checkpoint_path, device=False)
    assert saved["step"] == 4 and saved["w"][0] == 4.0          # the step finished before stopping


def test_sample_from_missing_run_is_explained(tmp_path):
    with pytest.raises(FileNotFoundError, match="train first"):
        main(["sample", str(tmp_path / "nothing"), "--out", str(tmp_path / "x.npy")])
