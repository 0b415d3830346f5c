"""WGAN-GP: the gradient penalty by double backprop, the interpolates, and a run's whole life."""
import pytest

import minigen as mg
from minigen import backend
from minigen.backend import xp
from minigen.nn import Linear
from minigen.zoo import load_all
from minigen.zoo.wgan_gp import WGANGPTask, gradient_penalty, interpolates

from helpers import assert_mixture_judge, check_run_lifecycle, host


def test_gradient_penalty_of_a_linear_critic():
    """D(x) = a.x + b has gradient a everywhere, so the penalty is (|a| - 1)^2 and its gradient in a is
    2 (|a| - 1) a / |a|: a derivative of a derivative, computed by double backprop."""
    D = Linear(2, 1)
    D.weight.data = backend.to_device([[3.0, 4.0]]).astype(D.weight.dtype)
    x = interpolates(mg.Tensor(backend.rng().normal((5, 2))), mg.Tensor(backend.rng().normal((5, 2))),
                     backend.rng().uniform((5, 1)))
    gp = gradient_penalty(D, x)
    assert gp.item() == pytest.approx(16.0, rel=1e-5)
    gp.backward()
    assert host(D.weight.grad)[0] == pytest.approx([4.8, 6.4], rel=1e-5)


def test_interpolates_lie_between_real_and_fake():
    real, fake = mg.Tensor(xp.zeros((4, 2))), mg.Tensor(xp.ones((4, 2)))
    eps = backend.to_device([[0.0], [0.25], [0.5], [1.0]]).astype(real.dtype)
    x = interpolates(real, fake, eps)
    assert x.requires_grad and host(x)[:, 0].tolist() == [1.0, 0.75, 0.5, 0.0]


def test_run(tmp_path):
    r = check_run_lifecycle(tmp_path, "wgan-gp", {"steps": 10, "hidden": 16, "n_train": 512}, stop_after=4)
    assert r["n_modes"] == 25


def test_judge_rejects_degenerate_models():
    """The criterion passes samples of the true mixture and fails a uniform ring (or square), modes blurred
    to 3 sigma, all mass on one mode, a missing mode and the untrained generator."""
    task = WGANGPTask(WGANGPTask.make_config(0, n_train=512, batch_size=64))
    assert_mixture_judge(load_all()["wgan-gp"].judge, task, seeds=3)
