"""AAE: the two phases update the right players, the learning-rate drop, the judge, a run's whole life."""
import math

import numpy as np
import pytest

import minigen as mg
from minigen import backend
from minigen.autograd.tensor import Tensor
from minigen.zoo import load_all
from minigen.zoo.aae import AAETask

from helpers import check_run_lifecycle


def test_aae_phases_update_the_right_players():
    t = AAETask(AAETask.make_config(0, hidden=16, d_hidden=8, steps=100))
    ids = lambda ps: {id(p) for p in ps}                  # noqa: E731
    enc, dec, disc = ids(t.encoder.parameters()), ids(t.decoder.parameters()), ids(t.gan.discriminator.parameters())
    assert ids(t.opt_rec.param_groups[0]["params"]) == enc | dec
    assert ids(t.opt_d.param_groups[0]["params"]) == disc
    assert ids(t.opt_g.param_groups[0]["params"]) == enc               # the encoder is the generator
    assert t.encoder(Tensor(backend.rng().uniform((8, 64)))).shape == (8, 2)
    out = t.step(0)
    assert set(out) == {"reconstruction", "d_loss", "g_loss"} and all(math.isfinite(v.item()) for v in out.values())


def test_aae_learning_rates_drop_once():
    t = AAETask(AAETask.make_config(0, hidden=8, d_hidden=4, steps=8, lr_drop_at=0.5, lr_drop=0.1))
    for step in range(8):
        t.step(step)
    for opt, key in ((t.opt_rec, "lr_rec"), (t.opt_d, "lr_d"), (t.opt_g, "lr_g")):
        assert opt.param_groups[0]["lr"] == pytest.approx(0.1 * t.config[key])


def test_aae_judge_rejects_codes_that_are_not_the_prior():
    """Codes drawn from the prior pass; codes from N(0, 1.2^2 I), shifted by 0.3 sigma, or collapsed onto a
    circle fail the permutation test (the old MMD^2 < 0.01 bar accepted the first two), and so does a
    reconstruction no better than PCA."""
    judge = load_all()["aae"].judge
    t = AAETask(AAETask.make_config(0, n_permutations=200))
    g = np.random.default_rng(5)
    rec = {"recon_mse": 0.03, "pca2_mse": 0.05}
    angle = g.uniform(0, 2 * np.pi, 360)
    codes = {"prior": g.normal(size=(360, 2)), "scale 1.2": 1.2 * g.normal(size=(360, 2)),
             "shift 0.3": g.normal(size=(360, 2)) + [0.3, 0.0],
             "circle": 1.25 * np.stack([np.cos(angle), np.sin(angle)], 1)}
    for name, z in codes.items():
        r = {**t.code_test(mg.to_device(z)), **rec}
        assert judge([r] * 3)[1] == (name == "prior"), (name, judge([r] * 3)[0])
    r = {**t.code_test(mg.to_device(codes["prior"])), "recon_mse": 0.06, "pca2_mse": 0.05}
    assert not judge([r] * 3)[1]


def test_run(tmp_path):
    r = check_run_lifecycle(tmp_path, "aae", {"steps": 20, "hidden": 32, "d_hidden": 16, "n_prior": 200,
                                             "n_permutations": 50}, stop_after=15)
    assert len(r["mmd2_test"]["p_values"]) == 3 and 0 < r["p_min"] <= 1
