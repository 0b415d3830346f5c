"""A training step makes the host wait for the device at most once (counted by the strict backend, which
sees every float(), int(), bool(), .item(), .get(), .tolist(), boolean-mask index and data-sized result),
and the loop reads a step's metrics only on log lines, all pending steps in one transfer."""
import pytest

import minigen as mg
from minigen import backend
from minigen.backend import count_syncs
from minigen.training.loop import make_task, train
from minigen.training.task import task_class
from minigen.zoo import load_all

VARIANTS = load_all()
FAST = {"vae": {"epochs": 1}, "ae": {"epochs": 1}, "gan": {"steps": 5, "data": "ring8", "n_train": 512},
        **{name: v.fast for name, v in VARIANTS.items()}}
# the one model that must read the device every step: PATE-GAN's privacy accountant decides on the host
# whether the next batch of noisy labels still fits the budget
ONE_READ = {"pategan"}


@pytest.fixture
def strict():
    original = mg.get_backend()
    mg.set_backend("strict")
    yield
    mg.set_backend(original)


@pytest.mark.parametrize("name", sorted(FAST))
def test_a_training_step_waits_for_the_device_at_most_once(strict, name):
    task = make_task(task_class(name).make_config(0, **FAST[name]))
    task.step(0)                                   # the first step builds what later ones reuse
    backend.rng().reseed(1)
    with count_syncs() as n:
        task.step(1)
    assert n.count <= (1 if name in ONE_READ else 0), n.count


def test_pending_metrics_are_read_in_one_transfer(strict):
    from minigen.training import loop
    pending = [(s, {"d_loss": mg.tensor(float(s)), "g_loss": mg.tensor(2.0 * s), "lr": 0.1}) for s in range(7)]
    with count_syncs() as n:
        last = loop._check(pending, loop.Run("unused"))
    assert n.count == 1 and last == {"d_loss": 6.0, "g_loss": 12.0, "lr": 0.1}


def test_the_loop_reads_only_on_log_lines_and_checkpoints(tmp_path, monkeypatch):
    from minigen.training import loop
    reads = []
    real = loop._check
    monkeypatch.setattr(loop, "_check", lambda pending, run: reads.append(len(pending)) or real(pending, run))
    gan = task_class("gan")
    monkeypatch.setattr(gan, "log_every", 5)
    train(gan.make_config(0, steps=20, data="ring8", n_train=512, eval_every=1000), tmp_path / "r", quiet=True,
          echo=None, figures=False)
    assert reads == [5, 5, 5, 5]                   # every 5 steps, all of them at once


def test_clipping_gradients_waits_for_nothing(strict):
    layer = mg.nn.Linear(4, 3)
    layer(mg.randn(8, 4)).sum().backward()
    with count_syncs() as n:
        total = mg.optim.clip_grad_norm_(layer.parameters(), 0.1)
    assert n.count == 0
    assert float(total) > 0.1
