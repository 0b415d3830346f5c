"""SN-GAN: every D layer normalised, its spectral norm kept at 1 by training, the hinge loss, a run."""
import pytest

import minigen as mg
from minigen.backend import xp
from minigen.losses import hinge_d_loss
from minigen.zoo import load_all
from minigen.zoo.sngan import SNGANTask, layer_spectral_norms, sn_layers

from helpers import assert_mixture_judge, check_run_lifecycle, mixture_samplers


def test_sngan_normalises_every_discriminator_layer():
    t = SNGANTask(SNGANTask.make_config(0, hidden=16, batch_size=32, depth=2, n_train=512))
    D = t.gan.discriminator
    assert len(sn_layers(D)) == 3
    names = [n for n, _ in D.named_parameters()]
    assert all(not n.endswith(".weight") for n in names) and sum(n.endswith("weight_orig") for n in names) == 3
    for step in range(30):
        t.step(step)
    assert max(abs(s - 1.0) for s in layer_spectral_norms(D)) < 0.05


def test_hinge_loss():
    big = mg.Tensor(xp.full((4, 1), 3.0))
    assert hinge_d_loss(big, -big).item() == 0.0                  # outside the margin: no loss
    zero = mg.Tensor(xp.zeros((4, 1)))
    assert hinge_d_loss(zero, zero).item() == pytest.approx(2.0)


def test_run(tmp_path):
    r = check_run_lifecycle(tmp_path, "sngan", {"steps": 10, "hidden": 16, "n_train": 512}, stop_after=3)
    assert r["max_sigma_error"] < 0.05                            # the u vectors resume with the run


def test_judge_rejects_degenerate_models():
    """The criterion passes samples of the true mixture and fails a uniform ring (or square), modes blurred
    to 3 sigma, all mass on one mode, a missing mode and the untrained generator."""
    task = SNGANTask(SNGANTask.make_config(0, n_train=512, batch_size=64))
    assert_mixture_judge(load_all()["sngan"].judge, task, seeds=3, extras={"max_sigma_error": 0.0})


def test_judge_rejects_true_samples_with_a_failing_own_measure():
    """Samples of the true mixture, but a layer whose spectral norm drifted from 1:
    the variant's own part of the criterion fails it."""
    task = SNGANTask(SNGANTask.make_config(0, n_train=512, batch_size=64))
    x = mg.to_device(mixture_samplers(task.data)["true"].astype("float32"))
    judge = load_all()["sngan"].judge
    assert judge([{**task.measure(x), **{"max_sigma_error": 0.0}}] * 3)[1]
    assert not judge([{**task.measure(x), **{"max_sigma_error": 0.2}}] * 3)[1]

