"""What the zoo's variants on the 8x8 digits share: the data on the device, one-hot labels, small MLPs,
the judge classifier, a kernel MMD, a PCA baseline and the run folder's files.

The digits are :func:`minigen.data.digits` (1,437 train / 360 test rows of 64 pixels in [0, 1], labels
0..9).  Batches are drawn with replacement by the engine RNG, so a seeded run is reproducible.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

from minigen import backend
from minigen.autograd.tensor import Tensor
from minigen.backend import xp
from minigen.nn import BatchNorm1d, Dropout, LeakyReLU, Linear, ReLU, Sequential, Sigmoid

N_CLASSES = 10


class Digits:
    """The digits split on the active device: ``x_train`` (1437, 64), ``y_train`` (1437,), ``x_test``,
    ``y_test``; :meth:`batch` draws ``n`` training rows (and their labels) with the engine RNG."""

    def __init__(self):
        from minigen.data import digits
        d = digits()
        dt = backend.default_float()
        self.x_train = backend.to_device(d.x_train, dtype=dt)
        self.y_train = backend.to_device(d.y_train)
        self.x_test = backend.to_device(d.x_test, dtype=dt)
        self.y_test = backend.to_device(d.y_test)
        self.image_shape = tuple(d.image_shape)

    def batch(self, n: int):
        idx = backend.rng().integers(0, self.x_train.shape[0], size=(n,))
        return Tensor(self.x_train[idx]), self.y_train[idx]


def one_hot(labels, k: int = N_CLASSES, dtype=None) -> Tensor:
    """Integer labels (n,) (device array) -> a constant (n, k) one-hot Tensor."""
    eye = xp.eye(k, dtype=dtype or backend.default_float())
    return Tensor(eye[labels])


def mlp(sizes, hidden_act: str = "relu", out_act: str | None = None, slope: float = 0.2,
        dropout: float = 0.0, norm: str | None = None) -> Sequential:
    """Linear layers of ``sizes`` with ReLU or LeakyReLU(``slope``) (then dropout, if any) between them and
    an optional sigmoid on the output; ``norm="batch"`` puts a BatchNorm1d before each hidden activation."""
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(Linear(a, b))
        if i < len(sizes) - 2:
            if norm == "batch":
                layers.append(BatchNorm1d(b))
            layers.append(LeakyReLU(slope) if hidden_act == "leaky_relu" else ReLU())
            if dropout:
                layers.append(Dropout(dropout))
    if out_act == "sigmoid":
        layers.append(Sigmoid())
    elif out_act is not None:
        raise ValueError(f"mlp: out_act must be 'sigmoid' or None, got {out_act!r}")
    return Sequential(*layers)


def _as_array(a, dtype=None):
    if isinstance(a, Tensor):
        a = a.data
    return backend.to_device(a).astype(dtype or xp.float64)


def _sq_dists(a, b):
    return (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * a @ b.T


def mmd2(x, y, bandwidth: float = 1.0) -> float:
    """The unbiased estimate of the squared maximum mean discrepancy between samples ``x`` (n, d) and
    ``y`` (m, d) with the Gaussian kernel k(a, b) = exp(-||a - b||^2 / (2 bandwidth^2)) (Gretton et al.
    2012, eq. 3):

        MMD^2_u = sum_{i != j} k(x_i, x_j) / (n (n-1)) + sum_{i != j} k(y_i, y_j) / (m (m-1))
                  - 2 sum_{i, j} k(x_i, y_j) / (n m)

    It is zero in expectation when both samples come from the same distribution (and may then be slightly
    negative)."""
    x, y = _as_array(x), _as_array(y)
    n, m = x.shape[0], y.shape[0]
    g = -0.5 / bandwidth ** 2
    kxx = xp.exp(g * _sq_dists(x, x))
    kyy = xp.exp(g * _sq_dists(y, y))
    kxy = xp.exp(g * _sq_dists(x, y))
    sxx = (float(kxx.sum()) - float(xp.trace(kxx))) / (n * (n - 1))
    syy = (float(kyy.sum()) - float(xp.trace(kyy))) / (m * (m - 1))
    return sxx + syy - 2.0 * float(kxy.mean())


def pca_reconstruction_mse(train, test, k: int) -> float:
    """Mean squared error (per pixel) of reconstructing ``test`` from its projection on the first ``k``
    principal axes of ``train`` (centred on the train mean; axes from ``xp.linalg.svd``)."""
    a, b = _as_array(train), _as_array(test)
    mu = a.mean(0)
    _, _, vt = xp.linalg.svd(a - mu, full_matrices=False)
    v = backend.to_device(vt)[:k].T      # the strict backend hands svd's named tuple back unwrapped
    rec = (b - mu) @ v @ v.T + mu
    return float(((rec - b) ** 2).mean())


def class_diversity(x, labels, ref_x, ref_labels) -> float:
    """Within-class variety of ``x`` relative to ``ref_x`` (real data): the mean over classes of the root
    mean squared pairwise distance between same-class samples, divided by the same for the reference.
    About 1 for samples as varied as the data; near 0 when each class collapses to one image."""
    x, r = _as_array(x), _as_array(ref_x)
    y, ry = backend.to_device(labels), backend.to_device(ref_labels)
    ratios = []
    for c in range(N_CLASSES):
        a, b = x[y == c], r[ry == c]
        if a.shape[0] < 2 or b.shape[0] < 2:
            continue
        da = float(xp.clip(_sq_dists(a, a), 0, None).mean()) * a.shape[0] / (a.shape[0] - 1)
        db = float(xp.clip(_sq_dists(b, b), 0, None).mean()) * b.shape[0] / (b.shape[0] - 1)
        ratios.append(math.sqrt(da / db))
    return sum(ratios) / len(ratios) if ratios else math.nan


def judge_labels(samples, labels) -> dict:
    """The reference classifier's verdict on generated digits ``samples`` (n, 64) that were asked to be of
    class ``labels`` (n,): ``accuracy`` (agreement with the requested label), ``per_class`` accuracy,
    ``confident`` (top probability >= 0.9) and the classifier's own test accuracy."""
    from minigen.models.classifier import reference_classifier
    clf = reference_classifier()
    x = _as_array(samples, backend.default_float())
    pred = clf.predict(x)
    y = backend.to_device(labels)
    hit = (pred == y)
    per_class = []
    for c in range(N_CLASSES):
        m = y == c
        cnt = int(m.sum())
        per_class.append(float(hit[m].sum()) / cnt if cnt else math.nan)
    top = clf.probabilities(x).max(1)
    return {"accuracy": float(hit.mean()), "per_class": per_class,
            "confident": float((top >= 0.9).mean()), "classifier_test_accuracy": clf.accuracy}


def write_results(out, res: dict) -> None:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(res, indent=2))
