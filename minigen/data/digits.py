"""The 8x8 handwritten digits bundled with scikit-learn: the image data that needs no download."""
from __future__ import annotations

import hashlib

import numpy as np

from minigen.data.images import ImageDataset

__all__ = ["digits", "DIGITS_SPLIT_SEED", "DIGITS_TEST_PER_CLASS"]

DIGITS_SPLIT_SEED = 0        # fixed: every run, every machine, every NumPy version gets the same split
DIGITS_TEST_PER_CLASS = 36   # 10 x 36 = 360 test images, 1,437 train


def _rank(seed: int, index: int) -> bytes:
    # a hash, not a random generator, so the split cannot change with NumPy's RNG algorithms
    return hashlib.sha256(f"minigen-digits-split:{seed}:{index}".encode()).digest()


def digits() -> ImageDataset:
    """The 1,797 8x8 digit images of ``sklearn.datasets.load_digits`` (10 classes, pixel values 0..16).

    Returns an :class:`ImageDataset`: ``x_*`` float32 rows of 64 pixels divided by 16 (so in [0, 1]),
    ``y_*`` int64 labels 0..9, ``image_shape=(8, 8)``.  The split is fixed and stratified: 36 images of
    each class form the test set (360), the rest train (1,437); both keep scikit-learn's order.  The 36
    are the class's images whose index has the smallest SHA-256 rank under ``DIGITS_SPLIT_SEED``: a
    pseudo-random choice that no library upgrade can change.
    """
    from sklearn.datasets import load_digits
    bunch = load_digits()
    x = (bunch.data / 16.0).astype(np.float32)
    y = bunch.target.astype(np.int64)
    test = np.zeros(len(y), dtype=bool)
    for c in range(10):
        members = np.flatnonzero(y == c).tolist()
        chosen = sorted(members, key=lambda i: _rank(DIGITS_SPLIT_SEED, i))[:DIGITS_TEST_PER_CLASS]
        test[chosen] = True
    return ImageDataset("digits", x[~test], y[~test], x[test], y[test], image_shape=(8, 8), n_classes=10,
                        classes=tuple(str(c) for c in range(10)))
