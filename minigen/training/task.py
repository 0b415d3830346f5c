"""``Task``: what one kind of training run supplies to the one training loop.

A task owns its models, optimisers, schedules and batch sources, and says what one step does, how its
run is judged and how it is sampled.  Everything else -- the run folder, the progress bar, the metrics
log, checkpoints, resuming bit for bit, Ctrl-C, the NaN guard -- is the loop's
(:func:`minigen.training.loop.train`).  The VAE, the GAN of ``minigen train gan`` and every zoo variant
are tasks::

    class MyTask(Task):
        defaults = {"steps": 1000, "lr": 1e-3, "batch_size": 64}      # every setting, with its default

        def __init__(self, config):
            super().__init__(config)                # the engine RNG is already seeded with config["seed"]
            self.model = ...                        # Modules, optimisers, schedules, DataLoaders:
            self.opt = Adam(self.model.parameters(), lr=config["lr"])    # saved and restored by name

        def step(self, step):                       # one training step; returns its metrics
            loss = ...
            update(self.opt, loss)
            return {"loss": loss}                   # Tensors are read by the loop every log_every steps

        def evaluate(self, run):                    # the run's measurements (minigen eval recomputes them)
            return {...}

The state saved in a checkpoint is every attribute holding an object with ``state_dict`` /
``load_state_dict`` (Modules, optimisers, schedules, DataLoaders, ...), a dict of such objects, and the
attributes named in ``saved``; the loop adds the engine RNG.  Hold each such object in one attribute.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np

TASKS: dict[str, type] = {}


class ConfigError(ValueError):
    """A setting that cannot be used (unknown, of the wrong type, or out of range); the CLI prints it in
    one line and exits with status 2."""


def register_task(cls):
    """Class decorator: make a task trainable by its ``name`` (``minigen train NAME``)."""
    if not cls.name:
        raise ValueError(f"{cls.__name__}: a registered task needs a name")
    if TASKS.get(cls.name, cls) is not cls:
        raise ValueError(f"task {cls.name!r} registered twice")
    TASKS[cls.name] = cls
    return cls


def task_class(name: str) -> type:
    """The task registered as ``name`` (the zoo's variants are loaded on first need)."""
    if name not in TASKS:
        import minigen.training.gan_task  # noqa: F401  (they register gan, vae and ae)
        import minigen.training.vae_task  # noqa: F401
    if name not in TASKS:
        from minigen.zoo import load_all
        load_all()
    if name not in TASKS:
        raise ConfigError(f"unknown model {name!r}; choose one of: {', '.join(sorted(TASKS))}")
    return TASKS[name]


@dataclass
class Samples:
    """What ``minigen sample`` writes: ``data`` (host array) of ``kind`` "images" (rows of H*W pixels in
    [0, 1], ``image_shape`` (H, W)), "points" (n, 2), "rows" (a table: n rows of ``columns``),
    "windows" (n, steps, channels) or "pianoroll" (n bars of one melody, one-hot (n, steps, pitches)); ``labels`` the class of each sample where there is one."""

    data: np.ndarray
    kind: str
    image_shape: tuple | None = None
    labels: np.ndarray | None = None
    columns: tuple | None = None


# command-line flags that several tasks share: flag -> (setting, type, help)
COMMON_FLAGS = {
    "--data-dir": ("data_dir", str, "folder with the MNIST IDX files (for --data mnist)"),
    "--batch-size": ("batch_size", int, "examples per batch"),
}

# settings that must be positive wherever a task has them
POSITIVE = ("steps", "epochs", "batch_size", "hidden", "depth", "latent_dim", "n_critic", "pack", "ch")


class Task:
    """The base of every task; see the module docstring."""

    name: str = ""
    description: str = ""
    defaults: dict = {}
    #: extra settings the task reads that have no default in ``defaults`` (value None means "not given")
    options: dict = {}
    #: attributes saved verbatim (JSON values or arrays), besides the stateful objects found automatically
    saved: tuple = ()
    #: the loop's cadences (steps); None: chosen from the run's length
    log_every: int | None = None
    checkpoint_every: int | None = None
    progress_every: int | None = None       # steps between progress() measurements (0: none)

    def __init__(self, config: dict):
        self.config = config
        self.seed = int(config["seed"])
        self.finished = False                # a task may end early (e.g. a privacy budget spent)
        self.run = None                      # the run folder, set by the loop while it trains

    # --- configuration ---
    @classmethod
    def make_config(cls, seed: int = 0, **overrides) -> dict:
        """The full configuration: the defaults with ``overrides``.  An unknown setting, a value of the wrong
        type or an out-of-range value raises :class:`ConfigError` naming it."""
        known = {**cls.options, **cls.defaults}
        unknown = sorted(set(overrides) - set(known))
        if unknown:
            raise ConfigError(f"{cls.name}: unknown setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        config = {"task": cls.name, "seed": _check_seed(seed), **cls.defaults}
        for key, value in overrides.items():
            if value is not None:
                config[key] = coerce_setting(cls.name, key, value, known[key])
        for key in POSITIVE:
            v = config.get(key)
            if isinstance(v, (int, float)) and not isinstance(v, bool) and v <= 0:
                raise ConfigError(f"{cls.name}: {key} must be positive, got {v}")
        config = json.loads(json.dumps(config))      # as config.json will hold it: tuples become lists
        cls.check_config(config)
        return config

    @classmethod
    def check_config(cls, config: dict) -> None:
        """Raise :class:`ConfigError` for settings that cannot work together (a task's own checks)."""

    # --- what the loop calls ---
    @property
    def total_steps(self) -> int:
        return int(self.config["steps"])

    def step(self, step: int) -> dict:
        """Train one step (``step`` counts from 0); return its metrics (Tensors, device scalars or floats)."""
        raise NotImplementedError

    def progress(self, step: int) -> dict:
        """Measurements logged every ``progress_every`` steps (after ``step`` steps), as ``"eval"`` lines."""
        return {}

    def evaluate(self, run) -> dict:
        """The run's measurements from its current state and its (read-only) ``run`` folder."""
        return {}

    def summary(self, results: dict) -> str:
        """One line for the terminal."""
        return ""

    def figures(self, run, results: dict) -> list:
        """Draw the run's figures into ``run.dir``; returns their paths."""
        return []

    def sample(self, n: int, label: int | None = None) -> Samples:
        """``n`` samples of the trained model (the class ``label`` where it is conditional)."""
        raise ConfigError(f"{self.name}: this model cannot be sampled")

    @property
    def labels(self) -> int | None:
        """The number of classes a conditional model takes (``minigen sample --label``), else None."""
        return None

    # --- state ---
    def _stateful(self) -> dict:
        found = {}
        for key, value in vars(self).items():
            if _has_state(value):
                found[key] = value
            elif isinstance(value, dict) and value and all(_has_state(v) for v in value.values()):
                found.update({f"{key}.{k}": v for k, v in value.items()})
        return found

    def state_dict(self) -> dict:
        state = {key: obj.state_dict() for key, obj in self._stateful().items()}
        state["saved"] = {key: getattr(self, key) for key in self.saved}
        state["finished"] = self.finished
        return state

    def load_state_dict(self, state: dict) -> None:
        objects = self._stateful()
        missing = sorted(set(objects) - set(state))
        if missing:
            raise ValueError(f"{self.name}: the checkpoint has no state for {', '.join(missing)} "
                             "(was it written by another version of this model?)")
        for key, obj in objects.items():
            obj.load_state_dict(state[key])
        for key, value in state.get("saved", {}).items():
            setattr(self, key, value)
        self.finished = bool(state.get("finished", False))


def _has_state(obj) -> bool:
    return hasattr(obj, "state_dict") and hasattr(obj, "load_state_dict") and not isinstance(obj, type)


def _check_seed(seed) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ConfigError(f"seed must be a non-negative integer, got {seed!r}")
    return int(seed)


def coerce_setting(task: str, key: str, value, default):
    """``value`` in the type of ``default`` (a ``--set`` value arrives as JSON or a string)."""
    if default is None or value is None:
        return value
    kind = type(default)
    if kind is bool:
        if isinstance(value, bool):
            return value
    elif kind is int:
        if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
            return int(value)
    elif kind is float:
        if isinstance(value, (int, float, np.number)) and not isinstance(value, bool):
            return float(value)
    elif kind in (list, tuple):
        if isinstance(value, (list, tuple)):
            return kind(value)
    elif isinstance(value, kind):
        return value
    raise ConfigError(f"{task}: {key} must be {kind.__name__} (like the default {default!r}), got {value!r}")
