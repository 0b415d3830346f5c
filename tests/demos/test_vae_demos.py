"""The VAE demos of issue 5, small and fast: the reparameterization walkthrough's hand-derived gradients
must equal autograd's and the finite differences; the AE-vs-VAE demo must write its figures and numbers."""
import math

import pytest

from helpers import load_demo


@pytest.mark.parametrize("seed", [None, 1, 2])
def test_reparam_walkthrough_hand_gradients(tmp_path, capsys, seed):
    argv = ["--out", str(tmp_path)] + ([] if seed is None else ["--seed", str(seed)])
    r = load_demo("reparam_walkthrough").main(argv)
    table = r["table"]
    # every encoder, reparameterization and decoder quantity is in the table
    n_params = 2 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 2 + 2           # 13 weights of VAE(2, 1, hidden=(1,))
    n_nodes = 2 + 1 + 1 + 1 + 1 + 1 + 1 + 1                     # xhat(2), g, c, z, mu, logvar, h, a
    assert len(table) == n_params + n_nodes
    for key in ("dL/dmu[0,0]", "dL/dlogvar[0,0]", "dL/dz[0,0]", "dL/d(encoder.0.weight)[0,1]"):
        assert key in table
    for key, row in table.items():
        assert row["hand"] == pytest.approx(row["autograd"], rel=1e-8, abs=1e-12), key
        assert row["hand"] == pytest.approx(row["finite_difference"], rel=1e-5, abs=1e-9), key
    # the closed forms of the reparameterization step, from the printed forward values
    f = r["forward"]
    mu, logvar, sigma, eps = f["mu"], f["logvar"], f["sigma"], f["eps"]
    assert sigma == pytest.approx(math.exp(logvar / 2), rel=1e-12)
    assert f["z"] == pytest.approx(mu + sigma * eps, rel=1e-12)
    dz = table["dL/dz[0,0]"]["autograd"]
    assert table["dL/dmu[0,0]"]["autograd"] == pytest.approx(dz + mu, rel=1e-10)
    assert table["dL/dlogvar[0,0]"]["autograd"] == pytest.approx(dz * eps * sigma / 2 + (sigma ** 2 - 1) / 2,
                                                                 rel=1e-10)
    # the forward pass is the library's VAE.elbo, and the SGD step lowers the loss
    assert r["loss_minigen"] == pytest.approx(r["loss"], rel=1e-12)
    assert r["loss_vae_elbo"] == pytest.approx(r["loss"], rel=1e-12)
    assert r["loss_after_step"] < r["loss"]
    assert r["max_rel_err_autograd"] < 1e-8
    # the graph and the backward trace were written and printed
    dot = (tmp_path / "graph.dot").read_text()
    assert dot.startswith("digraph") and '"Exp"' in dot and "mu\\n" in dot and "eps\\n" in dot
    trace = (tmp_path / "backward_trace.txt").read_text()
    assert trace.startswith("backward from") and "Linear" in trace and "Exp" in trace
    assert (tmp_path / "table.md").read_text().count("\n") == len(table) + 2
    # the pictures and the page, with nothing but matplotlib (the browser test steps through the page)
    assert r["graph_files"] == ["graph.dot", "graph.svg", "graph.png", "backprop.html"]
    svg = (tmp_path / "graph.svg").read_text()
    assert "reparameterization" in (tmp_path / "backprop.html").read_text()
    for label in ("Linear", "logvar", "Exp", "encoder.0.weight", "|grad|"):
        assert label in svg, label
    out = capsys.readouterr().out
    assert "loss.backward(trace=True)" in out and "dL/dlogvar" in out


def test_reparam_walkthrough_fixed_numbers(tmp_path):
    """The docs page's numbers (docs/reparam_walkthrough.md) come from the default run."""
    r = load_demo("reparam_walkthrough").main(["--out", str(tmp_path), "--quiet"])
    assert r["loss"] == pytest.approx(1.6184850277, abs=1e-9)
    assert r["table"]["dL/dmu[0,0]"]["hand"] == pytest.approx(0.9548894782, abs=1e-9)
    assert r["table"]["dL/dlogvar[0,0]"]["hand"] == pytest.approx(-0.0802249162, abs=1e-9)


def test_ae_vs_vae_demo(tmp_path):
    r = load_demo("ae_vs_vae").main(["--epochs", "3", "--classifier-epochs", "2", "--grid", "12", "--show", "5",
                                "--pairs", "20", "--prior-samples", "50", "--out", str(tmp_path)])
    for png in ("latent.png", "grid.png", "interpolations.png"):
        assert (tmp_path / png).stat().st_size > 0, png
    assert (tmp_path / "results.json").exists()
    assert r["classifier_test_accuracy"] > 0.5
    for k in ("ae", "vae"):
        assert r[f"{k}_n_near"] + r[f"{k}_n_hole"] + r[f"{k}_n_beyond"] == 12 * 12
        assert r[f"{k}_n_midpoint"] == 20 and r[f"{k}_n_prior"] == 50 and r[f"{k}_n_recon"] == 360
        for s in ("real", "recon", "midpoint", "prior"):
            assert 0.1 <= r[f"{k}_conf_{s}"] <= 1.0, (k, s)
            assert 0.0 < r[f"{k}_nn_{s}"] < 8.0, (k, s)           # 8 = sqrt(64): the largest possible
        assert 0.0 <= r[f"{k}_hole_fraction_of_box"] <= 1.0
        assert r[f"{k}_tau"] > 0
    assert r["ae_conf_real"] == r["vae_conf_real"] == r["real_conf"]
