"""Layers: registration, state dicts, modes, devices, init, and a gradcheck of every layer's forward."""
import math

import numpy as np
import pytest

import minigen as mg
from minigen import nn

from helpers import host, t64


def _check_layer(layer, x):
    params = list(layer.parameters())
    assert mg.gradcheck(lambda x, *ps: layer(x), [x, *params], name=type(layer).__name__)
    assert mg.gradgradcheck(lambda x, *ps: layer(x), [x, *params], name=type(layer).__name__)


RNG = np.random.default_rng(0)


@pytest.mark.parametrize("make", [
    lambda: nn.Linear(3, 4), lambda: nn.Linear(3, 4, bias=False),
    lambda: nn.MLP([3, 5, 2], activation="tanh"),
    lambda: nn.MLP([3, 5, 2], activation="leaky_relu", out_activation="sigmoid"),
    lambda: nn.Sequential(nn.Linear(3, 4), nn.Softplus()),
    lambda: nn.LayerNorm(3), lambda: nn.Dropout(0.0),
], ids=["linear", "linear-nobias", "mlp-tanh", "mlp-leaky-sigmoid", "sequential-softplus", "layernorm", "dropout-p0"])
def test_layer_gradcheck(make):
    _check_layer(make().double(), t64(RNG.normal(size=(6, 3))))


@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
def test_batchnorm_gradcheck_both_modes(training):
    bn = nn.BatchNorm1d(3).double()
    bn.running_mean = mg.to_device(np.array([0.1, -0.2, 0.3]))
    bn.running_var = mg.to_device(np.array([1.5, 0.7, 2.0]))
    bn.weight.data = mg.to_device(np.array([1.2, 0.8, -0.5]))
    bn.train(training)
    momentum_before = host(bn.running_mean).copy()
    x = t64(RNG.normal(size=(6, 3)))
    _check_layer(bn, x)
    moved = not np.allclose(host(bn.running_mean), momentum_before)
    assert moved == training      # running statistics move only in training mode


def test_batchnorm_running_statistics_follow_pytorch_rule():
    bn = nn.BatchNorm1d(2, momentum=0.1)
    x = np.array([[1.0, 2.0], [3.0, 6.0], [5.0, 10.0]], np.float32)
    y = bn(mg.tensor(x))
    np.testing.assert_allclose(host(bn.running_mean), 0.9 * 0 + 0.1 * x.mean(0), rtol=1e-6)
    np.testing.assert_allclose(host(bn.running_var), 0.9 * 1 + 0.1 * x.var(0, ddof=1), rtol=1e-6)
    np.testing.assert_allclose(host(y).mean(0), 0, atol=1e-6)
    bn.eval()
    y_eval = bn(mg.tensor(x))
    expect = (x - host(bn.running_mean)) / np.sqrt(host(bn.running_var) + 1e-5)
    np.testing.assert_allclose(host(y_eval), expect, rtol=1e-5)


def test_module_registers_parameters_and_submodules():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.enc = nn.MLP([4, 8, 2])
            self.scale = nn.Parameter(np.ones(2, np.float32))
            self.not_a_param = mg.tensor([1.0])

        def forward(self, x):
            return self.enc(x) * self.scale
    net = Net()
    names = [n for n, _ in net.named_parameters()]
    assert names == ["scale", "enc.0.weight", "enc.0.bias", "enc.2.weight", "enc.2.bias"]
    assert net.num_parameters() == 2 + 4 * 8 + 8 + 8 * 2 + 2
    net.eval()
    assert not any(m.training for m in net.modules())
    assert "Linear(in_features=4, out_features=8, bias=True)" in repr(net)


def test_state_dict_round_trip_and_clear_errors():
    a, b = nn.MLP([3, 4, 2]), nn.MLP([3, 4, 2])
    b.load_state_dict(a.state_dict())
    for (_, pa), (_, pb) in zip(a.named_parameters(), b.named_parameters()):
        np.testing.assert_array_equal(host(pa), host(pb))
    sd = dict(a.state_dict())
    sd.pop("0.bias")
    sd["extra"] = sd["0.weight"]
    with pytest.raises(KeyError, match=r"missing keys \['0.bias'\].*unexpected keys \['extra'\]"):
        b.load_state_dict(sd)
    with pytest.raises(ValueError, match=r"0.weight: saved \(5, 3\) vs model \(4, 3\)"):
        b.load_state_dict(nn.MLP([3, 5, 2]).state_dict())


def test_load_state_dict_accepts_host_arrays():
    a, b = nn.Linear(2, 2), nn.Linear(2, 2)
    b.load_state_dict({k: mg.to_host(v) for k, v in a.state_dict().items()})
    np.testing.assert_array_equal(host(a.weight), host(b.weight))
    assert type(b.weight.data) is type(a.weight.data)


def test_to_cpu_and_back():
    m = nn.BatchNorm1d(2)
    m.to("cpu")
    assert type(m.weight.data) is np.ndarray and type(m.running_mean) is np.ndarray
    m.to("device")
    assert mg.backend.is_array(m.weight.data) and mg.backend.is_array(m.running_var)


def test_linear_default_init_bounds_and_shape_error():
    lin = nn.Linear(100, 50)
    w = host(lin.weight)
    bound = 1 / math.sqrt(100)
    assert w.shape == (50, 100) and w.dtype == np.float32
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    with pytest.raises(ValueError, match=r"Linear\(100, 50\): expected input \(\.\.\., 100\), got \(4, 3\)"):
        lin(mg.tensor(np.zeros((4, 3), np.float32)))


@pytest.mark.parametrize("fn,expected_std", [
    (lambda t: nn.init.xavier_normal_(t), math.sqrt(2 / (200 + 300))),
    (lambda t: nn.init.kaiming_normal_(t, nonlinearity="relu"), math.sqrt(2) / math.sqrt(200)),
    (lambda t: nn.init.xavier_uniform_(t), math.sqrt(6 / 500) / math.sqrt(3)),
    (lambda t: nn.init.kaiming_uniform_(t, nonlinearity="relu"), math.sqrt(2) * math.sqrt(3 / 200) / math.sqrt(3)),
])
def test_init_standard_deviations(fn, expected_std):
    p = nn.Parameter(np.zeros((300, 200), np.float32))
    fn(p)
    assert abs(host(p).std() / expected_std - 1) < 0.03


def test_dropout_train_and_eval():
    d = nn.Dropout(0.5)
    x = mg.tensor(np.ones((200, 50), np.float32))
    y = host(d(x))
    assert set(np.unique(y)) <= {0.0, 2.0} and 0.4 < (y == 0).mean() < 0.6
    d.eval()
    np.testing.assert_array_equal(host(d(x)), 1.0)


def test_in_place_update_keeps_a_buffer_registered():
    bn = nn.BatchNorm1d(2)
    bn.running_mean *= 2.0
    bn.running_var = bn.running_var + 1.0
    assert "running_mean" in bn.state_dict() and "running_var" in bn.state_dict()
