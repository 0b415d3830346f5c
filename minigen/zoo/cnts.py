"""CNTS: Cooperative Network for Time Series (Yang, Shao & Li, IEEE Access 11, 2023; repo ``BomBooooo/CNTS``).

Not a GAN: a *cooperative* pair.  A reconstructor R imputes a window of a multivariate series from its
context; a detector D learns where R fails; R then trains only on the steps D rates most normal, so the
anomalies hidden (unlabelled) in the training data stop teaching R to reconstruct them, and D's targets
stay sharp.  For a window X (C channels x L steps, train-std units) and K interleaved entry masks m_j
(entry (c, t) hidden by m_j when (c + t) % K = j; together they hide every entry once),

    X_hat     = sum_j m_j R(X (1 - m_j), m_j)                                  R's imputation, every entry once
    E_t       = max_c (X_hat - X)[c, t]^2                                         R's error at step t (no grad)
    L_D       = - sum_t softmax_t(E / T)_t log softmax_t(D(X, X_hat))_t          D: 2 x (N, C, L) -> (N, L) logits
    keep_t    = 1 if D's logit at t is not among the top ``exclude`` fraction of the window's (D frozen)
    L_R       = sum m keep (R(X (1 - m), m) - X)^2 / sum m keep                   m: one m_j, j random per window

and each training step is one D update (R frozen) then one R update (D frozen): the repo's alternating
rounds, one batch long.  The anomaly score of a test step is D's logit, averaged over the overlapping
windows that hold it.

What the miniature keeps: the alternating cooperative training, the max-over-channels squared error as D's
target, the softmax-over-time cross-entropy, R's MSE on the (1 - ``exclude``) least suspicious steps, D's
output as the score, best-F1 over thresholds and AUC.  What it drops: the Autoformer/FEDformer layers
(Fourier correlation, series decomposition) -- both nets are stacks of ``layers`` dilated conv1d layers
(kernel 5, dilation 1, 2, 4, ...; receptive field 61 steps at 4 layers) with leaky ReLU; early stopping;
the repo's 5% "abnormal" bookkeeping.

Stated choices: (1) data: the F4 series (M3GAN's) with its *training* segment contaminated by
``train_events`` = 8 anomalies (``anomaly_series(train_events=...)``, never shown to the model as labels):
on clean training data R has nothing to skip and the cooperation is moot.  (2) R imputes masked *entries*
(one channel in K = C at each step, cycling), so a step is reconstructed from the other channels at that step
and its neighbours -- the channels mix three sinusoids, so a normal entry is predictable from the rest.  (3) D
sees the window *and* R's imputation of it (no gradient into R), so it can read R's residual; the repo's D
sees the window only (tried first here: seed 0, 600 steps, test AUC 0.72, best-F1 0.50; no better).  (4) The score is D's raw logit, not L softmax_t: D is fully convolutional, so its
logit is one local function of the series, comparable across windows up to a single constant that changes
no ranking, whereas a softmax over a window that an anomaly fills (frequency changes last up to 80 steps)
is flat; ``score="softmax"`` scores by L softmax_t(D) instead.  (5) Evaluation like M3GAN's: non-overlapping
10-step test windows, a window anomalous when it holds an anomalous step, its score the max of its steps';
best-F1 over every threshold and ROC-AUC.

The baseline, trained in the same run from the same initial R, on the same batches and masks: R alone with
plain MSE on every masked entry (no D), scored by its own reconstruction error E_t.  The judge asks best-F1
>= 0.8, AUC >= 0.9 and both above the baseline's, on every seed.

Tuning (seed 0, short runs of 450-600 steps, ~25 minutes in all; test AUC of D's score vs the baseline's):
x-only D, T = 1: 0.72 vs 0.96; T = 0.1: 0.65.  D(X, X_hat), T = 1: 0.70 vs 0.95; T = 0.05: 0.52;
``target="log_error"`` (softmax_t(log E) = E / sum_t E): 0.66.  The diagnosis: the softmax over time keeps
only the *shape* of R's error within a window, not its size, so D learns to peak wherever a window's error
peaks -- normal windows have peaks too -- and its logit ranks windows poorly; a sharper target (small T)
makes this worse.  And R trained on the steps such a D passes is no better a detector than the baseline R
(its error's AUC 0.90-0.94 vs 0.95-0.97): D's top 10% are R's hardest *normal* steps as often as the
anomalies, so R stops learning them.  The baseline, R's masked imputation error, is already strong here
(AUC ~0.96, best-F1 ~0.85).

Measured (``minigen zoo --check cnts``, default settings, 1,200 steps; window-level best-F1 / AUC):

    seed   CNTS (D's score)   baseline (R alone)   CNTS's R, by its own error   CPU seconds (1 thread)
    0      0.413 / 0.683      0.846 / 0.957        0.689 / 0.905                115
    1      0.500 / 0.759      0.830 / 0.957        0.712 / 0.912                113
    2      0.424 / 0.668      0.848 / 0.956        0.766 / 0.919                109

an honest FAIL on every seed: D catches the spikes (its logit peaks there) but not the level, frequency
and amplitude changes, which the baseline's imputation error finds.
"""
from __future__ import annotations

from minigen import backend
from minigen import functional as F
from minigen.autograd.mode import no_grad
from minigen.autograd.tensor import Tensor
from minigen.backend import xp
from minigen.data import DataLoader, auroc_host
from minigen.models.gan import update
from minigen.nn import Conv1d, LeakyReLU, Module, Sequential
from minigen.optim import Adam
from minigen.training.task import ConfigError, Samples, Task
from minigen.zoo.criteria import mean_std
from minigen.zoo.gradcheck_cases import to_double
from minigen.zoo.m3gan import best_f1
from minigen.zoo.registry import Variant, register

DEFAULTS = {"window": 64, "eval_window": 10, "stride": 16, "layers": 4, "hidden": 32, "kernel": 5,
            "steps": 1200, "batch_size": 64, "lr": 1e-3, "exclude": 0.1, "temperature": 1.0, "target": "error",
            "train_events": 8, "score": "logit", "data_seed": 0}
SCORES = ("logit", "softmax")
TARGETS = ("error", "log_error")


def conv_stack(c_in: int, c_out: int, hidden: int, layers: int, kernel: int) -> Sequential:
    """``layers`` conv1d layers, dilation doubling from 1, "same" padding, leaky ReLU between them."""
    mods = []
    for i in range(layers):
        d = 2 ** i
        mods.append(Conv1d(c_in if i == 0 else hidden, c_out if i == layers - 1 else hidden, kernel,
                           padding=d * (kernel - 1) // 2, dilation=d))
        if i < layers - 1:
            mods.append(LeakyReLU(0.2))
    return Sequential(*mods)


def entry_masks(channels: int, length: int, k: int):
    """(k, C, L): mask j hides the entries (c, t) with (c + t) % k == j; together they hide each once."""
    c, t = xp.arange(channels)[:, None], xp.arange(length)[None, :]
    return xp.stack([((c + t) % k == j) for j in range(k)]).astype(xp.float32)


class Reconstructor(Module):
    """R: the window with its masked entries zeroed, and the mask, -> the full window (N, C, L)."""

    def __init__(self, channels, hidden, layers, kernel):
        super().__init__()
        self.net = conv_stack(2 * channels, channels, hidden, layers, kernel)

    def forward(self, x, m):
        xd = x.data if isinstance(x, Tensor) else x
        m = xp.broadcast_to(m, xd.shape).astype(xd.dtype)
        return self.net(Tensor(xp.concatenate([xd * (1 - m), m], axis=1)))


class Detector(Module):
    """D: the window and R's imputation of it, (N, C, L) each -> one logit per step (N, L)."""

    def __init__(self, channels, hidden, layers, kernel):
        super().__init__()
        self.net = conv_stack(2 * channels, 1, hidden, layers, kernel)

    def forward(self, x, rec):
        y = self.net(Tensor(xp.concatenate([x, rec], axis=1)))
        return F.reshape(y, (y.shape[0], y.shape[2]))


def impute(R, x, masks):
    """R's imputation of the windows x (N, C, L), each entry imputed once by the K masks (no grad)."""
    rec = xp.zeros(x.shape, dtype=x.dtype)
    with no_grad():
        for m in masks:
            rec = rec + m * R(x, m[None]).data
    return rec


def step_error(R, x, masks):
    """E (N, L): the max over channels of R's squared imputation error (no grad)."""
    return ((impute(R, x, masks) - x) ** 2).max(axis=1)


def detector_loss(logits, target):
    """- sum_t softmax_t(target) log softmax_t(logits), mean over windows; ``target`` (N, L) is a constant."""
    t = target.data if isinstance(target, Tensor) else target
    p = xp.exp(t - t.max(axis=1, keepdims=True))
    p = p / p.sum(axis=1, keepdims=True)
    return -F.sum(F.log_softmax(logits, axis=1) * p) / logits.shape[0]


def keep_mask(logits, exclude: float):
    """1 on the steps whose D logit is below the window's top ``exclude`` fraction, (N, 1, L)."""
    s = logits.data if isinstance(logits, Tensor) else logits
    k = int(round(exclude * s.shape[1]))
    if k == 0:
        return xp.ones((s.shape[0], 1, s.shape[1]), dtype=s.dtype)
    cut = xp.sort(s, axis=1)[:, -k:-k + 1]                     # the k-th largest logit per window
    return (s < cut).astype(s.dtype)[:, None, :]


def reconstruction_loss(R, x, m, keep=None):
    """Mean squared error on the masked entries (those of the kept steps where ``keep`` is given)."""
    w = m if keep is None else m * keep
    out = R(x, m)
    return F.sum(w * (out - x) ** 2) / w.sum()


def series_windows(x, L: int, stride: int):
    """(T, C) -> (n, C, L) windows every ``stride`` steps, the last one ending at T; and their starts."""
    T = x.shape[0]
    starts = list(range(0, T - L + 1, stride))
    if starts[-1] != T - L:
        starts.append(T - L)
    idx = xp.asarray(starts)[:, None] + xp.arange(L)[None, :]
    return xp.ascontiguousarray(xp.transpose(x[idx], (0, 2, 1))), starts


def average_over_windows(values, starts, T: int):
    """(n, L) per-window step values -> (T,) the mean over the windows holding each step."""
    L = values.shape[1]
    total, count = xp.zeros(T, dtype=xp.float64), xp.zeros(T, dtype=xp.float64)
    for i, s in enumerate(starts):
        total[s:s + L] += values[i]
        count[s:s + L] += 1
    return total / count


class CNTSTask(Task):
    """R, D (cooperative) and the baseline R (alone), trained side by side on the same batches."""

    defaults = dict(DEFAULTS)

    @classmethod
    def check_config(cls, config):
        if config["score"] not in SCORES:
            raise ConfigError(f"cnts: score must be one of {', '.join(SCORES)}, got {config['score']!r}")
        if config["target"] not in TARGETS:
            raise ConfigError(f"cnts: target must be one of {', '.join(TARGETS)}, got {config['target']!r}")
        if not 0.0 <= config["exclude"] < 1.0:
            raise ConfigError(f"cnts: exclude must be in [0, 1), got {config['exclude']}")

    def __init__(self, config):
        from minigen.data.timeseries import anomaly_series
        super().__init__(config)
        c = config
        self.series = ts = anomaly_series(seed=c["data_seed"], train_events=c["train_events"])
        train, test = backend.to_device(ts.train), backend.to_device(ts.test)
        mean, std = train.mean(0), train.std(0)
        self.train_x, self.test_x = (train - mean) / std, (test - mean) / std
        L, C = c["window"], train.shape[1]
        self.C, self.K = C, C
        self.masks = entry_masks(C, L, self.K)
        args = (C, c["hidden"], c["layers"], c["kernel"])
        self.R, self.D, self.R_base = Reconstructor(*args), Detector(*args), Reconstructor(*args)
        self.R_base.load_state_dict(self.R.state_dict())          # the baseline starts where R does
        self.opt_r = Adam(self.R.parameters(), lr=c["lr"])
        self.opt_d = Adam(self.D.parameters(), lr=c["lr"])
        self.opt_base = Adam(self.R_base.parameters(), lr=c["lr"])
        self.loader = DataLoader(series_windows(self.train_x, L, 1)[0], c["batch_size"], shuffle=True,
                                 drop_last=True, seed=self.seed)
        W = c["eval_window"]
        self.n_win = test.shape[0] // W
        self.truth = backend.to_device(ts.labels)[:self.n_win * W].reshape(self.n_win, W).max(1)

    def step(self, step):
        x = self.loader.next().data
        rec = impute(self.R, x, self.masks)                      # D's step, R frozen
        target = ((rec - x) ** 2).max(axis=1)
        if self.config["target"] == "log_error":                # softmax_t(log E) = E / sum_t E
            target = xp.log(target + 1e-6)
        d_loss = detector_loss(self.D(x, rec), target / self.config["temperature"])
        update(self.opt_d, d_loss)
        j = backend.rng().integers(0, self.K, size=(x.shape[0],))      # R's step, D frozen: one mask per window
        m = self.masks[j]
        with no_grad():
            keep = keep_mask(self.D(x, rec), self.config["exclude"])
        r_loss = reconstruction_loss(self.R, x, m, keep)
        update(self.opt_r, r_loss)
        base_loss = reconstruction_loss(self.R_base, x, m)        # the baseline: R alone, every masked entry
        update(self.opt_base, base_loss)
        return {"d_loss": d_loss.detach(), "r_loss": r_loss.detach(), "baseline_loss": base_loss.detach()}

    # --- scoring ---
    def step_scores(self, which: str):
        """(T,) per-step scores of the test series: ``"cnts"`` D's (logit or L softmax), ``"baseline"`` and
        ``"r"`` the baseline's and CNTS's R's reconstruction error, averaged over overlapping windows."""
        c = self.config
        x, starts = series_windows(self.test_x, c["window"], c["stride"])
        with no_grad():
            if which == "cnts":
                v = self.D(x, impute(self.R, x, self.masks)).data
                if c["score"] == "softmax":
                    v = c["window"] * F.softmax(v, axis=1)
            else:
                v = step_error(self.R_base if which == "baseline" else self.R, x, self.masks)
        return average_over_windows(v, starts, self.test_x.shape[0])

    def window_scores(self, step_scores):
        W = self.config["eval_window"]
        return step_scores[:self.n_win * W].reshape(self.n_win, W).max(1)

    def measure(self, scores) -> dict:
        """Best-F1 over every threshold and ROC-AUC of window scores (n_win,) against the labelled windows."""
        return {"best_f1": best_f1(scores, self.truth),
                "auc": auroc_host(backend.to_host(scores), backend.to_host(self.truth))}

    def evaluate(self, run):
        out = {name: self.measure(self.window_scores(self.step_scores(name))) for name in ("cnts", "baseline", "r")}
        return {"best_f1": out["cnts"]["best_f1"], "auc": out["cnts"]["auc"],
                "baseline_best_f1": out["baseline"]["best_f1"], "baseline_auc": out["baseline"]["auc"],
                "r_best_f1": out["r"]["best_f1"], "r_auc": out["r"]["auc"],
                "windows": self.n_win, "anomalous_windows": int(self.truth.sum())}

    def summary(self, r):
        return (f"D's score: best-F1 {r['best_f1']:.3f}, AUC {r['auc']:.3f}; baseline (R alone, its error): "
                f"best-F1 {r['baseline_best_f1']:.3f}, AUC {r['baseline_auc']:.3f}")

    def sample(self, n, label=None):
        """CNTS's R's imputation of the first ``n`` test windows (every entry imputed once): (n, L, C)."""
        c = self.config
        x = series_windows(self.test_x, c["window"], c["window"])[0][:n]
        rec = impute(self.R, x, self.masks)
        return Samples(backend.to_host(xp.transpose(rec, (0, 2, 1))), "windows")

    def figures(self, run, results):
        W = self.config["eval_window"]
        scores = {k: backend.to_host(self.window_scores(self.step_scores(k))) for k in ("cnts", "baseline")}
        return [_figure(self.series, scores, W, {**results, "seed": self.seed}, run.dir / "figure.png")]


def _figure(ts, scores, W, res, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    C = ts.test.shape[1]
    fig, axes = plt.subplots(C + 2, 1, figsize=(14, 1.3 * (C + 3)), sharex=True)
    t = range(ts.test.shape[0])
    for c in range(C):
        axes[c].plot(t, ts.test[:, c], lw=0.5, color="k")
        axes[c].set_ylabel(f"ch {c}")
    for s, e, kind, ch in ts.events:
        for ax in axes:
            ax.axvspan(s - 0.5, e - 0.5, color="tab:red", alpha=0.15)
        axes[ch].text(s, axes[ch].get_ylim()[1], kind, fontsize=7, va="top")
    centers = [i * W + W / 2 for i in range(len(scores["cnts"]))]
    axes[C].plot(centers, scores["cnts"], ".-", lw=0.5, ms=2, color="tab:blue")
    axes[C].set_ylabel("D's logit")
    axes[C + 1].semilogy(centers, scores["baseline"], ".-", lw=0.5, ms=2, color="tab:gray")
    axes[C + 1].set_ylabel("baseline error")
    fig.suptitle(f"CNTS seed {res['seed']}: D's score best-F1 {res['best_f1']:.3f}, AUC {res['auc']:.3f}; "
                 f"baseline (R alone) best-F1 {res['baseline_best_f1']:.3f}, AUC {res['baseline_auc']:.3f} "
                 f"(red: test anomalies; training data held {len(ts.train_events)} unlabelled ones)")
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path


def seed_ok(r) -> bool:
    return (r["best_f1"] >= 0.8 and r["auc"] >= 0.9 and r["best_f1"] > r["baseline_best_f1"]
            and r["auc"] > r["baseline_auc"])


def judge(results):
    f, fs = mean_std(r["best_f1"] for r in results)
    a, as_ = mean_std(r["auc"] for r in results)
    bf, _ = mean_std(r["baseline_best_f1"] for r in results)
    ba, _ = mean_std(r["baseline_auc"] for r in results)
    good = sum(seed_ok(r) for r in results)
    text = (f"D's score: best-F1 {f:.3f} ± {fs:.3f}, AUC {a:.3f} ± {as_:.3f} (worst {min(r['best_f1'] for r in results):.3f}"
            f" / {min(r['auc'] for r in results):.3f}); baseline R-only reconstruction error: best-F1 {bf:.3f}, "
            f"AUC {ba:.3f}; {good}/{len(results)} seeds pass")
    return text, good == len(results)


def gradcheck_case():
    """D's softmax-over-time cross-entropy against R's (constant) error plus R's MSE on the masked entries of
    the kept steps, as a function of both networks' parameters, in float64."""
    backend.manual_seed(0)
    R, D = to_double(Reconstructor(2, 3, 2, 3)), to_double(Detector(2, 3, 2, 3))
    g = backend.Generator(1)
    x, rec = g.normal((3, 2, 6), dtype=xp.float64), g.normal((3, 2, 6), dtype=xp.float64)
    target = g.normal((3, 6), dtype=xp.float64) ** 2
    m = entry_masks(2, 6, 2).astype(xp.float64)[xp.asarray([0, 1, 0])]
    keep = xp.asarray([[1, 1, 0, 1, 1, 1], [1, 0, 1, 1, 1, 1], [1, 1, 1, 1, 0, 1]], dtype=xp.float64)[:, None]
    params = list(R.parameters()) + list(D.parameters())

    def fn(*ps):
        return detector_loss(D(x, rec), target) + reconstruction_loss(R, x, m, keep)
    return fn, params, False


VARIANT = register(Variant(
    name="cnts", title="CNTS", paper="Yang, Shao & Li, IEEE Access 2023 (BomBooooo/CNTS)",
    idea="not a GAN: a cooperative pair -- detector D learns where reconstructor R fails (softmax-over-time CE "
         "against R's error), R trains only on the 90% of steps D rates most normal; D's output scores anomalies "
         "(dilated conv1d stacks stand in for the Fourier-attention layers)",
    data="F4 (M3GAN's series): 5 channels mixing 3 sinusoids + noise, 4,000 training steps contaminated by 8 "
         "unlabelled anomalies, 4,000 test steps with 16 spikes / level shifts / frequency and amplitude changes; "
         "windows of 64 steps",
    criterion="window-level (10-step windows) best-F1 >= 0.8 and ROC-AUC >= 0.9, both above the R-only "
              "reconstruction-error baseline's (same seed, init, batches), on every seed",
    task=CNTSTask, judge=judge, gradcheck_case=gradcheck_case,
    fast={"steps": 20, "hidden": 8, "layers": 2}, seeds=3))
