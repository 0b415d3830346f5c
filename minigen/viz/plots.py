"""Figures of the runs and demos (matplotlib, Agg).  Everything here works on host NumPy arrays:
callers pass ``tensor.numpy()`` / ``minigen.to_host(a)``."""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def _save(fig, path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path


def image_grid(images: np.ndarray, shape: tuple, nrow: int | None = None, pad: int = 1) -> np.ndarray:
    """(n, H*W) or (n, H, W) images in [0, 1] -> one (rows*(H+pad), cols*(W+pad)) mosaic."""
    images = np.asarray(images).reshape(-1, *shape)
    n = len(images)
    cols = nrow or int(np.ceil(np.sqrt(n)))
    rows = int(np.ceil(n / cols))
    h, w = shape
    grid = np.ones((rows * (h + pad) + pad, cols * (w + pad) + pad))
    for i, im in enumerate(images):
        r, c = divmod(i, cols)
        grid[pad + r * (h + pad): pad + r * (h + pad) + h, pad + c * (w + pad): pad + c * (w + pad) + w] = im
    return grid


def save_image_grid(images, shape, path, title: str | None = None, nrow: int | None = None) -> Path:
    fig, ax = plt.subplots(figsize=(6, 6))
    ax.imshow(image_grid(np.clip(images, 0, 1), shape, nrow), cmap="gray_r", vmin=0, vmax=1)
    ax.axis("off")
    if title:
        ax.set_title(title)
    return _save(fig, path)


def loss_curves(metrics: list[dict], keys: list[str], path, title: str = "training", logy: bool = False) -> Path:
    """One panel per key group: e.g. [["loss"], ["reconstruction", "kl"]]."""
    groups = [k if isinstance(k, (list, tuple)) else [k] for k in keys]
    fig, axes = plt.subplots(1, len(groups), figsize=(5 * len(groups), 3.6), squeeze=False)
    steps = [m["step"] for m in metrics]
    for ax, group in zip(axes[0], groups):
        for k in group:
            ax.plot(steps, [m.get(k, np.nan) for m in metrics], label=k)
        ax.set_xlabel("step")
        ax.legend()
        if logy:
            ax.set_yscale("symlog")
        ax.grid(alpha=0.3)
    fig.suptitle(title)
    return _save(fig, path)


def latent_scatter(codes: np.ndarray, labels, path, title: str = "latent codes (test set)") -> Path:
    """2-D codes coloured by label; codes of higher dimension are projected on their first 2 PCs."""
    codes = np.asarray(codes)
    if codes.shape[1] > 2:
        c = codes - codes.mean(0)
        _, _, vt = np.linalg.svd(c, full_matrices=False)
        codes = c @ vt[:2].T
        title += " (first 2 principal components)"
    fig, ax = plt.subplots(figsize=(6, 5.5))
    sc = ax.scatter(codes[:, 0], codes[:, 1], c=labels, cmap="tab10", s=8, alpha=0.8)
    if labels is not None:
        fig.colorbar(sc, ax=ax, ticks=range(10))
    ax.set_title(title)
    ax.set_xlabel("z1")
    ax.set_ylabel("z2")
    return _save(fig, path)


def scatter_2d(layers: list[tuple], path, title: str = "", lim: float | None = None) -> Path:
    """Overlay point clouds: layers = [(points (n, 2), label, color), ...]."""
    fig, ax = plt.subplots(figsize=(5.5, 5.5))
    for pts, label, color in layers:
        pts = np.asarray(pts)
        ax.scatter(pts[:, 0], pts[:, 1], s=4, alpha=0.5, label=label, c=color)
    if lim:
        ax.set_xlim(-lim, lim)
        ax.set_ylim(-lim, lim)
    ax.set_aspect("equal")
    ax.legend(markerscale=3)
    ax.set_title(title)
    return _save(fig, path)
