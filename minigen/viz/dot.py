"""The node graph of :mod:`minigen.viz.nodes` as Graphviz DOT text, with the same labels, colours and
broadcast marks as the pure-Python pictures: what ``draw`` hands to Graphviz's ``dot`` when it exists."""
from __future__ import annotations

from minigen.viz import style
from minigen.viz.nodes import Graph


def _q(*lines: str) -> str:
    """A quoted DOT string, one label line per argument."""
    return '"' + "\\n".join(s.replace("\\", "\\\\").replace('"', '\\"') for s in lines) + '"'


def to_dot(graph: Graph) -> str:
    """DOT text, top to bottom, one box per node and one arrow per edge (in the graph's order)."""
    lines = ["digraph minigen {",
             (f'  rankdir=TB; node [fontname="DejaVu Sans", fontsize={style.FONT_SIZE:g}, shape=box, '
              'style="rounded,filled"]; '
              f'edge [arrowsize=0.7, fontname="DejaVu Sans", fontsize={style.FONT_SIZE:g}];')]
    for n in graph.nodes:
        fill, border = style.COLORS[n.kind]
        extra = ', penwidth=2.6' if n.is_output else ""
        extra += ', style="rounded,filled,dashed"' if n.kind == "constant" else ""
        lines.append(f'  {n.key} [label={_q(*n.lines)}, fillcolor="{fill}", color="{border}"{extra}];')
    for e in graph.edges:
        if e.summed:
            lines.append(f'  {e.src} -> {e.dst} [color="{style.SUMMED}", style=dashed, '
                         f'label={_q(style.summed_label(e.summed))}, fontcolor="{style.SUMMED}"];')
        else:
            lines.append(f'  {e.src} -> {e.dst} [color="{style.EDGE}"];')
    lines.append("}")
    return "\n".join(lines)
