"""Autoencoder vs VAE with a 2-D latent: which latent points decode to plausible digits?

The course's question: how do we guarantee that a latent point maps to a plausible data point?  A plain
autoencoder (AE) is trained only to reconstruct, so nothing says where its codes go or what lies between
them; a VAE also pays KL(q(z|x) || N(0, I)), which pulls the codes into the prior's region and trains the
decoder on noisy codes spread over it.  This demo trains both on the embedded 8x8 digits (same
architecture, Bernoulli decoder, Adam) and decodes latent points the encoder never produced:

* a grid over the box holding the training codes (0.5-99.5 percentiles per axis), extended by a margin.
  Each grid point is split by its distance to the nearest training code, compared with tau = the 99th
  percentile of the distances from the *test* codes to their nearest training code (how far real
  held-out data land from the training codes):
      near    d <= tau                         (where data lives)
      hole    d > tau, inside the box          (between the codes)
      beyond  d > tau, in the margin           (outside the codes' range)
* midpoints of straight lines between the codes of random training pairs of different classes;
* "prior" samples: z ~ N(0, I) for the VAE, and for the AE (which has no prior) z ~ a Gaussian fitted
  to its training codes: the best one can do to sample from it.

Plausibility of a decoded image (the decoder mean) is scored two ways, both rough:
  conf     the max softmax probability of a small MLP digit classifier trained here with minigen
           (a confident classifier is not proof of a good digit, but garbage often scores low);
  NN dist  the Euclidean distance (pixels in [0, 1], 64 of them) to the nearest real training image.
The reference rows score real test images and the models' reconstructions of them.

What it measured at the defaults (seeds 0 and 1; about 20 s of CPU time for everything):
* the AE's decodes get worse off its codes: NN distance x1.23-1.27 in the holes and x1.57-1.68 beyond
  the codes, relative to grid points near them; classifier confidence 0.03-0.08 lower in the holes;
* the VAE's do not: NN distance x0.96-0.98 in the holes and x1.01-1.06 beyond, confidence unchanged;
* VAE prior samples score better than samples of a Gaussian fitted to the AE's codes (confidence
  0.92-0.93 vs 0.88, NN distance 0.96-0.97 vs 1.01-1.02).
Not everything favours the VAE: midpoints between code pairs score alike for both (confidence 0.88-0.91,
NN distance 1.00-1.01), and the VAE's codes leave at least as much of their box empty (21% vs 15-18%):
the prior does not close the gaps between the codes, but the VAE's decoder, trained on z spread around
each code by q(z|x), decodes them well.  Read the scores with care: the classifier is confident on the
AE's saturated extrapolations (its "beyond" confidence is 0.88-0.91 where its NN distance is the
worst), and the NN distance rewards smooth, prototype-like images (reconstructions score 0.87-0.89,
below real test images' 1.05), so compare near / hole / beyond within a model rather than absolute
values across models.

Run:  python demos/ae_vs_vae.py [--epochs 300] [--seed 0] [--out runs/demos/ae_vs_vae]
"""
# %% [markdown]
# # Autoencoder vs VAE: what lies between the codes?
#
# The course's question: how do we make sure a latent point decodes to a plausible data point? An autoencoder
# only learns to reconstruct; a VAE maximises the ELBO
#
# $$\mathbb{E}_{q_\phi(z|x)}[\log p_\theta(x|z)] - D_{KL}\big(q_\phi(z|x) \,\|\, p(z)\big),$$
#
# whose second term (the *prior matching* term) pulls the codes towards $\mathcal{N}(0, I)$, and whose first is
# trained on $z$ drawn around each code. Both models are trained on the 8x8 digits with a 2-D latent, and points
# the encoder never produced (holes, beyond the codes, midpoints, prior samples) are decoded and scored.

# %%
from __future__ import annotations

import argparse
import contextlib
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

import minigen as mg  # noqa: E402
import minigen.functional as F  # noqa: E402
from minigen import training  # noqa: E402
from minigen.data import DataLoader, catalog  # noqa: E402
from minigen.models.classifier import fit_classifier  # noqa: E402
from minigen.models.vae import VAE  # noqa: E402
from minigen.nn import MLP  # noqa: E402
from minigen.training.vae_task import knn_accuracy  # noqa: E402

# %% [markdown]
# Names, the sets of latent points, and the helpers: training, the classifier that scores plausibility, encode / decode, the latent grid.

# %%
KINDS = ("ae", "vae")
NAMES = {"ae": "autoencoder", "vae": "VAE"}
SETS = ("real", "recon", "near", "hole", "beyond", "midpoint", "prior")
LABELS = {"real": "real test images", "recon": "reconstructions of test images",
          "near": "grid: near the codes", "hole": "grid: holes between codes",
          "beyond": "grid: beyond the codes",
          "midpoint": "midpoints between code pairs", "prior": "prior samples (AE: Gaussian fit)"}


def train(kind: str, args, out: Path):
    """The ``minigen train ae|vae`` task (the one training loop; its run folder in ``out``): Adam on the
    AE's reconstruction error or the VAE's -ELBO over shuffled mini-batches.  Returns the trained model and
    its training loss at the end of each epoch."""
    cls = training.task_class(kind)
    hidden = [int(h) for h in args.hidden.split(",")]
    config = cls.make_config(args.seed, data="digits", latent_dim=2, hidden=hidden, likelihood="bernoulli",
                             epochs=args.epochs, batch_size=args.batch_size, lr=args.lr)
    training.train(config, out, quiet=True, figures=False, echo=None)
    run = training.Run.open(out)
    model = training.load_task(run).model
    return model, [m["loss"] for m in run.metrics()]


def train_classifier(data, epochs: int, seed: int):
    """A 64-128-10 MLP on the training images: the judge of decoded images."""
    clf = MLP([data.dim, 128, 10], activation="relu")
    batches = DataLoader((data.x_train, data.y_train), batch_size=64, shuffle=True, drop_last=True, seed=seed + 7)
    fit_classifier(clf, batches, epochs * len(batches), lr=2e-3)
    clf.eval()
    return clf


def to_tensor(a: np.ndarray):
    return mg.tensor(mg.to_device(np.ascontiguousarray(a, dtype=np.float32)))


def encode(model, x: np.ndarray) -> np.ndarray:
    """Codes (host, (n, 2)): the AE's z, the VAE's posterior mean mu(x)."""
    with mg.no_grad():
        out = model.encode(to_tensor(x))
        return (out[0] if isinstance(model, VAE) else out).numpy()


def decode(model, z: np.ndarray) -> np.ndarray:
    """Decoder means E[x|z] (host, (n, 64))."""
    with mg.no_grad():
        return model.mean_of(model.decode(to_tensor(z))).numpy()


class Judge:
    """The two plausibility scores of images (n, 64)."""

    def __init__(self, clf, x_train: np.ndarray):
        self.clf, self.x_train = clf, x_train.astype(np.float64)
        self.sq_train = (self.x_train ** 2).sum(1)

    def confidence(self, imgs: np.ndarray) -> np.ndarray:
        with mg.no_grad():
            return F.softmax(self.clf(to_tensor(imgs)), axis=-1).numpy().max(1)

    def predict(self, imgs: np.ndarray) -> np.ndarray:
        with mg.no_grad():
            return self.clf(to_tensor(imgs)).numpy().argmax(1)

    def nn_distance(self, imgs: np.ndarray) -> np.ndarray:
        a = imgs.astype(np.float64)
        d2 = (a ** 2).sum(1)[:, None] + self.sq_train[None, :] - 2 * a @ self.x_train.T
        return np.sqrt(np.maximum(d2.min(1), 0.0))


def nearest_distance(points: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """Distance of each point (m, 2) to its nearest code (n, 2)."""
    d2 = (points ** 2).sum(1)[:, None] + (codes ** 2).sum(1)[None, :] - 2 * points @ codes.T
    return np.sqrt(np.maximum(d2.min(1), 0.0))


def latent_geometry(codes_tr: np.ndarray, codes_te: np.ndarray, margin: float, n_grid: int):
    """The box of the codes, the extended grid over it, and each grid point's category."""
    lo, hi = np.percentile(codes_tr, 0.5, axis=0), np.percentile(codes_tr, 99.5, axis=0)
    span = hi - lo
    elo, ehi = lo - margin * span, hi + margin * span
    gx, gy = np.linspace(elo[0], ehi[0], n_grid), np.linspace(elo[1], ehi[1], n_grid)
    grid = np.array([[a, b] for b in gy[::-1] for a in gx])         # row-major, top row = largest z2
    tau = float(np.percentile(nearest_distance(codes_te, codes_tr), 99))
    d = nearest_distance(grid, codes_tr)
    inside = np.all((grid >= lo) & (grid <= hi), axis=1)
    cat = np.where(d <= tau, "near", np.where(inside, "hole", "beyond"))
    return {"lo": lo, "hi": hi, "elo": elo, "ehi": ehi, "grid": grid, "tau": tau, "dist": d, "cat": cat,
            "inside": inside}


# %% [markdown]
# ## Run (`python demos/ae_vs_vae.py`; about 20 s on 2 cores)

# %%
def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--epochs", type=int, default=300, help="training epochs of each model (default 300)")
    ap.add_argument("--hidden", default="128,64", help="hidden sizes of encoder and decoder (default 128,64)")
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--classifier-epochs", type=int, default=30)
    ap.add_argument("--grid", type=int, default=40, help="scored grid is grid x grid (default 40)")
    ap.add_argument("--show", type=int, default=15, help="the decoded-grid figure is show x show")
    ap.add_argument("--margin", type=float, default=0.3, help="grid margin beyond the codes' box, as a "
                    "fraction of its width (default 0.3)")
    ap.add_argument("--pairs", type=int, default=300, help="random code pairs for the midpoint score")
    ap.add_argument("--prior-samples", type=int, default=1000)
    ap.add_argument("--threads", type=int, default=1, help="BLAS threads (default 1: these matrices are "
                    "small, and one thread is faster than several, many times faster on a busy machine)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="runs/demos/ae_vs_vae")
    args = ap.parse_args(argv)
    with _blas_threads(args.threads):
        return run(args)


def _blas_threads(n: int):
    try:
        from threadpoolctl import threadpool_limits     # installed with scikit-learn
    except ImportError:                                  # pragma: no cover
        return contextlib.nullcontext()
    return threadpool_limits(limits=n, user_api="blas")


def run(args) -> dict:
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    mg.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    data = catalog.load("digits")

    # ---------------- train ----------------
    models, history, seconds = {}, {}, {}
    for kind in KINDS:
        t = time.perf_counter()
        model, history[kind] = train(kind, args, out / kind)
        model.eval()
        models[kind], seconds[kind] = model, time.perf_counter() - t
        print(f"{NAMES[kind]:>11s}: {args.epochs} epochs in {seconds[kind]:.1f} s, final training loss "
              f"{history[kind][-1]:.2f} nats/image" + (" (-ELBO)" if kind == "vae" else " (BCE)"))
    t = time.perf_counter()
    clf = train_classifier(data, args.classifier_epochs, args.seed)
    judge = Judge(clf, data.x_train)
    clf_acc = float((judge.predict(data.x_test) == data.y_test).mean())
    print(f" classifier: test accuracy {clf_acc:.1%} ({time.perf_counter() - t:.1f} s)")

    # ---------------- latent points and their decodes ----------------
    pair_a = rng.integers(0, len(data.x_train), 4 * args.pairs)
    pair_b = rng.integers(0, len(data.x_train), 4 * args.pairs)
    keep = data.y_train[pair_a] != data.y_train[pair_b]
    pair_a, pair_b = pair_a[keep][:args.pairs], pair_b[keep][:args.pairs]
    prior_eps = rng.normal(size=(args.prior_samples, 2))
    geo, codes, scores, res = {}, {}, {}, {}
    real = {"conf": judge.confidence(data.x_test), "nn": judge.nn_distance(data.x_test)}
    for kind in KINDS:
        m = models[kind]
        c_tr, c_te = encode(m, data.x_train), encode(m, data.x_test)
        codes[kind] = (c_tr, c_te)
        g = geo[kind] = latent_geometry(c_tr, c_te, args.margin, args.grid)
        if kind == "vae":
            prior = prior_eps
        else:                                  # no prior: sample a Gaussian fitted to the codes
            mean, cov = c_tr.mean(0), np.cov(c_tr.T)
            prior = mean + prior_eps @ np.linalg.cholesky(cov).T
        points = {"recon": c_te, "midpoint": 0.5 * (c_tr[pair_a] + c_tr[pair_b]), "prior": prior}
        for cat in ("near", "hole", "beyond"):
            points[cat] = g["grid"][g["cat"] == cat]
        s = {"real": real}
        for name, z in points.items():
            if len(z) == 0:
                s[name] = {"conf": np.array([np.nan]), "nn": np.array([np.nan])}
                continue
            imgs = decode(m, z)
            s[name] = {"conf": judge.confidence(imgs), "nn": judge.nn_distance(imgs)}
        grid_imgs = decode(m, g["grid"])
        g["grid_conf"], g["grid_nn"] = judge.confidence(grid_imgs), judge.nn_distance(grid_imgs)
        scores[kind] = s
        mid_d = nearest_distance(points["midpoint"], c_tr)
        prior_d = nearest_distance(prior, c_tr)
        res[kind] = {
            "knn_accuracy": knn_accuracy(c_tr, data.y_train, c_te, data.y_test, k=5),
            "tau": g["tau"],
            "hole_fraction_of_box": float((g["cat"][g["inside"]] == "hole").mean()),
            "midpoints_off_codes": float((mid_d > g["tau"]).mean()),
            "prior_off_codes": float((prior_d > g["tau"]).mean()),
            "train_seconds": seconds[kind], "final_loss": history[kind][-1],
        }
        for name in SETS:
            v = s[name]
            res[kind][f"n_{name}"] = 0 if np.isnan(v["conf"]).all() else len(v["conf"])
            res[kind][f"conf_{name}"] = float(np.mean(v["conf"]))
            res[kind][f"nn_{name}"] = float(np.mean(v["nn"]))
            res[kind][f"lowconf_{name}"] = float(np.mean(v["conf"] < 0.5))

    # ---------------- the table ----------------
    print("\nplausibility of decoded latent points (conf: classifier max-probability, higher = more "
          "digit-like;\nNN dist: distance to the nearest training image, lower = closer to real data; "
          "'<.5': share with conf < 0.5)")
    head = f"{'':34s}" + "".join(f"| {NAMES[k]:^28s}" for k in KINDS)
    print(head)
    print(f"{'point set':34s}" + f"| {'n':>5s} {'conf':>6s} {'<.5':>5s} {'NN dist':>8s} " * 2)
    for name in SETS:
        row = f"{LABELS[name]:34s}"
        for k in KINDS:
            r = res[k]
            row += (f"| {r[f'n_{name}']:5d} {r[f'conf_{name}']:6.3f} {r[f'lowconf_{name}']:5.2f} "
                    f"{r[f'nn_{name}']:8.3f} ")
        print(row)
    for k in KINDS:
        r = res[k]
        r["nn_ratio_hole_near"] = r["nn_hole"] / r["nn_near"]
        r["nn_ratio_beyond_near"] = r["nn_beyond"] / r["nn_near"]
        r["conf_drop_hole"] = r["conf_near"] - r["conf_hole"]
    for key, label in (("nn_ratio_hole_near", "NN dist, holes / near the codes"),
                       ("nn_ratio_beyond_near", "NN dist, beyond / near the codes"),
                       ("conf_drop_hole", "conf, near the codes - holes"),
                       ("hole_fraction_of_box", "share of the codes' box that is hole"),
                       ("midpoints_off_codes", "share of pair midpoints off the codes (d > tau)"),
                       ("prior_off_codes", "share of prior samples off the codes (d > tau)"),
                       ("knn_accuracy", "5-NN label accuracy of test codes")):
        print(f"{label:56s}" + "".join(f"{NAMES[k]} {res[k][key]:6.3f}   " for k in KINDS))

    # ---------------- figures ----------------
    figures = [_latent_figure(out / "latent.png", codes, data, geo, pair_a, pair_b),
               _grid_figure(out / "grid.png", models, geo, codes, args),
               _interpolation_figure(out / "interpolations.png", models, codes, data, pair_a, pair_b)]
    result = {"classifier_test_accuracy": clf_acc, "real_conf": float(real["conf"].mean()),
              "real_nn": float(real["nn"].mean()), "epochs": args.epochs, "hidden": [int(h) for h in args.hidden.split(",")],
              "figures": [str(f) for f in figures]}
    for k in KINDS:
        result.update({f"{k}_{key}": v for key, v in res[k].items()})
    result["seconds"] = time.perf_counter() - t0
    with open(out / "results.json", "w") as f:
        json.dump(result, f, indent=2)
    print(f"figures in {out}/: " + ", ".join(Path(f).name for f in figures)
          + f"  ({result['seconds']:.1f} s)")
    return result


# %% [markdown]
# The figures: the latent codes with the grid's classes, the decoded grid, interpolations.

# %%
def _latent_figure(path, codes, data, geo, pair_a, pair_b):
    fig, axes = plt.subplots(1, 2, figsize=(12, 5.2))
    for ax, k in zip(axes, KINDS):
        c_tr, c_te = codes[k]
        g = geo[k]
        holes = g["grid"][g["cat"] == "hole"]
        ax.scatter(holes[:, 0], holes[:, 1], s=6, marker="s", c="0.85", label="grid points in holes")
        sc = ax.scatter(c_te[:, 0], c_te[:, 1], c=data.y_test, cmap="tab10", s=9, vmin=-0.5, vmax=9.5)
        lo, hi = g["lo"], g["hi"]
        ax.add_patch(plt.Rectangle(lo, *(hi - lo), fill=False, ls="--", lw=0.8, color="k"))
        for i in range(4):
            a, b = c_tr[pair_a[i]], c_tr[pair_b[i]]
            ax.plot([a[0], b[0]], [a[1], b[1]], "k-", lw=0.8, alpha=0.6)
        if k == "vae":
            th = np.linspace(0, 2 * np.pi, 200)
            ax.plot(2 * np.cos(th), 2 * np.sin(th), "r:", lw=1, label="prior 2-sigma circle")
        ax.set(title=f"{NAMES[k]}: test codes (dashed: box of the training codes)", xlabel="z1", ylabel="z2",
               xlim=(g["elo"][0], g["ehi"][0]), ylim=(g["elo"][1], g["ehi"][1]))
        ax.legend(loc="upper right", fontsize=7)
        fig.colorbar(sc, ax=ax, ticks=range(10))
    return _save(fig, path)


def _save(fig, path) -> Path:
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return Path(path)


def _mosaic(images: np.ndarray, nrow: int, pad: int = 1) -> np.ndarray:
    """Images (n, 64) -> one mosaic with white (0) gaps, for a gray_r colour map."""
    images = np.clip(images, 0, 1).reshape(-1, 8, 8)
    rows = int(np.ceil(len(images) / nrow))
    grid = np.zeros((rows * (8 + pad) - pad, nrow * (8 + pad) - pad))
    for i, im in enumerate(images):
        r, c = divmod(i, nrow)
        grid[r * (8 + pad): r * (8 + pad) + 8, c * (8 + pad): c * (8 + pad) + 8] = im
    return grid


def _grid_figure(path, models, geo, codes, args):
    fig, axes = plt.subplots(3, 2, figsize=(11, 15.5))
    fig.subplots_adjust(hspace=0.3)
    for j, k in enumerate(KINDS):
        g = geo[k]
        extent = (g["elo"][0], g["ehi"][0], g["elo"][1], g["ehi"][1])
        n = args.show
        xs, ys = np.linspace(g["elo"][0], g["ehi"][0], n), np.linspace(g["elo"][1], g["ehi"][1], n)
        z = np.array([[a, b] for b in ys[::-1] for a in xs])
        ax = axes[0, j]
        ax.imshow(_mosaic(decode(models[k], z), n), cmap="gray_r", vmin=0, vmax=1, extent=extent,
                  aspect="auto")
        ax.add_patch(plt.Rectangle(g["lo"], *(g["hi"] - g["lo"]), fill=False, ls="--", lw=1, color="r"))
        ax.set(title=f"{NAMES[k]}: decoded {n}x{n} grid (dashed: codes' box)", xlabel="z1", ylabel="z2")
        m = args.grid
        near = (g["cat"] == "near").reshape(m, m).astype(float)
        gx, gy = np.linspace(g["elo"][0], g["ehi"][0], m), np.linspace(g["ehi"][1], g["elo"][1], m)
        for ax, key, label, cmap, lim in ((axes[1, j], "grid_conf", "classifier confidence", "viridis",
                                           (0, 1)),
                                          (axes[2, j], "grid_nn", "NN distance",
                                           "magma_r", (0.5, 2.5))):
            im = ax.imshow(g[key].reshape(m, m), extent=extent, cmap=cmap, vmin=lim[0], vmax=lim[1],
                           aspect="auto")
            if 0 < near.sum() < near.size:
                ax.contour(gx, gy, near, levels=[0.5], colors="c", linewidths=1.2)
            c_tr = codes[k][0]
            ax.scatter(c_tr[:, 0], c_tr[:, 1], s=1, c="k", alpha=0.3)
            ax.set(title=f"{NAMES[k]}: {label} of the decodes\n(cyan line: within tau of a training code)",
                   xlabel="z1", ylabel="z2")
            fig.colorbar(im, ax=ax)
    return _save(fig, path)


def _interpolation_figure(path, models, codes, data, pair_a, pair_b, n_rows: int = 6):
    ts = np.linspace(-0.5, 1.5, 17)              # t in [0, 1] interpolates; beyond that extrapolates
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.8))
    for ax, k in zip(axes, KINDS):
        c_tr = codes[k][0]
        rows = []
        for i in range(n_rows):
            a, b = c_tr[pair_a[i]], c_tr[pair_b[i]]
            z = a[None, :] + ts[:, None] * (b - a)[None, :]
            rows.append(decode(models[k], z))
        ax.imshow(_mosaic(np.concatenate(rows), len(ts)), cmap="gray_r", vmin=0, vmax=1)
        ax.set_xticks([i * 9 + 3.5 for i in range(0, len(ts), 4)])
        ax.set_xticklabels([f"{t:.1f}" for t in ts[::4]])
        for t_end in (0.0, 1.0):                 # the columns holding the two training codes
            i = int(np.argmin(np.abs(ts - t_end)))
            ax.axvline(i * 9 - 1, color="r", lw=0.8)
            ax.axvline(i * 9 + 8, color="r", lw=0.8)
        ax.set_yticks([i * 9 + 3.5 for i in range(n_rows)])
        ax.set_yticklabels([f"{data.y_train[pair_a[i]]} -> {data.y_train[pair_b[i]]}" for i in range(n_rows)])
        ax.set(title=f"{NAMES[k]}: decode a + t (b - a), a, b training codes (red: t = 0, 1)",
               xlabel="t (0..1 interpolates, outside extrapolates)")
    return _save(fig, path)


# %%
if __name__ == "__main__":
    main(None if "__file__" in globals() else [])   # a notebook kernel's argv is not ours: the defaults
