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


# ----------------------------------------------------------------------------------------------------
# GAN figures (minigen train gan, the GAN demos)
# ----------------------------------------------------------------------------------------------------

def _toy_background(ax, real=None, means=None, std=None, threshold: float = 3.0):
    """The true data (light points) and, for mixtures, each mode's high-quality disc (radius 3 std)."""
    if real is not None:
        real = np.asarray(real)
        ax.scatter(real[:, 0], real[:, 1], s=2, c="0.75", alpha=0.5, linewidths=0, label="data")
    if means is not None:
        means = np.asarray(means)
        ax.scatter(means[:, 0], means[:, 1], marker="+", s=30, c="black", linewidths=0.8, label="modes")
        if std:
            from matplotlib.patches import Circle
            for m in means:
                ax.add_patch(Circle(m, threshold * std, fill=False, ec="black", lw=0.4, alpha=0.6))


def sample_snapshots(snapshots: list[tuple], path, real=None, means=None, std=None, lim=None,
                     title: str = "samples over training", ncols: int = 4, stats: list | None = None) -> Path:
    """A grid of panels, one per (step, points (n, 2)) snapshot, drawn over the true data and modes;
    ``stats`` (optional, one string per snapshot) is added to each panel's title."""
    k = len(snapshots)
    ncols = max(1, min(ncols, k))
    nrows = int(np.ceil(k / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.2 * ncols, 3.3 * nrows), squeeze=False)
    for i, ax in enumerate(axes.flat):
        if i >= k:
            ax.axis("off")
            continue
        step, pts = snapshots[i]
        pts = np.asarray(pts)
        _toy_background(ax, real, means, std)
        ax.scatter(pts[:, 0], pts[:, 1], s=2, c="tab:red", alpha=0.5, linewidths=0)
        if lim:
            ax.set_xlim(-lim, lim)
            ax.set_ylim(-lim, lim)
        ax.set_aspect("equal")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(f"step {step}" + (f"\n{stats[i]}" if stats else ""), fontsize=8)
    fig.suptitle(title)
    return _save(fig, path)


def decision_surface(xs, ys, prob, path, real=None, fake=None, means=None, title: str = "discriminator") -> Path:
    """D(x) = P(real) on the grid xs x ys (``prob`` of shape (len(ys), len(xs))) as a heat map, with real
    and generated points on top."""
    fig, ax = plt.subplots(figsize=(6.2, 5.4))
    im = ax.imshow(np.asarray(prob), origin="lower", extent=(xs[0], xs[-1], ys[0], ys[-1]), cmap="RdBu_r",
                   vmin=0, vmax=1, aspect="equal", interpolation="bilinear")
    fig.colorbar(im, ax=ax, label="D(x) = P(real)")
    if real is not None:
        real = np.asarray(real)
        ax.scatter(real[:, 0], real[:, 1], s=3, c="black", alpha=0.5, linewidths=0, label="real")
    if fake is not None:
        fake = np.asarray(fake)
        ax.scatter(fake[:, 0], fake[:, 1], s=3, c="gold", alpha=0.6, linewidths=0, label="generated")
    if means is not None:
        means = np.asarray(means)
        ax.scatter(means[:, 0], means[:, 1], marker="+", s=30, c="white", linewidths=0.8)
    ax.set_xlim(xs[0], xs[-1])
    ax.set_ylim(ys[0], ys[-1])
    ax.legend(markerscale=4, loc="upper right", fontsize=8)
    ax.set_title(title)
    return _save(fig, path)


def mode_histogram(steps, counts, path, title: str = "samples per mode over training",
                   ylabel: str = "mode") -> Path:
    """Counts per mode (or class) over training as a heat map: ``counts`` is (len(steps), K)."""
    counts = np.asarray(counts, dtype=float)
    fig, ax = plt.subplots(figsize=(max(5.0, 0.25 * len(steps) + 3), max(3.0, 0.16 * counts.shape[1] + 1.5)))
    im = ax.imshow(counts.T, aspect="auto", origin="lower", cmap="viridis", interpolation="nearest")
    fig.colorbar(im, ax=ax, label="high-quality samples")
    ticks = np.linspace(0, len(steps) - 1, min(len(steps), 8)).round().astype(int)
    ax.set_xticks(ticks)
    ax.set_xticklabels([str(steps[t]) for t in ticks], rotation=45, fontsize=8)
    ax.set_xlabel("step")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    return _save(fig, path)


def bar_histogram(counts, path, title: str = "", xlabel: str = "class", labels=None) -> Path:
    """One bar per bin (e.g. the class histogram of generated digits)."""
    counts = np.asarray(counts)
    fig, ax = plt.subplots(figsize=(max(4.0, 0.35 * len(counts) + 2), 3.2))
    ax.bar(np.arange(len(counts)), counts, color="tab:blue")
    ax.axhline(counts.sum() / max(1, len(counts)), color="black", lw=0.8, ls="--", label="uniform")
    ax.set_xticks(np.arange(len(counts)))
    ax.set_xticklabels(labels if labels is not None else [str(i) for i in range(len(counts))], fontsize=8)
    ax.set_xlabel(xlabel)
    ax.legend(fontsize=8)
    ax.set_title(title)
    return _save(fig, path)


def series_plot(x, series: dict, path, xlabel: str = "", ylabel: str = "", title: str = "", logy: bool = False,
                logx: bool = False, twin: dict | None = None, twin_label: str = "") -> Path:
    """Lines ``{label: ys}`` against ``x``; ``twin`` lines go on a second y axis (linear)."""
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    for label, ys in series.items():
        ax.plot(x, ys, marker="o", ms=3, label=label)
    if logy:
        ax.set_yscale("log")
    if logx:
        ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3, which="both")
    handles, labels = ax.get_legend_handles_labels()
    if twin:
        ax2 = ax.twinx()
        for label, ys in twin.items():
            ax2.plot(x, ys, ls="--", color="0.4", label=label)
        ax2.set_ylabel(twin_label)
        h2, l2 = ax2.get_legend_handles_labels()
        handles, labels = handles + h2, labels + l2
    ax.legend(handles, labels, fontsize=8)
    ax.set_title(title)
    return _save(fig, path)


def piano_rolls(rows: list[tuple], path, title: str = "", lowest: int = 60, steps_per_bar: int = 16) -> Path:
    """Monophonic melodies as piano rolls, one panel per row: ``rows`` = [(label, pitch indices (bars, steps)
    or (steps,)), ...]; time runs left to right (bar lines every ``steps_per_bar`` steps), pitch upwards
    (the pitch index p is MIDI note ``lowest + p``; C rows marked)."""
    n_pitch = max(int(np.max(p)) for _, p in rows) + 1
    n_pitch = max(n_pitch, 24)
    fig, axes = plt.subplots(len(rows), 1, figsize=(10, 1.25 * len(rows) + 0.6), squeeze=False)
    for ax, (label, pitches) in zip(axes[:, 0], rows):
        seq = np.asarray(pitches).ravel()
        img = np.zeros((n_pitch, len(seq)))
        img[seq, np.arange(len(seq))] = 1.0
        ax.imshow(img, origin="lower", aspect="auto", cmap="gray_r", vmin=0, vmax=1, interpolation="nearest")
        for b in range(steps_per_bar, len(seq), steps_per_bar):
            ax.axvline(b - 0.5, color="tab:red", lw=0.6)
        cs = [p for p in range(n_pitch) if (lowest + p) % 12 == 0]
        ax.set_yticks(cs)
        ax.set_yticklabels([f"C{(lowest + p) // 12 - 1}" for p in cs], fontsize=6)
        ax.set_xticks([])
        ax.set_title(label, fontsize=8, loc="left")
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return _save(fig, path)
