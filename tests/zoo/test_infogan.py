"""InfoGAN: the information term, Q on D's trunk, code purity, the ablation, and a run's whole life."""
import math

import numpy as np
import pytest

import minigen as mg
from minigen import backend
from minigen.autograd.tensor import Tensor
from minigen.models.gan import update
from minigen.zoo import load_all
from minigen.zoo.infogan import InfoGANTask, info_loss

from helpers import assert_mixture_judge, check_run_lifecycle, host, mixture_samplers

VARIANT = load_all()["infogan"]


def dev(a, dtype=np.float64):
    return backend.to_device(np.asarray(a, dtype=dtype))


def task(**kw):
    return InfoGANTask(InfoGANTask.make_config(0, **{"hidden": 8, "depth": 1, "n_codes": 4, "n_train": 256, **kw}))


def test_info_loss_is_minus_the_mi_lower_bound():
    codes = dev([0, 1, 2, 1], np.int64)
    uniform = Tensor(dev(np.zeros((4, 3))))
    assert info_loss(uniform, codes, 3).item() == pytest.approx(0.0, abs=1e-12)   # L_I = 0: Q knows nothing
    sure = Tensor(dev(30.0 * np.eye(3)[[0, 1, 2, 1]]))
    assert info_loss(sure, codes, 3).item() == pytest.approx(-math.log(3), abs=1e-9)   # L_I = H(c)


def test_infogan_q_shares_the_trunk_and_both_players_get_the_mi_term():
    t = task()
    gan, D = t.gan, t.gan.discriminator
    d_params = {id(p) for p in t.opt_d.param_groups[0]["params"]}
    assert {id(p) for p in D.q_head.parameters()} <= d_params            # Q trains with D
    assert {id(p) for p in D.trunk.parameters()} <= d_params
    latent = gan.sample_latent(16)
    assert latent[0].shape == (16, 2) and latent[1].shape == (16,)
    first = gan.generator[0][0]
    assert first.in_features == 2 + 4                                   # G reads noise and the one-hot code
    grads = []                                    # G's gradient with and without the MI term (through Q into G)
    for lam in (0.0, 1.0):
        gan.lam = lam
        gan.generator.zero_grad()
        gan.g_loss(gan.generate(latent)).backward()
        grads.append(host(first.weight.grad).copy())
    assert not np.allclose(grads[0], grads[1])
    before = host(D.q_head.weight).copy()          # the D step moves Q's head (detached fakes and their codes)
    update(t.opt_d, gan.d_loss(Tensor(backend.rng().normal((16, 2))), gan.generate(latent)))
    assert not np.allclose(before, host(D.q_head.weight))


def test_infogan_code_purity_counts_majority_modes():
    p = task(n_codes=2, per_code=50).code_purity()
    assert len(p["code_purity"]) == 2 and all(0 <= q <= 1 for q in p["code_purity"])
    assert 0 <= p["distinct_modes"] <= 2 and 0 < p["purity_all_samples"] <= 1


def test_infogan_mi_term_makes_codes_pick_modes(tmp_path):
    """The ablation in miniature: 200 steps with lambda = 1 send the codes to distinct modes; with lambda = 0
    they do not (the codes then mix modes, or all collapse onto one mode, which purity alone would miss).
    200 steps are too few for high-quality samples, so the nearest-mode purity of all samples shows it."""
    cfg = VARIANT.config(steps=200, hidden=64, batch_size=128, per_code=100)
    with_mi = VARIANT.fit({**cfg, "lam": 1.0}, seed=1)
    without = VARIANT.fit({**cfg, "lam": 0.0}, seed=1)
    assert with_mi["purity_all_samples"] >= 0.9 and with_mi["distinct_modes_all_samples"] >= 7
    assert not (without["purity_all_samples"] >= 0.9 and without["distinct_modes_all_samples"] >= 7)
    assert with_mi["mi_lower_bound"] > 1.5 > without["mi_lower_bound"]
    assert not VARIANT.judge([without])[1]


def test_run(tmp_path):
    r = check_run_lifecycle(tmp_path, "infogan", {"steps": 20, "hidden": 16, "per_code": 50, "n_train": 512},
                            stop_after=13, label=3)
    assert len(r["code_purity"]) == 8


def test_judge_rejects_degenerate_models():
    """The criterion passes samples of the true mixture and fails a uniform ring (or square), modes blurred
    to 3 sigma, all mass on one mode, a missing mode and the untrained generator."""
    task = InfoGANTask(InfoGANTask.make_config(0, n_train=512, batch_size=64))
    assert_mixture_judge(load_all()["infogan"].judge, task, seeds=3, extras={"purity": 1.0, "min_purity": 1.0, "distinct_modes": 8,
                                                                           "code_purity": [1.0] * 8,
                                                                           "mi_lower_bound": 2.0})


def test_judge_rejects_true_samples_with_a_failing_own_measure():
    """Samples of the true mixture, but codes that mix modes:
    the variant's own part of the criterion fails it."""
    task = InfoGANTask(InfoGANTask.make_config(0, n_train=512, batch_size=64))
    x = mg.to_device(mixture_samplers(task.data)["true"].astype("float32"))
    judge = load_all()["infogan"].judge
    assert judge([{**task.measure(x), **{"purity": 1.0, "min_purity": 1.0, "distinct_modes": 8, "code_purity": [1.0] * 8, "mi_lower_bound": 2.0}}] * 3)[1]
    assert not judge([{**task.measure(x), **{"purity": 0.6, "min_purity": 0.2, "distinct_modes": 5, "code_purity": [0.6] * 8, "mi_lower_bound": 0.5}}] * 3)[1]

