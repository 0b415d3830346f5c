"""The strict backend refuses what the table in minigen/backend.py's docstring lists, one test per row,
and accepts what CuPy accepts for indexing: host integer and boolean index arrays."""
import re

import numpy as np
import pytest

import minigen as mg
from minigen import backend
from minigen import functional as F
from minigen.backend import StrictArray, xp

from helpers import host


def _dev():
    return mg.to_device(np.arange(6.0))


def _memoryview(a):
    return memoryview(a)


def _array_interface(a):
    return a.__array_interface__


# row of the docstring table -> (what it raises, the examples that must raise it)
REFUSED = {
    "implicit conversion to NumPy": (TypeError, [
        lambda a: np.asarray(a), lambda a: np.array(a), lambda a: np.ascontiguousarray(a),
        lambda a: np.random.default_rng(0).permutation(a)]),
    "arithmetic with a host array": (TypeError, [
        lambda a: a + np.ones(6), lambda a: np.ones(6) * a, lambda a: xp.exp(a) - np.ones(6),
        lambda a: xp.add.at(a, np.array([0, 1]), np.ones(2))]),
    "array functions of host arrays": (TypeError, [
        lambda a: xp.concatenate([a, np.ones(3)]), lambda a: xp.where(a > 1, a, np.zeros(6))]),
    "assigning a host array": (TypeError, [
        lambda a: a.__setitem__(slice(0, 2), np.ones(2)),
        lambda a: a.__setitem__(np.array([0, 1]), np.ones(2))]),
    "NumPy's buffer interfaces": ((TypeError, AttributeError), [_memoryview, _array_interface]),
    "an array as a Python index": (TypeError, [
        lambda a: range(a[2].astype(np.int64)), lambda a: [1, 2, 3][a[1].astype(np.int64)],
        lambda a: xp.zeros(a[2].astype(np.int64))]),
    "names CuPy does not have": (AttributeError, [
        lambda a: a.resize, lambda a: a.ctypes, lambda a: xp.geomspace, lambda a: a.flags.writeable]),
    "NumPy's RNG state": (KeyError, [lambda a: backend.Generator(0).get_state()["bit_generator"]]),
}


def _table_rows() -> list:
    """The first column of the 'refused' table in backend's docstring (wrapped lines are indented more)."""
    doc = backend.__doc__
    table = doc[doc.index("    refused  "):].split("\n\n")[0].splitlines()[1:]
    return [re.split(r"\s{2,}", line.strip())[0] for line in table if not line.startswith("     ")]


def test_every_row_of_the_table_is_tested_here():
    assert _table_rows() == list(REFUSED)


@pytest.mark.parametrize("row", list(REFUSED))
def test_strict_refuses_each_row(strict, row):
    exc, examples = REFUSED[row]
    for example in examples:
        with pytest.raises(exc):
            example(_dev())


def test_the_same_examples_run_on_numpy():
    """The refusals are strict's: on NumPy every example computes (so each refusal is about devices), but
    for the RNG's state, which the engine keeps for no backend."""
    original = mg.get_backend()
    mg.set_backend("numpy")
    try:
        for row, (_, examples) in REFUSED.items():
            for example in examples:
                if row != "NumPy's RNG state":
                    example(np.arange(6.0))
    finally:
        mg.set_backend(original)


def test_host_integer_and_boolean_index_arrays_are_accepted_like_cupy(strict):
    a = _dev()
    i, m = np.array([4, 0, 4]), np.arange(6) % 2 == 0
    assert isinstance(a[i], StrictArray) and a[i].tolist() == [4.0, 0.0, 4.0]
    assert a[m].tolist() == [0.0, 2.0, 4.0]
    assert a[[1, 2]].tolist() == [1.0, 2.0]
    assert mg.to_device(np.arange(12.0).reshape(3, 4))[np.array([2, 0]), 1:3].tolist() == [[9.0, 10.0], [1.0, 2.0]]
    assert xp.take(a, i).tolist() == a.take(i).tolist() == [4.0, 0.0, 4.0]
    b = _dev()
    b[i] = 0.0                                       # a scalar value, a host index
    b[np.array([1])] = mg.to_device(np.array([7.0]))
    assert b.tolist() == [0.0, 7.0, 2.0, 3.0, 0.0, 5.0]
    c = xp.zeros(3)
    xp.add.at(c, np.array([0, 0, 2]), mg.to_device(np.array([1.0, 2.0, 5.0])))
    assert c.tolist() == [3.0, 0.0, 5.0]
    with pytest.raises(IndexError):                  # a float index is wrong everywhere, as in NumPy
        a[np.array([0.0, 1.0])]


def test_tensor_indexed_by_a_host_array_differentiates_on_strict(strict):
    x = mg.tensor(np.arange(4.0), requires_grad=True)
    y = F.getitem(x, np.array([3, 3, 0])) * mg.to_device(np.array([1.0, 2.0, 5.0]))
    y.sum().backward()
    np.testing.assert_allclose(host(x.grad), [5.0, 0.0, 0.0, 3.0])
    assert x[np.array([True, False, True, False])].tolist() == [0.0, 2.0]
