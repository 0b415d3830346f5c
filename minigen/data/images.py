"""``ImageDataset``: an image classification data set held on the host, split into train and test."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["ImageDataset"]


@dataclass(repr=False)
class ImageDataset:
    """Images flattened to rows, scaled to [0, 1], with their integer labels (host NumPy arrays).

    ``x_train`` (n_train, H*W) float32, ``y_train`` (n_train,) int64, likewise ``x_test``/``y_test``;
    a split that was not loaded is None.  ``image_shape`` is (H, W).  Feed a split to a
    :class:`~minigen.data.DataLoader` as ``DataLoader(ds.train, ...)`` or ``DataLoader(ds.x_train, ...)``.
    """

    name: str
    x_train: np.ndarray | None
    y_train: np.ndarray | None
    x_test: np.ndarray | None
    y_test: np.ndarray | None
    image_shape: tuple
    n_classes: int
    classes: tuple = ()

    def _split(self, split):
        x, y = getattr(self, f"x_{split}"), getattr(self, f"y_{split}")
        if x is None:
            raise ValueError(f"{self.name}: the {split} split was not loaded")
        return x, y

    @property
    def train(self) -> tuple:
        """``(x_train, y_train)``."""
        return self._split("train")

    @property
    def test(self) -> tuple:
        """``(x_test, y_test)``."""
        return self._split("test")

    def images(self, x) -> np.ndarray:
        """Rows (n, H*W) -> images (n, H, W)."""
        return x.reshape(-1, *self.image_shape)

    def __repr__(self):
        def shape(a):
            return "None" if a is None else "x".join(map(str, a.shape))
        return (f"ImageDataset({self.name!r}, train={shape(self.x_train)}, test={shape(self.x_test)}, "
                f"image_shape={self.image_shape}, n_classes={self.n_classes})")
