"""PacGAN: packs of m samples through D, the plain GAN trained beside it, and a run's whole life."""
import pytest

import minigen as mg
from minigen import backend
from minigen.zoo.pacgan import PacGANTask, pack

from helpers import check_run_lifecycle, host


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
