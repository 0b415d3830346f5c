"""The one training loop: every model -- the VAE, the autoencoder, the GAN and every zoo variant -- trains
through :func:`train`, which gives its :class:`~minigen.training.task.Task` a run folder::

    run/
      config.json        what was trained: the task's name, its seed and every setting
      metrics.jsonl      one JSON object per logged step ("eval": true on the task's progress measurements)
      checkpoint.npz     the task's state and the step (written atomically, never unpickled); the engine RNG
                         needs none: the loop restarts its stream from (seed, step) before every step
      results.json       the task's evaluation at the end
      *.png              its figures

a progress bar, a checkpoint every ``checkpoint_every`` steps, at the end and on Ctrl-C (which stops
between two steps), a NaN guard that names the step and the loss term, and ``resume``, which continues
from the checkpoint so that the run ends bit for bit where an uninterrupted one would.

Opening a run to read it (:meth:`Run.open`: ``minigen sample``, ``minigen eval``) never writes to it.  A
fresh run in a folder that holds an earlier one replaces it as a whole (it is moved aside and removed, so
the folder never mixes the two), and says so; a folder holding anything else is refused.
"""
from __future__ import annotations

import json
import math
import secrets
import shutil
import signal
import sys
import time
from pathlib import Path

from minigen import backend, serialization
from minigen.autograd.tensor import Tensor
from minigen.backend import xp
from minigen.training.task import ConfigError, Task, task_class

CHECKPOINT = "checkpoint.npz"
RUN_MARKERS = ("config.json", CHECKPOINT, "metrics.jsonl", "results.json")
TIMING_KEYS = ("train_seconds", "train_cpu_seconds")     # what differs between two runs of the same config


class TrainingDiverged(FloatingPointError):
    """A loss term became NaN or inf; the last good checkpoint is left as it was."""


class Run:
    """A run folder.  Make one with :meth:`create` (fresh), :meth:`open` (read-only) or :meth:`resume`."""

    def __init__(self, path, writable: bool = False):
        self.dir = Path(path)
        self.writable = writable
        self.metrics_path = self.dir / "metrics.jsonl"
        self.checkpoint_path = self.dir / CHECKPOINT
        self.results_path = self.dir / "results.json"

    # --- opening ---
    @classmethod
    def create(cls, path, config: dict, echo=None) -> "Run":
        """A fresh run folder holding ``config.json``.  An earlier run there is replaced as a whole."""
        d = Path(path)
        if d.exists() and not d.is_dir():
            raise ConfigError(f"--out {d} is a file, not a folder")
        if d.exists() and any(d.iterdir()):
            if not is_run(d):
                raise ConfigError(f"{d} holds files that are not a minigen run; refusing to overwrite them "
                                  "(choose another --out)")
            trash = d.with_name(f".{d.name}.replaced-{secrets.token_hex(4)}")
            d.rename(trash)
            (echo or _stderr)(f"replacing the earlier run in {d}")
            d.mkdir(parents=True)
            shutil.rmtree(trash, ignore_errors=True)
        d.mkdir(parents=True, exist_ok=True)
        run = cls(d, writable=True)
        run._write_json("config.json", config)
        return run

    @classmethod
    def open(cls, path) -> "Run":
        """An existing run, read-only."""
        d = Path(path)
        if not (d / "config.json").is_file():
            what = "no such folder" if not d.exists() else "no config.json in it"
            raise ConfigError(f"no minigen run at {d} ({what}); train one first: minigen train MODEL --out {d}")
        return cls(d)

    @classmethod
    def resume(cls, path) -> "Run":
        """An existing run with a checkpoint, opened to continue training."""
        run = cls.open(path)
        if not run.checkpoint_path.is_file():
            raise ConfigError(f"{run.dir} has no checkpoint to resume from (it stopped before its first "
                              "checkpoint); train it afresh without --resume")
        run.writable = True
        return run

    # --- reading ---
    @property
    def config(self) -> dict:
        try:
            config = json.loads((self.dir / "config.json").read_text())
        except (OSError, ValueError) as e:
            raise ConfigError(f"{self.dir}/config.json cannot be read ({e})") from None
        if not isinstance(config, dict) or "task" not in config:
            raise ConfigError(f"{self.dir}/config.json names no model: the run was made by an older minigen; "
                              "train it again")
        return config

    def metrics(self) -> list[dict]:
        if not self.metrics_path.exists():
            return []
        return [json.loads(line) for line in self.metrics_path.read_text().splitlines() if line.strip()]

    def results(self) -> dict | None:
        return json.loads(self.results_path.read_text()) if self.results_path.exists() else None

    def load(self, device: bool = True) -> dict:
        if not self.checkpoint_path.exists():
            raise ConfigError(f"no checkpoint in {self.dir}: train first (minigen train ... --out {self.dir})")
        return serialization.load(self.checkpoint_path, device=device)

    # --- writing (a run opened read-only refuses) ---
    def _check_writable(self):
        if not self.writable:
            raise PermissionError(f"{self.dir} was opened read-only (reading a run never changes it)")

    def _write_json(self, name: str, obj) -> None:
        self._check_writable()
        with serialization.atomic_write(self.dir / name) as f:
            f.write(json.dumps(_jsonable(obj), indent=2).encode())

    def log(self, step: int, **metrics) -> None:
        self._check_writable()
        with open(self.metrics_path, "a") as f:
            f.write(json.dumps(_jsonable({"step": step, **metrics})) + "\n")

    def truncate_metrics(self, step: int) -> None:
        """Drop log lines after ``step`` (written after the checkpoint a resumed run restarts from)."""
        kept = [m for m in self.metrics() if m["step"] <= step]
        self._check_writable()
        with serialization.atomic_write(self.metrics_path) as f:
            f.write("".join(json.dumps(m) + "\n" for m in kept).encode())

    def save_snapshot(self, step: int, samples) -> None:
        """Samples at a step of training, kept as ``snapshots/step_NNNNNNN.npy`` for the figures."""
        import numpy as np
        self._check_writable()
        folder = self.dir / "snapshots"
        folder.mkdir(exist_ok=True)
        np.save(folder / f"step_{step:07d}.npy", backend.to_host(samples.data if isinstance(samples, Tensor)
                                                                 else samples))

    def snapshots(self) -> list:
        """[(step, host array), ...] in the order of training."""
        import numpy as np
        files = sorted((self.dir / "snapshots").glob("step_*.npy"))
        return [(int(f.stem.split("_")[1]), np.load(f)) for f in files]

    def save(self, state: dict) -> None:
        self._check_writable()
        serialization.save(state, self.checkpoint_path)

    def write_results(self, results: dict) -> None:
        self._write_json("results.json", results)


def is_run(path) -> bool:
    """Does the folder hold a minigen run (or what is left of one)?"""
    return any((Path(path) / m).exists() for m in RUN_MARKERS)


# ----------------------------------------------------------------------------------------------------
# Building tasks
# ----------------------------------------------------------------------------------------------------

def make_task(config: dict) -> Task:
    """The task ``config`` describes, built with the engine RNG seeded by ``config["seed"]``."""
    cls = task_class(config["task"])
    backend.manual_seed(int(config["seed"]))
    return cls(config)


def load_task(run: Run) -> Task:
    """The task of a run, in the state of its checkpoint (the run is only read)."""
    task = make_task(run.config)
    state = run.load()
    task.load_state_dict(state["task"])
    return task


# ----------------------------------------------------------------------------------------------------
# The loop
# ----------------------------------------------------------------------------------------------------

def train(config: dict, out, *, resume: bool = False, quiet: bool = False, stop_after: int | None = None,
          figures: bool = True, echo=print) -> dict:
    """Train the task ``config`` describes into the run folder ``out``, evaluate it and draw its figures.

    Returns the results (also written to ``results.json``), or ``{"interrupted": True, "step": k}`` when
    Ctrl-C (or ``stop_after`` steps, which tests use to simulate a stop) ended it early; ``resume=True``
    continues such a run from its checkpoint (``config`` is then read from the run and may be None).
    ``quiet`` hides the progress bar; ``echo`` prints the run's lines (None: silent).
    """
    echo = echo or (lambda *_: None)
    if resume:
        run = Run.resume(out)
        task = make_task(run.config)
        state = run.load()
        task.load_state_dict(state["task"])
        start = int(state["step"])
        run.truncate_metrics(start)
    else:
        run = Run.create(out, config, echo=echo)
        task = make_task(config)
        start = 0
    task.run = run
    total = task.total_steps
    verb = f"resuming at step {start} of" if start else "training"
    echo(f"{verb} {task.name} for {total} steps -> {run.dir}")
    t0, c0 = time.perf_counter(), time.process_time()
    status = _loop(task, run, start, total, quiet, stop_after)
    if status["interrupted"]:
        return status
    results = {**task.evaluate(run), "seed": task.seed, "steps": status["step"],
               "train_seconds": round(time.perf_counter() - t0, 1),
               "train_cpu_seconds": round(time.process_time() - c0, 1)}
    if figures:
        results["figures"] = [Path(p).name for p in task.figures(run, results)]
    run.write_results(results)
    echo(f"{task.name}: {task.summary(results)}" + (f"; figures: {', '.join(results['figures'])}"
                                                      if results.get("figures") else ""))
    return results


def _loop(task: Task, run: Run, start: int, total: int, quiet: bool, stop_after: int | None) -> dict:
    log_every = task.log_every or max(1, min(100, total // 50))
    ckpt_every = task.checkpoint_every or max(500, total // 4)
    prog_every = task.progress_every or 0
    pending: list = []            # (step index, metrics) not read from the device yet
    step, t0, rng = start, time.perf_counter(), backend.rng()
    with _Interrupt() as stop, _progress(total, start, quiet, task.name) as bar:
        while step < total and not task.finished:
            rng.reseed(step)             # a step's draws depend on (seed, step) only: resuming repeats them
            pending.append((step, task.step(step)))
            step += 1
            if prog_every and (step % prog_every == 0 or step == total or task.finished):
                run.log(step, eval=True, **task.progress(step))
            interrupted = stop.requested or (stop_after is not None and step - start >= stop_after)
            save = step % ckpt_every == 0 or step == total or interrupted or task.finished
            if step % log_every == 0 or save:
                last = _check(pending, run)               # the NaN guard, before any checkpoint
                pending.clear()
                if step % log_every == 0 or step == total:
                    run.log(step, **last, seconds=round(time.perf_counter() - t0, 3))
                bar.set_postfix({k: f"{v:.4g}" for k, v in list(last.items())[:4]}, refresh=False)
            bar.update(1)
            if save:
                run.save({"step": step, "task": task.state_dict(), "config": task.config})
            if interrupted:
                if stop.requested:
                    print(f"\ninterrupted at step {step}: checkpoint saved in {run.checkpoint_path}; "
                          "continue with --resume", file=sys.stderr)
                return {"step": step, "interrupted": True}
    return {"step": step, "interrupted": False}


def _check(pending: list, run: Run) -> dict:
    """Read the pending steps' metrics to the host (one transfer) and raise at the first non-finite one.
    Returns the last step's metrics as floats."""
    device = [v for _, m in pending for v in m.values() if not isinstance(v, (int, float))]
    values = iter(backend.to_host(xp.stack([_array(v).astype(xp.float64) for v in device])).tolist()
                  if device else [])
    read = []
    for s, m in pending:
        row = {k: (float(v) if isinstance(v, (int, float)) else next(values)) for k, v in m.items()}
        read.append((s, row))
    for s, row in read:
        for name, v in row.items():
            if not math.isfinite(v):
                where = run.checkpoint_path if run.checkpoint_path.exists() else "none yet"
                raise TrainingDiverged(f"step {s}: loss term '{name}' is {v}; training stopped. The last good "
                                       f"checkpoint ({where}) is left intact; try a smaller learning rate")
    return read[-1][1] if read else {}


def _array(v):
    a = v.data if isinstance(v, Tensor) else v
    return a.reshape(()) if a.size == 1 else a


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


def _stderr(msg: str) -> None:
    print(msg, file=sys.stderr)


def _jsonable(obj):
    """Results and metrics as plain JSON: NumPy and device scalars become Python numbers."""
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, Tensor):
        obj = obj.data
    if hasattr(obj, "shape") and hasattr(obj, "dtype"):
        return _jsonable(backend.to_host(obj).tolist())
    if hasattr(obj, "item") and not isinstance(obj, (str, bytes)):
        return obj.item()
    return obj
