"""Smoke-and-numbers tests of the probability demos: each runs small into a tmp folder, writes its
figures, and returns key numbers that must be right."""
import math

import pytest

from helpers import load_demo


def test_sampling_demo(tmp_path):
    r = load_demo("sampling").main(["--n", "4000", "--seed", "1", "--out", str(tmp_path)])
    for png in ("discrete.png", "inverse_transform.png", "rejection.png"):
        assert (tmp_path / png).stat().st_size > 0
    for key in ("chi2_pvalue", "ks_inverse", "ks_numeric", "ks_rejection"):
        assert r[key] > 1e-3, (key, r[key])
    assert abs(r["acceptance_rate"] - r["one_over_M"]) < 4 * r["acceptance_stderr"]
    assert r["M"] > 1


def test_probability_basics_demo(tmp_path, capsys):
    r = load_demo("probability_basics").main(["--n", "20000", "--symbols", "4000", "--out", str(tmp_path)])
    assert (tmp_path / "joint_table.png").exists() and (tmp_path / "jensen.png").exists()
    assert r["p_x1"] == pytest.approx(0.36)
    assert r["E_x"] == pytest.approx(1 * 0.36 + 2 * 0.32 + 3 * 0.32)
    assert r["p_y2_given_x1"] == pytest.approx(0.03 / 0.36)
    assert r["kl_closed"] == pytest.approx(r["kl_formula"], rel=1e-12)
    assert abs(r["kl_mc"] - r["kl_closed"]) < 4 * r["kl_mc_se"]
    assert r["kl_self"] == pytest.approx(0.0, abs=1e-12)
    assert r["H_uniform_bits"] == pytest.approx(2.0)
    assert r["H_skewed_bits"] == pytest.approx(1.75)
    assert r["expected_code_length"] == pytest.approx(1.75)
    assert r["cross_entropy_2bit_code"] == pytest.approx(2.0)
    assert r["kl_skewed_uniform_bits"] == pytest.approx(0.25)
    assert r["prefix_free"] and r["round_trip"]
    assert abs(r["empirical_bits_per_symbol"] - 1.75) < 0.05
    assert r["jensen_E_log"] < r["jensen_log_E"]
    assert r["jensen_E_log"] == pytest.approx(r["jensen_E_log_exact"], abs=0.02)
    assert "p(x=1)       = 0.3600" in capsys.readouterr().out


def test_reparameterization_demo(tmp_path):
    r = load_demo("reparameterization").main(["--repeats", "200", "--max-log2-n", "7", "--out", str(tmp_path)])
    assert (tmp_path / "gradient_variance.png").exists()
    assert r["exact_mu"] == pytest.approx(-1.0) and r["exact_sigma"] == pytest.approx(2.4)
    for m in ("reparameterization", "score"):           # both estimators are unbiased
        for p in ("mu", "sigma"):
            assert abs(r[f"{m}_{p}"] - r[f"exact_{p}"]) < 5 * r[f"{m}_{p}_se"], (m, p)
            assert -1.3 < r[f"slope_{m}_{p}"] < -0.7          # variance ~ 1/n
    for p in ("mu", "sigma"):                           # the pathwise estimator has the smaller variance
        assert all(a < b for a, b in zip(r[f"var_reparameterization_{p}"], r[f"var_score_{p}"]))
        # and its variance is the analytic per-draw variance / n (within sampling error of 200 repeats)
        v1 = r[f"var_reparameterization_{p}"][-1] * r["n"][-1]
        assert v1 == pytest.approx(r[f"reparam_var_per_draw_{p}"], rel=0.35)


def test_jensen_gap_demo(tmp_path):
    r = load_demo("jensen_gap").main(["--steps", "300", "--table", "3", "--mc", "2000", "--out", str(tmp_path)])
    assert (tmp_path / "jensen_gap.png").exists()
    for kind in ("orthogonal", "general"):
        assert r[f"{kind}_identity_error"] < 1e-8      # log p(x) = ELBO + KL(q || posterior), exactly
        assert r[f"{kind}_gap_initial"] > 1.0
        assert r[f"{kind}_gap_final"] == pytest.approx(r[f"{kind}_kl_final"], abs=1e-9)
    assert r["orthogonal_gap_final"] < 1e-3             # q's family holds the posterior: the gap closes
    assert r["general_mean_field_gap"] > 0.01           # a correlated posterior: it cannot
    assert r["general_gap_final"] == pytest.approx(r["general_mean_field_gap"], rel=0.05)
    assert math.isfinite(r["general_gap_final"])
