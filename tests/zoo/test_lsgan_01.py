"""LSGAN with the 0-1 codes (a, b, c) = (0, 1, 1): the game uses them, and a run's whole life."""
from minigen.zoo import load_all
from minigen.zoo.lsgan import LSGAN01Task

from helpers import assert_mixture_judge, check_run_lifecycle


def test_the_game_uses_the_0_1_codes():
    t = LSGAN01Task(LSGAN01Task.make_config(0, hidden=8, n_train=256))
    assert (t.gan.a, t.gan.b, t.gan.c) == (0.0, 1.0, 1.0)


def test_run(tmp_path):
    check_run_lifecycle(tmp_path, "lsgan-01", {"steps": 20, "hidden": 16, "n_train": 512}, stop_after=5)


def test_judge_rejects_degenerate_models():
    """The criterion passes samples of the true mixture and fails a uniform ring (or square), modes blurred
    to 3 sigma, all mass on one mode, a missing mode and the untrained generator."""
    task = LSGAN01Task(LSGAN01Task.make_config(0, n_train=512, batch_size=64))
    assert_mixture_judge(load_all()["lsgan-01"].judge, task, seeds=5)
