"""Tensor factories: PyTorch's names, sizes as ints or a tuple, float32 by default, the backend's RNG."""
import numpy as np
import pytest

import minigen as mg

from helpers import host


def test_sizes_dtypes_and_values():
    assert mg.zeros(2, 3).shape == mg.zeros((2, 3)).shape == (2, 3)
    assert mg.zeros(2).dtype == np.float32 and mg.ones(2, dtype="float64").dtype == np.float64
    np.testing.assert_array_equal(host(mg.full((2,), 7.0)), [7.0, 7.0])
    x = mg.tensor([[1.0, 2.0]], dtype="float64")
    assert mg.zeros_like(x).dtype == np.float64 and host(mg.ones_like(x)).tolist() == [[1.0, 1.0]]
    assert host(mg.arange(4)).tolist() == [0, 1, 2, 3] and mg.arange(4).dtype == np.int64
    assert mg.arange(0.0, 1.0, 0.5).dtype == np.float32
    assert mg.ones(3, requires_grad=True).requires_grad


def test_random_factories_follow_manual_seed():
    mg.manual_seed(3)
    a = host(mg.randn(4, 2))
    mg.manual_seed(3)
    assert np.array_equal(a, host(mg.randn((4, 2))))
    u = host(mg.rand(1000))
    assert u.dtype == np.float32 and 0.0 <= u.min() and u.max() < 1.0
    k = host(mg.randint(0, 3, (500,)))
    assert set(k.tolist()) == {0, 1, 2}


@pytest.mark.parametrize("bad", [(2.5,), (-1,), ("3",), (True,)])
def test_a_bad_size_says_what_a_size_is(bad):
    with pytest.raises(TypeError, match="non-negative Python ints"):
        mg.zeros(*bad)


def test_tensor_copies_its_data_as_torch_tensor_does():
    a = np.zeros(3, np.float32)
    t = mg.tensor(a, requires_grad=True)
    t.data += 1.0                                  # what an optimizer step does
    assert a.tolist() == [0.0, 0.0, 0.0]
    u = mg.tensor(t)
    u.data += 1.0
    assert host(t).tolist() == [1.0, 1.0, 1.0]
