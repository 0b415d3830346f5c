"""The two GAN demos at tiny settings: the vanishing minimax gradient and mode collapse."""
from helpers import load_demo


def test_vanishing_gradients_demo(tmp_path):
    r = load_demo("gan_vanishing_gradients").main(["--d-steps", "300", "--out", str(tmp_path)])
    assert (tmp_path / "gradient_norms.png").stat().st_size > 0 and (tmp_path / "discriminator.png").exists()
    page = (tmp_path / "backprop.html").read_text()
    assert "Softplus" in page and "G.0.weight" in page and "y&#x27; = sigmoid(x)" in page
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
