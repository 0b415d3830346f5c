"""WGAN: the critic's clipping and schedule, its loss, the rank correlation, and a run's whole life."""
import pytest

import minigen as mg
from minigen import backend
from minigen import functional as F
from minigen.optim import RMSprop
from minigen.zoo import load_all
from minigen.zoo.wgan import WGANTask, spearman

from helpers import assert_mixture_judge, check_run_lifecycle, host, mixture_samplers

SMALL = {"hidden": 16, "batch_size": 32, "monitor_n": 16, "n_train": 256}


def task(**kw):
    return WGANTask(WGANTask.make_config(0, **{**SMALL, **kw}))


def test_wgan_clips_every_critic_parameter_after_each_step():
    t = task(lr_d=0.5, critic_warmup=0, n_critic=1)
    gan = t.gan
    gan.train_step(t.loader.next, RMSprop(gan.discriminator.parameters(), lr=0.5), t.opt_g, step=1)
    for p in gan.discriminator.parameters():          # a huge step: without clipping the weights leave the box
        assert float(abs(host(p)).max()) <= 0.01 + 1e-9
    assert any(float(abs(host(p)).max()) > 0.0099 for p in gan.discriminator.parameters())


def test_wgan_critic_schedule_bursts_first_and_every_500():
    gan = task(critic_warmup=2, critic_burst=7, burst_every=4, n_critic=1).gan
    # g-steps 0, 1 (warm-up) and 4 (every 4th) get the burst; the others n_critic = 1
    assert [gan.critic_steps(t) for t in range(6)] == [7, 7, 1, 1, 7, 1]


def test_wgan_critic_loss_is_the_negated_estimate():
    gan = task().gan
    real = mg.Tensor(backend.rng().normal((8, 2)))
    fake = mg.Tensor(backend.rng().normal((8, 2)))
    est = F.mean(gan.critic(real)) - F.mean(gan.critic(fake))
    assert abs(gan.d_loss(real, fake).item() + est.item()) < 1e-7


def test_spearman():
    assert spearman([1, 2, 3, 4], [10, 20, 30, 45]) == pytest.approx(1.0)
    assert spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    assert spearman([1, 2, 2, 3], [1, 2, 2, 3]) == pytest.approx(1.0)                   # ties: mean ranks
    assert spearman([1, 2, 3, 4, 5], [2, 1, 4, 3, 5]) == pytest.approx(0.8)              # 1 - 6*4/(5*24)


def test_run(tmp_path):
    r = check_run_lifecycle(tmp_path, "wgan", {"steps": 20, "hidden": 16, "critic_hidden": 16, "monitor_n": 64,
                                              "critic_warmup": 2, "n_train": 512}, stop_after=7)
    assert r["checkpoints"] == 20 and -1 <= r["spearman_w_swd"] <= 1


def test_judge_rejects_degenerate_models():
    """The criterion passes samples of the true mixture and fails a uniform ring (or square), modes blurred
    to 3 sigma, all mass on one mode, a missing mode and the untrained generator."""
    task = WGANTask(WGANTask.make_config(0, n_train=512, batch_size=64))
    assert_mixture_judge(load_all()["wgan"].judge, task, seeds=3, extras={"spearman_w_swd": 1.0})


def test_judge_rejects_true_samples_with_a_failing_own_measure():
    """Samples of the true mixture, but a critic estimate that does not track the distance:
    the variant's own part of the criterion fails it."""
    task = WGANTask(WGANTask.make_config(0, n_train=512, batch_size=64))
    x = mg.to_device(mixture_samplers(task.data)["true"].astype("float32"))
    judge = load_all()["wgan"].judge
    assert judge([{**task.measure(x), **{"spearman_w_swd": 1.0}}] * 3)[1]
    assert not judge([{**task.measure(x), **{"spearman_w_swd": 0.5}}] * 3)[1]

