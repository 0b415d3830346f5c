"""The engine's contract: accumulation, freed graphs, grad(), no_grad, double backprop, deep graphs,
clear errors, dtype discipline, anomaly detection and the backward trace."""
import numpy as np
import pytest

import minigen as mg
from minigen import functional as F

from helpers import host, t64


def test_backward_accumulates_into_leaves_like_pytorch():
    x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (x * x).sum().backward()
    (x * 3.0).sum().backward()
    np.testing.assert_allclose(host(x.grad), 2 * np.array([1, 2, 3]) + 3)


def test_shared_gradient_arrays_do_not_alias_between_leaves():
    a = mg.tensor([1.0, 2.0], requires_grad=True)
    b = mg.tensor([3.0, 4.0], requires_grad=True)
    (a + b).sum().backward()          # Add hands the same array to both inputs
    (a * 2.0).sum().backward()
    np.testing.assert_allclose(host(a.grad), [3.0, 3.0])
    np.testing.assert_allclose(host(b.grad), [1.0, 1.0])


def test_second_backward_through_freed_graph_is_a_clear_error():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp() * 2.0).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward()


def test_retain_graph_allows_a_second_backward():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(host(x.grad), [4.0, 8.0])


def test_an_op_lets_go_of_what_it_kept_once_its_rule_has_run():
    """As in PyTorch, backward frees the graph as it goes (a lower peak): when the producer's rule runs, the
    consumer after it has already dropped its inputs and saved arrays; the producer still gets its own
    output, which nothing but the graph holds (sigmoid's rule needs y)."""
    seen = {}

    class Consumer(mg.Function):
        def forward(self, y):
            self.saved = y * 2.0
            return self.saved

        def backward(self, gy, y, out):
            return gy * 2.0

    class Producer(mg.Function):
        def forward(self, x):
            return 1.0 / (1.0 + np.exp(-x))

        def backward(self, gy, x, y):
            seen["consumer"] = (consumer.inputs, consumer.saved)
            return gy * y * (1.0 - y)

    x = mg.tensor([0.5, -1.0], requires_grad=True)
    consumer = Consumer()
    consumer(Producer()(x)).sum().backward()          # the sigmoid's output is held by nothing else
    assert seen["consumer"] == (None, None)
    s = 1.0 / (1.0 + np.exp(-np.array([0.5, -1.0])))
    np.testing.assert_allclose(host(x.grad), 2.0 * s * (1 - s), rtol=1e-6)


def test_nonscalar_backward_explains_what_to_pass():
    x = mg.tensor(np.ones((3, 4), np.float32), requires_grad=True)
    with pytest.raises(RuntimeError, match=r"shape \(3, 4\).*grad="):
        (x * 2.0).backward()
    (x * 2.0).backward(grad=np.ones((3, 4), np.float32) if mg.get_backend() == "numpy"
                       else mg.to_device(np.ones((3, 4), np.float32)))
    np.testing.assert_allclose(host(x.grad), 2.0)


def test_backward_on_tensor_without_grad_is_explained():
    with pytest.raises(RuntimeError, match="does not require grad"):
        (mg.tensor([1.0]) * 2.0).sum().backward()


def test_grad_returns_tuple_and_leaves_dot_grad_alone():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    w = mg.tensor([3.0, 4.0], requires_grad=True)
    gx, gw = mg.grad((x * w).sum(), [x, w])
    np.testing.assert_allclose(host(gx), [3.0, 4.0])
    np.testing.assert_allclose(host(gw), [1.0, 2.0])
    assert x.grad is None and w.grad is None


def test_grad_unused_input_error_and_allow_unused():
    x = mg.tensor([1.0], requires_grad=True)
    u = mg.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="allow_unused"):
        mg.grad((x * 2.0).sum(), [x, u])
    gx, gu = mg.grad((x * 2.0).sum(), [x, u], allow_unused=True)
    assert gu is None and float(gx.item()) == 2.0


def test_grad_wrt_intermediate_tensor():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3.0
    (gh,) = mg.grad((h * h).sum(), [h])
    np.testing.assert_allclose(host(gh), 2 * np.array([3.0, 6.0]))


def test_no_grad_records_nothing():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    with mg.no_grad():
        y = (x * 2.0).exp()
        with mg.enable_grad():
            z = x * 2.0
    assert y.creator is None and not y.requires_grad
    assert z.creator is not None


def test_nothing_recorded_when_no_input_requires_grad():
    y = mg.tensor([1.0, 2.0]).exp() * 2.0
    assert y.creator is None and not y.requires_grad


def test_integer_and_boolean_tensors_cannot_require_grad():
    with pytest.raises(TypeError, match="floating-point"):
        mg.tensor([1, 2, 3], requires_grad=True)
    with pytest.raises(TypeError, match="floating-point"):
        mg.tensor([True, False], requires_grad=True)


def test_double_backprop_second_derivative_of_cube():
    x = t64([0.5, -1.5, 2.0])
    (g,) = mg.grad((x ** 3).sum(), [x], create_graph=True)       # 3x^2
    (h,) = mg.grad(g.sum(), [x])                                  # 6x
    np.testing.assert_allclose(host(h), 6 * np.array([0.5, -1.5, 2.0]))


def test_gradient_of_a_gradient_norm_matches_finite_differences():
    """The WGAN-GP pattern: penalty = (|d f/dx| - 1)^2, differentiated w.r.t. the weights."""
    rng = np.random.default_rng(1)
    W1, W2, x = t64(rng.normal(size=(5, 2))), t64(rng.normal(size=(1, 5))), t64(rng.normal(size=(4, 2)))

    def penalty(W1, W2, x):
        out = F.linear(F.tanh(F.linear(x, W1)), W2).sum()
        (gx,) = mg.grad(out, [x], create_graph=True)
        norm = F.sqrt((gx * gx).sum(axis=1) + 1e-12)
        return ((norm - 1.0) ** 2).mean()
    assert mg.gradcheck(penalty, [W1, W2, x])


def test_chain_of_100000_ops_needs_no_recursion():
    x = mg.tensor([1.0], requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0
    y.sum().backward()
    assert float(x.grad.item()) == 1.0


def test_gradient_reaches_shared_subexpression_once_per_use():
    # b = a + a; c = b + b: the case where a naive recursive backward double counts
    a = mg.tensor([2.0], requires_grad=True)
    b = a + a
    c = b + b
    c.sum().backward()
    assert float(a.grad.item()) == 4.0


def test_matmul_shape_error_names_op_and_shapes():
    a = mg.tensor(np.zeros((128, 784), np.float32))
    W = mg.tensor(np.zeros((400, 784), np.float32))
    with pytest.raises(ValueError, match=r"matmul.*\(128, 784\) @ \(400, 784\): inner dims 784 != 400"):
        a @ W


def test_float32_stays_float32_with_python_scalars():
    x = mg.tensor(np.ones((4, 3), np.float32), requires_grad=True)
    W = mg.tensor(np.ones((2, 3), np.float32), requires_grad=True)
    y = (F.linear(x * 0.5 + 1.0, W) / 3.0) ** 2.0
    loss = F.binary_cross_entropy_with_logits(y, y.detach() * 0.0 + 0.5) + 1e-3 * (W * W).sum()
    assert y.dtype == np.float32 and loss.dtype == np.float32
    loss.backward()
    assert x.grad.dtype == np.float32 and W.grad.dtype == np.float32


def test_default_dtype_rule():
    assert mg.tensor([1.0, 2.0]).dtype == np.float32
    assert mg.tensor(np.zeros(2)).dtype == np.float64
    assert mg.tensor([1, 2]).dtype.kind == "i"


def test_detect_anomaly_names_the_op():
    x = mg.tensor([1.0, -1.0], requires_grad=True)
    with mg.detect_anomaly():
        with pytest.raises(FloatingPointError, match="Log forward"):
            with np.errstate(invalid="ignore"):
                F.log(x - 0.0).sum()
        y = F.sqrt(x * x)          # fine forward; backward at x=0 below divides by zero
    z = mg.tensor([0.0], requires_grad=True)
    with mg.detect_anomaly():
        with pytest.raises(FloatingPointError, match="backward"):
            with np.errstate(divide="ignore", invalid="ignore"):
                F.sqrt(z).sum().backward()
    assert y.shape == (2,)


def test_trace_prints_each_step_with_broadcast_note(capsys):
    x = mg.tensor(np.ones((4, 3), np.float32))
    W = mg.tensor(np.ones((2, 3), np.float32), requires_grad=True)
    b = mg.tensor(np.zeros(2, np.float32), requires_grad=True)
    loss = ((x @ W.T) + b).relu().mean()
    loss.backward(trace=True)
    out = capsys.readouterr().out
    assert "Mean" in out and "ReLU" in out and "MatMul" in out
    assert "broadcast" in out and "(4, 2) -> (2,)" in out


def test_retain_grad_keeps_intermediate_gradient():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    h = (x * 2.0).retain_grad()
    (h * h).sum().backward()
    np.testing.assert_allclose(host(h.grad), [4.0, 8.0])


def test_graph_dot_lists_ops_shapes_and_grads():
    x = mg.tensor(np.ones((4, 3), np.float32))
    W = mg.tensor(np.ones((2, 3), np.float32), requires_grad=True)
    W.name = "W"
    loss = F.linear(x, W).relu().sum()
    loss.backward(retain_graph=True)
    dot = mg.viz.graph(loss)
    assert dot.startswith("digraph") and "Linear" in dot and "ReLU" in dot and "Sum" in dot
    assert "(2, 3) float32" in dot and "|grad|" in dot and '"W' in dot


def test_graph_after_backward_says_it_was_freed_and_ids_are_stable():
    x = mg.tensor(np.ones((2, 3), np.float32), requires_grad=True)
    make = lambda: (F.relu(x * 2.0) + 1.0).sum()   # noqa: E731
    assert mg.viz.graph(make()) == mg.viz.graph(make())         # same graph, same text
    loss = make()
    loss.backward()
    with pytest.warns(UserWarning, match="retain_graph=True"):
        dot = mg.viz.graph(loss)
    assert "freed by backward" in dot


def test_module_double_casts_parameters_and_buffers():
    m = mg.nn.BatchNorm1d(3).double()
    assert m.weight.dtype == np.float64 and m.running_mean.dtype == np.float64


def test_rendering_without_graphviz_says_how_to_get_it(tmp_path, monkeypatch):
    import shutil
    x = mg.tensor([1.0], requires_grad=True)
    loss = (x * 2.0).sum()
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(RuntimeError, match="Graphviz's 'dot'.*install"):
        mg.viz.graph(loss, tmp_path / "g.svg")
    mg.viz.graph(loss, tmp_path / "g.dot")             # plain DOT text needs nothing
    assert (tmp_path / "g.dot").read_text().startswith("digraph")


def test_grad_prunes_without_touching_the_recorded_nodes(monkeypatch):
    """grad(D(x), x) asks each rule only for the gradients on a path to x (no weight gradients), through
    a narrowed copy: the graph's own nodes keep what they recorded, even when a rule raises."""
    from minigen.ops.nn import Linear
    x, W, b = (mg.tensor(np.ones(s, np.float32), requires_grad=True) for s in ((2, 3), (4, 3), (4,)))
    y = F.linear(x, W, b).sum()
    node = y.creator.inputs[0].creator
    asked = []
    rule = Linear.backward
    monkeypatch.setattr(Linear, "backward", lambda self, *a: asked.append(self.needs_grad) or rule(self, *a))
    (gx,) = mg.grad(y, [x], retain_graph=True)
    assert asked == [(True, False, False)] and node.needs_grad == (True, True, True)
    np.testing.assert_allclose(host(gx), np.ones((2, 4)) @ np.ones((4, 3)))

    def broken(self, *a):
        raise ValueError("boom")
    monkeypatch.setattr(Linear, "backward", broken)
    with pytest.raises(ValueError, match="boom"):
        mg.grad(y, [W], retain_graph=True)
    assert node.needs_grad == (True, True, True)
    assert mg.is_grad_enabled()                  # the pass's grad mode was restored too
    monkeypatch.setattr(Linear, "backward", rule)
    y.backward()                                 # the full pass still gets every gradient
    assert x.grad is not None and W.grad is not None and b.grad is not None


def test_every_grad_owns_its_memory():
    # .grad is updated in place (clip_grad_norm_, optimizers), so it must never be a broadcast view,
    # another tensor's gradient, or the array the caller passed to backward()
    x = mg.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    x.sum().backward()                                    # sum's backward broadcasts: zero strides
    assert x.grad.data.flags.owndata
    a, b = mg.tensor([1.0, 2.0], requires_grad=True), mg.tensor([3.0, 4.0], requires_grad=True)
    z = a + b
    z.retain_grad()
    upstream = mg.tensor([1.0, 1.0]).data
    z.backward(upstream)
    held = [upstream, z.grad.data, a.grad.data, b.grad.data]
    assert len({id(h) for h in held}) == 4
    a.grad.data *= 2.0
    np.testing.assert_array_equal(host(b.grad), [1.0, 1.0])
    np.testing.assert_array_equal(host(mg.Tensor(upstream)), [1.0, 1.0])
