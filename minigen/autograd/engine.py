"""The backward pass: walk the graph from the output in reverse topological order, calling each op's
backward rule and summing the gradients that meet at a tensor (the multivariate chain rule)::

    dL/dx = sum over the ops f that consumed x of  (df/dx)^T  dL/df

The order comes from an iterative depth-first search (no recursion limit: a chain of 100,000 ops works),
and each op runs once, after every op that consumed its output.
"""
from __future__ import annotations

from minigen.autograd.function import Function, _check_finite
from minigen.autograd.mode import mode
from minigen.autograd.tensor import Tensor
from minigen import backend
from minigen.backend import xp

_FREED = None   # Function.inputs after the graph was released


def _topological_order(roots) -> list:
    """Functions reachable from ``roots``, each after all the functions that feed it (post-order)."""
    order, seen = [], set()
    stack = [(t.creator, False) for t in roots if t.creator is not None]
    while stack:
        fn, expanded = stack.pop()
        if expanded:
            order.append(fn)
            continue
        if fn in seen:
            continue
        if fn.inputs is _FREED:
            raise RuntimeError(
                f"backward through {fn.name} a second time: its graph was freed by the first backward. "
                "Pass retain_graph=True to the first backward() if you need to backpropagate twice.")
        seen.add(fn)
        stack.append((fn, True))
        for a in fn.inputs:
            if isinstance(a, Tensor) and a.creator is not None and a.creator not in seen:
                stack.append((a.creator, False))
    return order


def _seed(root: Tensor, g, create_graph: bool):
    if not root.requires_grad:
        raise RuntimeError("backward(): this tensor does not require grad: none of the tensors it was "
                           "computed from has requires_grad=True, or it was computed under no_grad()")
    if g is None:
        if root.data.size != 1:
            raise RuntimeError(
                f"backward() on a tensor of shape {root.shape} needs the gradient of a scalar: pass "
                f"grad= (an array of shape {root.shape}, e.g. ones for d(sum)/d(.)) or reduce first, "
                "e.g. loss.mean().backward()")
        g = xp.ones_like(root.data)
    else:
        if tuple(g.shape) != root.shape:
            raise ValueError(f"backward(): grad has shape {tuple(g.shape)} but the tensor has shape "
                             f"{root.shape}")
        if isinstance(g, Tensor):
            if create_graph:
                return g                  # a recorded upstream gradient: its graph is kept
            g = g.data
        g = xp.asarray(g, dtype=root.dtype)
    return Tensor._make(g) if create_graph else g


def _norm(g) -> float:
    d = g.data if isinstance(g, Tensor) else g
    return float(xp.sqrt((d.astype(xp.float64) ** 2).sum())) if d.size else 0.0


def _backprop(roots, seeds, sinks, create_graph: bool, retain_graph: bool, trace: bool) -> dict:
    """Run the backward pass and return ``{id(tensor): (tensor, gradient)}`` for every sink tensor.

    ``sinks`` is a set of tensor ids whose gradient to collect, or ``None`` for "every leaf that
    requires grad, and every tensor marked ``retain_grad()``" (the ``backward()`` case).
    """
    order = _topological_order(roots)
    full = sinks is None
    if not full:     # grad(): only ops with a path to a requested input, only their inputs on that path
        needed: dict = {}     # fn -> which of its inputs lie on a path to a requested input
        for fn in order:
            needs = tuple(isinstance(a, Tensor) and a.requires_grad and (id(a) in sinks or a.creator in needed)
                          for a in fn.inputs)
            if any(needs):
                needed[fn] = needs
    out: dict = {}
    pending: dict = {}
    for r, g in zip(roots, seeds):
        g = _seed(r, g, create_graph)
        if r.creator is None or r._retain or (not full and id(r) in sinks):
            k = id(r)          # the same tensor may be passed twice
            out[k] = (r, out[k][1] + g) if k in out else (r, g)
        if r.creator is not None:
            pending[r.creator] = pending[r.creator] + g if r.creator in pending else g

    prev, mode.grad_enabled = mode.grad_enabled, create_graph
    try:
        for step, fn in enumerate(reversed(order)):
            gy = pending.pop(fn, None)
            if gy is None or not (full or fn in needed):
                continue
            inputs, y = fn.inputs, fn._out()
            needs = fn.needs_grad if full else needed[fn]
            fn.needs_grad = needs      # rules consult it to skip unneeded work
            if create_graph:
                gxs = fn.backward(gy, *inputs, y)
            else:
                gxs = fn.backward(gy, *[a.data if isinstance(a, Tensor) else a for a in inputs], y.data)
            if type(gxs) is not tuple:
                gxs = (gxs,)
            if trace:
                _print_step(step, fn, inputs, y, gy, gxs)
            if not full:
                fn.needs_grad = tuple(isinstance(a, Tensor) and a.requires_grad for a in inputs)   # restore
            for a, gx, need in zip(inputs, gxs, needs):
                if not need or gx is None:
                    continue
                if create_graph and not isinstance(gx, Tensor):
                    gx = Tensor._make(gx)
                ad = a.data
                if gx.shape != ad.shape:
                    raise RuntimeError(f"{fn.name}.backward returned a gradient of shape {tuple(gx.shape)} "
                                       f"for an input of shape {a.shape}")
                if gx.dtype != ad.dtype:     # e.g. float64 constants met a float32 input
                    gx = gx.astype(ad.dtype)
                if mode.anomaly:
                    _check_finite(gx.data if isinstance(gx, Tensor) else gx, f"{fn.name} backward")
                c = a.creator
                if c is None or a._retain or (not full and id(a) in sinks):
                    k = id(a)
                    out[k] = (a, out[k][1] + gx) if k in out else (a, gx)
                if c is not None and (full or c in needed):
                    pending[c] = pending[c] + gx if c in pending else gx
    finally:
        mode.grad_enabled = prev

    if not retain_graph:
        for fn in order:
            fn.inputs = _FREED
            fn._out = None
            if fn.saved is not None:
                fn.saved = None
    return out


def run_backward(roots, grads, retain_graph=False, create_graph=False, trace=False) -> None:
    """``Tensor.backward``: accumulate into ``.grad`` of the leaves (and of ``retain_grad()`` tensors)."""
    if trace:
        print(f"backward from {roots[0].creator.name if roots[0].creator else 'leaf'} "
              f"{roots[0].shape}: steps in execution order")
    got = _backprop(roots, grads, None, create_graph, retain_graph, trace)
    for t, g in got.values():
        if not t.requires_grad:
            continue
        if t.grad is None:
            if not isinstance(g, Tensor) and not getattr(g.flags, "writeable", True):
                g = g.copy()                  # a broadcast view: the grad must be an array of its own
            t.grad = g if isinstance(g, Tensor) else Tensor._make(g)
        elif isinstance(g, Tensor):         # create_graph: the sum is recorded too
            t.grad = t.grad + g
        else:
            # out of place (a gradient array may be shared by two leaves); NumPy makes 0-d sums scalars
            t.grad.data = backend.scalar_to_array(t.grad.data + g)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         allow_unused=False) -> tuple:
    """Gradients of ``outputs`` with respect to ``inputs``, returned (``.grad`` is left alone).

    ``create_graph=True`` records the computation, so the result can be differentiated again; that is
    how gradient penalties (WGAN-GP, R1) are trained.  Returns a tuple with one Tensor per input.
    """
    single = isinstance(outputs, Tensor)
    outputs = [outputs] if single else list(outputs)
    inputs_t = isinstance(inputs, Tensor)
    inputs = [inputs] if inputs_t else list(inputs)
    if grad_outputs is None or isinstance(grad_outputs, Tensor) or hasattr(grad_outputs, "shape"):
        grad_outputs = [grad_outputs] * len(outputs) if grad_outputs is None else [grad_outputs]
    for i, t in enumerate(inputs):
        if not isinstance(t, Tensor) or not t.requires_grad:
            raise ValueError(f"grad(): input {i} does not require grad; create it with requires_grad=True")
    got = _backprop(outputs, list(grad_outputs), {id(t) for t in inputs}, create_graph,
                    create_graph if retain_graph is None else retain_graph, trace=False)
    result = []
    for i, t in enumerate(inputs):
        if id(t) in got:
            g = got[id(t)][1]
            result.append(g if isinstance(g, Tensor) else Tensor._make(g))
        elif allow_unused:
            result.append(None)
        else:
            raise RuntimeError(f"grad(): input {i} (shape {t.shape}) was not used to compute the outputs; "
                               "pass allow_unused=True to get None for it")
    return tuple(result)


def _print_step(step, fn: Function, inputs, y, gy, gxs):
    ins = ", ".join((f"{a.name}{tuple(a.shape)}" if a.name else str(tuple(a.shape))) if isinstance(a, Tensor)
                    else type(a).__name__ for a in inputs)
    outs = ", ".join("-" if g is None else f"{_norm(g):.4g}" for g in gxs)
    line = f"  [{step:3d}] {fn.name:<20s} ({ins}) -> {tuple(y.shape)}   |grad in| {_norm(gy):.4g}   |grads out| {outs}"
    if fn.broadcasts:
        notes = [f"input {i}: summed {tuple(y.shape)} -> {tuple(a.shape)}"
                 for i, a in enumerate(inputs) if isinstance(a, Tensor) and tuple(a.shape) != tuple(y.shape)]
        if notes:
            line += "   broadcast " + "; ".join(notes)
    print(line)


def trace_backward(loss: Tensor, **kwargs) -> None:
    """Run ``loss.backward()`` printing every step (op, shapes, gradient norms, broadcast sums)."""
    loss.backward(trace=True, **kwargs)
