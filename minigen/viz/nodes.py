"""The graph behind a tensor as plain nodes and edges, the one description every picture is drawn from.

An op and the tensor it made are one node (the op's name, then the tensor's name, shape, value if it is
a scalar, and its gradient's norm when ``.grad`` is kept); leaves are parameters (``nn.Parameter``) or
inputs (any other leaf tensor); a non-tensor argument (a Python number, a raw array) is a constant.
Edges run the way the forward pass did, input -> op.  An edge whose gradient the op's backward sums over
broadcast axes carries those axes (``Edge.summed``), e.g. a bias (out,) added to rows (N, out)::

    y = x + b,  b (1, 4) -> y (3, 4)     gb = sum over axis 0 of gy     Edge.summed == (0,)
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from minigen import backend
from minigen.autograd.tensor import Tensor

#: the largest graph drawn by default: past it a picture is a hairball, not an explanation
MAX_NODES = 120


@dataclass
class Node:
    key: str                     # "n0", "n1", ... in the order found from the output: stable across runs
    kind: str                    # "op", "parameter", "input" or "constant"
    title: str                   # the op's name, or the leaf's name ("input" / "parameter" when it has none)
    name: str | None = None      # the tensor's name
    shape: tuple | None = None   # the tensor's shape (None for a Python number)
    value: float | None = None   # the value of a one-element tensor or a number
    grad_norm: float | None = None   # |.grad| when the tensor keeps its gradient
    requires_grad: bool = False
    is_output: bool = False
    fn: object = None            # the Function of an op node
    tensor: Tensor | None = None  # the tensor (an op's output, a leaf); None for a constant

    @property
    def lines(self) -> list[str]:
        """The label, one entry per line: title, name, shape, value, gradient norm."""
        if self.kind == "constant":          # a number is its own label
            return [f"{self.value:.4g}"] if self.value is not None else [self.title, str(self.shape)]
        out = [self.title]
        if self.kind == "op" and self.name:
            out.append(self.name)
        if self.shape is not None:
            out.append("scalar" if self.shape == () else str(self.shape))
        if self.value is not None:
            out.append(f"= {self.value:.4g}")
        if self.grad_norm is not None:
            out.append(f"|grad| {self.grad_norm:.4g}")
        return out


@dataclass
class Edge:
    src: str                     # the input's node
    dst: str                     # the op's node
    arg: int                     # which argument of the op
    summed: tuple = ()           # axes of the op's output the backward sums over for this input
    grad: bool = False           # whether a gradient flows back along it


@dataclass
class Graph:
    nodes: list = field(default_factory=list)
    edges: list = field(default_factory=list)

    def node(self, key: str) -> Node:
        return self._by_key[key]

    def __post_init__(self):
        self._by_key = {n.key: n for n in self.nodes}


def grad_norm(t: Tensor) -> float | None:
    """|t.grad| (float64 on the host), or None when ``t`` keeps no gradient."""
    if t.grad is None:
        return None
    return float(np.linalg.norm(np.asarray(backend.to_host(t.grad.data), np.float64)))


def _scalar(a) -> float | None:
    if isinstance(a, (int, float)) and not isinstance(a, bool):
        return float(a)
    if getattr(a, "size", None) == 1:
        return float(np.asarray(backend.to_host(a)).reshape(-1)[0])
    return None


def summed_axes(fn, arg: int, in_shape: tuple, out_shape: tuple) -> tuple:
    """The axes of the output over which ``fn``'s backward sums the gradient of argument ``arg``.

    Elementwise ops broadcast like NumPy (an axis missing in the input, or 1 there and > 1 in the output); matmul
    broadcasts only its batch axes; linear's bias (argument 2) is added to every row.
    """
    name = type(fn).__name__
    if name == "Linear":
        return tuple(range(len(out_shape) - 1)) if arg == 2 else ()
    if not getattr(fn, "broadcasts", False):
        return ()
    if name == "MatMul":
        in_shape, out_shape = in_shape[:-2], out_shape[:-2]
    lead = len(out_shape) - len(in_shape)
    # a missing leading axis is summed away even when it has one entry; a kept axis of 1 only when it grew
    return tuple(i for i, n in enumerate(out_shape)
                 if i < lead or (n > 1 and in_shape[i - lead] == 1)) if lead >= 0 else ()


def collect(output: Tensor, max_nodes: int | None = MAX_NODES) -> Graph:
    """The graph that produced ``output``, nodes numbered from the output back (depth first).

    Raises ValueError when ``output`` is not a Tensor, when backward() already freed the graph, or when
    it has more than ``max_nodes`` nodes (None: no limit).
    """
    if not isinstance(output, Tensor):
        raise TypeError(f"minigen.viz: expected the Tensor whose graph to draw, got {type(output).__name__}")
    from minigen.nn.module import Parameter  # here: minigen.nn imports after minigen.viz
    nodes, edges, keys = [], [], {}

    def add(t: Tensor) -> tuple[str, bool]:
        k = keys.get(id(t))
        if k is not None:
            return k, False
        k = keys[id(t)] = f"n{len(keys)}"
        fn = t.creator
        value = _scalar(t.data)
        if fn is not None:
            if fn.inputs is None:
                raise ValueError("minigen.viz: backward() already freed the graph behind this tensor (at "
                                 f"{fn.name}); draw before backward(), or call backward(retain_graph=True)")
            node = Node(k, "op", fn.name, t.name, t.shape, value, grad_norm(t), t.requires_grad, fn=fn, tensor=t)
        else:
            kind = "parameter" if isinstance(t, Parameter) else "input"
            node = Node(k, kind, t.name or kind, t.name, t.shape, value, grad_norm(t), t.requires_grad, tensor=t)
        nodes.append(node)
        if max_nodes is not None and len(nodes) > max_nodes:
            raise ValueError(f"minigen.viz: the graph has more than {max_nodes} nodes, too many for a picture "
                             "that explains anything; draw a smaller part (an intermediate tensor, or a "
                             "smaller model or batch of the same code), or pass max_nodes=None to draw it anyway")
        return k, True

    root, _ = add(output)
    nodes[0].is_output = True
    stack = [(root, output)]
    while stack:                     # iterative: a deep chain is fine
        key, t = stack.pop()
        fn = t.creator
        if fn is None:
            continue
        for i, a in enumerate(fn.inputs):
            if isinstance(a, Tensor):
                k, new = add(a)
                edges.append(Edge(k, key, i, summed_axes(fn, i, a.shape, t.shape) if fn.needs_grad[i] else (),
                                  bool(fn.needs_grad[i])))
                if new:
                    stack.append((k, a))
            elif a is not None:
                k = f"n{len(keys)}"
                keys[("const", k)] = k
                shape = tuple(a.shape) if hasattr(a, "shape") and getattr(a, "size", 1) != 1 else None
                nodes.append(Node(k, "constant", "const", shape=shape, value=_scalar(a)))
                edges.append(Edge(k, key, i))
    return Graph(nodes, edges)
