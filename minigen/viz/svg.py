"""A laid-out graph as SVG text, written directly (no library): a box per node, a curve per edge, a legend.

Ids are stable for the backward page's script: ``node-<key>`` for a node's group, ``edge-<i>`` for the
i-th edge of the graph (with ``data-src`` / ``data-dst``).
"""
from __future__ import annotations

from xml.sax.saxutils import escape

from minigen.viz import style
from minigen.viz.layout import Layout
from minigen.viz.nodes import Graph

LEGEND_H = 28.0


def curve(points: list) -> str:
    """An SVG path through ``points`` with vertical tangents at each (Graphviz-like splines)."""
    (x0, y0), rest = points[0], points[1:]
    d = [f"M{x0:.1f},{y0:.1f}"]
    for x1, y1 in rest:
        my = (y0 + y1) / 2
        d.append(f"C{x0:.1f},{my:.1f} {x1:.1f},{my:.1f} {x1:.1f},{y1:.1f}")
        x0, y0 = x1, y1
    return " ".join(d)


def midpoint(points: list) -> tuple:
    """A point half way along the route (by segment count): where an edge's mark goes."""
    if len(points) % 2:
        return points[len(points) // 2]
    (a, b), (c, d) = points[len(points) // 2 - 1], points[len(points) // 2]
    return (a + c) / 2, (b + d) / 2


def _legend(width: float) -> list[str]:
    out, x = [], 12.0
    for kind, text in style.LEGEND:
        fill, border = style.COLORS[kind]
        out.append(f'<rect x="{x:.1f}" y="8" width="14" height="12" rx="3" fill="{fill}" stroke="{border}"/>')
        out.append(f'<text x="{x + 19:.1f}" y="18">{escape(text)}</text>')
        x += 19 + len(text) * style.CHAR_W + 14
    out.append(f'<line x1="{x:.1f}" y1="14" x2="{x + 22:.1f}" y2="14" stroke="{style.SUMMED}" '
               'stroke-width="1.6" stroke-dasharray="5,3"/>')
    out.append(f'<text x="{x + 27:.1f}" y="18">gradient summed over broadcast axes (Σ)</text>')
    return out


def legend_width() -> float:
    return 12 + sum(19 + len(t) * style.CHAR_W + 14 for _, t in style.LEGEND) + 27 + 40 * style.CHAR_W


def render(graph: Graph, lay: Layout, legend: bool = True) -> str:
    """The SVG document of ``graph`` placed by ``lay``."""
    top = LEGEND_H if legend else 0.0
    width = max(lay.width, legend_width() if legend else 0.0)
    height = lay.height + top
    out = [(f'<svg xmlns="http://www.w3.org/2000/svg" class="minigen-graph" width="{width:.0f}" '
            f'height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" font-family="{style.FONT}" '
            f'font-size="{style.FONT_SIZE:g}">'),
           "<defs>"]
    for name, color in (("arrow", style.EDGE), ("arrow-summed", style.SUMMED), ("arrow-hl", style.HIGHLIGHT)):
        out.append(f'<marker id="{name}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="9" '
                   f'markerHeight="9" markerUnits="userSpaceOnUse" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
                   f'fill="{color}"/></marker>')
    out.append("</defs>")
    out.append(f'<rect width="{width:.0f}" height="{height:.0f}" fill="white"/>')
    if legend:
        out.append('<g class="legend">' + "".join(_legend(width)) + "</g>")
    out.append(f'<g transform="translate(0,{top:.0f})">')
    for i, (e, pts) in enumerate(zip(graph.edges, lay.routes)):
        summed = bool(e.summed)
        color, marker = (style.SUMMED, "arrow-summed") if summed else (style.EDGE, "arrow")
        dash = ' stroke-dasharray="5,3"' if summed else ""
        cls = "edge summed" if summed else "edge"
        out.append(f'<path id="edge-{i}" class="{cls}" data-src="{e.src}" data-dst="{e.dst}" '
                   f'd="{curve(pts)}" fill="none" stroke="{color}" stroke-width="1.3"{dash} '
                   f'marker-end="url(#{marker})"/>')
        if summed:
            mx, my = midpoint(pts)
            out.append(f'<text class="edge-mark" x="{mx + 5:.1f}" y="{my + 4:.1f}" fill="{style.SUMMED}">'
                       f'{escape(style.summed_label(e.summed))}</text>')
    for n in graph.nodes:
        (cx, cy), (w, h) = lay.pos[n.key], lay.size[n.key]
        fill, border = style.COLORS[n.kind]
        width_px = 2.6 if n.is_output else 1.2
        dash = ' stroke-dasharray="3,2"' if n.kind == "constant" else ""
        out.append(f'<g id="node-{n.key}" class="node {n.kind}" data-key="{n.key}">')
        out.append(f'<title>{escape(" | ".join(n.lines))}</title>')
        out.append(f'<rect x="{cx - w / 2:.1f}" y="{cy - h / 2:.1f}" width="{w:.1f}" height="{h:.1f}" '
                   f'rx="{4 if n.kind == "op" else 9}" fill="{fill}" stroke="{border}" '
                   f'stroke-width="{width_px}"{dash}/>')
        y = cy - h / 2 + style.PAD_Y + style.LINE_H * 0.78
        for j, line in enumerate(n.lines):
            weight = ' font-weight="bold"' if j == 0 and n.kind != "constant" else ""
            out.append(f'<text x="{cx:.1f}" y="{y:.1f}" text-anchor="middle"{weight}>{escape(line)}</text>')
            y += style.LINE_H
        out.append("</g>")
    out.append("</g></svg>")
    return "\n".join(out)
