"""The graph behind a tensor as nodes and edges: kinds, labels, broadcast marks, and the refusals."""
import numpy as np
import pytest

import minigen as mg
from minigen import functional as F
from minigen.viz.nodes import collect, summed_axes


def test_kinds_labels_and_stable_keys(small):
    g = collect(small["loss"])
    kinds = {n.key: n.kind for n in g.nodes}
    by_name = {n.name: n for n in g.nodes if n.name}
    assert by_name["weight"].kind == by_name["bias"].kind == "parameter"
    assert by_name["x"].kind == by_name["target"].kind == "input"
    assert by_name["y"].kind == "op" and by_name["y"].title == "Linear" and by_name["y"].lines[:3] == ["Linear", "y", "(4, 2)"]
    assert sorted(n.value for n in g.nodes if n.kind == "constant") == [0.5, 2.0]
    assert g.nodes[0].is_output and g.nodes[0].name == "loss" and g.nodes[0].kind == "op"
    assert any(line.startswith("= ") for line in g.nodes[0].lines)           # a scalar shows its value
    assert [n.key for n in g.nodes] == [f"n{i}" for i in range(len(g.nodes))]
    assert [n.key for n in collect(small["loss"]).nodes] == list(kinds)      # same graph, same numbering
    # x feeds Linear and Abs: one node, two edges
    x_key = by_name["x"].key
    assert sum(e.src == x_key for e in g.edges) == 2


def test_gradient_norms_after_backward(small):
    small["loss"].backward(retain_graph=True)
    g = collect(small["loss"])
    w = next(n for n in g.nodes if n.name == "weight")
    assert w.grad_norm == pytest.approx(float(np.linalg.norm(small["layer"].weight.grad.numpy())))
    assert "|grad|" in w.lines[-1]
    assert next(n for n in g.nodes if n.name == "y").grad_norm is None     # not retained: no norm


def test_broadcast_edges_are_marked(small):
    g = collect(small["loss"])
    bias = next(n for n in g.nodes if n.name == "bias")
    weight = next(n for n in g.nodes if n.name == "weight")
    assert next(e for e in g.edges if e.src == bias.key).summed == (0,)     # summed over the batch
    assert next(e for e in g.edges if e.src == weight.key).summed == ()
    const = [e for e in g.edges if g.node(e.src).kind == "constant"]
    assert const and all(not e.grad and e.summed == () for e in const)    # constants get no gradient


@pytest.mark.parametrize("name, arg, a, y, want", [
    ("Add", 1, (4,), (3, 4), (0,)), ("Add", 0, (3, 4), (3, 4), ()), ("Mul", 1, (3, 1), (2, 3, 4), (0, 2)),
    ("Add", 1, (1,), (1, 1), (0,)), ("Mul", 0, (1, 1), (1, 1), ()),
    ("MatMul", 0, (3, 4), (3, 5), ()), ("MatMul", 1, (4, 5), (2, 3, 5), (0,)),
    ("Linear", 2, (5,), (7, 5), (0,)), ("Linear", 1, (5, 3), (7, 5), ()), ("Exp", 0, (3,), (3,), ()),
])
def test_summed_axes(name, arg, a, y, want):
    import minigen.ops.arithmetic as A
    import minigen.ops.elementwise as E
    import minigen.ops.nn as N
    fn = {"Add": A.Add, "Mul": A.Mul, "MatMul": A.MatMul, "Linear": N.Linear, "Exp": E.Exp}[name]
    assert summed_axes(object.__new__(fn), arg, a, y) == want


def test_refusals(small):
    with pytest.raises(TypeError, match="expected the Tensor"):
        collect(np.zeros(3))
    with pytest.raises(ValueError, match=r"more than 5 nodes.*max_nodes=None"):
        collect(small["loss"], max_nodes=5)
    loss = small["loss"]
    loss.backward()                                     # frees the graph
    with pytest.raises(ValueError, match=r"freed.*retain_graph=True"):
        collect(loss)


def test_a_leaf_alone():
    x = mg.tensor([1.0, 2.0])
    g = collect(x)
    assert [n.kind for n in g.nodes] == ["input"] and g.edges == []
    y = F.exp(mg.tensor([0.0], requires_grad=True))
    assert collect(y).nodes[0].value == 1.0
