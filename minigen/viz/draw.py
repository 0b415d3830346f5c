"""``minigen.viz.draw(tensor, "graph.svg" | "graph.png" | "graph.dot")``: a picture of the graph behind a
tensor with nothing but matplotlib installed.

The layout is computed in Python (:mod:`minigen.viz.layout`), the SVG written directly
(:mod:`minigen.viz.svg`), the PNG drawn with matplotlib (:mod:`minigen.viz.png`).  Where Graphviz's ``dot``
program is installed, ``engine="auto"`` hands it the same nodes, labels and colours
(:mod:`minigen.viz.dot`) instead; ``engine="python"`` never uses it.  Draw before ``backward()``, or after
``backward(retain_graph=True)`` to see each kept gradient's norm.
"""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from minigen.autograd.tensor import Tensor
from minigen.viz import style
from minigen.viz.layout import Layout, layout
from minigen.viz.nodes import MAX_NODES, Graph, collect

ENGINES = ("auto", "python", "graphviz")
FORMATS = ("svg", "png", "dot", "gv")


def lay_out(graph: Graph) -> Layout:
    """Each node's box sized by its label, then placed."""
    return layout({n.key: style.box_size(n.lines) for n in graph.nodes}, [(e.src, e.dst) for e in graph.edges])


def svg_text(output: Tensor, max_nodes: int | None = MAX_NODES) -> str:
    """The picture as SVG text (for a notebook: ``IPython.display.SVG(svg_text(loss))``)."""
    from minigen.viz import svg
    graph = collect(output, max_nodes)
    return svg.render(graph, lay_out(graph))


def draw(output: Tensor, path, engine: str = "auto", max_nodes: int | None = MAX_NODES) -> Path:
    """Write the graph that produced ``output`` to ``path`` (.svg, .png, or .dot for the DOT text).

    ``engine``: ``"auto"`` (Graphviz when its ``dot`` program is installed, else Python), ``"python"``
    or ``"graphviz"`` (an error says how to install it when missing).  A graph with more than
    ``max_nodes`` nodes is refused (None: no limit).  Returns the path written.
    """
    path = Path(path)
    fmt = path.suffix.lstrip(".").lower()
    if fmt not in FORMATS:
        raise ValueError(f"draw: cannot write {path.name!r}; the file name must end in "
                         + ", ".join("." + f for f in FORMATS))
    if engine not in ENGINES:
        raise ValueError(f"draw: engine must be one of {ENGINES}, got {engine!r}")
    graph = collect(output, max_nodes)
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt in ("dot", "gv"):
        from minigen.viz.dot import to_dot
        path.write_text(to_dot(graph))
        return path
    exe = shutil.which("dot") if engine != "python" else None
    if engine == "graphviz" and exe is None:
        raise RuntimeError("draw(engine='graphviz') needs Graphviz's 'dot' program, which is not installed "
                           "(apt-get install graphviz / brew install graphviz); engine='python' needs nothing")
    if exe is not None:
        from minigen.viz.dot import to_dot
        subprocess.run([exe, f"-T{fmt}", "-o", str(path)], input=to_dot(graph).encode(), check=True)
        return path
    lay = lay_out(graph)
    if fmt == "svg":
        from minigen.viz import svg
        path.write_text(svg.render(graph, lay), encoding="utf-8")
        return path
    from minigen.viz import png
    return png.render(graph, lay, path)
