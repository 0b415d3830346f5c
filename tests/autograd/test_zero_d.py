"""A Tensor's data is an array of the active backend, 0-d included, whatever an op's forward returns
(NumPy gives scalars, np.float64 and friends, for 0-d results; CuPy and strict give 0-d arrays)."""
import numpy as np
import pytest

import minigen as mg
from minigen import backend
from minigen import functional as F
from minigen.autograd import Function

from helpers import t64


def _is_0d_array(a):
    return backend.is_array(a) and a.ndim == 0


@pytest.mark.parametrize("make", [
    lambda x: x ** 2, lambda x: x * x, lambda x: F.sum(x), lambda x: F.exp(x), lambda x: -x,
    lambda x: F.mean(x * 3.0), lambda x: F.sigmoid(x), lambda x: F.reshape(x, ()),
    lambda x: F.getitem(F.reshape(x, (1,)), 0), lambda x: x > 0.5, lambda x: F.reshape(x, (1,)).argmax(),
], ids=["pow", "mul", "sum", "exp", "neg", "mean", "sigmoid", "reshape", "index", "compare", "argmax"])
def test_ops_on_0d_tensors_hold_0d_arrays(make):
    x = t64(np.array(0.7))
    y = make(x)
    assert _is_0d_array(y.data), type(y.data)


def test_gradients_of_0d_tensors_are_0d_arrays_and_accumulate_as_arrays():
    x = t64(np.array(0.7))
    (x * x).backward()
    assert _is_0d_array(x.grad.data)
    (x * 3.0).backward()                       # accumulation: 2x + 3
    assert _is_0d_array(x.grad.data) and float(x.grad.item()) == pytest.approx(2 * 0.7 + 3.0)
    (g,) = mg.grad(x ** 3, [x], create_graph=True)
    assert _is_0d_array(g.data)
    (h,) = mg.grad(g, [x])
    assert _is_0d_array(h.data) and float(h.item()) == pytest.approx(6 * 0.7)


def test_a_forward_returning_a_python_number_still_makes_an_array():
    class Half(Function):
        def forward(self, x):
            return float(x) / 2            # a plain number, not an array

        def backward(self, gy, x, y):
            return gy * 0.5

    x = t64(np.array(3.0))
    y = Half()(x)
    assert _is_0d_array(y.data) and float(y.item()) == 1.5
    y.backward()
    assert float(x.grad.item()) == 0.5


def test_arrays_pass_through_without_a_copy_and_float32_stays_float32():
    a = mg.to_device(np.ones((2, 3), np.float32))
    assert mg.Tensor._make(a).data is a
    x = mg.tensor(np.float32(2.0), requires_grad=True)
    y = x ** 2
    assert y.dtype == np.float32 and _is_0d_array(y.data)
    y.backward()
    assert x.grad.dtype == np.float32


def test_in_place_update_of_a_0d_result_sticks():
    """What the momentum buffer of a 0-d parameter relies on."""
    x = t64(np.array(2.0), requires_grad=False)
    d = (x * 1.0).data
    d *= 0.5
    assert float(d) == 1.0


def test_init_of_a_0d_tensor_keeps_an_array():
    t = mg.tensor(np.float32(1.0))
    for init in (lambda: mg.nn.init.uniform_(t, -1.0, 1.0), lambda: mg.nn.init.constant_(t, 3.0),
                 lambda: mg.nn.init.normal_(t)):
        init()
        assert _is_0d_array(t.data) and t.dtype == np.float32
