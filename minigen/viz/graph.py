"""Draw the computation graph behind a tensor as Graphviz DOT text (and SVG/PNG when ``dot`` exists).

Tensors are ellipses (name or shape, dtype; orange when they require grad; their gradient's norm when
present); ops are boxes.  Edges run the way the forward pass did, so backward runs against them.
"""
from __future__ import annotations

import shutil
import subprocess
import warnings
from pathlib import Path

from minigen.autograd.tensor import Tensor
from minigen.backend import xp


def _tensor_label(t: Tensor) -> str:
    head = t.name or ("leaf" if t.creator is None else "")
    parts = [p for p in (head, f"{tuple(t.shape)} {t.dtype}") if p]
    if t.data.size == 1:
        parts.append(f"value {float(t.data.reshape(-1)[0]):.4g}")
    if t.grad is not None:
        parts.append(f"|grad| {float(xp.sqrt((t.grad.data.astype(xp.float64) ** 2).sum())):.4g}")
    return "\\n".join(parts)


def graph(output: Tensor, path: str | None = None) -> str:
    """The graph that produced ``output`` as DOT text.  With ``path`` ending in .svg or .png, also render
    it with the ``dot`` program (a clear error says how to install it when it is missing).

    Draw before ``backward()``, or call ``backward(retain_graph=True)``: backward frees the graph, and a
    freed op is drawn as a red box that says so.  Node names are numbered in the order they are found,
    so the same graph gives the same text on every run."""
    ids: dict = {}

    def nid(obj, prefix):
        return ids.setdefault(id(obj), f"{prefix}{len(ids)}")

    lines = ["digraph minigen {", '  rankdir=LR; node [fontname="Helvetica", fontsize=10];']
    seen, stack, freed = set(), [output], False
    while stack:   # iterative: deep graphs are fine
        t = stack.pop()
        if id(t) in seen:
            continue
        seen.add(id(t))
        color = "orange" if t.requires_grad else "lightgray"
        lines.append(f'  {nid(t, "t")} [label="{_tensor_label(t)}", shape=ellipse, style=filled, fillcolor={color}];')
        fn = t.creator
        if fn is None:
            continue
        if fn.inputs is None:          # released by a backward() without retain_graph=True
            freed = True
            lines.append(f'  {nid(fn, "f")} [label="{fn.name}\\n(inputs freed by backward)", shape=box, '
                         'style=filled, fillcolor=salmon];')
        else:
            lines.append(f'  {nid(fn, "f")} [label="{fn.name}", shape=box, style=filled, fillcolor=lightblue];')
        lines.append(f"  {nid(fn, 'f')} -> {nid(t, 't')};")
        for a in fn.inputs or ():
            if isinstance(a, Tensor):
                lines.append(f"  {nid(a, 't')} -> {nid(fn, 'f')};")
                stack.append(a)
    lines.append("}")
    if freed:
        warnings.warn("minigen.viz.graph: part of the graph was freed by backward(); draw it before backward() "
                      "or call backward(retain_graph=True)", stacklevel=2)
    dot = "\n".join(dict.fromkeys(lines))   # an op reached twice is listed once
    if path is not None:
        render(dot, path)
    return dot


def render(dot: str, path: str) -> Path:
    """Write DOT text as .dot, or render it to .svg / .png with Graphviz's ``dot``."""
    path = Path(path)
    fmt = path.suffix.lstrip(".")
    if fmt in ("dot", "gv", ""):
        path.write_text(dot)
        return path
    exe = shutil.which("dot")
    if exe is None:
        raise RuntimeError(f"rendering {path.name} needs Graphviz's 'dot' program, which is not installed "
                           "(apt-get install graphviz / brew install graphviz); the DOT text itself is "
                           "returned by minigen.viz.graph(t) and can be pasted into any Graphviz viewer, and "
                           "minigen.viz.draw(t, path) draws .svg / .png without Graphviz")
    subprocess.run([exe, f"-T{fmt}", "-o", str(path)], input=dot.encode(), check=True)
    return path
