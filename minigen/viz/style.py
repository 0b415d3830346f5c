"""The look of a graph picture, shared by the SVG, the PNG, the DOT text and the backward page: colours per
kind of node, the font, and each node's box size from its label (so every renderer lays out the same
boxes)."""
from __future__ import annotations

FONT = "DejaVu Sans, Helvetica, Arial, sans-serif"
FONT_SIZE = 11.0                  # px
CHAR_W = 6.4                      # px: a generous mean advance of DejaVu Sans at 11 px (labels never overflow)
LINE_H = 14.0                     # px
PAD_X, PAD_Y = 8.0, 5.0

#: kind -> (fill, border); an op is blue, what training changes is orange, data is green, numbers grey
COLORS = {
    "op": ("#dbe9f6", "#3d6fa3"),
    "parameter": ("#fde2c2", "#c26a00"),
    "input": ("#dcf0d5", "#3f8a32"),
    "constant": ("#eeeeee", "#8a8a8a"),
}
EDGE = "#555555"
SUMMED = "#b5006b"                # an edge whose gradient is summed over broadcast axes
HIGHLIGHT = "#e8590c"

LEGEND = [("op", "op (and the tensor it made)"), ("parameter", "parameter"), ("input", "input"),
          ("constant", "constant")]


def box_size(lines: list[str]) -> tuple[float, float]:
    """(w, h) in px of a node whose label has these lines."""
    w = max(len(s) for s in lines) * CHAR_W + 2 * PAD_X
    return max(w, 34.0), len(lines) * LINE_H + 2 * PAD_Y


def summed_label(axes: tuple) -> str:
    """The mark on an edge whose gradient is summed over broadcast axes: Σ axis 0 / Σ axes 0,1."""
    return ("Σ axis " if len(axes) == 1 else "Σ axes ") + ",".join(str(a) for a in axes)
