"""Pictures for learners: the computation graph (``draw``: SVG / PNG with nothing else installed; ``graph``:
DOT text), the page that steps through the backward pass (``backward_page``) and the demos' figures."""
from minigen.viz.draw import draw, svg_text  # noqa: F401
from minigen.viz.graph import graph, render  # noqa: F401
from minigen.viz.page import backward_page  # noqa: F401
