"""MNIST and Fashion-MNIST from their standard IDX files in a local folder (optionally downloaded).

The folder holds, gzip-compressed (``.gz``) or not::

    train-images-idx3-ubyte   train-labels-idx1-ubyte     60,000 training images and labels
    t10k-images-idx3-ubyte    t10k-labels-idx1-ubyte      10,000 test images and labels

``split="test"`` loads the test files alone (for a folder that has only those), ``split="train"`` the
training files alone; the default ``"all"`` needs all four.  ``download=True`` fetches the missing files
from public mirrors and keeps them only if their MD5 matches the published one.  Files already on disk
are not checksummed (a re-compressed copy has another MD5) but fully checked for structure: magic
numbers, 28x28 images, file sizes that match their headers, as many labels as images, labels 0..9.
"""
from __future__ import annotations

import os

import numpy as np

from minigen.data.download import DatasetNotFoundError, download_file
from minigen.data.idx import IDXError, read_idx
from minigen.data.images import ImageDataset

__all__ = ["mnist", "fashion_mnist", "MNIST_MD5", "FASHION_MNIST_MD5", "MNIST_MIRRORS",
           "FASHION_MNIST_MIRRORS", "SPLIT_FILES"]

IMAGES_MAGIC, LABELS_MAGIC = 2051, 2049
SPLIT_FILES = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
               "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}

# the published MD5 checksums of the gzip files as the mirrors serve them
MNIST_MD5 = {
    "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
}
FASHION_MNIST_MD5 = {
    "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
    "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
    "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
    "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
}
MNIST_MIRRORS = ("https://ossci-datasets.s3.amazonaws.com/mnist/",
                 "https://storage.googleapis.com/cvdf-datasets/mnist/")
FASHION_MNIST_MIRRORS = ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",)

FASHION_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
                   "Bag", "Ankle boot")


def mnist(root, split: str = "all", download: bool = False) -> ImageDataset:
    """The MNIST handwritten digits from the IDX files in ``root``.

    Returns an :class:`ImageDataset`: ``x_*`` float32 rows of 784 pixels in [0, 1] (bytes / 255), ``y_*``
    int64 labels 0..9, ``image_shape=(28, 28)``; the split not asked for is None.  ``split``: ``"all"``,
    ``"train"`` or ``"test"``.  Raises :class:`DatasetNotFoundError` listing the missing files, where to
    put them and where to get them, and :class:`IDXError` for a malformed file.
    """
    return _load("mnist", root, split, download, MNIST_MD5, MNIST_MIRRORS, tuple(str(c) for c in range(10)))


def fashion_mnist(root, split: str = "all", download: bool = False) -> ImageDataset:
    """Zalando's Fashion-MNIST (10 kinds of clothing, 28x28), exactly as :func:`mnist` (same file names;
    keep it in its own folder).  ``classes`` names the labels."""
    return _load("fashion_mnist", root, split, download, FASHION_MNIST_MD5, FASHION_MNIST_MIRRORS,
                 FASHION_CLASSES)


def _find(root: str, base: str) -> str | None:
    for name in (base, base + ".gz"):
        path = os.path.join(root, name)
        if os.path.isfile(path):
            return path
    return None


def _missing_message(name, root, missing, present_splits, mirrors, failures) -> str:
    lines = [f"{name}: {len(missing)} file(s) missing from {root}:"]
    lines += [f"  {b}.gz  (or uncompressed: {b})" for b in missing]
    if failures:
        lines.append("Put them in that folder; get them from:")
    else:
        lines.append(f"Put them in that folder, or call {name}(root, download=True) to fetch them "
                     "(MD5-checked) from:")
    lines += [f"  {m}{b}.gz" for b in missing for m in mirrors]
    for s in present_splits:
        lines.append(f"The {s} files are present: {name}(root, split={s!r}) loads the {s} set alone.")
    if failures:
        lines.append("Downloading failed:")
        lines += ["  " + line for f in failures for line in f.splitlines()]
    return "\n".join(lines)


def _read_split(images_path: str, labels_path: str, n_classes: int = 10):
    images = read_idx(images_path, expect_magic=IMAGES_MAGIC)
    if images.shape[1:] != (28, 28):
        raise IDXError(f"{images_path}: images are {images.shape[1]}x{images.shape[2]}, expected 28x28")
    labels = read_idx(labels_path, expect_magic=LABELS_MAGIC)
    if len(labels) != len(images):
        raise IDXError(f"{labels_path}: {len(labels)} labels for the {len(images)} images of {images_path}")
    if len(labels) and labels.max() >= n_classes:
        raise IDXError(f"{labels_path}: label {int(labels.max())} outside 0..{n_classes - 1}")
    x = images.reshape(len(images), -1).astype(np.float32) / np.float32(255)
    return x, labels.astype(np.int64)


def _load(name, root, split, download, md5s, mirrors, classes) -> ImageDataset:
    if split not in ("all", "train", "test"):
        raise ValueError(f"{name}: split must be 'all', 'train' or 'test', not {split!r}")
    root = os.fspath(root)
    splits = ("train", "test") if split == "all" else (split,)
    need = [b for s in splits for b in SPLIT_FILES[s]]
    found = {b: _find(root, b) for b in need}
    failures = []
    if download:
        for b in [b for b in need if found[b] is None]:
            try:
                found[b] = download_file(b + ".gz", root, mirrors, md5s[b + ".gz"])
            except OSError as e:
                failures.append(str(e))
    missing = [b for b in need if found[b] is None]
    if missing:
        present = [s for s in ("train", "test") if all(_find(root, b) for b in SPLIT_FILES[s])]
        raise DatasetNotFoundError(_missing_message(name, root, missing, present, mirrors, failures))
    data = {s: _read_split(*(found[b] for b in SPLIT_FILES[s])) for s in splits}
    x_train, y_train = data.get("train", (None, None))
    x_test, y_test = data.get("test", (None, None))
    return ImageDataset(name, x_train, y_train, x_test, y_test, image_shape=(28, 28), n_classes=10,
                        classes=classes)
