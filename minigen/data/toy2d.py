"""Toy 2-D data sets: Gaussian mixtures with known densities, and the classic moons, circles, spiral and
swiss roll.  Data are generated on the host (NumPy) from ``seed``: same seed, same points.

    ds = toy2d("ring8", 10_000, seed=0)
    ds.x                    # (10000, 2) float32 host array; DataLoader(ds.x, ...) moves it to the device
    ds.log_density(ds.x)    # (10000,) the true log density, for the mixtures

=============  ==============================================================================
``ring8``      8 Gaussians evenly spaced on the unit circle (first at (1, 0)), std 0.01
``grid25``     25 Gaussians on the grid {-4, -2, 0, 2, 4}^2, std 0.05
``moons``      two interleaved half circles (radius 1), centred at the origin, noise std 0.05
``circles``    two concentric circles, radii 1 and 0.5, noise std 0.05
``spiral``     two interleaved spiral arms out to radius pi, noise std 0.1
``swiss_roll`` the 2-D swiss roll: (t cos t, t sin t) / 5 for t in [1.5 pi, 4.5 pi], noise std 0.1
=============  ==============================================================================

Points along the curves are drawn at random (not evenly spaced), and each set is shuffled.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["toy2d", "gaussian_mixture", "Toy2D", "TOY2D_NAMES"]

TOY2D_NAMES = ("ring8", "grid25", "moons", "circles", "spiral", "swiss_roll")


@dataclass(repr=False)
class Toy2D:
    """A toy data set on the host.

    ``x`` (n, d) float32 points; ``y`` (n,) int64 labels where the set has them (the mixture component,
    the moon, the circle, the spiral arm; None for the swiss roll).  Mixtures also carry ``means``
    (k, d), ``std`` (the isotropic standard deviation of every component) and ``weights`` (k,), and
    :meth:`log_density` gives their exact density.
    """

    name: str
    x: np.ndarray
    y: np.ndarray | None = None
    means: np.ndarray | None = None
    std: float | None = None
    weights: np.ndarray | None = None

    def __len__(self):
        return len(self.x)

    @property
    def has_density(self) -> bool:
        return self.means is not None

    def log_density(self, points) -> np.ndarray:
        """log p(points) under the true mixture: ``points`` (m, d) host array -> (m,) float64."""
        if not self.has_density:
            raise NotImplementedError(f"the density of {self.name!r} is not known in closed form; "
                                      "only the Gaussian mixtures (ring8, grid25, gaussian_mixture) have one")
        p = np.asarray(points, dtype=np.float64)
        if p.ndim != 2 or p.shape[1] != self.means.shape[1]:
            raise ValueError(f"log_density: points must be (m, {self.means.shape[1]}), got {p.shape}")
        d = p.shape[1]
        sq = ((p[:, None, :] - self.means[None, :, :]) ** 2).sum(-1)                       # (m, k)
        logs = np.log(self.weights) - sq / (2 * self.std ** 2) - 0.5 * d * np.log(2 * np.pi * self.std ** 2)
        top = logs.max(axis=1, keepdims=True)
        return (top + np.log(np.exp(logs - top).sum(axis=1, keepdims=True)))[:, 0]

    def __repr__(self):
        extra = f", k={len(self.means)}, std={self.std}" if self.has_density else ""
        return f"Toy2D({self.name!r}, n={len(self.x)}{extra})"


def gaussian_mixture(means, std: float, n: int, weights=None, seed=0,
                     name: str = "gaussian_mixture") -> Toy2D:
    """``n`` points from an isotropic Gaussian mixture: component k (probability ``weights[k]``, uniform
    by default) is N(``means[k]``, ``std``^2 I).  ``means`` is (k, d); ``y`` holds each point's component."""
    means = np.asarray(means, dtype=np.float64)
    if means.ndim != 2 or len(means) == 0:
        raise ValueError(f"gaussian_mixture: means must be a (k, d) array, got shape {means.shape}")
    if not std > 0:
        raise ValueError(f"gaussian_mixture: std must be positive, got {std}")
    k = len(means)
    w = np.full(k, 1.0 / k) if weights is None else np.asarray(weights, dtype=np.float64)
    if w.shape != (k,) or (w < 0).any() or not w.sum() > 0:
        raise ValueError(f"gaussian_mixture: weights must be {k} non-negative numbers, got {weights!r}")
    w = w / w.sum()
    n = _check_n(n)
    rng = np.random.default_rng(seed)
    comp = rng.choice(k, size=n, p=w)
    x = means[comp] + std * rng.standard_normal((n, means.shape[1]))
    return Toy2D(name, x.astype(np.float32), comp.astype(np.int64), means, float(std), w)


def toy2d(name: str, n: int, seed=0) -> Toy2D:
    """``n`` points of the toy set ``name`` (one of :data:`TOY2D_NAMES`, described in this module's doc)."""
    if name == "ring8":
        angles = 2 * np.pi * np.arange(8) / 8
        return gaussian_mixture(np.stack([np.cos(angles), np.sin(angles)], 1), 0.01, n, seed=seed, name=name)
    if name == "grid25":
        g = np.array([-4.0, -2.0, 0.0, 2.0, 4.0])
        means = np.stack(np.meshgrid(g, g, indexing="ij"), -1).reshape(-1, 2)
        return gaussian_mixture(means, 0.05, n, seed=seed, name=name)
    if name not in _CURVES:
        raise ValueError(f"unknown toy data set {name!r}; choose one of {', '.join(TOY2D_NAMES)}")
    n = _check_n(n)
    rng = np.random.default_rng(seed)
    x, y, noise = _CURVES[name](rng, n)
    x = x + noise * rng.standard_normal(x.shape)
    order = rng.permutation(n)
    return Toy2D(name, x[order].astype(np.float32), None if y is None else y[order].astype(np.int64))


def _check_n(n) -> int:
    if int(n) != n or n < 1:
        raise ValueError(f"the number of points must be a positive integer, got {n!r}")
    return int(n)


def _two_groups(n):
    y = np.zeros(n, dtype=np.int64)
    y[n // 2:] = 1
    return y


def _moons(rng, n):
    y = _two_groups(n)
    t = rng.uniform(0, np.pi, n)
    upper = np.stack([np.cos(t), np.sin(t)], 1)
    lower = np.stack([1 - np.cos(t), 0.5 - np.sin(t)], 1)
    x = np.where(y[:, None] == 0, upper, lower) - np.array([0.5, 0.25])
    return x, y, 0.05


def _circles(rng, n):
    y = _two_groups(n)
    t = rng.uniform(0, 2 * np.pi, n)
    r = np.where(y == 0, 1.0, 0.5)
    return r[:, None] * np.stack([np.cos(t), np.sin(t)], 1), y, 0.05


def _spiral(rng, n):
    y = _two_groups(n)
    t = 3 * np.pi * np.sqrt(rng.uniform(0, 1, n))        # sqrt: points spread evenly along the arm
    angle = t + np.pi * y
    return (t / 3)[:, None] * np.stack([np.cos(angle), np.sin(angle)], 1), y, 0.1


def _swiss_roll(rng, n):
    t = 1.5 * np.pi * (1 + 2 * rng.uniform(0, 1, n))
    return np.stack([t * np.cos(t), t * np.sin(t)], 1) / 5, None, 0.1


_CURVES = {"moons": _moons, "circles": _circles, "spiral": _spiral, "swiss_roll": _swiss_roll}
