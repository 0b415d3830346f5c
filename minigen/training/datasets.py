"""The data a CLI run trains on, by name: the embedded digits, the 2-D toy sets, or MNIST from a folder.

A ``TrainData`` holds host arrays; ``batch(step)`` gives the batch of a global step without any
iterator state: epoch e = step // batches_per_epoch shuffles with its own seed (seed, e), so a resumed
run sees exactly the batches an uninterrupted one would.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from minigen import backend
from minigen.autograd.tensor import Tensor


@dataclass
class TrainData:
    name: str
    x_train: np.ndarray
    y_train: np.ndarray | None
    x_test: np.ndarray
    y_test: np.ndarray | None
    image_shape: tuple | None = None          # (H, W) for images, None for 2-D points
    meta: dict = field(default_factory=dict)  # toy sets: means, std

    @property
    def dim(self) -> int:
        return self.x_train.shape[1]

    def batches_per_epoch(self, batch_size: int) -> int:
        return max(1, len(self.x_train) // batch_size)

    def batch(self, step: int, batch_size: int, seed: int) -> Tensor:
        """The training batch of global ``step`` (shuffled per epoch, last partial batch dropped)."""
        nb = self.batches_per_epoch(batch_size)
        epoch, i = divmod(step, nb)
        perm = np.random.default_rng([seed, epoch]).permutation(len(self.x_train))
        idx = perm[i * batch_size:(i + 1) * batch_size]
        return Tensor(backend.to_device(self.x_train[idx]))


def load_train_data(name: str, data_dir: str | None = None, seed: int = 0, n_toy: int = 20000) -> TrainData:
    """``digits`` (embedded), ``mnist`` / ``fashion_mnist`` (from ``data_dir``), or a toy 2-D set."""
    from minigen import data
    if name == "digits":
        d = data.digits()
        return TrainData("digits", d.x_train, d.y_train, d.x_test, d.y_test, d.image_shape)
    if name in ("mnist", "fashion_mnist"):
        if not data_dir:
            raise ValueError(f"--data {name} needs --data-dir DIR with the IDX files")
        d = getattr(data, name)(data_dir)
        if d.x_train is None:       # only the 10k test files: train on 8,000 of them, test on the rest
            rng = np.random.default_rng(0)
            perm = rng.permutation(len(d.x_test))
            tr, te = perm[:8000], perm[8000:]
            return TrainData(name, d.x_test[tr], d.y_test[tr], d.x_test[te], d.y_test[te], d.image_shape,
                             {"note": "trained on 8,000 images of the test files (no train files found)"})
        return TrainData(name, d.x_train, d.y_train, d.x_test, d.y_test, d.image_shape)
    if name in data.TOY2D_NAMES:
        tr, te = data.toy2d(name, n_toy, seed=seed), data.toy2d(name, 2500, seed=seed + 10_000)
        meta = {"means": tr.means, "std": tr.std} if tr.means is not None else {}
        return TrainData(name, tr.x, tr.y, te.x, te.y, None, meta)
    raise ValueError(f"unknown data set {name!r}: choose digits, mnist, fashion_mnist or one of "
                     f"{', '.join(data.TOY2D_NAMES)}")
