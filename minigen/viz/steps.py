"""The backward pass of a loss, step by step, as the engine runs it: for each op in execution order, the
gradient that reached its output and the gradients its rule sent to its inputs.

This is no second backward: it runs the engine's own pass (``minigen.autograd.engine``, the code behind
``loss.backward(trace=True)``) and keeps, instead of printing, what each traced step hands its printer.
It keeps the graph and leaves every ``.grad`` as it was (the engine's result is discarded; the pass is
run as ``grad()`` runs it, not accumulated as ``backward()`` does).  Values are host float64 copies.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass

import numpy as np

from minigen import backend
from minigen.autograd import engine
from minigen.autograd.tensor import Tensor


@dataclass
class Step:
    index: int                   # 0, 1, ... in execution order
    fn: object                   # the op (Function) whose rule ran
    grad_output: np.ndarray      # dL/d(output) that reached the op: the sum over every path
    grad_inputs: list            # per argument: dL/d(argument) sent by this op, or None (no gradient)


def _host(g) -> np.ndarray | None:
    if g is None:
        return None
    d = g.data if isinstance(g, Tensor) else g
    return np.array(backend.to_host(d), dtype=np.float64, copy=True)


@contextlib.contextmanager
def _keeping(steps: list):
    """Route the engine's per-step trace output into ``steps`` while the block runs."""
    printer = engine._print_step

    def keep(step, fn, gy, gxs):
        steps.append(Step(len(steps), fn, _host(gy), [_host(g) for g in gxs]))
    engine._print_step = keep
    try:
        yield
    finally:
        engine._print_step = printer


def record(loss: Tensor) -> list[Step]:
    """Every step of ``loss``'s backward pass (``loss`` a one-element tensor that requires grad)."""
    if not isinstance(loss, Tensor):
        raise TypeError(f"backward steps: expected a Tensor, got {type(loss).__name__}")
    if loss.data.size != 1:
        raise ValueError(f"backward steps: the loss must have one element (reduce it first, e.g. .mean()); "
                         f"this one has shape {loss.shape}")
    if loss.creator is None:
        raise ValueError("backward steps: this tensor was not computed by any recorded op (a leaf, or made "
                         "under no_grad()), so there is no backward pass to show")
    steps: list[Step] = []
    try:
        with _keeping(steps):
            engine._backprop([loss], [None], None, create_graph=False, retain_graph=True, trace=True)
    except RuntimeError as e:
        if "freed" in str(e):
            raise ValueError("backward steps: backward() already freed this graph; show it before backward(), "
                             "or call backward(retain_graph=True)") from e
        raise
    return steps
