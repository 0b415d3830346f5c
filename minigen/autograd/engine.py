"""The backward pass: walk the graph from the output in reverse topological order, calling each op's
backward rule and summing the gradients that meet at a tensor (the multivariate chain rule)::

    dL/dx = sum over the ops f that consumed x of  (df/dx)^T  dL/df

The order comes from an iterative depth-first search (no recursion limit: a chain of 100,000 ops works),
and each op runs once, after every op that consumed its output.
"""
from __future__ import annotations

from minigen import backend
from minigen.autograd.function import Function, _check_finite
from minigen.autograd.mode import mode
from minigen.autograd.tensor import Tensor
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
    """The backward pass: ``{id(tensor): (tensor, gradient)}`` for the tensors whose gradient is kept.

    ``sinks``: the ids of the tensors ``grad()`` asks for, or ``None`` for ``backward()`` (every leaf
    that requires grad and every ``retain_grad()`` tensor).
    """
    order = _topological_order(roots)
    plan = None if sinks is None else _prune(order, sinks)      # backward(): every recorded need
    grads, pending = {}, {}          # id(tensor) -> (tensor, gradient); op -> gradient of its output
    for r, g in zip(roots, seeds):
        _deliver(r, _seed(r, g, create_graph), sinks, grads, pending)
    prev, mode.grad_enabled = mode.grad_enabled, create_graph    # create_graph: the rules' ops are recorded
    try:
        for step, fn in enumerate(reversed(order)):
            gy, needs = pending.pop(fn, None), fn.needs_grad if plan is None else plan.get(fn)
            if gy is None or needs is None:
                continue
            gxs = _call_rule(fn, needs, gy, create_graph)
            if trace:
                _print_step(step, fn, gy, gxs)
            for a, gx, need in zip(fn.inputs, gxs, needs):
                if need and gx is not None:
                    if ((create_graph and not isinstance(gx, Tensor)) or mode.anomaly
                            or gx.shape != a.data.shape or gx.dtype != a.data.dtype):
                        gx = _fit(fn, a, gx, create_graph)      # wrap, cast or refuse: off the common path
                    _deliver(a, gx, sinks, grads, pending)
            if not retain_graph:     # what this op kept goes now, not at the end: a lower peak, as in PyTorch
                _release(fn)
    finally:
        mode.grad_enabled = prev
    if not retain_graph:
        _free(order)
    return grads


def _prune(order, sinks) -> dict:
    """``grad()``'s plan: for each op with a path to a requested tensor, which of its inputs lie on one.

    Only those get a gradient: ``grad(D(x), x)`` of a gradient penalty computes no weight gradients.
    """
    plan: dict = {}
    for fn in order:                 # an op's inputs come before it
        needs = tuple(isinstance(a, Tensor) and a.requires_grad and (id(a) in sinks or a.creator in plan)
                      for a in fn.inputs)
        if any(needs):
            plan[fn] = fn.needs_grad if needs == fn.needs_grad else needs
    return plan


def _call_rule(fn: Function, needs: tuple, gy, create_graph: bool) -> tuple:
    """``fn``'s backward rule for the inputs in ``needs``: on Tensors under create_graph (recorded), else
    on raw arrays."""
    if needs is not fn.needs_grad:   # pruned by grad(): ask a copy, the graph's node stays as recorded
        fn = fn.narrowed(needs)
    if create_graph:
        gxs = fn.backward(gy, *fn.inputs, fn._out())
    else:
        gxs = fn.backward(gy, *[a.data if isinstance(a, Tensor) else a for a in fn.inputs], fn._out().data)
    return gxs if type(gxs) is tuple else (gxs,)


def _fit(fn: Function, a: Tensor, gx, create_graph: bool):
    """``gx`` checked as the gradient of input ``a``: its shape, its dtype, finite under anomaly mode."""
    if create_graph and not isinstance(gx, Tensor):
        gx = Tensor._make(gx)
    ad = a.data
    if gx.shape != ad.shape:
        raise RuntimeError(f"{fn.name}.backward returned a gradient of shape {tuple(gx.shape)} "
                           f"for an input of shape {a.shape}")
    if gx.dtype != ad.dtype:         # e.g. float64 constants met a float32 input
        gx = gx.astype(ad.dtype)
    if mode.anomaly:
        _check_finite(gx.data if isinstance(gx, Tensor) else gx, f"{fn.name} backward")
    return gx


def _deliver(t: Tensor, g, sinks, grads: dict, pending: dict) -> None:
    """Gradient ``g`` reaches tensor ``t``: keep it if ``t`` is wanted, and pass it to the op that made
    ``t`` (gradients meeting at a tensor add up: the multivariate chain rule)."""
    if (t.creator is None or t._retain) if sinks is None else id(t) in sinks:
        k = id(t)                    # the same tensor may be reached twice
        grads[k] = (t, grads[k][1] + g) if k in grads else (t, g)
    c = t.creator
    if c is not None:
        pending[c] = pending[c] + g if c in pending else g


def _release(fn: Function) -> None:
    """Drop what ``fn`` kept for its backward (inputs, output, saved arrays) once its rule has run.  An input
    made by an op whose rule is still to run is handed to that op (``_kept``), since a node only holds its
    own output by a weak reference and its rule may need it (sigmoid's y)."""
    for a in fn.inputs:
        if isinstance(a, Tensor) and a.creator is not None and a.creator.inputs is not _FREED:
            a.creator._kept = a
    fn.inputs, fn._out, fn.saved, fn._kept = _FREED, None, None, None


def _free(order) -> None:
    """Release what each op kept for its backward (inputs, output, saved arrays): the memory goes now."""
    for fn in order:
        fn.inputs, fn._out, fn.saved, fn._kept = _FREED, None, None, None


def run_backward(roots, grads, retain_graph=False, create_graph=False, trace=False) -> None:
    """``Tensor.backward``: accumulate into ``.grad`` of the leaves (and of ``retain_grad()`` tensors)."""
    if trace:
        print(f"backward from {roots[0].creator.name if roots[0].creator else 'leaf'} "
              f"{roots[0].shape}: steps in execution order")
    got = _backprop(roots, grads, None, create_graph, retain_graph, trace)
    claimed = {id(g.data if isinstance(g, Tensor) else g) for g in grads}  # the caller's stay theirs
    for t, g in got.values():
        if not t.requires_grad:
            continue
        if t.grad is None:
            if not isinstance(g, Tensor):
                # .grad is updated in place (clipping, optimizers): it must own its memory, so a view
                # (a broadcast's zero strides) or an array another tensor already holds is copied
                if not g.flags.owndata or id(g) in claimed:
                    g = g.copy()
                claimed.add(id(g))
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


def _print_step(step, fn: Function, gy, gxs):
    inputs, y = fn.inputs, fn._out()
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
