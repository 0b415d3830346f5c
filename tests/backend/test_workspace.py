"""Reused buffers (minigen/workspace.py): a buffer is handed out again only when nothing references it."""
import numpy as np
import pytest

import minigen as mg
from minigen import workspace


@pytest.fixture
def numpy_backend():
    if mg.get_backend() != "numpy":
        pytest.skip("the cache serves NumPy arrays only (strict and CuPy allocate afresh)")
    workspace.clear()
    yield
    workspace.clear()


def test_a_buffer_in_use_is_never_handed_out(numpy_backend):
    a = workspace.empty((256, 256), np.float32)
    view = a[3:, ::2].T                              # a view keeps its buffer alive
    del a
    b = workspace.empty((256, 256), np.float32)
    assert not np.shares_memory(b, view)
    held = b.reshape(-1)
    del b
    c = workspace.empty((256, 256), np.float32)
    assert not np.shares_memory(c, view) and not np.shares_memory(c, held)


def test_a_dropped_buffer_is_reused(numpy_backend):
    a = workspace.empty((256, 128), np.float32)
    address = a.__array_interface__["data"][0]
    del a
    b = workspace.empty((256, 128), np.float32)
    assert b.__array_interface__["data"][0] == address
    assert workspace.empty((256, 128), np.float64).dtype == np.float64     # another dtype: another buffer
    z = workspace.zeros((256, 128), np.float32)                              # b still held: a new one
    assert not np.shares_memory(z, b) and not z.any()


def test_the_cache_is_bounded(numpy_backend, monkeypatch):
    monkeypatch.setattr(workspace, "PER_SHAPE", 2)
    held = [workspace.empty((1 << 14,), np.float32) for _ in range(5)]        # all in use: 5 arrays, 2 cached
    assert len({h.__array_interface__["data"][0] for h in held}) == 5
    assert len(workspace._cache[((1 << 14,), np.dtype(np.float32))]) == 2


def test_conv_results_are_right_when_buffers_are_reused():
    # the same convolution twice, the first result kept: the second must not overwrite it
    x = mg.randn(4, 3, 9, 9)
    w = mg.randn(5, 3, 3, 3)
    y1 = mg.functional.conv2d(x, w, padding=1)
    first = y1.numpy().copy()
    y2 = mg.functional.conv2d(x * 2.0, w, padding=1)
    np.testing.assert_array_equal(y1.numpy(), first)
    np.testing.assert_allclose(y2.numpy(), 2 * first, rtol=1e-5, atol=1e-5)
