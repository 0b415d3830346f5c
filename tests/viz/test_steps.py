"""The backward pass recorded step by step is the engine's: same order as its trace, gradients that add up
to autograd's, and nothing changed (no .grad written, the graph kept, the trace printer restored)."""
import re

import numpy as np
import pytest

import minigen as mg
from minigen.autograd import engine
from minigen.viz.nodes import collect
from minigen.viz.steps import record


def test_order_and_values_match_autograd(small, capsys):
    loss, x, layer = small["loss"], small["x"], small["layer"]
    printer = engine._print_step
    steps = record(loss)
    assert engine._print_step is printer
    assert all(p.grad is None for p in layer.parameters()) and x.grad is None      # nothing accumulated
    n_ops = sum(n.kind == "op" for n in collect(loss).nodes)
    assert [s.index for s in steps] == list(range(n_ops))
    loss.backward(trace=True, retain_graph=True)
    traced = [re.match(r"\s*\[\s*\d+\]\s+(\S+)", line).group(1) for line in capsys.readouterr().out.splitlines()[1:]]
    assert [s.fn.name for s in steps] == traced                       # the engine's execution order
    assert steps[0].grad_output == pytest.approx(1.0)
    # what the steps sent to each leaf adds up to the leaf's gradient
    for leaf in (x, layer.weight, layer.bias):
        sent = sum(g for s in steps for a, g in zip(s.fn.inputs, s.grad_inputs) if a is leaf and g is not None)
        np.testing.assert_allclose(sent, leaf.grad.numpy(), rtol=1e-12)
    # the gradient reaching an op's output is what autograd keeps for it
    y = small["y"]
    y.retain_grad()
    y.grad = None
    loss.backward(retain_graph=True)
    linear = next(s for s in steps if s.fn is y.creator)
    np.testing.assert_allclose(linear.grad_output, y.grad.numpy(), rtol=1e-12)
    assert steps[-1].grad_inputs is not None and record(loss)[0].fn is steps[0].fn   # the graph is kept


def test_refusals(small):
    with pytest.raises(ValueError, match="one element"):
        record(small["y"])
    with pytest.raises(ValueError, match="not computed by any recorded op"):
        record(mg.tensor([1.0]))
    with pytest.raises(TypeError, match="expected a Tensor"):
        record(3.0)
    small["loss"].backward()
    with pytest.raises(ValueError, match="freed.*retain_graph=True"):
        record(small["loss"])
