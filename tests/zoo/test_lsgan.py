"""LSGAN with the paper's codes (a, b, c) = (-1, 1, 0): the least-squares losses and a run's whole life."""
import pytest

import minigen as mg
from minigen.backend import xp
from minigen.training.task import ConfigError
from minigen.zoo import load_all
from minigen.zoo.lsgan import LSGANTask, lsgan_d_loss, lsgan_g_loss

from helpers import assert_mixture_judge, check_run_lifecycle


def test_losses_are_half_mean_squares_to_the_codes():
    d_real, d_fake = mg.Tensor(xp.asarray([[1.0], [0.0]])), mg.Tensor(xp.asarray([[-1.0], [1.0]]))
    assert lsgan_d_loss(d_real, d_fake, a=-1.0, b=1.0).item() == pytest.approx(0.5 * 0.5 + 0.5 * 2.0)
    assert lsgan_g_loss(d_fake, c=0.0).item() == pytest.approx(0.5)


def test_the_coding_is_checked():
    assert LSGANTask.make_config(0)["coding"] == "-1,1,0"
    with pytest.raises(ConfigError, match="coding"):
        LSGANTask.make_config(0, coding="1,2,3")


def test_run(tmp_path):
    check_run_lifecycle(tmp_path, "lsgan", {"steps": 20, "hidden": 16, "n_train": 512}, stop_after=9)


def test_judge_rejects_degenerate_models():
    """The criterion passes samples of the true mixture and fails a uniform ring (or square), modes blurred
    to 3 sigma, all mass on one mode, a missing mode and the untrained generator."""
    task = LSGANTask(LSGANTask.make_config(0, n_train=512, batch_size=64))
    assert_mixture_judge(load_all()["lsgan"].judge, task, seeds=5)
