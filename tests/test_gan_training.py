"""``minigen train gan`` end to end (run folder, metrics, figures, sample, eval, exact resume), the GAN
options it uses (packing, the R1 penalty: gradient-checked), and the two GAN demos at tiny settings."""
import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

import minigen as mg
from minigen import cli
from minigen.models import mlp_gan
from minigen.models import classifier as C

from helpers import host, t64

DEMOS = Path(__file__).resolve().parents[1] / "demos"
SMALL = ["--hidden", "32", "--batch-size", "64"]


def train(out, *flags):
    return cli.main(["train", "gan", "--quiet", "--out", str(out), *flags])


def load_demo(name):
    spec = importlib.util.spec_from_file_location(f"demo_{name}", DEMOS / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


# ---------------------------------------------------------------------------------------------------
# The model options
# ---------------------------------------------------------------------------------------------------

def _double(m):
    for p in m.parameters():
        p.data = p.data.astype(np.float64)
    return m


@pytest.mark.parametrize("pack,r1", [(2, 0.0), (1, 0.7), (2, 0.7)])
def test_packed_and_r1_discriminator_loss_gradcheck(pack, r1):
    gan = _double(mlp_gan(hidden=4, depth=1, activation="tanh", pack=pack, r1_gamma=r1))
    rng = np.random.default_rng(1)
    real = t64(rng.normal(size=(4, 2)), requires_grad=False)
    z = t64(rng.normal(size=(4, 2)), requires_grad=False)
    D = list(gan.discriminator.parameters())
    assert mg.gradcheck(lambda *ps: gan.d_loss(real, z), D, name=f"D loss pack={pack} r1={r1}")
    G = list(gan.generator.parameters())
    assert mg.gradcheck(lambda *ps: gan.g_loss(z=z), G, name=f"G loss pack={pack}")


def test_r1_penalty_value_and_packing_shape():
    gan = _double(mlp_gan(hidden=3, depth=1, activation="tanh", pack=2, r1_gamma=2.0))
    real = t64(np.random.default_rng(0).normal(size=(6, 2)))
    logits = gan.critic(real)
    assert logits.shape == (3, 1)
    # the penalty by finite differences of D's logit wrt each packed input
    x = host(real).reshape(3, 4)
    eps, sq = 1e-6, np.zeros(3)
    for j in range(4):
        e = np.zeros_like(x)
        e[:, j] = eps
        f = lambda a: host(gan.discriminator(t64(a, requires_grad=False)))[:, 0]   # noqa: E731
        sq += ((f(x + e) - f(x - e)) / (2 * eps)) ** 2
    assert gan.r1_penalty(real, logits).item() == pytest.approx(0.5 * sq.mean(), rel=1e-6)
    with pytest.raises(ValueError):
        gan.critic(t64(np.zeros((5, 2))))


# ---------------------------------------------------------------------------------------------------
# The CLI
# ---------------------------------------------------------------------------------------------------

def test_train_sample_eval_ring8(tmp_path, capsys):
    run = tmp_path / "ring"
    assert train(run, "--data", "ring8", "--steps", "40", "--eval-every", "20") == 0
    out = capsys.readouterr().out
    assert "ring8:" in out and "modes" in out
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
    assert cli.main(["eval", str(run), "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    for k in ("modes", "high_quality", "reverse_kl"):
        assert printed[k] == res[k]               # eval recomputes exactly the numbers of results.json


def _arrays(tree, prefix=""):
    if isinstance(tree, dict):
        for k, v in tree.items():
            yield from _arrays(v, f"{prefix}/{k}")
    elif hasattr(tree, "shape"):
        yield prefix, mg.to_host(tree)


def test_exact_resume(tmp_path):
    flags = ["--data", "grid25", "--steps", "30", "--eval-every", "10", "--no-figures", "--pack", "2",
             "--r1", "0.5", "--d-steps", "2", "--lr-decay", "0.5", "--ema", "0.9", *SMALL]
    train(tmp_path / "a", *flags)
    train(tmp_path / "b", *flags, "--stop-after", "15")
    assert not (tmp_path / "b" / "results.json").exists()
    assert mg.load(tmp_path / "b" / "checkpoint.npz")["step"] == 15
    train(tmp_path / "b", *flags, "--resume")
    a, b = mg.load(tmp_path / "a" / "checkpoint.npz"), mg.load(tmp_path / "b" / "checkpoint.npz")
    assert a["step"] == b["step"] == 30 and a["rng"] == b["rng"]
    arrays_a, arrays_b = dict(_arrays(a)), dict(_arrays(b))
    assert arrays_a.keys() == arrays_b.keys() and any("opt_d" in k for k in arrays_a)
    assert any("generator_ema" in k for k in arrays_a)            # the EMA of G is part of the state
    for k in arrays_a:
        np.testing.assert_array_equal(arrays_a[k], arrays_b[k], err_msg=k)
    ra = json.loads((tmp_path / "a" / "results.json").read_text())
    rb = json.loads((tmp_path / "b" / "results.json").read_text())
    assert ra["counts"] == rb["counts"]
    ma = [m for m in map(json.loads, (tmp_path / "a" / "metrics.jsonl").read_text().splitlines()) if m.get("eval")]
    mb = [m for m in map(json.loads, (tmp_path / "b" / "metrics.jsonl").read_text().splitlines()) if m.get("eval")]
    assert ma == mb


def test_per_data_defaults_and_flags(tmp_path):
    from minigen.training import gan_task
    assert gan_task.DEFAULTS["grid25"]["r1"] > 0 and gan_task.DEFAULTS["ring8"]["r1"] > 0
    train(tmp_path / "m", "--data", "moons", "--steps", "10", "--eval-every", "10", "--loss", "minimax",
          "--standardize", "off", "--no-figures", *SMALL)
    cfg = json.loads((tmp_path / "m" / "config.json").read_text())
    assert cfg["model"]["loss"] == "minimax" and cfg["model"]["scale"] == 1.0 and cfg["model"]["hidden"] == 32
    res = json.loads((tmp_path / "m" / "results.json").read_text())
    assert res["sliced_wasserstein"] > 0 and res["sliced_wasserstein_data"] > 0
    with pytest.raises(SystemExit):
        train(tmp_path / "bad", "--data", "ring8", "--steps", "2", "--pack", "3", "--batch-size", "64")


def test_digits_run_is_judged_by_the_classifier(tmp_path, monkeypatch):
    # a stand-in judge (untrained weights) keeps this test fast; the real one is tested in test_classifier
    stub = C.DigitClassifier(generator=mg.backend.Generator(3))
    stub.accuracy = 0.5
    monkeypatch.setattr(C, "_CACHE", {mg.get_backend(): stub})
    run = tmp_path / "digits"
    train(run, "--data", "digits", "--steps", "20", "--eval-every", "10", "--hidden", "32")
    res = json.loads((run / "results.json").read_text())
    assert 0 <= res["confident"] <= 1 and len(res["counts"]) == 10 and res["classifier_test_accuracy"] == 0.5
    for f in ("samples.png", "snapshots.png", "classes.png", "class_histogram.png", "losses.png"):
        assert (run / f).exists(), f
    assert cli.main(["sample", str(run), "--n", "16", "--out", str(tmp_path / "d.npy")]) == 0
    x = np.load(tmp_path / "d.npy")
    assert x.shape == (16, 64) and x.min() >= 0 and x.max() <= 1


# ---------------------------------------------------------------------------------------------------
# The demos
# ---------------------------------------------------------------------------------------------------

def test_vanishing_gradients_demo(tmp_path):
    r = load_demo("gan_vanishing_gradients").main(["--d-steps", "300", "--out", str(tmp_path)])
    assert (tmp_path / "gradient_norms.png").stat().st_size > 0 and (tmp_path / "discriminator.png").exists()
    assert r["final_accuracy"] > 0.97 and r["final_D_fake"] < 0.01
    assert r["minimax_drop"] > 5                     # the saturating gradient collapses as D wins ...
    assert r["nonsaturating_drop"] < 1.5             # ... the non-saturating one stays near its peak
    assert r["rows"][-1]["grad_nonsaturating"] > 20 * r["rows"][-1]["grad_minimax"]


def test_mode_collapse_demo(tmp_path):
    r = load_demo("gan_mode_collapse").main(["--steps", "60", "--out", str(tmp_path)])
    for f in ("samples_over_training.png", "mode_histograms.png", "metrics.png"):
        assert (tmp_path / f).stat().st_size > 0
    for name in ("collapsing", "healthy"):
        assert r[name]["n_modes"] == 8 and (tmp_path / name / "results.json").exists()


def test_ema_of_g_warms_up():
    """The EMA's decay starts at (1 + t) / (10 + t), so a short run samples from a G that has learned, not
    from (mostly) the initial weights; later it is the configured decay."""
    from minigen.training import gan_task
    model = gan_task.build({"data_dim": 2, "latent_dim": 2, "hidden": 4, "depth": 1, "loss": "nonsaturating",
                            "ema": 0.999})
    first = [host(p.data).copy() for p in model.generator_ema.parameters()]
    for p in model.generator.parameters():
        p.data += 1.0
    model.update_ema(0)                                  # decay 0.1: mostly the new weights
    for e, f, p in zip(model.generator_ema.parameters(), first, model.generator.parameters()):
        np.testing.assert_allclose(host(e.data), 0.1 * f + 0.9 * host(p.data), rtol=1e-5, atol=1e-6)
    before = [host(p.data).copy() for p in model.generator_ema.parameters()]
    model.update_ema(100_000)                            # the configured 0.999
    for e, b, p in zip(model.generator_ema.parameters(), before, model.generator.parameters()):
        np.testing.assert_allclose(host(e.data), 0.999 * b + 0.001 * host(p.data), rtol=1e-5, atol=1e-6)
