"""``minigen train vae|ae`` end to end: the run folder and figures, sampling, and a run's whole life."""
import json

import numpy as np

from minigen.cli import main

from helpers import check_run_lifecycle


def test_vae_cli_makes_the_run_folder_and_sample_works(tmp_path, capsys):
    out = tmp_path / "vae"
    assert main(["train", "vae", "--epochs", "2", "--quiet", "--iwae-k", "20", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "test ELBO" in printed and "IWAE" in printed and "5-NN accuracy" in printed
    for name in ("checkpoint.npz", "metrics.jsonl", "config.json", "results.json", "loss.png", "latent.png",
                 "manifold.png", "reconstructions.png", "samples.png"):
        assert (out / name).exists(), name
    metrics = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert len(metrics) == 2 and {"loss", "reconstruction", "kl"} <= set(metrics[-1])     # a line per epoch
    res = json.loads((out / "results.json").read_text())
    assert res["test_iwae"] >= res["test_elbo"] - 0.5        # a k=20 IWAE is a tighter bound (up to MC noise)
    assert main(["sample", str(out), "--n", "16", "--out", str(tmp_path / "s.npy")]) == 0
    s = np.load(tmp_path / "s.npy")
    assert s.shape == (16, 64) and s.min() >= 0 and s.max() <= 1
    assert main(["sample", str(out), "--n", "16", "--out", str(tmp_path / "s.png")]) == 0
    assert (tmp_path / "s.png").stat().st_size > 1000


def test_vae_run(tmp_path):
    r = check_run_lifecycle(tmp_path, "vae", {"epochs": 2, "iwae_k": 5}, stop_after=13)
    assert r["steps"] == 44 and r["test_iwae"] >= r["test_elbo"] - 1.0


def test_ae_run(tmp_path):
    """The autoencoder has no prior: minigen sample decodes codes drawn from a Gaussian fitted to the
    training codes."""
    r = check_run_lifecycle(tmp_path, "ae", {"epochs": 2, "data": "ring8"}, stop_after=200)
    assert r["test_reconstruction_error"] > 0 and "knn_accuracy" not in r
