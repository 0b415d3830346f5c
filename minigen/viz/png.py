"""A laid-out graph as a PNG through matplotlib (Agg): the same boxes, curves, marks and legend as the
SVG, in the same pixel coordinates (y down)."""
from __future__ import annotations

from pathlib import Path

from minigen.viz import style
from minigen.viz.layout import Layout
from minigen.viz.nodes import Graph
from minigen.viz.svg import LEGEND_H, legend_width, midpoint

DPI = 100                        # 1 px of the layout = 1/100 inch; saved at 2x for sharp text


def _curve_path(points):
    from matplotlib.path import Path as MPath
    verts, codes = [points[0]], [MPath.MOVETO]
    x0, y0 = points[0]
    for x1, y1 in points[1:]:
        my = (y0 + y1) / 2
        verts += [(x0, my), (x1, my), (x1, y1)]
        codes += [MPath.CURVE4] * 3
        x0, y0 = x1, y1
    return MPath(verts, codes)


def render(graph: Graph, lay: Layout, path, legend: bool = True, scale: float = 2.0) -> Path:
    """Write ``graph`` placed by ``lay`` to ``path`` as PNG (``scale`` x the layout's pixels)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    top = LEGEND_H if legend else 0.0
    width = max(lay.width, legend_width() if legend else 0.0)
    height = lay.height + top
    fig = plt.figure(figsize=(width / DPI, height / DPI), dpi=DPI)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, width)
    ax.set_ylim(height, 0)
    ax.axis("off")
    pt = 72.0 / DPI                                     # px -> points
    fs = style.FONT_SIZE * pt
    if legend:
        x = 12.0
        for kind, text in style.LEGEND:
            fill, border = style.COLORS[kind]
            ax.add_patch(FancyBboxPatch((x, 8), 14, 12, boxstyle="round,pad=0,rounding_size=3", fc=fill,
                                        ec=border, lw=1))
            ax.text(x + 19, 18, text, fontsize=fs, va="baseline")
            x += 19 + len(text) * style.CHAR_W + 14
        ax.plot([x, x + 22], [14, 14], color=style.SUMMED, lw=1.6 * pt, ls=(0, (5, 3)))
        ax.text(x + 27, 18, "gradient summed over broadcast axes (Σ)", fontsize=fs, va="baseline")
    for e, pts in zip(graph.edges, lay.routes):
        pts = [(px, py + top) for px, py in pts]
        color = style.SUMMED if e.summed else style.EDGE
        ax.add_patch(FancyArrowPatch(path=_curve_path(pts), arrowstyle="-|>", mutation_scale=9, color=color,
                                     lw=1.3 * pt * 1.4, ls="--" if e.summed else "-"))
        if e.summed:
            mx, my = midpoint(pts)
            ax.text(mx + 5, my + 4, style.summed_label(e.summed), color=style.SUMMED, fontsize=fs)
    for n in graph.nodes:
        (cx, cy), (w, h) = lay.pos[n.key], lay.size[n.key]
        cy += top
        fill, border = style.COLORS[n.kind]
        ax.add_patch(FancyBboxPatch((cx - w / 2, cy - h / 2), w, h,
                                    boxstyle=f"round,pad=0,rounding_size={4 if n.kind == 'op' else 9}",
                                    fc=fill, ec=border, lw=(2.6 if n.is_output else 1.2) * pt * 1.4,
                                    ls=(0, (3, 2)) if n.kind == "constant" else "-"))
        y = cy - h / 2 + style.PAD_Y + style.LINE_H * 0.78
        for j, line in enumerate(n.lines):
            ax.text(cx, y, line, ha="center", va="baseline", fontsize=fs,
                    fontweight="bold" if j == 0 and n.kind != "constant" else "normal")
            y += style.LINE_H
    path = Path(path)
    fig.savefig(path, dpi=DPI * scale, facecolor="white")
    plt.close(fig)
    return path
