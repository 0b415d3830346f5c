"""The gradient-check registry is complete and sharp.

Complete: every public function of minigen.functional has cases, and every ``Function`` subclass in
minigen is exercised by one (its node sits in a graph that a case's first- or second-order check
differentiates).  Sharp: scaling any backward rule's result by 1 + 1e-4 makes the registry's checks
fail, at the tolerances ``minigen gradcheck`` runs them with.
"""
import functools
import importlib
import pkgutil

import pytest

import minigen
from minigen import functional as F
from minigen.autograd import Function, Tensor
from minigen.gradcheck import _first_derivatives, check, gradgrad_report
from minigen.ops.registry import REGISTRY, cases

SCALE = 1 + 1e-4

for _m in pkgutil.walk_packages(minigen.__path__, "minigen."):     # every subclass, wherever it lives
    importlib.import_module(_m.name)


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


OPS = sorted({c for c in _subclasses(Function) if c.__module__.startswith("minigen.")},
             key=lambda c: (c.__module__, c.__name__))


def _ops_in(outputs) -> set:
    """The Function classes of every node in the graph behind ``outputs``."""
    seen, found = set(), set()
    stack = [o.creator for o in outputs if isinstance(o, Tensor) and o.creator is not None]
    while stack:
        fn = stack.pop()
        if fn in seen:
            continue
        seen.add(fn)
        found.add(type(fn))
        stack.extend(a.creator for a in fn.inputs if isinstance(a, Tensor) and a.creator is not None)
    return found


def _as_tuple(out):
    return tuple(out) if isinstance(out, (tuple, list)) else (out,)


@functools.cache
def coverage() -> dict:
    """(op name, case label) -> the Function classes whose backward the case's checks differentiate:
    the nodes of f's graph (first order) and of the graph of f's recorded gradient (second order)."""
    out = {}
    for name, label, case in cases():
        inputs = case.inputs()
        first, args = _first_derivatives(case.fn, inputs, seed=0)
        out[name, label] = _ops_in(_as_tuple(case.fn(*inputs))) | _ops_in(first(*args))
    return out


def registry_gaps(registry, covered) -> list:
    """What the registry lacks: public functions without cases, entries for no function, Function
    subclasses that no case exercises."""
    gaps = [f"{n}: a public function without cases" for n in F.__all__ if not registry.get(n)]
    gaps += [f"{n}: cases for a function minigen.functional does not have" for n in registry if n not in F.__all__]
    gaps += [f"{c.__module__}.{c.__name__}: a Function no case exercises" for c in OPS if c not in covered]
    return gaps


def test_registry_covers_every_public_function_and_every_function_class():
    covered = set().union(*coverage().values())
    assert not registry_gaps(REGISTRY, covered)


def test_the_completeness_check_fails_on_an_empty_or_hollow_registry():
    assert len(OPS) >= 40                  # the walk finds the ops (not a vacuous pass over nothing)
    empty = registry_gaps({}, set())
    assert len(empty) == len(F.__all__) + len(OPS)
    hollow = registry_gaps({n: [] for n in F.__all__}, set().union(*coverage().values()))
    assert len(hollow) == len(F.__all__)  # names with empty case lists count as missing


def _scaled(rule):
    def backward(self, *args):
        gxs = rule(self, *args)
        if type(gxs) is not tuple:
            return gxs * SCALE
        return tuple(None if g is None else g * SCALE for g in gxs)
    return backward


@pytest.mark.parametrize("op", OPS, ids=[c.__name__ for c in OPS])
def test_a_rule_off_by_one_part_in_ten_thousand_fails_the_checks(op, monkeypatch):
    mine = [(name, label, c) for name, label, c in cases() if op in coverage()[name, label]]
    assert mine, f"no registry case exercises {op.__name__}"
    monkeypatch.setattr(op, "backward", _scaled(op.backward))
    for name, label, c in mine:
        for run in (check, gradgrad_report):           # as `minigen gradcheck` runs them
            if not run(c.fn, c.inputs(), name=f"{name} [{label}]", **c.tol).passed:
                return
    pytest.fail(f"{op.__name__}.backward scaled by {SCALE} passes all {len(mine)} cases that exercise it: "
                f"{[f'{n} [{lb}]' for n, lb, _ in mine]}")
