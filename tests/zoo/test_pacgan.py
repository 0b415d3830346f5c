"""PacGAN: packs of m samples through D, the plain GAN trained beside it, and a run's whole life."""
import pytest

import minigen as mg
from minigen import backend
from minigen.zoo import load_all
from minigen.zoo.pacgan import PacGANTask, pack

from helpers import assert_mixture_judge, check_run_lifecycle, host, mixture_samplers


def test_pack_concatenates_consecutive_samples():
    x = mg.Tensor(backend.to_device([[0.0, 1.0], [2.0, 3.0], [4.0, 5.0], [6.0, 7.0], [8.0, 9.0], [10.0, 11.0]]))
    assert host(pack(x, 3)).tolist() == [[0, 1, 2, 3, 4, 5], [6, 7, 8, 9, 10, 11]]
    assert host(pack(x, 2)).tolist() == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]]


@pytest.mark.parametrize("m", [1, 3])
def test_pacgan_discriminator_sees_packs_of_m(m):
    t = PacGANTask(PacGANTask.make_config(0, hidden=16, batch_size=24, pack=m, n_train=256))
    assert t.gan.discriminator[1][0].in_features == 2 * m and t.plain.discriminator[1][0].in_features == 2
    assert t.gan.critic(mg.Tensor(backend.rng().normal((24, 2)))).shape == (24 // m, 1)


def test_pacgan_generator_gradient_reaches_every_sample_of_a_pack():
    t = PacGANTask(PacGANTask.make_config(0, hidden=16, batch_size=32, pack=4, n_train=256))
    fake = mg.Tensor(backend.rng().normal((8, 2)), requires_grad=True)
    (g,) = mg.grad(t.gan.g_loss(fake), [fake])
    assert float(abs(host(g)).min()) > 0


def test_run(tmp_path):
    r = check_run_lifecycle(tmp_path, "pacgan", {"steps": 20, "hidden": 16, "n_train": 512}, stop_after=11)
    assert set(r["gan"]) >= {"modes", "high_quality", "reverse_kl"}      # the plain GAN, same run


def test_judge_rejects_degenerate_models():
    """The criterion passes samples of the true mixture and fails a uniform ring (or square), modes blurred
    to 3 sigma, all mass on one mode, a missing mode and the untrained generator."""
    task = PacGANTask(PacGANTask.make_config(0, n_train=512, batch_size=64))
    plain = {"modes": 20, "n_modes": 25, "high_quality": 0.5, "reverse_kl": 5.0}      # a collapsed plain GAN
    assert_mixture_judge(load_all()["pacgan"].judge, task, seeds=5, extras={"gan": plain})


def test_judge_rejects_true_samples_with_a_failing_own_measure():
    """Samples of the true mixture, but a plain GAN as good as the packed one:
    the variant's own part of the criterion fails it."""
    task = PacGANTask(PacGANTask.make_config(0, n_train=512, batch_size=64))
    x = mg.to_device(mixture_samplers(task.data)["true"].astype("float32"))
    judge = load_all()["pacgan"].judge
    assert judge([{**task.measure(x), **{"gan": {"modes": 25, "n_modes": 25, "high_quality": 0.95, "reverse_kl": 0.5}}}] * 3)[1]
    assert not judge([{**task.measure(x), **{"gan": {"modes": 25, "n_modes": 25, "high_quality": 0.95, "reverse_kl": 0.0}}}] * 3)[1]

