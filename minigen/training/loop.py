"""A small training loop shared by the models: a run folder, a progress bar, metrics, checkpoints,
exact resume, a clean Ctrl-C and a NaN guard.

    run/
      config.json        what was trained (model, data, hyper-parameters, seed)
      metrics.jsonl      one JSON object per logged step
      checkpoint.npz     weights, optimizer state, RNG state, step (written atomically)
      *.png              figures, written by the task

Resuming loads the checkpoint, restores every piece of state (weights, optimizer moments, the engine
RNG, the data order) and continues from its step, so an interrupted run ends with the same weights
bit for bit as one that was never interrupted.
"""
from __future__ import annotations

import json
import math
import os
import signal
import sys
import time
from pathlib import Path

from minigen import serialization

CHECKPOINT = "checkpoint.npz"


class TrainingDiverged(FloatingPointError):
    """A loss term became NaN or inf; the last good checkpoint is left as it was."""


class Run:
    """A run folder: config, metrics log and checkpoint."""

    def __init__(self, out, config: dict | None = None, resume: bool = False):
        self.dir = Path(out)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.metrics_path = self.dir / "metrics.jsonl"
        self.checkpoint_path = self.dir / CHECKPOINT
        if config is not None:
            with serialization.atomic_write(self.dir / "config.json") as f:
                f.write(json.dumps(config, indent=2).encode())
        if not resume and self.metrics_path.exists():
            self.metrics_path.unlink()        # a fresh run starts a fresh log

    @property
    def config(self) -> dict:
        return json.loads((self.dir / "config.json").read_text())

    def log(self, step: int, **metrics) -> None:
        with open(self.metrics_path, "a") as f:
            f.write(json.dumps({"step": step, **metrics}) + "\n")

    def metrics(self) -> list[dict]:
        if not self.metrics_path.exists():
            return []
        return [json.loads(line) for line in self.metrics_path.read_text().splitlines() if line.strip()]

    def truncate_metrics(self, step: int) -> None:
        """Drop log lines after ``step`` (written after the checkpoint a resumed run restarts from)."""
        kept = [m for m in self.metrics() if m["step"] <= step]
        with serialization.atomic_write(self.metrics_path) as f:
            f.write("".join(json.dumps(m) + "\n" for m in kept).encode())

    def save(self, state: dict) -> None:
        serialization.save(state, self.checkpoint_path)

    def load(self, device: bool = True) -> dict:
        if not self.checkpoint_path.exists():
            raise FileNotFoundError(f"no checkpoint in {self.dir}: train first (minigen train ... --out {self.dir})")
        return serialization.load(self.checkpoint_path, device=device)


class _Interrupt:
    """Turn Ctrl-C into a flag checked between steps, so a step is never cut in half."""

    def __init__(self):
        self.requested = False
        self._old = None

    def __enter__(self):
        try:
            self._old = signal.signal(signal.SIGINT, self._handle)
        except ValueError:       # not the main thread: no handler, Ctrl-C behaves as usual
            self._old = None
        return self

    def _handle(self, signum, frame):
        if self.requested:       # a second Ctrl-C stops at once
            raise KeyboardInterrupt
        self.requested = True

    def __exit__(self, *exc):
        if self._old is not None:
            signal.signal(signal.SIGINT, self._old)
        return False


def _progress(total: int, initial: int, quiet: bool, desc: str):
    from tqdm import tqdm
    disable = quiet or not sys.stderr.isatty()
    return tqdm(total=total, initial=initial, disable=disable, desc=desc, unit="step", dynamic_ncols=True)


def train_loop(run: Run, step_fn, total_steps: int, get_state, set_state, *, resume: bool = False,
               log_every: int = 10, checkpoint_every: int = 500, quiet: bool = False, desc: str = "train",
               stop_after: int | None = None) -> dict:
    """Call ``step_fn(step) -> {name: float}`` for steps [start, total_steps).

    ``get_state(step)`` returns everything needed to continue (a dict for ``minigen.save``);
    ``set_state(state)`` restores it.  ``stop_after`` ends the loop early after that many steps as if
    interrupted (used to test resuming).  Returns ``{"step": last step done, "interrupted": bool}``.
    """
    start = 0
    if resume and run.checkpoint_path.exists():
        state = run.load()
        set_state(state)
        start = int(state["step"])
        run.truncate_metrics(start)
    t0, last = time.perf_counter(), {}
    step = start
    with _Interrupt() as stop, _progress(total_steps, start, quiet, desc) as bar:
        while step < total_steps:
            metrics = step_fn(step)
            bad = {k: v for k, v in metrics.items() if not math.isfinite(v)}
            if bad:
                name, value = next(iter(bad.items()))
                raise TrainingDiverged(
                    f"step {step}: loss term '{name}' is {value}; training stopped. The last good checkpoint "
                    f"({run.checkpoint_path if run.checkpoint_path.exists() else 'none yet'}) is left intact; "
                    "try a smaller learning rate")
            step += 1
            last = metrics
            if step % log_every == 0 or step == total_steps:
                run.log(step, **{k: float(v) for k, v in metrics.items()},
                        seconds=round(time.perf_counter() - t0, 3))
                bar.set_postfix({k: f"{v:.4g}" for k, v in list(metrics.items())[:4]})
            bar.update(1)
            interrupted = stop.requested or (stop_after is not None and step - start >= stop_after)
            if step % checkpoint_every == 0 or step == total_steps or interrupted:
                run.save(get_state(step))
            if interrupted:
                if stop.requested:
                    print(f"\ninterrupted at step {step}: checkpoint saved in {run.checkpoint_path}; "
                          "continue with --resume", file=sys.stderr)
                return {"step": step, "interrupted": True, "last": last}
    return {"step": step, "interrupted": False, "last": last}


def env_flag(name: str) -> bool:
    return os.environ.get(name, "") not in ("", "0", "false")
