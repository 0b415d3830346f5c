"""Pictures for learners: the computation graph (DOT) and the plotting helpers of the demos."""
from minigen.viz.graph import graph, render  # noqa: F401
