"""The DataLoader as a run's one batch source: next() across epochs, exact resume, weighted batches."""
import numpy as np
import pytest

import minigen as mg
from minigen.data import DataLoader

from helpers import host


def test_next_runs_epoch_after_epoch_like_iteration():
    x = np.arange(20, dtype=np.float32)[:, None]
    a, b = DataLoader(x, 6, shuffle=True, drop_last=True, seed=1), DataLoader(x, 6, shuffle=True, drop_last=True, seed=1)
    by_next = [host(a.next())[:, 0].tolist() for _ in range(9)]
    by_epochs = [host(batch)[:, 0].tolist() for _ in range(3) for batch in b]
    assert by_next == by_epochs and len(by_next) == 9 and a.state_dict()["batch"] == 3


def test_next_resumes_exactly_from_a_state():
    x = np.arange(30, dtype=np.float32)[:, None]
    a = DataLoader(x, 4, shuffle=True, seed=5)
    for _ in range(11):
        a.next()
    b = DataLoader(x, 4, shuffle=True, seed=5)
    b.load_state_dict(a.state_dict())
    for _ in range(10):
        np.testing.assert_array_equal(host(a.next()), host(b.next()))


def test_weights_draw_with_replacement_in_proportion():
    y = np.array([0] * 90 + [1] * 10)
    loader = DataLoader((np.zeros((100, 1), np.float32), y), 50, weights=np.where(y == 0, 1 / 90, 1 / 10), seed=0)
    labels = np.concatenate([host(loader.next()[1]) for _ in range(200)])
    assert abs(labels.mean() - 0.5) < 0.02                 # balanced although 10% of the data is class 1
    with pytest.raises(ValueError, match="one number per example"):
        DataLoader(np.zeros((5, 1)), 2, weights=np.ones(4))
    with pytest.raises(ValueError, match="non-negative"):
        DataLoader(np.zeros((2, 1)), 2, weights=np.array([1.0, -1.0]))


def test_a_loader_without_a_batch_says_so():
    with pytest.raises(ValueError, match="no batch to serve: 3 examples, batch_size 4"):
        DataLoader(mg.to_device(np.zeros((3, 1))), 4, drop_last=True).next()
