"""Generated tabular data (the zoo's F7 fixture): correlated continuous features and a binary label from a
known logistic model.  Nothing is downloaded; the same seed gives the same table on every machine.

    tab = tabular_classification(seed=0)
    tab.x_train, tab.y_train          # (8000, 8) float32, (8000,) int64   (host NumPy arrays)
    tab.x_test, tab.y_test            # (4000, 8), (4000,)
    tab.bayes_auroc                   # AUROC of the true logit on the test split (the ceiling)

The model, for ``d`` features:

    z ~ N(0, I_d),  x = A z + mu                      A (d, d) with N(0, 1/d) entries plus the identity
    x_j <- exp(x_j / 2)  for j in ``skewed``          a few log-normal (skewed, positive) columns
    logit = w . standardise(x) + b,   y ~ Bernoulli(sigmoid(logit))

``A``, ``mu``, ``w`` and ``b`` are drawn from ``seed`` (``b`` sets the positive rate to ~30%, ``w`` has
norm ``signal``); the rows are drawn from a generator seeded by ``(seed, 1)``.  ``A`` mixes the columns,
so they are correlated, and the label depends on several of them at once.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["TabularDataset", "tabular_classification"]


@dataclass(repr=False)
class TabularDataset:
    """A binary classification table on the host: ``x_*`` float32 (n, d), ``y_*`` int64 (n,) in {0, 1};
    ``logit_*`` the true logits (float64), ``weights``/``bias`` the true logistic model (on standardised
    columns), ``mean``/``std`` the standardisation used for it."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    logit_train: np.ndarray
    logit_test: np.ndarray
    weights: np.ndarray
    bias: float
    mean: np.ndarray
    std: np.ndarray

    @property
    def n_features(self) -> int:
        return self.x_train.shape[1]

    @property
    def bayes_auroc(self) -> float:
        """AUROC of the true logit on the test split: no classifier can expect more."""
        return auroc_host(self.logit_test, self.y_test)


def auroc_host(scores, labels) -> float:
    """Mann-Whitney AUROC with average ranks for ties (host arrays)."""
    from scipy.stats import rankdata
    s, y = np.asarray(scores, dtype=np.float64), np.asarray(labels).astype(bool)
    r = rankdata(s)
    n1, n0 = int(y.sum()), int((~y).sum())
    return float((r[y].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def tabular_classification(n_train: int = 8000, n_test: int = 4000, n_features: int = 8, seed: int = 0,
                           skewed: tuple = (1, 4), signal: float = 2.5,
                           positive_rate: float = 0.3) -> TabularDataset:
    """The F7 table: ``n_features`` correlated columns (``skewed`` of them log-normal) and a label from a
    logistic model on them (see the module doc)."""
    d = n_features
    g = np.random.default_rng([seed, 0])
    A = np.eye(d) + g.normal(0.0, 1.0 / np.sqrt(d), size=(d, d))
    mu = g.normal(0.0, 1.0, size=d)
    w = g.normal(0.0, 1.0, size=d)
    w *= signal / np.linalg.norm(w)
    rows = np.random.default_rng([seed, 1])
    n = n_train + n_test
    x = rows.normal(size=(n, d)) @ A.T + mu
    for j in skewed:
        if j < d:
            x[:, j] = np.exp(x[:, j] / 2.0)
    mean, std = x[:n_train].mean(0), x[:n_train].std(0)
    score = ((x - mean) / std) @ w
    b = float(-np.quantile(score[:n_train], 1.0 - positive_rate))   # ~positive_rate of the logits are > 0
    logit = score + b
    y = (rows.uniform(size=n) < 1.0 / (1.0 + np.exp(-logit))).astype(np.int64)
    x = x.astype(np.float32)
    return TabularDataset("tabular", x[:n_train], y[:n_train], x[n_train:], y[n_train:], logit[:n_train],
                          logit[n_train:], w, b, mean, std)
