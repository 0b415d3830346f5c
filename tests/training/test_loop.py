"""The one training loop: run folders (fresh, replaced, refused, read-only), the NaN guard, Ctrl-C,
cadences, and the task interface (configuration checks, the state found on a task)."""
import json
import os
import signal

import pytest

import minigen as mg
from minigen.backend import xp
from minigen.optim import SGD
from minigen.training.loop import Run, TrainingDiverged, train
from minigen.training.task import ConfigError, Task, register_task


@register_task
class CounterTask(Task):
    """A task of the tests: w counts the steps; the loss of step ``nan_at`` is NaN."""

    name = "test-counter"
    defaults = {"steps": 20, "nan_at": -1, "interrupt_at": -1}
    checkpoint_every = 5
    log_every = 1
    saved = ("count",)

    def __init__(self, config):
        super().__init__(config)
        self.w = mg.nn.Linear(1, 1)
        self.opt = SGD(self.w.parameters(), lr=0.0)
        self.count = 0

    def step(self, step):
        if step == self.config["interrupt_at"]:
            os.kill(os.getpid(), signal.SIGINT)                  # arrives mid-step
        self.count += 1
        value = float("nan") if step == self.config["nan_at"] else 1.0
        return {"loss": mg.tensor(xp.asarray(value, dtype=xp.float32)), "plain": 2.0}

    def evaluate(self, run):
        return {"count": self.count}


def cfg(**kw):
    return CounterTask.make_config(0, **kw)


def test_nan_stops_training_naming_step_and_term_and_keeps_last_checkpoint(tmp_path):
    with pytest.raises(TrainingDiverged, match=r"step 7: loss term 'loss' is nan"):
        train(cfg(nan_at=7), tmp_path / "r", quiet=True, echo=None)
    saved = mg.load(tmp_path / "r" / "checkpoint.npz", device=False)
    assert saved["step"] == 5 and saved["task"]["saved"]["count"] == 5      # the step-5 checkpoint, untouched


def test_ctrl_c_saves_a_checkpoint_between_steps_and_resume_finishes(tmp_path):
    out = train(cfg(interrupt_at=3), tmp_path / "r", quiet=True, echo=None)
    assert out == {"step": 4, "interrupted": True}
    saved = mg.load(tmp_path / "r" / "checkpoint.npz", device=False)
    assert saved["step"] == 4 and saved["task"]["saved"]["count"] == 4       # the step finished before stopping
    res = train(None, tmp_path / "r", resume=True, quiet=True, echo=None)
    assert res["count"] == 20 and res["steps"] == 20
    steps = [json.loads(line)["step"] for line in (tmp_path / "r" / "metrics.jsonl").read_text().splitlines()]
    assert steps == list(range(1, 21))                          # no duplicated log lines after the resume


def test_metrics_are_logged_as_numbers(tmp_path):
    train(cfg(steps=3), tmp_path / "r", quiet=True, echo=None)
    rows = Run.open(tmp_path / "r").metrics()
    assert [r["step"] for r in rows] == [1, 2, 3] and rows[0]["loss"] == 1.0 and rows[0]["plain"] == 2.0


def test_a_fresh_run_replaces_an_earlier_one_as_a_whole(tmp_path, capsys):
    r = tmp_path / "r"
    train(cfg(steps=10), r, quiet=True, echo=print)
    (r / "extra.png").write_bytes(b"old figure")
    train(cfg(steps=3), r, quiet=True, echo=print)
    assert "replacing the earlier run" in capsys.readouterr().out
    assert not (r / "extra.png").exists() and mg.load(r / "checkpoint.npz")["step"] == 3
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]      # nothing left aside


def test_a_folder_that_is_not_a_run_is_refused(tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.tex").write_text("precious")
    with pytest.raises(ConfigError, match="not a minigen run"):
        train(cfg(steps=2), tmp_path / "mine", quiet=True, echo=None)
    assert (tmp_path / "mine" / "thesis.tex").read_text() == "precious"


def test_reading_a_run_is_read_only(tmp_path):
    train(cfg(steps=2), tmp_path / "r", quiet=True, echo=None)
    run = Run.open(tmp_path / "r")
    for write in (lambda: run.log(3, loss=1.0), lambda: run.save({}), lambda: run.write_results({}),
                  lambda: run.truncate_metrics(1)):
        with pytest.raises(PermissionError, match="read-only"):
            write()
    with pytest.raises(ConfigError, match="no minigen run"):
        Run.open(tmp_path / "missing")


def test_resume_needs_a_checkpoint(tmp_path):
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "config.json").write_text(json.dumps(cfg(steps=2)))
    with pytest.raises(ConfigError, match="no checkpoint to resume"):
        train(None, tmp_path / "r", resume=True, quiet=True, echo=None)


def test_configuration_is_checked():
    with pytest.raises(ConfigError, match="unknown setting.*stepz; known: interrupt_at, nan_at, steps"):
        cfg(stepz=3)
    with pytest.raises(ConfigError, match="steps must be positive"):
        cfg(steps=-5)
    with pytest.raises(ConfigError, match="steps must be int"):
        cfg(steps="many")
    with pytest.raises(ConfigError, match="seed"):
        CounterTask.make_config(-1)
    assert cfg(steps=4)["task"] == "test-counter" and cfg()["seed"] == 0


def test_the_state_is_every_stateful_attribute(tmp_path):
    t = CounterTask(cfg())
    state = t.state_dict()
    assert {"w", "opt", "saved", "finished"} <= set(state) and state["saved"] == {"count": 0}
    t.count = 9
    u = CounterTask(cfg())
    u.load_state_dict(t.state_dict())
    assert u.count == 9
    with pytest.raises(ValueError, match="no state for w"):
        u.load_state_dict({"opt": t.opt.state_dict()})
