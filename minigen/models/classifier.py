"""A small reference classifier of the embedded 8x8 digits, the judge of generated digits.

A GAN trained on digits is judged the way Inception-score-like measures judge image models, but with a
classifier we can train in seconds: an MLP 64 -> 256 -> 128 -> 10 (ReLU), trained with minigen itself on
the digits train split (1,437 images; Adam 1e-3, batch 64, 40 epochs, weight decay 1e-4), from a fixed
seed with its own generator, so the engine RNG is left untouched.  It reaches about 99% on the 360 test
images.

A plain classifier is confidently wrong on garbage (it puts most uniform-noise images in one class with
probability > 0.9), which would make "fraction confidently classified" meaningless for a generator.  So
it is trained with outlier exposure (Hendrycks et al. 2019): each batch also holds as many non-digits,
whose target is the uniform distribution over the 10 classes (cross-entropy to uniform, weight 0.25):
uniform noise, real digits with their pixels shuffled, and the average of two digits of different
classes (the blurry "mode averaging" a poor generator produces).  Real test digits are confidently
classified about 84% of the time, uniform noise never, averages of two digits about 3%.

    clf = reference_classifier()          # trained at first use, then cached
    clf.accuracy                          # its test accuracy
    j = judge(samples)                    # samples (n, 64) in [0, 1]
    j["confident"]                        # fraction of samples whose top class has probability >= 0.9
    j["class_counts"]                     # predicted class histogram of the confident samples (10,)

Mode dropping shows up as classes with no (or few) confident samples: ``classes_covered`` counts the
classes with at least one confident sample, and ``reverse_kl`` is KL(class histogram || uniform), as in
:func:`minigen.metrics.mode_coverage`.

Caching: the trained weights are kept in memory for the process, and on disk in the user cache folder
(``$MINIGEN_CACHE_DIR``, else ``$XDG_CACHE_HOME/minigen``, else ``~/.cache/minigen``), never in the source
tree; ``MINIGEN_CACHE_DIR=off`` disables the disk cache.  A missing or unreadable cache file is simply
retrained.
"""
from __future__ import annotations

import os
from pathlib import Path

from minigen import backend
from minigen import functional as F
from minigen.autograd.mode import no_grad
from minigen.autograd.tensor import Tensor
from minigen.backend import xp
from minigen.nn import Linear, Module, ReLU, Sequential

__all__ = ["CONFIDENCE", "DigitClassifier", "cache_dir", "fit_classifier", "judge", "judge_labels",
           "reference_classifier", "train_classifier"]

CONFIDENCE = 0.9                 # a sample is "confidently classified" when its top probability >= this
VERSION = 2                      # bump when the recipe changes: old cache files are then ignored
SIZES = (64, 256, 128, 10)
SEED, EPOCHS, BATCH, LR, WEIGHT_DECAY, OUTLIER_WEIGHT = 0, 40, 64, 1e-3, 1e-4, 0.25

_CACHE: dict = {}


class DigitClassifier(Module):
    """An MLP on flattened 8x8 digits with pixel values in [0, 1]; ``forward`` gives logits (n, 10)."""

    def __init__(self, sizes=SIZES, generator=None):
        super().__init__()
        layers = []
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers.append(Linear(a, b, generator=generator))
            if i < len(sizes) - 2:
                layers.append(ReLU())
        self.net = Sequential(*layers)
        self.sizes = tuple(sizes)
        self.accuracy = float("nan")

    def forward(self, x):
        return self.net(x)

    def probabilities(self, x):
        """Class probabilities (n, 10) as a device array."""
        x = x if isinstance(x, Tensor) else Tensor(backend.to_device(x, dtype=backend.default_float()))
        with no_grad():
            return F.softmax(self(x), axis=1).data

    def predict(self, x):
        return self.probabilities(x).argmax(1)


def cache_dir() -> Path | None:
    """Where the trained weights are cached on disk (None when disabled)."""
    env = os.environ.get("MINIGEN_CACHE_DIR")
    if env is not None:
        return None if env.lower() in ("", "0", "off", "none", "false") else Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "minigen"


def _cache_file(name: str = "digits") -> Path | None:
    d = cache_dir()
    return None if d is None else d / f"{name}_classifier_v{VERSION}.npz"


def _train(verbose: bool = False) -> DigitClassifier:
    from minigen.data import digits
    d = digits()
    model = train_classifier(d.x_train, d.y_train, d.x_test, d.y_test)
    if verbose:
        print(f"reference digit classifier trained: test accuracy {model.accuracy:.2%}")
    return model


def train_classifier(x_train, y_train, x_test, y_test, hidden=SIZES[1:-1]) -> DigitClassifier:
    """The reference recipe (outlier exposure, the settings above, its own generator) on any images
    flattened to rows in [0, 1]: (n, D) -> an MLP D -> hidden -> 10; ``accuracy`` on the test rows."""
    from minigen.optim import Adam
    g = backend.Generator(SEED)
    x = backend.to_device(x_train, dtype=backend.default_float())
    y = backend.to_device(y_train)
    model = DigitClassifier(sizes=(x.shape[1], *hidden, 10), generator=g)
    opt = Adam(model.parameters(), lr=LR, weight_decay=WEIGHT_DECAY)
    n = x.shape[0]
    for epoch in range(EPOCHS):
        perm = g.permutation(n)
        for i in range(n // BATCH):
            idx = perm[i * BATCH:(i + 1) * BATCH]
            out_x, out_w = _outliers(x, y, idx, g)
            logits = model(Tensor(xp.concatenate([x[idx], out_x])))
            loss = F.cross_entropy(logits[:BATCH], y[idx])
            # cross-entropy to the uniform distribution: -mean_k log p_k, per outlier, weighted
            to_uniform = -F.mean(F.log_softmax(logits[BATCH:], axis=1), axis=1)
            loss = loss + OUTLIER_WEIGHT * F.sum(to_uniform * Tensor(out_w)) / float(out_w.sum())
            opt.zero_grad()
            loss.backward()
            opt.step()
    model.eval()
    model.accuracy = float((model.predict(x_test) == backend.to_device(y_test)).mean())
    return model


def _outliers(x, y, idx, g):
    """BATCH non-digits (a third each: uniform noise, pixel-shuffled digits, averages of two digits) and
    their weights (an average of two digits of the same class is a digit: weight 0)."""
    b, d = idx.shape[0], x.shape[1]
    k = b // 3
    noise = g.uniform((k, d), dtype=x.dtype)
    rows = x[idx[:k]]
    order = xp.argsort(g.uniform((k, d)), axis=1)
    shuffled = xp.take_along_axis(rows, order, 1)
    m = b - 2 * k
    other = g.integers(0, x.shape[0], size=(m,))
    mixed = 0.5 * (x[idx[:m]] + x[other])
    w = xp.concatenate([xp.ones(2 * k, dtype=x.dtype), (y[idx[:m]] != y[other]).astype(x.dtype)])
    return xp.concatenate([noise, shuffled, mixed]), w


def reference_classifier(verbose: bool = False) -> DigitClassifier:
    """The trained reference classifier of the 8x8 digits (trained deterministically at first use, then
    cached)."""
    return cached_classifier("digits", lambda: _train(verbose))


def cached_classifier(name: str, train, sizes=SIZES) -> DigitClassifier:
    """The classifier called ``name``: from memory, else from the disk cache, else ``train()`` (and cached).
    ``name`` must say everything its training depends on (data set, split)."""
    key = (name, backend.get_backend())
    if key in _CACHE:
        return _CACHE[key]
    path = _cache_file(name)
    model = None
    if path is not None and path.exists():
        from minigen import serialization
        try:
            state = serialization.load(path)
            model = DigitClassifier(sizes=tuple(state["sizes"]))
            model.load_state_dict(state["model"])
            model.eval()
            model.accuracy = float(state["accuracy"])
        except (serialization.CheckpointError, KeyError, ValueError, TypeError, OSError):
            model = None
    if model is None:
        model = train()
        if path is not None:
            from minigen import serialization
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                serialization.save({"model": model.state_dict(), "accuracy": model.accuracy, "version": VERSION,
                                    "sizes": [int(a) for a in model.sizes]}, path)
            except OSError:
                pass            # a read-only home: keep the in-memory copy
    _CACHE[key] = model
    return model


def judge(samples, classifier: DigitClassifier | None = None, confidence: float = CONFIDENCE) -> dict:
    """Judge generated digits ``samples`` (n, 64) in [0, 1] (Tensor, device or host array).

    Returns ``confident`` (fraction with top probability >= ``confidence``), ``class_counts`` (the
    predicted-class histogram of the confident samples), ``all_counts`` (of every sample),
    ``classes_covered`` (classes with a confident sample), ``reverse_kl`` (KL of ``class_counts``,
    normalised, from uniform; inf with no confident sample) and ``n``."""
    from minigen.metrics import histogram_kl_uniform
    clf = classifier or reference_classifier()
    x = samples.data if isinstance(samples, Tensor) else backend.to_device(samples)
    x = x.reshape(x.shape[0], -1).astype(backend.default_float())
    prob = clf.probabilities(Tensor(x))
    top, pred = prob.max(1), prob.argmax(1)
    sure = top >= confidence
    k = prob.shape[1]
    counts = xp.bincount(pred[sure], minlength=k)
    all_counts = xp.bincount(pred, minlength=k)
    n = int(x.shape[0])
    return {"n": n, "confident": float(sure.sum()) / n if n else 0.0,
            "class_counts": [int(v) for v in backend.to_host(counts)],
            "all_counts": [int(v) for v in backend.to_host(all_counts)],
            "classes_covered": int((counts > 0).sum()), "reverse_kl": histogram_kl_uniform(counts)}


def judge_labels(samples, labels, classifier: DigitClassifier | None = None) -> dict:
    """The classifier's verdict on generated digits ``samples`` (n, 64) that were asked to be of class
    ``labels`` (n,): ``accuracy`` (agreement with the requested label), ``per_class`` accuracy,
    ``confident`` (top probability >= 0.9) and the classifier's own test accuracy."""
    import math
    clf = classifier or reference_classifier()
    x = samples.data if isinstance(samples, Tensor) else backend.to_device(samples)
    x = x.reshape(x.shape[0], -1).astype(backend.default_float())
    prob = clf.probabilities(Tensor(x))
    y = backend.to_device(labels)
    hit = prob.argmax(1) == y
    per_class = []
    for c in range(prob.shape[1]):
        m = y == c
        cnt = int(m.sum())
        per_class.append(float(hit[m].sum()) / cnt if cnt else math.nan)
    return {"accuracy": float(hit.mean()), "per_class": per_class,
            "confident": float((prob.max(1) >= CONFIDENCE).mean()), "classifier_test_accuracy": clf.accuracy}


def fit_classifier(model: Module, batches, steps: int, lr: float = 1e-3, weight_decay: float = 0.0, loss=None):
    """Fit ``model`` (it outputs logits) with Adam for ``steps`` steps: the small supervised fits that
    measurements need (baselines, linear probes).  ``batches``: a DataLoader of ``(x, y)`` (its ``next()``
    is used) or one fixed ``(x, y)`` pair (full batch); ``loss(logits, y)`` defaults to the cross-entropy."""
    from minigen.models.gan import update
    from minigen.optim import Adam
    opt = Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    loss = loss or F.cross_entropy
    for _ in range(steps):
        x, y = batches.next() if hasattr(batches, "next") else batches
        update(opt, loss(model(x), y))
    return model
