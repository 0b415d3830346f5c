"""``DataLoader``: mini-batches of Tensors on the active device, with reproducible, resumable shuffling.

    loader = DataLoader((x, y), batch_size=128, shuffle=True, seed=0)
    for epoch in range(10):
        for xb, yb in loader:          # Tensors on the active device, (128, ...) each
            ...
        ckpt["loader"] = loader.state_dict()

Randomness (the shuffle order, dynamic binarization) comes from a generator derived from ``(seed,
epoch)``, so every epoch has a new order, the same seed gives the same run, and a loader restored with
``load_state_dict`` continues exactly where the saved one stood, even mid-epoch.
"""
from __future__ import annotations

import math

import numpy as np

from minigen import backend
from minigen.autograd import Tensor

__all__ = ["DataLoader"]

_BINARIZE = (None, "static", "dynamic")


def _is_array_like(a) -> bool:
    """A Tensor, a host array, or an array of any device backend."""
    return (isinstance(a, (Tensor, np.ndarray)) or backend.is_array(a)
            or (hasattr(a, "shape") and hasattr(a, "get")))


def _to_device(a):
    return backend.to_device(a.data if isinstance(a, Tensor) else a)


class DataLoader:
    """Iterate over ``data`` in batches of ``batch_size`` examples (along the first axis).

    ``data``: an array (NumPy, device array or Tensor) -> batches are Tensors; a tuple of arrays of
    equal length such as ``(x, y)`` -> batches are tuples of Tensors; or a dataset object (a list, or
    anything with ``__len__`` and ``__getitem__(i)``) whose items are arrays/numbers or tuples of them
    -> the items are stacked per batch (one Python call per example: prefer arrays).  Arrays are moved
    to the active device once, here, and batches are cut from them by whole-batch indexing (without
    shuffling they are views: do not modify a batch in place).

    ``shuffle``: a new order every epoch.  ``drop_last``: leave out a final batch smaller than
    ``batch_size``.  ``seed``: seeds the loader's randomness; None draws the seed from the engine RNG
    (so ``minigen.manual_seed`` makes it reproducible).  Same seed and backend -> same batches.

    ``binarize`` (for Bernoulli likelihoods; applies to the first array, whose values must lie in
    [0, 1]): ``"static"`` thresholds at 0.5 once; ``"dynamic"`` samples each value as Bernoulli(x) anew
    every time a batch is drawn.

    ``weights`` (one non-negative number per example): every epoch draws its examples *with replacement*,
    example i with probability weights[i] / sum(weights) (PyTorch's ``WeightedRandomSampler``), e.g.
    ``1 / count[y]`` for class-balanced batches of imbalanced data.  It implies ``shuffle``.

    ``len(loader)`` is the number of batches per epoch.  One iterator at a time: ``iter(loader)`` starts
    the next epoch (or resumes the one a ``load_state_dict`` stopped in) and retires earlier iterators.
    Training by steps rather than epochs, ``loader.next()`` gives the next batch and starts a new epoch
    when one is used up.
    """

    def __init__(self, data, batch_size: int = 64, shuffle: bool = False, drop_last: bool = False,
                 seed: int | None = None, binarize: str | None = None, weights=None):
        if isinstance(batch_size, bool) or int(batch_size) != batch_size or batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be a positive integer, got {batch_size!r}")
        if binarize not in _BINARIZE:
            raise ValueError(f"DataLoader: binarize must be None, 'static' or 'dynamic', got {binarize!r}")
        if seed is not None and (int(seed) != seed or seed < 0):
            raise ValueError(f"DataLoader: seed must be a non-negative integer or None, got {seed!r}")
        self.batch_size, self.shuffle, self.drop_last = int(batch_size), bool(shuffle), bool(drop_last)
        self.binarize = binarize
        self.dataset = data
        self._arrays, self._is_tuple = self._prepare(data)
        self._n = len(self._arrays[0]) if self._arrays is not None else len(data)
        if self._arrays is not None and binarize is not None:
            self._check_probabilities(self._arrays[0])
            if binarize == "static":
                self._arrays[0] = self._threshold(self._arrays[0])
        self._cdf = None
        if weights is not None:
            self._cdf = self._weights_cdf(weights)
            self.shuffle = True
        random = self.shuffle or binarize == "dynamic"
        if seed is None and random:
            seed = int(backend.rng().integers(0, 2 ** 63 - 1))
        self._seed = None if seed is None else int(seed)
        self._epoch, self._batch, self._resume = 0, 0, False
        self._token = None
        self._stream = None         # the iterator behind next()

    # --- the data ---
    @staticmethod
    def _prepare(data):
        if _is_array_like(data):
            return [_to_device(data)], False
        if isinstance(data, tuple):
            if not data or not all(_is_array_like(a) for a in data):
                raise TypeError("DataLoader: a tuple of data must hold arrays or Tensors, got "
                                f"({', '.join(type(a).__name__ for a in data)})")
            arrays = [_to_device(a) for a in data]
            lengths = [len(a) for a in arrays]
            if len(set(lengths)) > 1:
                raise ValueError(f"DataLoader: the arrays have different lengths {lengths}; they must agree "
                                 "along the first axis")
            return arrays, True
        if hasattr(data, "__len__") and hasattr(data, "__getitem__"):
            return None, None
        raise TypeError(f"DataLoader: data must be an array, a tuple of arrays, or a dataset with __len__ "
                        f"and __getitem__, not {type(data).__name__} (for minigen's data sets pass ds.x for "
                        "a toy2d set, ds.train or ds.x_train for an image set)")

    def _weights_cdf(self, weights):
        w = backend.to_device(weights.data if isinstance(weights, Tensor) else weights).astype(np.float64)
        if w.shape != (self._n,):
            raise ValueError(f"DataLoader: weights must hold one number per example ({self._n}), got shape "
                             f"{tuple(w.shape)}")
        total = float(w.sum())
        if not total > 0 or float(w.min()) < 0:
            raise ValueError("DataLoader: weights must be non-negative with a positive sum")
        return backend.xp.cumsum(w) / total

    @staticmethod
    def _check_probabilities(a):
        if a.dtype.kind != "f":
            raise TypeError(f"DataLoader: binarize needs floating-point data in [0, 1], got {a.dtype}")
        if a.size and (float(a.min()) < 0 or float(a.max()) > 1):
            raise ValueError(f"DataLoader: binarize needs data in [0, 1] (probabilities); these range over "
                             f"[{float(a.min())}, {float(a.max())}]")

    @staticmethod
    def _threshold(a):
        return (a > 0.5).astype(a.dtype)

    def _gather(self, idx):
        """The batch at ``idx`` (a slice or a device index array) as a list of device arrays."""
        if self._arrays is not None:
            return [a[idx] for a in self._arrays]
        host = range(self._n)[idx] if isinstance(idx, slice) else backend.to_host(idx).tolist()
        items = [self.dataset[i] for i in host]
        self._is_tuple = isinstance(items[0], (tuple, list))
        batch = [_stack(field) for field in zip(*items, strict=True)] if self._is_tuple else [_stack(items)]
        if self.binarize == "static":
            batch[0] = self._threshold(batch[0])
        return batch

    # --- iteration ---
    def __len__(self) -> int:
        return self._n // self.batch_size if self.drop_last else math.ceil(self._n / self.batch_size)

    @property
    def epoch(self) -> int:
        """The epoch the current (or next) iteration runs: 0, 1, 2, ..."""
        return self._epoch

    def _generator(self, epoch: int) -> backend.Generator:
        words = np.random.SeedSequence([self._seed, epoch]).generate_state(2, dtype=np.uint32)
        return backend.Generator((int(words[0]) << 32) | int(words[1]))

    def __iter__(self):
        if self._resume:
            self._resume = False
        elif self._batch > 0:               # the previous iteration stopped early: start a fresh epoch
            self._epoch, self._batch = self._epoch + 1, 0
        self._token = token = object()
        return self._run(self._epoch, self._batch, token)

    def _run(self, epoch, start, token):
        n, bs = self._n, self.batch_size
        gen = self._generator(epoch) if self._seed is not None else None
        if self._cdf is not None:           # n draws with replacement, by the weights' inverse CDF
            u = gen.uniform(size=n, dtype=np.float64)
            order = backend.xp.minimum(backend.xp.searchsorted(self._cdf, u, side="right"), n - 1)
        else:
            order = _permutation(gen, n) if self.shuffle else None
        dynamic = self.binarize == "dynamic"
        if dynamic and start > 0:           # replay the draws of the batches already served this epoch
            first = self._arrays[0] if self._arrays is not None else self._gather(slice(0, 1))[0]
            for b in range(start):
                gen.uniform(size=(min(bs, n - b * bs),) + tuple(first.shape[1:]), dtype=first.dtype)
        for b in range(start, len(self)):
            if self._token is not token:
                raise RuntimeError("DataLoader: this iterator was retired by a newer iter(loader) or by "
                                   "load_state_dict(); iterate the loader again")
            lo, hi = b * bs, min((b + 1) * bs, n)
            batch = self._gather(order[lo:hi] if order is not None else slice(lo, hi))
            if dynamic:
                x = batch[0]
                batch[0] = (gen.uniform(size=x.shape, dtype=x.dtype) < x).astype(x.dtype)
            self._batch = b + 1
            yield tuple(Tensor(a) for a in batch) if self._is_tuple else Tensor(batch[0])
        if self._token is token:
            self._epoch, self._batch = epoch + 1, 0

    def next(self):
        """The next batch, epoch after epoch without end (for training by steps)."""
        if len(self) == 0:
            raise ValueError(f"DataLoader: no batch to serve: {self._n} examples, batch_size {self.batch_size} "
                             "and drop_last=True")
        if self._stream is None:
            self._stream = iter(self)
        try:
            return next(self._stream)
        except StopIteration:
            self._stream = iter(self)
            return next(self._stream)

    # --- resuming ---
    def state_dict(self) -> dict:
        """``{"seed", "epoch", "batch"}`` (JSON-able): the next batch to serve is number ``batch`` of
        epoch ``epoch``."""
        return {"seed": self._seed, "epoch": self._epoch, "batch": self._batch}

    def load_state_dict(self, state: dict) -> None:
        """Continue from a :meth:`state_dict`: the next ``iter(loader)`` serves the batches the saved loader
        would have served next (same data, batch size and options required)."""
        missing = {"seed", "epoch", "batch"} - set(state)
        if missing:
            raise KeyError(f"DataLoader.load_state_dict: missing keys {sorted(missing)}")
        if not 0 <= int(state["batch"]) <= len(self):
            raise ValueError(f"DataLoader.load_state_dict: batch {state['batch']} is outside this loader's "
                             f"0..{len(self)} batches (different data or batch size?)")
        if state["seed"] is None and (self.shuffle or self.binarize == "dynamic"):
            raise ValueError("DataLoader.load_state_dict: the saved loader had no seed, but this one "
                             "shuffles or binarizes dynamically")
        self._seed = None if state["seed"] is None else int(state["seed"])
        self._epoch, self._batch = int(state["epoch"]), int(state["batch"])
        self._resume = self._batch > 0
        self._token = None
        self._stream = None

    def __repr__(self):
        kind = "dataset" if self._arrays is None else f"{len(self._arrays)} array(s)"
        return (f"DataLoader({kind}, n={self._n}, batch_size={self.batch_size}, shuffle={self.shuffle}, "
                f"drop_last={self.drop_last}, binarize={self.binarize!r}, batches={len(self)})")


def _permutation(gen, n):
    """A random permutation of 0..n-1 on the device: the order of n uniform keys (CuPy's Generator has
    no ``permutation``; ``argsort`` always yields a permutation, even on a tie)."""
    return backend.xp.argsort(gen.uniform(size=n, dtype=np.float64), kind="stable")


def _stack(values):
    """Items of one field -> a device array with a leading batch axis."""
    v0 = values[0]
    if isinstance(v0, Tensor):
        values, v0 = [v.data for v in values], v0.data
    if backend.is_array(v0):
        return backend.xp.stack(values)
    return backend.to_device(np.stack([backend.to_host(v) if hasattr(v, "get") else np.asarray(v)
                                       for v in values]))
