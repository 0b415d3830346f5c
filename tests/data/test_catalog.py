"""Data sets by name, and the one MNIST split used everywhere."""
import numpy as np
import pytest

from minigen.data import catalog

from helpers import SHARED_MNIST


def test_every_name_loads_with_its_shapes():
    d = catalog.load("digits")
    assert d.is_image and d.image_shape == (8, 8) and d.x_train.shape == (1437, 64) and len(d.y_test) == 360
    g = catalog.load("grid25", seed=3, n_train=500, n_test=50)
    assert g.is_mixture and g.means.shape == (25, 2) and g.x_train.shape == (500, 2) and len(g.x_test) == 50
    assert np.array_equal(g.x_train, catalog.load("grid25", seed=3, n_train=500, n_test=50).x_train)
    m = catalog.load("moons", n_train=100, n_test=10)
    assert not m.is_mixture and not m.is_image


def test_unknown_names_and_missing_folders_are_explained():
    with pytest.raises(ValueError, match="unknown data set 'ring9'; choose one of: digits, mnist"):
        catalog.load("ring9")
    with pytest.raises(ValueError, match="needs the folder of its IDX files"):
        catalog.load("mnist")


@pytest.mark.skipif(not (SHARED_MNIST / "t10k-images-idx3-ubyte.gz").exists(),
                    reason="the MNIST test files are not beside this checkout")
def test_mnist_from_its_test_files_is_the_first_8000_and_the_last_2000():
    from minigen.data import mnist
    d = catalog.load("mnist", data_dir=SHARED_MNIST)
    full = mnist(str(SHARED_MNIST), split="test")
    assert d.x_train.shape == (8000, 784) and d.x_test.shape == (2000, 784) and "first 8,000" in d.note
    assert np.array_equal(d.x_train, full.x_test[:8000]) and np.array_equal(d.y_test, full.y_test[8000:])
