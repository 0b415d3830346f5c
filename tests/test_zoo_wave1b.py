"""CGAN, InfoGAN and AAE (zoo issue 8): their distinguishing mechanisms, the estimators their criteria use
(MMD^2, PCA reconstruction, within-class diversity, code purity) and their judges.  The gradient checks
and smoke runs of all three are in test_zoo.py."""
import math

import numpy as np
import pytest

import minigen as mg
from minigen import backend
from minigen.autograd.tensor import Tensor
from minigen.zoo import load_all
from minigen.zoo.aae import AAE
from minigen.zoo.cgan import CGAN
from minigen.zoo.digits_game import class_diversity, mmd2, one_hot, pca_reconstruction_mse
from minigen.zoo.infogan import InfoGAN, code_purity, info_loss
from minigen.zoo.infogan import fit as infogan_fit

from helpers import host

VARIANTS = load_all()


def dev(a, dtype=np.float64):
    return mg.to_device(np.asarray(a, dtype=dtype))


# ---------------------------------------------------------------- estimators

def test_mmd2_is_the_unbiased_estimator():
    rs = np.random.default_rng(0)
    x, y = rs.normal(size=(5, 2)), rs.normal(size=(4, 2)) + 0.5
    k = lambda a, b: math.exp(-((a - b) ** 2).sum() / (2 * 0.7 ** 2))   # noqa: E731
    sxx = sum(k(x[i], x[j]) for i in range(5) for j in range(5) if i != j) / 20
    syy = sum(k(y[i], y[j]) for i in range(4) for j in range(4) if i != j) / 12
    sxy = sum(k(a, b) for a in x for b in y) / 20
    assert mmd2(dev(x), dev(y), bandwidth=0.7) == pytest.approx(sxx + syy - 2 * sxy, rel=1e-10)


def test_mmd2_separates_a_scale_mismatch_from_the_prior():
    rs = np.random.default_rng(1)
    prior = dev(rs.normal(size=(2000, 2)))
    same = mmd2(dev(rs.normal(size=(1000, 2))), prior)
    wide = mmd2(dev(1.5 * rs.normal(size=(1000, 2))), prior)
    # closed form for N(0, a^2 I) vs N(0, b^2 I), bandwidth 1, d = 2: 1/(1+2a^2) + 1/(1+2b^2) - 2/(1+a^2+b^2)
    exact = 1 / 3 + 1 / (1 + 2 * 2.25) - 2 / (1 + 1 + 2.25)
    assert abs(same) < 0.003
    assert wide == pytest.approx(exact, abs=0.005) and wide > 0.01


def test_pca_reconstruction_mse():
    rs = np.random.default_rng(2)
    train = rs.normal(size=(200, 6)) * np.array([5.0, 3, 1, 0.5, 0.1, 0.01])
    test = rs.normal(size=(50, 6)) * np.array([5.0, 3, 1, 0.5, 0.1, 0.01])
    errs = [pca_reconstruction_mse(dev(train), dev(test), k) for k in range(1, 7)]
    assert all(a > b for a, b in zip(errs, errs[1:])) and errs[-1] < 1e-20
    # k = 2 keeps (about) the first two axes: the error is the rest of the variance
    assert errs[1] == pytest.approx((1 + 0.25 + 0.01 + 1e-4) / 6, rel=0.3)


def test_class_diversity():
    rs = np.random.default_rng(3)
    x, y = rs.uniform(size=(100, 64)), np.repeat(np.arange(10), 10)
    assert class_diversity(dev(x), dev(y, np.int64), dev(x), dev(y, np.int64)) == pytest.approx(1.0)
    collapsed = np.repeat(x[::10], 10, axis=0)            # one image per class
    labels = dev(y, np.int64)
    assert class_diversity(dev(collapsed), labels, dev(x), labels) == pytest.approx(0.0, abs=1e-3)


def test_one_hot():
    oh = host(one_hot(dev([2, 0, 1], np.int64), 3))
    assert np.array_equal(oh, np.eye(3)[[2, 0, 1]])


# ---------------------------------------------------------------- CGAN

def test_cgan_label_enters_both_players():
    m = CGAN({"hidden": 16, "latent_dim": 4})
    assert m.G[0].in_features == 4 + 10 and m.D[0].in_features == 64 + 10
    z = Tensor(backend.rng().normal((3, 4)))
    x = Tensor(backend.rng().uniform((3, 64)))
    y3, y7 = one_hot(dev([3, 3, 3], np.int64)), one_hot(dev([7, 7, 7], np.int64))
    m.G.eval()
    assert not np.allclose(host(m.generate(z, y3)), host(m.generate(z, y7)))
    assert not np.allclose(host(m.discriminate(x, y3)), host(m.discriminate(x, y7)))
    # the D loss gradient reaches the weights that read the label (columns 64: of D's first layer)
    m.D.zero_grad()
    m.d_loss(x, y3, x, y7).backward()
    assert np.abs(host(m.D[0].weight.grad)[:, 64:]).sum() > 0


def test_cgan_sample_is_in_the_pixel_range_and_step_runs():
    m = CGAN({"hidden": 16, "latent_dim": 4})
    x = Tensor(backend.rng().uniform((8, 64)))
    out = m.train_step(x, dev(np.arange(8), np.int64))
    assert math.isfinite(out["d_loss"]) and math.isfinite(out["g_loss"])
    s = host(m.sample(dev(np.arange(10), np.int64)))
    assert s.shape == (10, 64) and s.min() >= 0 and s.max() <= 1
    assert m.G.training                                   # sampling puts G back in training mode


def test_cgan_judge():
    judge = VARIANTS["cgan"].judge
    r = {"accuracy": 0.95, "min_class_accuracy": 0.9, "confident": 0.9, "diversity": 0.8}
    assert judge([r, r, r])[1]
    assert not judge([r, r, {**r, "accuracy": 0.85}])[1]


# ---------------------------------------------------------------- InfoGAN

def test_info_loss_is_minus_the_mi_lower_bound():
    codes = dev([0, 1, 2, 1], np.int64)
    uniform = Tensor(dev(np.zeros((4, 3))))
    assert info_loss(uniform, codes, 3).item() == pytest.approx(0.0, abs=1e-12)   # L_I = 0: Q knows nothing
    sure = Tensor(dev(30.0 * np.eye(3)[[0, 1, 2, 1]]))
    assert info_loss(sure, codes, 3).item() == pytest.approx(-math.log(3), abs=1e-9)   # L_I = H(c)


def test_infogan_q_shares_the_trunk_and_both_players_get_the_mi_term():
    game = InfoGAN({"hidden": 8, "depth": 1, "n_codes": 4})
    d_params = {id(p) for p in game.opt_d.param_groups[0]["params"]}
    assert {id(p) for p in game.D.q_head.parameters()} <= d_params            # Q trains with D
    assert {id(p) for p in game.D.trunk.parameters()} <= d_params
    zc, codes = game.latent_and_code(16)
    assert zc.shape == (16, 2 + 4)
    # G's gradient differs with and without the MI term (it flows through Q into G)
    grads = []
    for lam in (0.0, 1.0):
        game.lam = lam
        game.G.zero_grad()
        game.g_loss(game.G(zc), codes).backward()
        grads.append(host(game.G[0].weight.grad).copy())
    assert not np.allclose(grads[0], grads[1])
    # the D step moves Q's head (through the detached fake batch and its codes)
    before = host(game.D.q_head.weight).copy()
    game.d_step(Tensor(backend.rng().normal((16, 2))))
    assert not np.allclose(before, host(game.D.q_head.weight))


def test_infogan_code_purity_counts_majority_modes():
    game = InfoGAN({"hidden": 8, "depth": 1, "n_codes": 2})
    means = np.array([[1.0, 0.0], [-1.0, 0.0]])
    p = code_purity(game, means, 50)
    assert len(p["code_purity"]) == 2 and all(0.5 <= q <= 1 for q in p["code_purity"])
    assert 1 <= p["distinct_modes"] <= 2


def test_infogan_mi_term_makes_codes_pick_modes():
    """The ablation in miniature: 200 steps with lambda = 1 send the codes to distinct modes; with lambda = 0
    they do not (the codes then mix modes, or all collapse onto one mode, which purity alone would miss)."""
    cfg = {"steps": 200, "hidden": 64, "batch_size": 128, "per_code": 100}
    with_mi = infogan_fit({**cfg, "lam": 1.0}, seed=1)
    without = infogan_fit({**cfg, "lam": 0.0}, seed=1)
    assert with_mi["purity"] >= 0.9 and with_mi["distinct_modes"] >= 7
    assert not (without["purity"] >= 0.9 and without["distinct_modes"] >= 7)
    assert with_mi["mi_lower_bound"] > 1.5 > without["mi_lower_bound"]
    judge = VARIANTS["infogan"].judge
    assert judge([with_mi])[1] and not judge([without])[1]


# ---------------------------------------------------------------- AAE

def test_aae_phases_update_the_right_players():
    m = AAE({"hidden": 16, "d_hidden": 8, "steps": 100})
    ids = lambda ps: {id(p) for p in ps}                  # noqa: E731
    enc, dec, disc = ids(m.E.parameters()), ids(m.Dec.parameters()), ids(m.D.parameters())
    assert ids(m.opt_rec.param_groups[0]["params"]) == enc | dec
    assert ids(m.opt_d.param_groups[0]["params"]) == disc
    assert ids(m.opt_g.param_groups[0]["params"]) == enc               # the encoder is the generator
    x = Tensor(backend.rng().uniform((8, 64)))
    assert m.E(x).shape == (8, 2)
    out = m.train_step(x)
    assert set(out) == {"reconstruction", "d_loss", "g_loss"} and all(math.isfinite(v) for v in out.values())


def test_aae_learning_rates_drop_once():
    m = AAE({"hidden": 8, "d_hidden": 4, "steps": 8, "lr_drop_at": 0.5, "lr_drop": 0.1})
    x = Tensor(backend.rng().uniform((4, 64)))
    for _ in range(8):
        m.train_step(x)
    for opt, base in ((m.opt_rec, m.cfg["lr_rec"]), (m.opt_d, m.cfg["lr_d"]), (m.opt_g, m.cfg["lr_g"])):
        assert opt.param_groups[0]["lr"] == pytest.approx(0.1 * base)


def test_aae_judge():
    judge = VARIANTS["aae"].judge
    r = {"mmd2": 0.001, "mmd2_null": 0.0, "recon_mse": 0.03, "pca2_mse": 0.05}
    assert judge([r, r, r])[1]
    assert not judge([r, r, {**r, "mmd2": 0.02}])[1]
    assert not judge([r, r, {**r, "recon_mse": 0.06}])[1]


def test_variants_are_registered_with_their_defaults():
    for name in ("cgan", "infogan", "aae"):
        v = VARIANTS[name]
        assert v.seeds == 3 and v.defaults["steps"] > 10 * v.fast["steps"]
