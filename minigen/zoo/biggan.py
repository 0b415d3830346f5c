"""BigGAN in miniature: Large Scale GAN Training for High Fidelity Natural Image Synthesis (Brock, Donahue
& Simonyan, ICLR 2019).

The idea: a class-conditional GAN scaled up, kept stable by a set of tools, and a sampling trick that
trades variety for fidelity after training:

    G: residual up-blocks with class-conditional BatchNorm: y = BN(x) * gain[label] + bias[label]
    D: residual down-blocks, ReLU, global sum pooling to h = phi(x), and a projection head
       D(x, y) = w^T h + <embed(y), h>                                  (Miyato & Koyama 2018)
    hinge loss:  L_D = E relu(1 - D(x, y)) + E relu(1 + D(G(z, y'), y')),   L_G = -E D(G(z, y'), y')
    spectral normalisation of every weight of both nets (one power iteration per forward)
    orthogonal regularisation of G's weights: R(W) = beta || W W^T * (1 - I) ||_F^2, W viewed as (out, -1)
    G's weights averaged over training (EMA), BatchNorm "standing statistics" for sampling
    Adam(beta1 = 0, beta2 = 0.999) with D's learning rate above G's (the paper: 2e-4 and 5e-5)
    the truncation trick: z ~ N(0, I) with every |z_i| > t redrawn; smaller t, more typical samples

The miniature keeps all of these on the 8x8 digits (pixels scaled to [-1, 1]):

    G: z (32) -> SN-Linear -> 2c x 4 x 4 -> GBlock (CBN, ReLU, up x2, 3x3 conv, CBN, ReLU, 3x3 conv;
       skip: up x2, 1x1 conv) -> c x 8 x 8 -> BN, ReLU, 3x3 conv -> 1 x 8 x 8, tanh
    D: DBlock(1 -> c) 8 -> 4, DBlock(c -> 2c) 4 -> 2 (3x3 convs, avg-pool), ReLU, sum over pixels -> h (2c),
       SN-Linear(h) + <SN-Embedding(y), h>

trained 3,000 steps of batch 64 with Adam(4e-4 for D, 2e-4 for G), the EMA (decay 0.995) from step 500.
It drops the scale (ImageNet, 512 px, batch 2048), the shared class embedding and the hierarchical
latent (z split across the blocks), self-attention, two D steps per G step, and orthogonal init.  The
trained EMA generator is judged by the reference digit classifier (issue 6) on 100 samples per class at
truncation thresholds 2, 1, 0.5, 0.25: conditional accuracy (the classifier agrees with the requested
class), fidelity (its mean probability of the requested class) and diversity (the mean pairwise pixel
distance between samples of one class).
"""
from __future__ import annotations

import copy
import itertools
from pathlib import Path

from minigen import backend
from minigen import functional as F
from minigen.autograd.mode import no_grad
from minigen.autograd.tensor import Tensor
from minigen.backend import xp
from minigen.losses import hinge_d_loss, hinge_g_loss
from minigen.metrics import copy_fraction
from minigen.models.gan import ConditionalGAN
from minigen.nn import BatchNorm2d, Conv2d, Embedding, Linear, Module
from minigen.nn.conditional_bn import ConditionalBatchNorm2d
from minigen.nn.spectral_norm import spectral_norm
from minigen.training.task import Samples
from minigen.zoo.common import DigitsGANTask, DigitsTask
from minigen.zoo.criteria import mean_std
from minigen.zoo.gradcheck_cases import to_double
from minigen.zoo.registry import Variant, register

N_CLASSES = 10
THRESHOLDS = (2.0, 1.0, 0.5, 0.25)
# ----------------------------------------------------------------------------------------------------
# Losses and the regulariser
# ----------------------------------------------------------------------------------------------------

def orthogonal_regularizer(weights, beta: float = 1e-4):
    """BigGAN's orthogonal regularisation (eq. 3):  beta * sum_W || W W^T * (1 - I) ||_F^2

    with each weight viewed as a matrix (out, -1), so a conv kernel's filters are its rows.  Unlike the
    plain ||W W^T - I||^2 it leaves the filters' norms free and only pushes distinct filters apart
    (towards orthogonality).  Its gradient is 4 beta ((W W^T) * (1 - I)) W."""
    total = None
    for w in weights:
        m = F.reshape(w, (w.shape[0], -1))
        gram = F.matmul(m, F.transpose(m))
        off = gram * (1.0 - xp.eye(w.shape[0], dtype=w.dtype))
        r = F.sum(off * off)
        total = r if total is None else total + r
    if total is None:
        raise ValueError("orthogonal_regularizer: no weights given")
    return beta * total


def raw_weights(module: Module) -> list:
    """The trained weights of a module's convolutions and linear layers (``weight_orig`` of a spectrally
    normalised layer): what the orthogonal regulariser acts on.  Embeddings (CBN gains) are left out."""
    out = []
    for m in module.modules():
        if isinstance(m, (Conv2d, Linear)):
            out.append(m.weight_orig if getattr(m, "_spectral_norm", None) is not None else m.weight)
    return out


def truncated_normal(shape, threshold: float | None, generator=None, dtype=None, max_rounds: int = 10_000):
    """z ~ N(0, I) with every entry |z_i| > threshold redrawn until none is left (BigGAN's truncation
    trick); ``threshold=None`` is the plain normal."""
    g = generator or backend.rng()
    z = g.normal(shape, dtype=dtype)
    if threshold is None:
        return z
    if threshold <= 0:
        raise ValueError(f"truncated_normal: threshold must be > 0, got {threshold}")
    for _ in range(max_rounds):
        bad = xp.abs(z) > threshold
        if not int(bad.sum()):
            return z
        z = xp.where(bad, g.normal(shape, dtype=dtype), z)
    raise RuntimeError("truncated_normal: did not converge")


# ----------------------------------------------------------------------------------------------------
# The nets
# ----------------------------------------------------------------------------------------------------

def _sn(module, enabled: bool = True):
    return spectral_norm(module) if enabled else module


class GBlock(Module):
    """CBN -> ReLU -> up x2 -> 3x3 conv -> CBN -> ReLU -> 3x3 conv, plus the skip up x2 -> 1x1 conv."""

    def __init__(self, cin: int, cout: int, num_classes: int, sn: bool = True):
        super().__init__()
        self.bn1 = ConditionalBatchNorm2d(cin, num_classes)
        self.conv1 = _sn(Conv2d(cin, cout, 3, 1, 1), sn)
        self.bn2 = ConditionalBatchNorm2d(cout, num_classes)
        self.conv2 = _sn(Conv2d(cout, cout, 3, 1, 1), sn)
        self.skip = _sn(Conv2d(cin, cout, 1), sn)

    def forward(self, x, labels):
        h = self.conv1(F.upsample(F.relu(self.bn1(x, labels)), 2))
        h = self.conv2(F.relu(self.bn2(h, labels)))
        return h + self.skip(F.upsample(x, 2))


class DBlock(Module):
    """(ReLU ->) 3x3 conv -> ReLU -> 3x3 conv -> avg-pool x2, plus the skip 1x1 conv -> avg-pool x2 (the
    first block skips the leading ReLU: its input is the image)."""

    def __init__(self, cin: int, cout: int, preactivation: bool = True, sn: bool = True):
        super().__init__()
        self.preactivation = preactivation
        self.conv1 = _sn(Conv2d(cin, cout, 3, 1, 1), sn)
        self.conv2 = _sn(Conv2d(cout, cout, 3, 1, 1), sn)
        self.skip = _sn(Conv2d(cin, cout, 1), sn)

    def forward(self, x):
        h = F.relu(x) if self.preactivation else x
        h = self.conv2(F.relu(self.conv1(h)))
        return F.avg_pool2d(h, 2) + F.avg_pool2d(self.skip(x), 2)


class Generator(Module):
    """G(z, labels) -> (N, 1, S, S) in [-1, 1]; ``S = start * 2 ** n_blocks`` (8 = 4 * 2 for the digits)."""

    def __init__(self, latent_dim: int = 32, ch: int = 16, num_classes: int = N_CLASSES, image_size: int = 8,
                 sn: bool = True):
        super().__init__()
        n_blocks = 1 if image_size == 8 else 2          # 8 = 4 x 2;  28 = 7 x 4 (MNIST)
        if image_size % (2 ** n_blocks):
            raise ValueError(f"BigGAN: unsupported image size {image_size}")
        self.latent_dim, self.start = latent_dim, image_size // 2 ** n_blocks
        widths = [ch * 2 ** (n_blocks - i) for i in range(n_blocks + 1)]      # e.g. [2c, c]
        self.c0 = widths[0]
        self.linear = _sn(Linear(latent_dim, self.c0 * self.start ** 2), sn)
        self.blocks = [GBlock(a, b, num_classes, sn) for a, b in itertools.pairwise(widths)]
        for i, b in enumerate(self.blocks):
            setattr(self, f"block{i}", b)
        self.bn = BatchNorm2d(widths[-1])
        self.out = _sn(Conv2d(widths[-1], 1, 3, 1, 1), sn)

    def forward(self, z, labels):
        h = F.reshape(self.linear(z), (z.shape[0], self.c0, self.start, self.start))
        for b in self.blocks:
            h = b(h, labels)
        return F.tanh(self.out(F.relu(self.bn(h))))


class ProjectionDiscriminator(Module):
    """D(x, labels) = w^T h + <embed(labels), h> + b with h = sum over pixels of ReLU(blocks(x)) (N, 2c)."""

    def __init__(self, ch: int = 16, num_classes: int = N_CLASSES, image_size: int = 8, sn: bool = True):
        super().__init__()
        self.block0 = DBlock(1, ch, preactivation=False, sn=sn)          # S -> S/2
        self.block1 = DBlock(ch, 2 * ch, sn=sn)                          # S/2 -> S/4
        self.linear = _sn(Linear(2 * ch, 1), sn)
        self.embed = _sn(Embedding(num_classes, 2 * ch), sn)

    def features(self, x):
        h = F.relu(self.block1(self.block0(x)))
        return F.sum(h, (2, 3))

    def forward(self, x, labels):
        h = self.features(x)
        return self.linear(h) + F.sum(self.embed(labels) * h, 1, keepdims=True)


# ----------------------------------------------------------------------------------------------------
# Sampling helpers
# ----------------------------------------------------------------------------------------------------

def standing_stats(G: Module, latent_dim: int, n_batches: int = 10, batch: int = 100, generator=None) -> Module:
    """BigGAN's "standing statistics": reset every BatchNorm's running mean and variance, average the batch
    statistics of ``n_batches`` forward passes (untruncated z, uniform labels) exactly (momentum 1/(k+1)),
    and leave G in eval mode, which then uses them.  Changes ``G`` in place (pass a copy to keep it)."""
    g = generator or backend.Generator(0)
    bns = [m for m in G.modules() if isinstance(m, BatchNorm2d)]
    saved = [m.momentum for m in bns]
    for m in bns:
        # in place through locals: ``m.running_mean *= 0`` would re-assign the attribute, and Module.__setattr__
        # drops an attribute assigned that way from the registered buffers
        mean, var = m.running_mean, m.running_var
        mean *= 0.0
        var *= 0.0
        var += 1.0
    G.train()
    try:
        with no_grad():
            for k in range(n_batches):
                for m in bns:
                    m.momentum = 1.0 / (k + 1)
                G(Tensor(g.normal((batch, latent_dim))), g.integers(0, N_CLASSES, size=(batch,)))
    finally:
        for m, mom in zip(bns, saved):
            m.momentum = mom
        G.eval()
    return G


def generate(G: Module, z, labels, batch: int = 500):
    """G(z, labels) without recording, in G's current mode, as a device array (N, 1, S, S)."""
    z = z.data if isinstance(z, Tensor) else z
    with no_grad():
        return xp.concatenate([G(Tensor(z[i:i + batch]), labels[i:i + batch]).data
                               for i in range(0, z.shape[0], batch)], 0)


def _rows(images):
    """G's (N, 1, S, S) output in [-1, 1] -> rows (N, S*S) in [0, 1], the classifier's input."""
    return xp.clip((images.reshape(images.shape[0], -1) + 1.0) * 0.5, 0.0, 1.0)


def within_class_distance(x, labels) -> float:
    """The mean Euclidean distance between two different samples of the same class, averaged over the
    classes: x (N, D) and labels (N,) device arrays."""
    x = x.astype(xp.float64)
    out = []
    for c in range(N_CLASSES):
        a = x[labels == c]
        n = a.shape[0]
        if n < 2:
            continue
        sq = (a * a).sum(1)
        d2 = xp.maximum(sq[:, None] + sq[None, :] - 2.0 * a @ a.T, 0.0)
        out.append(float(xp.sqrt(d2).sum()) / (n * (n - 1)))
    return sum(out) / len(out)


def truncation_curve(G: Module, latent_dim: int, thresholds, per_class: int = 100, seed: int = 0,
                     data=None) -> list[dict]:
    """For each threshold (None: no truncation), ``per_class`` samples of every class from G (in its
    current mode) judged by the reference classifier: ``accuracy`` (its top class is the requested one),
    ``fidelity`` (its mean probability of the requested class), ``confident`` (top probability >= 0.9),
    ``diversity`` (:func:`within_class_distance` in [0, 1] pixel units) and, given the ``data`` split,
    ``copies`` (the share of near-copies of training digits, :func:`minigen.metrics.copy_fraction`)."""
    from minigen.models.classifier import reference_classifier
    clf = reference_classifier()
    labels = xp.repeat(xp.arange(N_CLASSES), per_class)
    n = labels.shape[0]
    rows = []
    for t in thresholds:
        z = truncated_normal((n, latent_dim), t, backend.Generator(seed))       # the same noise draws per t
        x = _rows(generate(G, z, labels))
        prob = clf.probabilities(Tensor(x.astype(backend.default_float())))
        pred = prob.argmax(1)
        rows.append({"threshold": t, "accuracy": float((pred == labels).mean()),
                     "fidelity": float(prob[xp.arange(n), labels].mean()),
                     "confident": float((prob.max(1) >= 0.9).mean()),
                     "diversity": within_class_distance(x, labels)})
        if data is not None:
            rows[-1]["copies"] = copy_fraction(x, data.x_train, data.x_test)["copies"]
    return rows


# ----------------------------------------------------------------------------------------------------
# The game and the task
# ----------------------------------------------------------------------------------------------------

class BigGANGame(ConditionalGAN):
    """Hinge losses; G's loss gains the orthogonal regularisation of its raw weights."""

    def __init__(self, G, D, ortho: float = 1e-4, **kw):
        super().__init__(G, D, N_CLASSES, **kw)
        self.ortho = ortho

    def d_loss(self, real, fake):
        """The hinge loss of D; ``fake`` is already detached from G."""
        return hinge_d_loss(self.critic(real), self.critic(fake))

    def g_loss(self, fake, real=None):
        """The hinge loss of G plus the orthogonal regularisation of its weights."""
        loss = hinge_g_loss(self.critic(fake))
        if self.ortho:
            loss = loss + orthogonal_regularizer(raw_weights(self.generator), self.ortho)
        return loss


def biggan(c: dict, image_size: int = 8) -> BigGANGame:
    """G and D of the miniature, the EMA of G from ``ema_start`` (decay ``ema_decay``), and the reference
    code's step: one G(z, y') per step, D's step on it detached, G's step through it."""
    sn = c["sn"]
    G = Generator(c["latent_dim"], c["ch"], N_CLASSES, image_size, sn)
    D = ProjectionDiscriminator(c["ch"], N_CLASSES, image_size, sn)
    return BigGANGame(G, D, ortho=c["ortho"], latent_dim=c["latent_dim"], reuse_fake=True, ema=c["ema_decay"],
                      ema_warmup=False, ema_start=c["ema_start"])


class BigGANTask(DigitsGANTask):
    defaults = {**DigitsTask.defaults, "steps": 3000, "batch_size": 64, "latent_dim": 32, "ch": 16, "lr_g": 2e-4,
                "lr_d": 4e-4, "betas": [0.0, 0.999], "ortho": 1e-4, "ema_decay": 0.995, "ema_start": 500,
                "per_class": 100, "standing_batches": 10, "thresholds": list(THRESHOLDS), "sn": True}
    signed = True

    def make_gan(self):
        return biggan(self.config, self.image_shape[0])

    def sampler(self) -> Module:
        """The generator to sample from: a copy of G's EMA (G itself before the EMA started) with standing
        statistics, in eval mode."""
        return standing_stats(copy.deepcopy(self.gan.sampler), self.config["latent_dim"],
                              self.config["standing_batches"])

    def sample(self, n, label=None):
        labels = self.class_labels(n, label)
        x = generate(self.sampler(), Tensor(backend.rng().normal((n, self.config["latent_dim"]))), labels)
        return Samples(backend.to_host(self.rows(x)), "images", image_shape=self.image_shape,
                       labels=backend.to_host(labels))

    def evaluate(self, run):
        return self.measure(self.sampler())

    def measure(self, G) -> dict:
        """The truncation curve of a generator ``G(z, labels)`` and the numbers at truncation 0.5."""
        c = self.config
        curve = truncation_curve(G, c["latent_dim"], c["thresholds"], c["per_class"], seed=self.seed + 1,
                                 data=self.data)
        ref = {r["threshold"]: r for r in curve}.get(0.5, curve[-1])
        return {"accuracy_at_0.5": ref["accuracy"], "fidelity_at_0.5": ref["fidelity"],
                "diversity_at_0.5": ref["diversity"], "copies_at_0.5": ref["copies"], "curve": curve,
                "real_diversity": within_class_distance(backend.to_device(self.data.x_test),
                                                        backend.to_device(self.data.y_test)),
                **curve_shape(curve)}

    def summary(self, r):
        return (f"conditional accuracy {r['accuracy_at_0.5']:.1%} at truncation 0.5; fidelity rises: "
                f"{r['fidelity_rises']}, diversity falls: {r['diversity_falls']}")

    def figures(self, run, results):
        return [_figure(self.sampler(), self.config, results["curve"], results, run.dir / "figure.png",
                        self.image_shape, self.seed)]


def curve_shape(curve: list[dict]) -> dict:
    """Along the thresholds from loose to tight: ``fidelity_rises`` (each step's fidelity >= the previous
    one's minus 0.005, and the tightest > the loosest) and ``diversity_falls`` (strictly decreasing)."""
    fid = [r["fidelity"] for r in curve]
    div = [r["diversity"] for r in curve]
    rises = all(b >= a - 0.005 for a, b in itertools.pairwise(fid)) and fid[-1] > fid[0]
    falls = all(b < a for a, b in itertools.pairwise(div))
    return {"fidelity_rises": bool(rises), "diversity_falls": bool(falls)}


def _figure(Gs, cfg, curve, res, path, shape, seed):
    """Three panels: a class grid at truncation 0.5, one class row per threshold with the same noise draws,
    and the fidelity / diversity curve."""
    from minigen.viz import plots  # noqa: I001  (first: it selects matplotlib's Agg backend)
    import matplotlib.pyplot as plt
    labels = xp.repeat(xp.arange(N_CLASSES), 10)
    z = truncated_normal((100, cfg["latent_dim"]), 0.5, backend.Generator(seed + 7))
    grid = backend.to_host(_rows(generate(Gs, z, labels)))
    ts = [r["threshold"] for r in curve]
    rows = []
    for t in ts:                                   # the digits 0..9 for one noise draw per threshold
        zt = truncated_normal((N_CLASSES, cfg["latent_dim"]), t, backend.Generator(seed + 8))
        rows.append(_rows(generate(Gs, zt, xp.arange(N_CLASSES))))
    trunc = backend.to_host(xp.concatenate(rows, 0))
    path = Path(path)
    fig = plt.figure(figsize=(13.5, 4.4))
    ax1, ax2, ax3 = fig.add_subplot(1, 3, 1), fig.add_subplot(1, 3, 2), fig.add_subplot(1, 3, 3)
    ax1.imshow(plots.image_grid(grid.clip(0, 1), shape, 10), cmap="gray_r", vmin=0, vmax=1)
    ax1.set_title(f"EMA G(z, y), row = y, truncation 0.5\nclassifier agrees on {res['accuracy_at_0.5']:.1%}",
                  fontsize=9)
    ax2.imshow(plots.image_grid(trunc.clip(0, 1), shape, 10), cmap="gray_r", vmin=0, vmax=1)
    ax2.set_title("rows: truncation " + ", ".join(str(t) for t in ts), fontsize=9)
    for ax in (ax1, ax2):
        ax.axis("off")
    x = list(range(len(ts)))
    ax3.plot(x, [r["fidelity"] for r in curve], "o-", color="tab:blue", label="fidelity: mean p(y | G(z, y))")
    ax3.plot(x, [r["accuracy"] for r in curve], "s--", color="tab:cyan", label="conditional accuracy")
    ax3.set_ylabel("fidelity")
    ax3.set_xticks(x)
    ax3.set_xticklabels([str(t) for t in ts])
    ax3.set_xlabel("truncation threshold (tighter ->)")
    ax4 = ax3.twinx()
    ax4.plot(x, [r["diversity"] for r in curve], "^-", color="tab:red", label="diversity: within-class distance")
    ax4.axhline(res["real_diversity"], color="tab:red", lw=0.8, ls=":", label="diversity of real test digits")
    ax4.set_ylabel("diversity (mean pixel distance)")
    h1, l1 = ax3.get_legend_handles_labels()
    h2, l2 = ax4.get_legend_handles_labels()
    ax3.legend(h1 + h2, l1 + l2, fontsize=7, loc="center left")
    ax3.set_title("the truncation trade-off", fontsize=9)
    fig.suptitle(f"BigGAN (miniature) on digits, seed {seed}", fontsize=10)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path


def judge(results):
    """On every seed: conditional accuracy >= 90% at truncation 0.5, <= 5% near-copies of training digits
    there, and as the threshold tightens fidelity rises and diversity falls."""
    acc, acc_s = mean_std(r["accuracy_at_0.5"] for r in results)
    lo = min(r["accuracy_at_0.5"] for r in results)
    f2 = mean_std(r["curve"][0]["fidelity"] for r in results)[0]
    f0 = mean_std(r["curve"][-1]["fidelity"] for r in results)[0]
    d2 = mean_std(r["curve"][0]["diversity"] for r in results)[0]
    d0 = mean_std(r["curve"][-1]["diversity"] for r in results)[0]
    copies = max(r["copies_at_0.5"] for r in results)
    t2, t0 = results[0]["curve"][0]["threshold"], results[0]["curve"][-1]["threshold"]
    shape_ok = sum(r["fidelity_rises"] and r["diversity_falls"] for r in results)
    good = sum(r["accuracy_at_0.5"] >= 0.9 and r["copies_at_0.5"] <= 0.05 and r["fidelity_rises"]
               and r["diversity_falls"] for r in results)
    text = (f"conditional accuracy at truncation 0.5: {acc:.1%} ± {acc_s:.1%} (worst seed {lo:.1%}), near-copies "
            f"<= {copies:.1%}; truncation {t2} -> {t0}: fidelity {f2:.3f} -> {f0:.3f}, diversity {d2:.2f} -> {d0:.2f} "
            f"(curve monotone on {shape_ok}/{len(results)} seeds); {good}/{len(results)} seeds pass")
    return text, good == len(results)


def gradcheck_case():
    """D's hinge loss + G's hinge loss + the orthogonal regulariser, through the residual G with
    class-conditional BatchNorm (batch statistics) and the spectrally normalised projection D, as a function
    of both nets' parameters (float64, 1-2 channels).  The spectral-norm layers are put in eval mode so the
    power iteration does not move u between evaluations (sigma = u^T W v still depends on W)."""
    backend.manual_seed(0)
    gan = to_double(biggan(BigGANTask.make_config(0, latent_dim=2, ch=1, ortho=0.1)))
    for m in gan.modules():
        if getattr(m, "_spectral_norm", None) is not None:
            m.eval()
    g = backend.Generator(1)
    real = Tensor(g.uniform((4, 1, 8, 8), -1.0, 1.0, dtype=xp.float64))
    fake = Tensor(g.uniform((4, 1, 8, 8), -1.0, 1.0, dtype=xp.float64))    # a constant: no detach inside
    z = Tensor(g.normal((4, 2), dtype=xp.float64))
    y_real = backend.to_device([0, 3, 3, 7])
    y_fake = backend.to_device([1, 3, 5, 1])
    params = list(gan.discriminator.parameters()) + list(gan.generator.parameters())

    def fn(*ps):
        return gan.d_loss((real, y_real), (fake, y_fake)) + gan.g_loss(gan.generate((z, y_fake)))
    return fn, params, False


VARIANT = register(Variant(
    name="biggan", title="BigGAN (miniature)", paper="Brock et al. 2019",
    idea="class-conditional BatchNorm in G, projection D, hinge loss, spectral norm in both nets, orthogonal "
         "regularisation, EMA of G, and the truncation trick trading diversity for fidelity",
    data="digits 8x8",
    criterion="on every seed: conditional accuracy >= 90% at truncation 0.5 (reference classifier, 100 samples per "
              "class) with <= 5% near-copies of training digits, and as the threshold tightens 2 -> 1 -> 0.5 -> 0.25 "
              "fidelity rises and diversity falls",
    task=BigGANTask, judge=judge, gradcheck_case=gradcheck_case,
    fast={"steps": 12, "ch": 4, "ema_start": 6, "per_class": 10, "standing_batches": 2},
    seeds=3))
