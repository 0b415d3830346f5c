"""M3GAN: a masking strategy with a mutable filter for multidimensional anomaly detection (repo
``SLZWVICTOR/M3GAN``, ~2023; venue and authors unverified).

The idea: a window of a multivariate series is partly masked, an MLP generator regenerates the masked
steps, a discriminator judges re-joined windows, and the reconstruction error scores anomalies.  For a
window X (W steps x C channels) and a random mask m over steps (a fraction rho of them),

    X_hat  = (1 - m) * X + m * G(input)                              the re-joined window
    L_D    = BCE(D(X), 0.99) + BCE(D(X_hat), 0.01)                   smoothed labels, as in the repo
    L_G    = BCE(D(X_hat), 0.99) + || m * (G(input) - X) ||^2 / |m|  adversarial + MSE on the masked entries

The "mutable filter" trains the model on three views of the series -- raw; FFT-filtered (per channel, the
30% smallest-magnitude Fourier coefficients zeroed); wavelet-denoised -- and a one-hot weight picks the
view whose discriminator loss is lowest (the repo's ``update`` rule).  The anomaly score is the squared
reconstruction error; a threshold comes from peaks-over-threshold (POT, Siffer et al. 2017): fit a
generalised Pareto distribution to the calibration scores above a high quantile t, then

    z_q = t + (sigma / xi) * ( (q n / N_t)^(-xi) - 1 )               (t - sigma log(q n / N_t) if xi = 0)

is the score exceeded with probability q (n calibration scores, N_t of them above t).

What the miniature keeps: the masked-window MLP GAN with smoothed BCE labels and the MSE term, the three
views (one G/D pair per view, trained side by side, one step each per training step) with a selection by
D loss (mean over the last fifth of training), POT on held-out clean scores.  The selection rule is a stated choice: the repo's rule (``select="d_loss_min"``)
picks the view whose D wins most easily, i.e. whose G is worst (in our runs the wavelet view, which scored
F1 ~0.5 before its blocky Haar output was smoothed by cycle spinning); the default ``"d_loss_max"`` picks
the view whose G fools its D best (D loss nearest log 4 in our runs); ``select`` may also name a view.
Stated choices: (1) ``generator_input = "context"`` (default): G sees the
window with the masked steps zeroed plus the mask, and regenerates them from their context.  The repo's
generator regenerates the selected steps *from themselves* (``"self"`` here, kept for comparison), which
makes it an autoencoder on those steps.  (2) Window W = 10 (repo: 5) so a window holds context around a
masked step; masks cover whole steps (all channels).  (3) Wavelet view: a 3-level Haar transform with soft
thresholding at the universal threshold sigma sqrt(2 log n), sigma = median|d_1| / 0.6745, averaged over
circular shifts (the repo uses Daubechies wavelets via PyWavelets and thresholds each level at its own
maximum, which removes every detail).  (4) Scoring: each window is scored
with ``n_masks`` interleaved masks that together mask every step once; the score is the largest, over
channels, of the channel's mean squared error over the window (in train-std units).  (5) The views are
computed from the input series with an FFT (``xp.fft``, or SciPy's on the host where the backend
namespace lacks it) and a hand-written Haar transform; no gradient flows
through them.  Dropped: the repo's TranAD framework, the permutation of the re-joined window, AdamW 1e-4.

Evaluation: *window-level* F1 (not the lenient point-adjusted F1): the test series is cut into
non-overlapping windows of W steps; a window is anomalous when it contains an anomalous step, flagged when
its score exceeds the POT threshold z_q fitted on held-out clean windows.  Best-F1 (the oracle threshold)
and event recall (events with at least one flagged window) are reported too.
"""
from __future__ import annotations

import math

from minigen import backend
from minigen import functional as F
from minigen.autograd.mode import no_grad
from minigen.autograd.tensor import Tensor
from minigen.backend import xp
from minigen.data import DataLoader
from minigen.models.gan import GAN
from minigen.nn import MLP
from minigen.optim import Adam
from minigen.training.task import Samples, Task
from minigen.zoo.criteria import mean_std
from minigen.zoo.gradcheck_cases import to_double
from minigen.zoo.registry import Variant, register

VIEWS = ("raw", "fft", "wavelet")
DEFAULTS = {"window": 10, "mask_ratio": 0.4, "n_masks": 3, "steps": 2000, "batch_size": 128, "hidden": 128,
            "lr": 1e-3, "mse_weight": 1.0, "generator_input": "context", "fft_drop": 0.3,
            "select": "d_loss_max", "calibration": 0.25, "pot_quantile": 0.98, "risk": 1e-3, "data_seed": 0}


# ---- the views (no gradient needed) --------------------------------------------------------------------

def _fft_module():
    """``xp.fft`` where the backend namespace has it (CuPy); else SciPy's on the host (the NumPy and strict
    namespaces are built from ``vars(numpy)``, which lacks the lazily loaded ``numpy.fft``)."""
    fft = getattr(xp, "fft", None)
    if fft is not None:
        return fft, lambda a: a, lambda a: a
    import scipy.fft
    return scipy.fft, backend.to_host, backend.to_device


def fft_filter(x, drop: float = 0.3):
    """Per channel: zero the ``drop`` fraction of Fourier coefficients with the smallest magnitude."""
    fft, there, back = _fft_module()
    spec = back(fft.rfft(there(x), axis=0))
    mag = xp.abs(spec)
    k = int(drop * spec.shape[0])
    if k == 0:
        return x
    cut = xp.sort(mag, axis=0)[k - 1:k]                      # k-th smallest magnitude per channel
    spec = xp.where(mag <= cut, 0, spec)
    return back(fft.irfft(there(spec), n=x.shape[0], axis=0)).astype(x.dtype)


def _haar_once(x, levels: int, thr=None):
    n = x.shape[0]
    size = 2 ** levels * math.ceil(n / 2 ** levels)
    a = xp.concatenate([x, xp.repeat(x[-1:], size - n, axis=0)], axis=0).astype(xp.float64)
    details = []
    for _ in range(levels):
        even, odd = a[0::2], a[1::2]
        details.append((even - odd) / math.sqrt(2))
        a = (even + odd) / math.sqrt(2)
    if thr is None:
        thr = xp.median(xp.abs(details[0]), axis=0) / 0.6745 * math.sqrt(2 * math.log(n))
    for d in reversed(details):
        d = xp.sign(d) * xp.maximum(xp.abs(d) - thr, 0.0)
        out = xp.empty((2 * d.shape[0],) + d.shape[1:])
        out[0::2] = (a + d) / math.sqrt(2)
        out[1::2] = (a - d) / math.sqrt(2)
        a = out
    return a[:n], thr


def haar_denoise(x, levels: int = 3):
    """Per channel: Haar DWT, soft-threshold the details at sigma sqrt(2 log n) (sigma = median|d_1| / 0.6745,
    from the unshifted series), inverse DWT; averaged over the 2^levels circular shifts (cycle spinning,
    Coifman & Donoho 1995), which removes the Haar basis' blocks."""
    thr = _haar_once(x, levels)[1]
    acc = xp.zeros(x.shape, dtype=xp.float64)
    for k in range(2 ** levels):
        acc += xp.roll(_haar_once(xp.roll(x, k, axis=0), levels, thr)[0], -k, axis=0)
    return (acc / 2 ** levels).astype(x.dtype)


def make_view(x, view: str, cfg):
    if view == "fft":
        return fft_filter(x, cfg["fft_drop"])
    if view == "wavelet":
        return haar_denoise(x)
    return x


def windows(x, w: int, stride: int = 1):
    """(T, C) -> (n, w * C) windows starting every ``stride`` steps."""
    starts = xp.arange(0, x.shape[0] - w + 1, stride)
    idx = starts[:, None] + xp.arange(w)[None, :]
    return x[idx].reshape(idx.shape[0], -1)


# ---- the GAN ----------------------------------------------------------------------------------------------

class MaskedWindowGAN(GAN):
    """One G/D pair on one view.  A step's "latent" is the real windows with a random step mask; G
    regenerates the masked steps and the generated batch is the re-joined window ``(X_hat, G's output,
    entry mask, X)``, of which D sees X_hat."""

    def __init__(self, window: int, channels: int, hidden: int, mask_ratio: float, generator_input: str,
                 mse_weight: float):
        d = window * channels
        super().__init__(MLP([d + window, hidden, hidden, d], activation="leaky_relu"),
                         MLP([d, hidden, hidden, 1], activation="leaky_relu"), latent_dim=d + window)
        self.W, self.C = window, channels
        self.mask_ratio, self.generator_input, self.mse_weight = mask_ratio, generator_input, mse_weight

    def random_mask(self, n: int):
        k = max(1, round(self.mask_ratio * self.W))
        keys = backend.rng().uniform((n, self.W))
        kth = xp.sort(keys, axis=1)[:, k - 1:k]
        return (keys <= kth).astype(xp.float32)

    def latent_for(self, real):
        return real, self.random_mask(real.shape[0])

    def generate(self, latent, net=None):
        """(X_hat, G's output, entry mask, X) for windows X (n, W*C) and step masks (n, W)."""
        x, step_mask = latent
        x = x.data if isinstance(x, Tensor) else x
        m = xp.repeat(step_mask, self.C, axis=1)          # a masked step hides all its channels
        shown = x * (1 - m) if self.generator_input == "context" else x * m
        out = (net or self.generator)(Tensor(xp.concatenate([shown, step_mask], axis=1)))
        return out * m + x * (1 - m), out, m, x

    def d_loss(self, real, fake):
        return d_loss(self.discriminator, real, fake[0])

    def g_loss(self, fake, real=None):
        rec, out, m, x = fake
        return g_loss(self.discriminator, rec, out, x, m, self.mse_weight)

    def score(self, x):
        """Per window: max over channels of the channel's mean squared error, every step masked once."""
        K, W = self.n_masks, self.W
        err = xp.zeros((x.shape[0], W * self.C), dtype=x.dtype)
        with no_grad():
            for j in range(K):
                step_mask = xp.broadcast_to(((xp.arange(W) % K) == j).astype(xp.float32)[None], (x.shape[0], W))
                rec, _, m, _ = self.generate((x, xp.ascontiguousarray(step_mask)))
                err = err + m * (rec.data - x) ** 2
        per_channel = err.reshape(x.shape[0], W, self.C).mean(1)
        return per_channel.max(1)


def d_loss(D, real, fake):
    """BCE(D(X), 0.99) + BCE(D(X_hat), 0.01): the repo's smoothed labels."""
    lr, lf = D(real), D(fake)
    return (F.binary_cross_entropy_with_logits(lr, xp.full(lr.shape, 0.99, dtype=lr.dtype))
            + F.binary_cross_entropy_with_logits(lf, xp.full(lf.shape, 0.01, dtype=lf.dtype)))


def g_loss(D, rec, out, x, m, mse_weight: float = 1.0):
    """BCE(D(X_hat), 0.99) + mse_weight * mean squared error on the masked entries."""
    lf = D(rec)
    mse = F.sum(m * (out - x) ** 2) / m.sum()
    return F.binary_cross_entropy_with_logits(lf, xp.full(lf.shape, 0.99, dtype=lf.dtype)) + mse_weight * mse


# ---- the threshold and the evaluation ----------------------------------------------------------------

def pot_threshold(scores, quantile: float = 0.98, risk: float = 1e-3) -> dict:
    """Peaks over threshold: GPD fitted (scipy, maximum likelihood, location 0) to the excesses of the
    calibration scores over their ``quantile``; returns the score z_q exceeded with probability ``risk``."""
    from scipy.stats import genpareto
    s = sorted(float(v) for v in backend.to_host(scores).reshape(-1))
    n = len(s)
    t = s[min(n - 1, int(quantile * n))]
    peaks = [v - t for v in s if v > t]
    xi, _, sigma = genpareto.fit(peaks, floc=0.0)
    r = risk * n / len(peaks)
    z = t - sigma * math.log(r) if abs(xi) < 1e-8 else t + sigma / xi * (r ** (-xi) - 1.0)
    return {"threshold": float(z), "initial": t, "xi": float(xi), "sigma": float(sigma), "peaks": len(peaks)}


def f1_score(pred, truth) -> tuple[float, float, float]:
    pred, truth = pred.astype(bool), truth.astype(bool)
    tp = float((pred & truth).sum())
    fp = float((pred & ~truth).sum())
    fn = float((~pred & truth).sum())
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return (2 * p * r / (p + r) if p + r else 0.0), p, r


def best_f1(scores, truth) -> float:
    best = 0.0
    for thr in sorted({float(v) for v in backend.to_host(scores)}):
        best = max(best, f1_score(scores >= thr, truth)[0])
    return best


class M3GANTask(Task):
    """Three views of the series, one :class:`MaskedWindowGAN` each, trained side by side; the evaluation
    picks a view by its D loss over the last fifth of training and scores the test windows with it."""

    defaults = dict(DEFAULTS)
    saved = ("tail",)

    def __init__(self, config):
        from minigen.data.timeseries import anomaly_series
        super().__init__(config)
        c = config
        self.series = ts = anomaly_series(seed=c["data_seed"])
        W = c["window"]
        train_raw, test_raw = backend.to_device(ts.train), backend.to_device(ts.test)
        n_fit = int(train_raw.shape[0] * (1 - c["calibration"]))     # the rest: held out for POT
        self.n_win = test_raw.shape[0] // W
        self.truth = backend.to_device(ts.labels)[:self.n_win * W].reshape(self.n_win, W).max(1)
        self.views, self.branches, self.optimizers, self.loaders = {}, {}, {}, {}
        for view in VIEWS:
            tr, te = make_view(train_raw, view, c), make_view(test_raw, view, c)
            mean, std = tr[:n_fit].mean(0), tr[:n_fit].std(0)
            tr, te = (tr - mean) / std, (te - mean) / std
            self.views[view] = {"calib": windows(tr[n_fit:], W), "test": windows(te[:self.n_win * W], W, stride=W)}
            gan = MaskedWindowGAN(W, tr.shape[1], c["hidden"], c["mask_ratio"], c["generator_input"], c["mse_weight"])
            gan.n_masks = c["n_masks"]
            self.branches[view] = gan
            self.optimizers[f"{view}_g"] = Adam(gan.generator.parameters(), lr=c["lr"], betas=(0.5, 0.999))
            self.optimizers[f"{view}_d"] = Adam(gan.discriminator.parameters(), lr=c["lr"], betas=(0.5, 0.999))
            self.loaders[view] = DataLoader(windows(tr[:n_fit], W), c["batch_size"], shuffle=True, drop_last=True,
                                            seed=self.seed + len(self.loaders))
        self.tail = xp.zeros(len(VIEWS))          # the sum of each view's D loss over the last fifth of the run
        self.tail_from = c["steps"] - max(1, c["steps"] // 5)

    def step(self, step):
        out = {}
        for i, view in enumerate(VIEWS):
            losses = self.branches[view].train_step(self.loaders[view].next, self.optimizers[f"{view}_d"],
                                                    self.optimizers[f"{view}_g"], step)
            if step >= self.tail_from:
                self.tail[i] += losses["d_loss"].data
            out[f"{view}_d_loss"], out[f"{view}_g_loss"] = losses["d_loss"], losses["g_loss"]
        return out

    def chosen_view(self) -> str:
        c, tail = self.config, backend.to_host(self.tail).tolist()
        if c["select"] == "d_loss_min":           # the repo's update rule
            return VIEWS[tail.index(min(tail))]
        if c["select"] == "d_loss_max":           # the view whose G fools its D best
            return VIEWS[tail.index(max(tail))]
        return c["select"]

    def measure(self, calib, test) -> dict:
        """Anomaly scores of the held-out clean windows ``calib`` and of the test windows ``test``: the POT
        threshold from ``calib``, window-level F1 / precision / recall at it, best-F1, and the events with at
        least one flagged window."""
        c, ts, W = self.config, self.series, self.config["window"]
        pot = pot_threshold(calib, c["pot_quantile"], c["risk"])
        flagged = test > pot["threshold"]
        f1, p, r = f1_score(flagged, self.truth)
        hit = [bool(flagged[s // W:(e - 1) // W + 1].any()) for s, e, _, _ in ts.events]
        return {"f1": f1, "precision": p, "recall": r, "best_f1": best_f1(test, self.truth),
                "event_recall": sum(hit) / len(hit), **pot, "missed": [ev[2] for ev, h in zip(ts.events, hit) if not h]}

    def evaluate(self, run):
        n_tail = self.config["steps"] - self.tail_from
        results = {}
        for i, view in enumerate(VIEWS):
            b = self.branches[view]
            results[view] = {**self.measure(b.score(self.views[view]["calib"]), b.score(self.views[view]["test"])),
                             "d_loss": float(self.tail[i]) / n_tail}
        chosen = self.chosen_view()
        sel = results[chosen]
        return {"view": chosen, "f1": sel["f1"], "precision": sel["precision"], "recall": sel["recall"],
                "best_f1": sel["best_f1"], "event_recall": sel["event_recall"], "threshold": sel["threshold"],
                "missed": sel["missed"], "windows": self.n_win, "anomalous_windows": int(self.truth.sum()),
                "views": results}

    def summary(self, r):
        return (f"window-level F1 {r['f1']:.3f} at the POT threshold (view {r['view']}), best-F1 {r['best_f1']:.3f}, "
                f"events found {r['event_recall']:.0%}")

    def sample(self, n, label=None):
        """The first ``n`` test windows of the chosen view, masked and regenerated: (n, W, C) re-joined windows."""
        b = self.branches[self.chosen_view()]
        x = self.views[self.chosen_view()]["test"][:n]
        with no_grad():
            rec = b.generate(b.latent_for(x))[0]
        return Samples(rec.numpy().reshape(x.shape[0], b.W, b.C), "windows")

    def figures(self, run, results):
        view = results["view"]
        scores = backend.to_host(self.branches[view].score(self.views[view]["test"]))
        return [_figure(self.series, scores, results["threshold"], self.config["window"], {**results, "seed": self.seed},
                        run.dir / "figure.png")]


def _figure(ts, scores, threshold, W, res, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    C = ts.test.shape[1]
    fig, axes = plt.subplots(C + 1, 1, figsize=(14, 1.3 * (C + 2)), sharex=True)
    t = range(ts.test.shape[0])
    for c in range(C):
        axes[c].plot(t, ts.test[:, c], lw=0.5, color="k")
        axes[c].set_ylabel(f"ch {c}")
    for s, e, kind, ch in ts.events:
        for ax in axes[:C]:
            ax.axvspan(s - 0.5, e - 0.5, color="tab:red", alpha=0.15)
        axes[ch].text(s, axes[ch].get_ylim()[1], kind, fontsize=7, va="top")
    centers = [i * W + W / 2 for i in range(len(scores))]
    axes[C].semilogy(centers, scores, ".-", lw=0.5, ms=2)
    axes[C].axhline(threshold, color="tab:red", ls="--", lw=1, label="POT threshold")
    axes[C].set_ylabel("window score")
    axes[C].legend(loc="upper right")
    fig.suptitle(f"M3GAN seed {res['seed']} (view: {res['view']}): window-level F1 {res['f1']:.3f} "
                 f"(P {res['precision']:.2f}, R {res['recall']:.2f}), best-F1 {res['best_f1']:.3f}, "
                 f"events found {res['event_recall']:.0%}")
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path


def judge(results):
    f, fs = mean_std(r["f1"] for r in results)
    b, _ = mean_std(r["best_f1"] for r in results)
    e, _ = mean_std(r["event_recall"] for r in results)
    views = ", ".join(r["view"] for r in results)
    good = sum(r["f1"] >= 0.8 for r in results)
    text = (f"window-level F1 at the POT threshold {f:.3f} ± {fs:.3f} (best-F1 {b:.3f}, events found "
            f"{e:.0%}; views chosen: {views}); {good}/{len(results)} seeds >= 0.8")
    return text, good == len(results)


def gradcheck_case():
    """D's smoothed-label loss on real and re-joined windows plus G's adversarial + masked-MSE loss, as a
    function of both networks' parameters, in float64 (fixed windows and masks)."""
    backend.manual_seed(0)
    b = to_double(MaskedWindowGAN(3, 2, 4, 0.4, "context", 1.0))
    g = backend.Generator(1)
    x = g.normal((4, 6), dtype=xp.float64)
    mask = xp.asarray([[1.0, 0.0, 0.0], [0.0, 1.0, 1.0], [0.0, 0.0, 1.0], [1.0, 0.0, 1.0]])
    fake = Tensor(g.normal((4, 6), dtype=xp.float64))
    params = list(b.generator.parameters()) + list(b.discriminator.parameters())

    def fn(*ps):
        return b.d_loss(Tensor(x), (fake,)) + b.g_loss(b.generate((x, mask)))
    return fn, params, False


VARIANT = register(Variant(
    name="m3gan", title="M3GAN", paper="SLZWVICTOR/M3GAN (~2023, venue unverified)",
    idea="masked windows regenerated by an MLP GAN (smoothed BCE + masked MSE) on raw / FFT / wavelet views, "
         "one view chosen by its D loss scores anomalies, threshold by peaks-over-threshold",
    data="F4: 5 channels mixing 3 sinusoids + noise; 3,000 clean steps to train, 1,000 to calibrate, 4,000 "
         "test steps with 16 spikes / level shifts / frequency and amplitude changes",
    criterion="window-level F1 (non-overlapping 10-step windows, no point adjustment) >= 0.8 at the POT "
              "threshold (q = 1e-3) on every seed",
    task=M3GANTask, judge=judge, gradcheck_case=gradcheck_case,
    fast={"steps": 20, "hidden": 16}, seeds=3))
