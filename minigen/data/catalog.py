"""Data sets by name: what ``minigen train ... --data NAME`` and the tasks train on.

    ds = load("digits")                     # embedded 8x8 digits (1,437 train / 360 test)
    ds = load("mnist", data_dir="~/mnist")  # MNIST / Fashion-MNIST from IDX files
    ds = load("grid25", seed=0)             # a 2-D toy set: 20,000 train and 2,500 test points

A :class:`Dataset` holds host arrays: ``x_train``, ``y_train``, ``x_test``, ``y_test``, ``image_shape``
(None for points) and, for the Gaussian mixtures, ``means`` and ``std``.  Feed it to a
:class:`~minigen.data.DataLoader` (which moves it to the device once).

MNIST needs only its two 10k test files (``t10k-*``): when the training files are absent, the one split
used everywhere in minigen is the first 8,000 test images for training and the last 2,000 for testing.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from minigen.data.toy2d import TOY2D_NAMES

__all__ = ["Dataset", "load", "NAMES", "IMAGE_NAMES", "MNIST_TEST_SPLIT"]

IMAGE_NAMES = ("digits", "mnist", "fashion_mnist")
NAMES = IMAGE_NAMES + TOY2D_NAMES
MNIST_TEST_SPLIT = 8000      # with only the test files: images [:8000] train, [8000:] test
TOY_TRAIN, TOY_TEST = 20_000, 2_500


@dataclass(repr=False)
class Dataset:
    name: str
    x_train: np.ndarray
    y_train: np.ndarray | None
    x_test: np.ndarray
    y_test: np.ndarray | None
    image_shape: tuple | None = None          # (H, W) for images, None for points
    means: np.ndarray | None = None           # the Gaussian mixtures' component means (k, 2) ...
    std: float | None = None                  # ... and their common standard deviation
    note: str = ""
    meta: dict = field(default_factory=dict)

    @property
    def dim(self) -> int:
        return self.x_train.shape[1]

    @property
    def is_image(self) -> bool:
        return self.image_shape is not None

    @property
    def is_mixture(self) -> bool:
        return self.means is not None

    def __repr__(self):
        return (f"Dataset({self.name!r}, train={self.x_train.shape}, test={self.x_test.shape}"
                + (f", image_shape={self.image_shape}" if self.image_shape else "") + ")")


def check_name(name: str, data_dir=None) -> None:
    """ValueError naming the choices for an unknown set (or MNIST without a folder)."""
    if name not in NAMES:
        raise ValueError(f"unknown data set {name!r}; choose one of: {', '.join(NAMES)}")
    if name in ("mnist", "fashion_mnist") and not data_dir:
        raise ValueError(f"data set {name!r} needs the folder of its IDX files (--data-dir DIR, or --set data_dir=DIR)")


def load(name: str, data_dir=None, seed: int = 0, n_train: int = TOY_TRAIN, n_test: int = TOY_TEST) -> Dataset:
    """The data set ``name`` (one of :data:`NAMES`); ``seed`` and the sizes apply to the 2-D toy sets."""
    check_name(name, data_dir)
    from minigen import data
    if name == "digits":
        d = data.digits()
        return Dataset("digits", d.x_train, d.y_train, d.x_test, d.y_test, tuple(d.image_shape))
    if name in ("mnist", "fashion_mnist"):
        return _mnist_like(name, data_dir)
    tr, te = data.toy2d(name, n_train, seed=seed), data.toy2d(name, n_test, seed=seed + 10_000)
    return Dataset(name, tr.x, tr.y, te.x, te.y, None, tr.means, tr.std)


def _mnist_like(name: str, data_dir) -> Dataset:
    from minigen import data
    import os
    root = os.path.expanduser(str(data_dir))
    loader = getattr(data, name)
    try:
        d = loader(root, split="all")
        return Dataset(name, d.x_train, d.y_train, d.x_test, d.y_test, tuple(d.image_shape))
    except data.DatasetNotFoundError:
        d = loader(root, split="test")       # raises, naming the files, when these are missing too
    k = MNIST_TEST_SPLIT
    return Dataset(name, d.x_test[:k], d.y_test[:k], d.x_test[k:], d.y_test[k:], tuple(d.image_shape),
                   note=f"trained on the first {k:,} images of the test files (no training files found)")
