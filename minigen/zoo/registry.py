"""The zoo's registry: each variant module calls :func:`register` once with a :class:`Variant`.

A variant says what it is (paper, idea, data, criterion), how to train it (``fit``: one seed, one run
folder, returns measured numbers), how to judge runs (``judge``: the pass criterion over seeds), and
how to check its distinctive gradient (``gradcheck_case``: a float64 function and its inputs, and
whether it differentiates a gradient, so the second-order check applies).
"""
from __future__ import annotations

import importlib
import pkgutil
import sys
from dataclasses import dataclass, field
from typing import Callable


@dataclass
class Variant:
    name: str                    # the CLI name: minigen train <name>
    title: str                   # e.g. "WGAN-GP"
    paper: str                   # e.g. "Gulrajani et al. 2017"
    idea: str                    # one line: the distinguishing idea
    data: str                    # the toy setting
    criterion: str               # the pass criterion in words
    fit: Callable                # fit(config: dict, seed: int, out: Path | None, quiet: bool) -> dict
    judge: Callable              # judge(results: list[dict]) -> (measured: str, passed: bool)
    gradcheck_case: Callable     # () -> (fn, inputs, second_order: bool)
    defaults: dict = field(default_factory=dict)   # the full run's configuration
    options: tuple = ()          # further settings fit() reads (with their defaults inside the module)
    fast: dict = field(default_factory=dict)       # overrides for a seconds-long smoke run
    seeds: int = 3               # seeds of the full check
    figure: str = "figure.png"   # the file fit() writes into its run folder, shown in docs/zoo.md
    module: str = ""

    def config(self, **overrides) -> dict:
        """The full run's settings with ``overrides``; a name fit() never reads is an error, not ignored."""
        unknown = sorted(set(overrides) - set(self.defaults) - set(self.options))
        if unknown:
            known = ", ".join(sorted(set(self.defaults) | set(self.options)))
            raise ValueError(f"{self.name}: unknown setting(s) {', '.join(unknown)}; known: {known}")
        return {**self.defaults, **{k: v for k, v in overrides.items() if v is not None}}


VARIANTS: dict[str, Variant] = {}
_INFRA = {"registry", "game", "report", "fixtures", "criteria", "gradcheck_cases", "digits_game"}   # not variants


def register(v: Variant) -> Variant:
    if v.name in VARIANTS:
        raise ValueError(f"zoo: variant {v.name!r} registered twice")
    v.module = v.module or sys._getframe(1).f_globals["__name__"]    # the module that registers it
    VARIANTS[v.name] = v
    return v


def load_all() -> dict[str, Variant]:
    """Import every variant module of minigen.zoo (each registers itself)."""
    import minigen.zoo as pkg
    for m in pkgutil.iter_modules(pkg.__path__):
        if m.name not in _INFRA and not m.name.startswith("_"):
            importlib.import_module(f"minigen.zoo.{m.name}")
    return VARIANTS
