"""The layered layout: layers by longest path, sources beside their consumer, crossings removed by the
barycentre sweeps, no overlapping boxes, edges running downwards."""
from itertools import pairwise

import pytest

from minigen.viz.layout import assign_layers, crossings, layout


def _boxes(keys, w=40.0, h=20.0):
    return {k: (w, h) for k in keys}


def test_longest_path_layers_and_sources_pulled_down():
    # a -> b -> c -> d, and a source s used only by d: s sits just above d, not at the top
    edges = [("a", "b"), ("b", "c"), ("c", "d"), ("s", "d")]
    layer = assign_layers(list("abcds"), edges)
    assert [layer[k] for k in "abcd"] == [0, 1, 2, 3]
    assert layer["s"] == 2


def test_sweeps_remove_avoidable_crossings():
    # two independent chains listed crosswise: a1 -> b2, a2 -> b1 found in the order a1 a2 b1 b2 cross once
    edges = [("a1", "b1"), ("a2", "b2"), ("b1", "c"), ("b2", "c")]
    keys = ["a1", "a2", "b2", "b1", "c"]
    assert crossings([["a1", "a2"], ["b2", "b1"]], {"a1": ["b1"], "a2": ["b2"]}) == 1
    lay = layout(_boxes(keys), edges)
    assert lay.crossings == 0
    (xa1, _), (xa2, _), (xb1, _), (xb2, _) = (lay.pos[k] for k in ("a1", "a2", "b1", "b2"))
    assert (xa1 < xa2) == (xb1 < xb2)


def test_no_overlaps_and_edges_point_down():
    keys = [f"n{i}" for i in range(12)]
    edges = [(f"n{i}", f"n{j}") for i in range(12) for j in range(i + 1, 12) if (i * 7 + j) % 5 == 0]
    sizes = {k: (30.0 + 9 * (i % 4), 20.0 + 7 * (i % 3)) for i, k in enumerate(keys)}
    lay = layout(sizes, edges)
    for a in keys:
        for b in keys:
            if a < b and lay.layer[a] == lay.layer[b]:
                (xa, _), (xb, _) = lay.pos[a], lay.pos[b]
                assert abs(xa - xb) >= (sizes[a][0] + sizes[b][0]) / 2, (a, b)
    for (u, v), pts in zip(edges, lay.routes):
        assert pts[0][1] == pytest.approx(lay.pos[u][1] + sizes[u][1] / 2)     # leaves u's bottom
        assert pts[-1][1] == pytest.approx(lay.pos[v][1] - sizes[v][1] / 2)    # enters v's top
        assert all(p[1] < q[1] for p, q in pairwise(pts))                      # always downwards
        assert len(pts) == lay.layer[v] - lay.layer[u] + 1                     # one point per layer crossed
    assert all(0 < x < lay.width and 0 < y < lay.height for x, y in lay.pos.values())


def test_bad_graphs_are_refused():
    with pytest.raises(ValueError, match="cycle"):
        layout(_boxes("ab"), [("a", "b"), ("b", "a")])
    with pytest.raises(ValueError, match="not in the graph"):
        layout(_boxes("ab"), [("a", "z")])


def test_empty_and_single():
    assert layout({}, []).pos == {}
    lay = layout({"a": (10.0, 10.0)}, [])
    assert lay.layer == {"a": 0} and lay.routes == []
