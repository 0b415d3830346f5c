"""The DOT text handed to Graphviz carries the same nodes, labels and marks as the Python pictures."""
from minigen.viz.dot import to_dot
from minigen.viz.nodes import collect


def test_same_content_as_the_pictures(small):
    g = collect(small["loss"])
    dot = to_dot(g)
    assert dot.startswith("digraph minigen {") and dot.rstrip().endswith("}")
    for n in g.nodes:
        assert f'{n.key} [label="' + "\\n".join(n.lines) + '"' in dot
    assert dot.count(" -> ") == len(g.edges)
    assert dot.count('label="Σ axis 0"') == 1
