"""Procedural images for the zoo's application rows (all made on the host with NumPy from a seed, nothing
downloaded):

    texture(kind, size)          one image: "circles" (discs of several sizes and greys scattered on a shaded
                                 background: SinGAN's single training image) or "bricks"
    seismic_sections(n, size)    layered "seismic" sections with their horizon masks (Seismogen)
    settlements(n, size)         binary built-up maps of small towns with a procedurally known road density
                                 (RidgeGAN)

Every function returns float32 images in [0, 1] (and masks in {0, 1}) as host arrays; the same seed gives the
same arrays.
"""
from __future__ import annotations

import math

import numpy as np

__all__ = ["texture", "seismic_sections", "settlements", "landscape_metrics", "TEXTURES"]

TEXTURES = ("circles", "bricks")


def texture(kind: str = "circles", size: int = 32, seed: int = 0) -> np.ndarray:
    """One (size, size) texture in [0, 1].

    circles: a background shaded from 0.1 to 0.25 across the image, 14 discs (radius 2-4.5 px, grey 0.55-0.95,
             anti-aliased edges, overlapping where they fall so), pixel noise of std 0.02
    bricks:  rows of 4 px bricks 8 px long, every other row offset by half a brick, 1 px mortar, each brick
             its own grey (0.45-0.75), pixel noise of std 0.02"""
    if kind not in TEXTURES:
        raise ValueError(f"texture: kind must be one of {TEXTURES}, got {kind!r}")
    rng = np.random.default_rng([seed, 22])
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64) + 0.5
    if kind == "circles":
        img = 0.1 + 0.15 * (xx + yy) / (2 * size)
        for _ in range(14):
            cy, cx = rng.uniform(0, size, 2)
            r = rng.uniform(2.0, 4.5)
            inside = np.clip(r + 0.5 - np.hypot(yy - cy, xx - cx), 0.0, 1.0)       # 1 inside, a 1 px ramp
            img = img * (1 - inside) + rng.uniform(0.55, 0.95) * inside
    else:
        img = np.full((size, size), 0.2)
        for row in range(0, size, 5):
            off = 4 if (row // 5) % 2 else 0
            for col in range(-off, size, 9):
                img[row:row + 4, max(col, 0):max(col + 8, 0)] = rng.uniform(0.45, 0.75)
    img = img + rng.normal(0, 0.02, img.shape)
    return np.clip(img, 0, 1).astype(np.float32)


def _ricker(n: int, width: float) -> np.ndarray:
    t = np.arange(n) - (n - 1) / 2
    a = (t / width) ** 2
    return (1 - 2 * a) * np.exp(-a)


def seismic_sections(n: int, size: int = 32, seed: int = 0, noise: float = 0.35) -> tuple[np.ndarray, np.ndarray]:
    """(images (n, size, size), masks (n, size, size)): synthetic seismic sections of a layered earth.

    Each section is folded and tilted as a whole (depth shift A sin(2 pi f x / size + phi) + dip (x - size/2),
    A <= 2.5 px, |dip| <= 0.1) and holds 3-6 horizons (layer boundaries) 5-9 px apart, each with its own small
    undulation (<= 0.6 px), so they never touch; each layer has a random acoustic impedance, so each horizon a
    reflection coefficient of random sign and strength.  A trace is the reflectivity down a column convolved
    with a Ricker wavelet (the seismic source pulse: a main lobe and side lobes, so every reflector rings as a
    few bands), plus Gaussian noise of ``noise`` times the largest reflection amplitude; images are scaled to
    [0, 1] by 0.5 + trace / (2 max |trace|) per section.  The mask marks the horizon pixels (the segmentation
    target), 1 px thick."""
    rng = np.random.default_rng([seed, 28])
    images = np.zeros((n, size, size), np.float32)
    masks = np.zeros((n, size, size), np.float32)
    x = np.arange(size)
    wave = _ricker(9, 1.6)
    for i in range(n):
        fold = (rng.uniform(0, 2.5) * np.sin(2 * math.pi * rng.uniform(0.3, 1.2) * x / size + rng.uniform(0, 6.3))
                + rng.uniform(-0.1, 0.1) * (x - size / 2))
        top, bottom = 2 - fold.min(), size - 3 - fold.max()        # where a flat horizon may lie
        bases = [rng.uniform(top, top + 4)]
        while bases[-1] + 9 < bottom and len(bases) < 6:
            bases.append(bases[-1] + rng.uniform(5, 9))
        bases = [b for b in bases if b <= bottom]
        depth = np.stack([np.round(b + fold + rng.uniform(0, 0.6) * np.sin(2 * math.pi * rng.uniform(0.5, 2) * x
                                                                              / size + rng.uniform(0, 6.3)))
                          for b in bases]).astype(int)
        depth = np.clip(depth, 0, size - 1)
        k = len(bases)
        refl = np.zeros((size, size))
        coef = rng.uniform(0.3, 1.0, k) * rng.choice([-1.0, 1.0], k)
        for j in range(k):
            refl[depth[j], x] += coef[j]
            masks[i, depth[j], x] = 1.0
        trace = np.stack([np.convolve(refl[:, c], wave, mode="same") for c in range(size)], 1)
        trace = trace + rng.normal(0, noise * np.abs(coef).max(), trace.shape)
        images[i] = 0.5 + trace / (2 * np.abs(trace).max())
    return np.clip(images, 0, 1), masks


def _line(a, b):
    """The pixels of an L-shaped road from a to b (first along x, then along y)."""
    (y0, x0), (y1, x1) = a, b
    xs = range(min(x0, x1), max(x0, x1) + 1)
    ys = range(min(y0, y1), max(y0, y1) + 1)
    return [(y0, x) for x in xs] + [(y, x1) for y in ys]


def settlements(n: int, size: int = 32, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(maps (n, size, size) in {0, 1}, road density (n,)): procedural built-up maps of small towns and the
    density of their road network.

    A map holds 1-6 settlements: each a blob (a Gaussian bump of radius 2-6 px, thresholded with smooth noise,
    so edges are ragged); a few small hamlets (1-3 px) may appear on their own.  The roads, which the map does
    not show: a street grid inside the built-up area (every 3rd row and column of built-up pixels), and
    L-shaped links joining the settlements' centres in a chain from the largest one (a spanning tree, as
    towns are connected to their neighbours).  Road density = road pixels / all pixels: larger towns have
    more streets, scattered ones more links, so the landscape metrics of the built-up map (class area,
    number of patches, largest patch index) carry most of it."""
    rng = np.random.default_rng([seed, 32])
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64)
    maps = np.zeros((n, size, size), np.float32)
    density = np.zeros(n)
    for i in range(n):
        k = int(rng.integers(1, 7))
        field = np.zeros((size, size))
        centres = []
        for _ in range(k):
            cy, cx = rng.uniform(4, size - 4, 2)
            r = rng.uniform(2.0, 6.0)
            field = np.maximum(field, np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * r * r)))
            centres.append((int(cy), int(cx), r))
        wobble = rng.normal(0, 1, (size // 4, size // 4))
        wobble = np.kron(wobble, np.ones((4, 4)))[:size, :size]
        built = field + 0.12 * wobble > 0.45
        for _ in range(int(rng.integers(0, 4))):          # hamlets
            hy, hx = rng.integers(1, size - 3, 2)
            built[hy:hy + int(rng.integers(1, 3)), hx:hx + int(rng.integers(1, 3))] = True
        roads = np.zeros((size, size), bool)
        roads |= built & ((yy.astype(int) % 3 == 0) | (xx.astype(int) % 3 == 0))
        centres.sort(key=lambda c: -c[2])
        for a, b in zip(centres[:-1], centres[1:]):
            for (y, x) in _line(a[:2], b[:2]):
                roads[y, x] = True
        maps[i] = built
        density[i] = roads.mean()
    return maps, density.astype(np.float32)


def landscape_metrics(maps) -> np.ndarray:
    """(n, H, W) host maps (built-up where > 0.5) -> (n, 3) float64: CA (% of the map built up), NP (number of
    8-connected built-up patches, FRAGSTATS' default neighbourhood), LPI (the largest patch, % of the map)."""
    from scipy import ndimage
    built = np.asarray(maps) > 0.5
    out = np.zeros((built.shape[0], 3))
    eight = np.ones((3, 3), bool)
    for i, m in enumerate(built):
        labels, n = ndimage.label(m, structure=eight)
        largest = np.bincount(labels.ravel())[1:].max() if n else 0
        out[i] = (100.0 * m.mean(), n, 100.0 * largest / m.size)
    return out
