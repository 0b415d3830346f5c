"""The zoo's registry: each variant module calls :func:`register` once with a :class:`Variant`.

A variant says what it is (paper, idea, data, criterion), which :class:`~minigen.training.task.Task`
trains it (through the one training loop, so ``minigen train / sample / eval`` and ``--resume`` work on
it like on any model), how to judge its runs (``judge``: the pass criterion over seeds) and how to check
its distinctive gradient (``gradcheck_case``: a float64 function and its inputs, and whether it
differentiates a gradient, so the second-order check applies).
"""
from __future__ import annotations

import importlib
import pkgutil
import sys
import tempfile
from dataclasses import dataclass, field
from typing import Callable

from minigen.training.task import register_task


@dataclass
class Variant:
    name: str                    # the CLI name: minigen train <name>
    title: str                   # e.g. "WGAN-GP"
    paper: str                   # e.g. "Gulrajani et al. 2017"
    idea: str                    # one line: the distinguishing idea
    data: str                    # the toy setting
    criterion: str               # the pass criterion in words
    task: type                   # the Task subclass that trains it (its ``defaults`` are the full run's)
    judge: Callable              # judge(results: list[dict]) -> (measured: str, passed: bool)
    gradcheck_case: Callable     # () -> (fn, inputs, second_order: bool)
    fast: dict = field(default_factory=dict)       # overrides for a seconds-long smoke run
    seeds: int = 3               # seeds of the full check
    figure: str = "figure.png"   # the file the task draws into its run folder, shown in docs/zoo.md
    module: str = ""

    def config(self, seed: int = 0, **overrides) -> dict:
        """The full run's settings with ``overrides``; a name the task never reads is an error, not ignored."""
        return self.task.make_config(seed, **overrides)

    def fit(self, config: dict, seed: int = 0, out=None, quiet: bool = True) -> dict:
        """Train one seed through the training loop into the run folder ``out`` (a temporary one when None)
        and return its results."""
        from minigen.training.loop import train
        settings = {k: v for k, v in config.items() if k not in ("task", "seed")}
        cfg = self.task.make_config(seed, **settings)
        echo = None if quiet else print
        if out is not None:
            return train(cfg, out, quiet=quiet, echo=echo)
        with tempfile.TemporaryDirectory() as tmp:
            return train(cfg, tmp, quiet=quiet, echo=echo, figures=False)


VARIANTS: dict[str, Variant] = {}
_INFRA = {"registry", "report", "criteria", "gradcheck_cases", "common"}   # not variants


def register(v: Variant) -> Variant:
    if v.name in VARIANTS:
        raise ValueError(f"zoo: variant {v.name!r} registered twice")
    v.module = v.module or sys._getframe(1).f_globals["__name__"]    # the module that registers it
    v.task.name = v.name
    v.task.description = f"zoo: {v.title} ({v.paper})"
    register_task(v.task)
    VARIANTS[v.name] = v
    return v


def load_all() -> dict[str, Variant]:
    """Import every variant module of minigen.zoo (each registers itself)."""
    import minigen.zoo as pkg
    for m in pkgutil.iter_modules(pkg.__path__):
        if m.name not in _INFRA and not m.name.startswith("_"):
            importlib.import_module(f"minigen.zoo.{m.name}")
    return VARIANTS


def variant(name: str) -> Variant:
    """The variant called ``name``; an unknown name is a :class:`ConfigError` listing the known ones."""
    from minigen.training.task import ConfigError
    found = load_all()
    if name not in found:
        import difflib
        close = difflib.get_close_matches(name, found, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ConfigError(f"unknown zoo variant {name!r}{hint}; known: {', '.join(sorted(found))}")
    return found[name]
