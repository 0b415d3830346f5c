"""Mode collapse, made visible: one GAN configuration that collapses on a mixture and one that does not.

    collapsing   the textbook setup: a plain GAN (non-saturating loss, Adam), small batches, no
                 regularisation, raw (unstandardised) coordinates.  G chases the modes D currently
                 prefers, and D chases G: a few modes hold most samples, and which ones changes over
                 training.
    healthy      minigen's default for the set (``minigen train gan --data ring8``), shortened to
                 ``--steps``: standardised coordinates, PacGAN packing, the R1 penalty on D, larger
                 batches and a final learning-rate decay.

Both are trained by :class:`minigen.training.gan_task.GANTask` (the task of ``minigen train gan``) into
``OUT/collapsing`` and ``OUT/healthy`` (each a full run folder with its own figures); this demo adds the
side-by-side figures: samples over training, the mode histogram over time, and the metrics (modes
covered, high-quality samples, reverse KL of the mode histogram, on 2,500 samples).

Run:  python demos/gan_mode_collapse.py [--data ring8|grid25] [--steps N] [--seed 0] [--out runs/demos/gan_mode_collapse]
"""
# %% [markdown]
# # Mode collapse, made visible
#
# A GAN plays the course's minimax game
# $$\min_G \max_D\; \mathbb{E}_{x \sim p(x)}[\log D(x)] + \mathbb{E}_{z \sim p(z)}[\log(1 - D(G(z)))].$$
# One of its challenges is **mode collapse**: the generator covers a few modes of the data instead of all of them.
# Here the same mixture (8 Gaussians on a ring, or a 5x5 grid) is learned twice: with the textbook setup, which
# collapses, and with minigen's defaults (PacGAN packing, the R1 penalty), which covers the modes; the mode
# histogram over training shows which modes hold the samples.

# %%
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent if "__file__" in globals() else Path.cwd()   # a notebook: its folder
sys.path.insert(0, str(HERE.parent))   # run from a checkout without installing

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from minigen import training  # noqa: E402
from minigen.data import toy2d  # noqa: E402
from minigen.training.gan_figures import pick  # noqa: E402
from minigen.training.gan_task import GANTask  # noqa: E402

# %% [markdown]
# The collapsing configuration, and the training of each run by the task behind `minigen train gan`.

# %%
# the collapsing configuration (settings of `minigen train gan`), per data set
COLLAPSING = {
    "ring8": {"standardize": False, "r1": 0.0, "lr_final": 1.0, "batch_size": 64, "lr_g": 1e-3, "lr_d": 1e-3},
    "grid25": {"standardize": False, "r1": 0.0, "lr_final": 1.0, "batch_size": 64, "lr_g": 1e-3, "lr_d": 1e-3},
}


def train(data: str, settings: dict, steps: int, seed: int, out: Path, every: int) -> dict:
    config = GANTask.make_config(seed, data=data, steps=steps, eval_every=every, **settings)
    res = training.train(config, out, quiet=True)
    res["evals"] = [m for m in training.Run.open(out).metrics() if m.get("eval")]
    res["snapshots"] = training.Run.open(out).snapshots()
    return res


# %% [markdown]
# ## Run (`python demos/gan_mode_collapse.py --data ring8`)

# %%
def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", choices=sorted(COLLAPSING), default="ring8")
    p.add_argument("--steps", type=int, default=6000,
                   help="training steps of each configuration (default 6000: a short version of the healthy "
                   "default, whose full length is 50,000 steps)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="runs/demos/gan_mode_collapse")
    a = p.parse_args(argv)
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    steps = a.steps
    every = max(1, steps // 20)
    runs = {"collapsing": train(a.data, COLLAPSING[a.data], steps, a.seed, out / "collapsing", every),
            "healthy": train(a.data, {}, steps, a.seed, out / "healthy", every)}

    toy = toy2d(a.data, 2500, seed=a.seed + 10_000)
    lim = float(np.abs(toy.x).max()) * 1.25
    figures = [str(_snapshots_side_by_side(runs, toy, lim, out / "samples_over_training.png")),
               str(_histograms_side_by_side(runs, out / "mode_histograms.png")),
               str(_metrics_side_by_side(runs, out / "metrics.png"))]
    res = {name: {k: r[k] for k in ("modes", "n_modes", "high_quality", "reverse_kl", "train_seconds")}
           for name, r in runs.items()}
    for name, r in runs.items():
        ev = r["evals"]
        # how much the dominant mode changes over training: the number of distinct most-populated modes
        res[name]["distinct_top_modes"] = len({int(np.argmax(m["counts"])) for m in ev if sum(m["counts"])})
        res[name]["min_modes_after_half"] = min(m["modes"] for m in ev[len(ev) // 2:]) if ev else 0
    res["figures"] = figures
    res["seconds"] = round(time.perf_counter() - t0, 1)
    print(f"\n{'':<12}{'modes':>8}{'high quality':>14}{'reverse KL':>12}")
    for name in ("collapsing", "healthy"):
        r = res[name]
        print(f"{name:<12}{r['modes']:>5}/{r['n_modes']:<2}{r['high_quality']:>14.1%}{r['reverse_kl']:>12.3f}")
    print(f"figures in {out} ({res['seconds']} s)")
    (out / "results.json").write_text(json.dumps(res, indent=2))
    return res


# %% [markdown]
# The side-by-side figures: samples over training, modes over time, metrics.

# %%
def _snapshots_side_by_side(runs, toy, lim, path, k: int = 6):
    fig, axes = plt.subplots(2, k, figsize=(2.6 * k, 5.6), squeeze=False)
    for row, (name, r) in enumerate(runs.items()):
        snaps = pick(r["snapshots"], k)
        em = {m["step"]: m for m in r["evals"]}
        for col in range(k):
            ax = axes[row, col]
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_aspect("equal")
            ax.set_xlim(-lim, lim)
            ax.set_ylim(-lim, lim)
            if col >= len(snaps):
                continue
            step, pts = snaps[col]
            ax.scatter(toy.x[:, 0], toy.x[:, 1], s=2, c="0.75", linewidths=0)
            ax.scatter(pts[:, 0], pts[:, 1], s=2, c="tab:red", alpha=0.5, linewidths=0)
            m = em.get(step)
            ax.set_title(f"step {step}" + (f"\n{m['modes']}/{m['n_modes']} modes" if m else ""), fontsize=8)
            if col == 0:
                ax.set_ylabel(name)
    fig.suptitle("samples over training (grey: data, red: generated)")
    return _save(fig, path)


def _histograms_side_by_side(runs, path):
    fig, axes = plt.subplots(1, 2, figsize=(12, 4), squeeze=False)
    for ax, (name, r) in zip(axes[0], runs.items()):
        ev = r["evals"]
        c = np.array([m["counts"] for m in ev], float)
        im = ax.imshow(c.T, aspect="auto", origin="lower", cmap="viridis", interpolation="nearest",
                       extent=(ev[0]["step"], ev[-1]["step"], -0.5, c.shape[1] - 0.5))
        fig.colorbar(im, ax=ax, label="high-quality samples (of 2,500)")
        ax.set_xlabel("step")
        ax.set_ylabel("mode")
        ax.set_title(name)
    fig.suptitle("the mode histogram over training")
    return _save(fig, path)


def _metrics_side_by_side(runs, path):
    fig, axes = plt.subplots(1, 3, figsize=(14, 3.6))
    for name, r in runs.items():
        ev = r["evals"]
        steps = [m["step"] for m in ev]
        axes[0].plot(steps, [m["modes"] for m in ev], label=name)
        axes[1].plot(steps, [m["high_quality"] for m in ev], label=name)
        axes[2].plot(steps, [min(m["reverse_kl"], 10) for m in ev], label=name)
    for ax, t in zip(axes, ["modes covered", "high-quality fraction", "reverse KL (mode histogram vs uniform)"]):
        ax.set_title(t)
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
        ax.legend()
    return _save(fig, path)


def _save(fig, path):
    path = Path(path)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path


# %%
if __name__ == "__main__":
    main(None if "__file__" in globals() else [])   # a notebook kernel's argv is not ours: the defaults
