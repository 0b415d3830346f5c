"""CEGAN: classification-enhancement GAN for imbalanced data (Suh, Lee, Lukowicz & Lee, Neural Networks 133,
2021).

The idea: three independent networks trained together -- a generator G(z, y), a discriminator D and a
classifier C -- so that G synthesises minority-class samples that are both realistic (D) and recognisably
of their class (C), and C, trained on real plus synthetic samples, stops favouring the majority classes.
With p_y the real class proportions and q_y the synthetic class mix that tops every class up to the
largest one (q_y proportional to n_max - n_y):

    min_D   -E_{x,y ~ balanced real} log D(x, y) - E_{z, y ~ U} log(1 - D(G(z, y), y))
    min_G   -E_{z, y ~ U} log D(G(z, y), y)  +  lam_cls E_{z, y ~ U} CE(C(G(z, y)), y)
    min_C    E_{x,y ~ real} CE(C(x), y)  +  E_{z, y ~ q} CE(C(G(z, y)), y)      (batch sizes chosen so the
                                                                                  mixture is class-balanced)

The paper's exact loss terms and weights could not be verified (no code was published; only the abstract
and highlights were reachable); the three-network structure above is the stated assumption.  D is
conditional (the label enters as a one-hot next to the pixels), since with ~14 real images per minority
class an unconditional D cannot tell G which class it drew; D's real batches are drawn class-balanced so
that the minority images reach it at all.  C uses synthetic data only after ``augment_after`` steps, when
G's samples have become digits.  lam_cls = 0.1: with lam_cls = 1 G learned to please the (linear, majority-
biased) C rather than to draw its class, and the augmented C was *worse* than the baseline in our runs.
The ambiguity-reduction variant (CEGAN-AR) is not implemented.

Setting: the embedded 8x8 digits with classes 5-9 cut to 10% of their training images (a different random
cut per seed), the full balanced test set.  C is a softmax regression (64 -> 10), the classifier whose
majority bias the imbalance shows most; the baseline is the same C with the same steps and optimiser on
the imbalanced images alone, and the two standard remedies CEGAN must beat are the same C with random
oversampling (class-balanced resampling of the real images) and with class-weighted training (each image's
loss weighted by 1 / its class's count).
"""
from __future__ import annotations

from minigen import backend
from minigen import functional as F
from minigen import losses
from minigen.autograd.mode import no_grad
from minigen.autograd.tensor import Tensor
from minigen.backend import xp
from minigen.data import DataLoader
from minigen.models.classifier import fit_classifier
from minigen.models.gan import ConcatLabel, ConditionalGAN, update
from minigen.nn import MLP
from minigen.optim import Adam
from minigen.training.task import Samples
from minigen.zoo.common import N_CLASSES, DigitsTask
from minigen.zoo.criteria import mean_std
from minigen.zoo.gradcheck_cases import to_double
from minigen.zoo.registry import Variant, register


def make_classifier(cfg):
    h, d = cfg["classifier_hidden"], cfg["pixels"]
    return MLP([d, h, N_CLASSES] if h else [d, N_CLASSES])


class ClassifierEnhancedGAN(ConditionalGAN):
    """G's loss gains lambda_cls CE(C(G(z, y)), y): its class-y samples must also be classified as y."""

    def __init__(self, G, D, C, lambda_cls: float, **kw):
        super().__init__(G, D, N_CLASSES, **kw)
        self.lambda_cls = lambda_cls
        object.__setattr__(self, "classifier", C)     # trained by its own optimiser; saved by the task

    def g_loss(self, fake, real=None):
        x, y = fake
        return (losses.generator_loss_nonsaturating(self.critic(fake))
                + self.lambda_cls * F.cross_entropy(self.classifier(x), y))


def c_loss(C, real, y_real, fake=None, y_fake=None):
    """CE on the real batch and the synthetic top-up batch, averaged over all their samples."""
    if fake is None:
        return F.cross_entropy(C(real), y_real)
    return F.cross_entropy(C(F.concatenate([real, fake], axis=0)), xp.concatenate([y_real, y_fake]))


def macro_f1(pred, y, n: int = N_CLASSES) -> tuple[float, list]:
    """Mean over classes of 2 TP / (2 TP + FP + FN) (a class with no test sample and no prediction: 1)."""
    pred, y = backend.to_device(pred).reshape(-1), backend.to_device(y).reshape(-1)
    per = []
    for c in range(n):
        tp = float(((pred == c) & (y == c)).sum())
        fp = float(((pred == c) & (y != c)).sum())
        fn = float(((pred != c) & (y == c)).sum())
        per.append(1.0 if tp + fp + fn == 0 else 2 * tp / (2 * tp + fp + fn))
    return sum(per) / n, per


def imbalanced_split(x, y, minority, keep: float, seed: int):
    """Training images with each minority class cut to ``keep`` of its images (chosen by a generator of
    ``seed``)."""
    x, y = backend.to_device(x), backend.to_device(y)
    g = backend.Generator(seed)
    idx = []
    for c in range(N_CLASSES):
        members = xp.nonzero(y == c)[0]
        if c in minority:
            members = members[g.permutation(members.shape[0])[:max(1, round(keep * members.shape[0]))]]
        idx.append(members)
    idx = xp.sort(xp.concatenate(idx))
    return x[idx], y[idx]


class CEGANTask(DigitsTask):
    defaults = {**DigitsTask.defaults, "minority": [5, 6, 7, 8, 9], "keep": 0.1, "steps": 3000, "batch_size": 64,
                "latent_dim": 32, "g_hidden": 256, "d_hidden": 256, "lr_g": 1e-3, "lr_d": 1e-3, "lr_c": 1e-3,
                "lambda_cls": 0.1, "augment_after": 1000, "classifier_hidden": 0, "pixels": 64}

    def __init__(self, config):
        super().__init__(config)
        c, B = config, config["batch_size"]
        self.train_set = imbalanced_split(self.data.x_train, self.data.y_train, c["minority"], c["keep"], self.seed)
        self.counts = xp.bincount(self.train_set[1], minlength=N_CLASSES)
        counts = self.counts.astype(xp.float64)
        # D's real batches are class-balanced (minority images reach it at all); C's are uniform over images
        self.balanced = self.batches(True, self.seed + 1)
        self.loader = self.batches(False, self.seed + 2)
        deficit = counts.max() - counts                          # synthetic top-up per class
        self.topup_cdf = xp.cumsum(deficit / deficit.sum())
        self.n_fake = round(B * float(deficit.sum() / counts.sum()))   # real + synthetic batch is class-balanced
        d = c["pixels"]
        G = ConcatLabel(MLP([c["latent_dim"] + N_CLASSES, c["g_hidden"], c["g_hidden"], d],
                            out_activation="sigmoid"), N_CLASSES)
        D = ConcatLabel(MLP([d + N_CLASSES, c["d_hidden"], c["d_hidden"], 1], activation="leaky_relu"), N_CLASSES)
        self.classifier = make_classifier(c)
        self.gan = ClassifierEnhancedGAN(G, D, self.classifier, c["lambda_cls"], latent_dim=c["latent_dim"])
        self.opt_g = Adam(G.parameters(), lr=c["lr_g"], betas=(0.5, 0.999))
        self.opt_d = Adam(D.parameters(), lr=c["lr_d"], betas=(0.5, 0.999))
        self.opt_c = Adam(self.classifier.parameters(), lr=c["lr_c"])

    def batches(self, balanced: bool, seed: int) -> DataLoader:
        """Batches of the imbalanced training set: uniform over images, or class-balanced (drawn with
        replacement, each class equally likely)."""
        x, y = self.train_set
        weights = (1.0 / self.counts.astype(xp.float64))[y] if balanced else None
        return DataLoader((x, y), self.config["batch_size"], shuffle=True, weights=weights, seed=seed)

    def step(self, step):
        out = self.gan.train_step(self.balanced.next, self.opt_d, self.opt_g, step)
        xr, yr = self.loader.next()                                  # C: real images (+ synthetic top-up)
        if step >= self.config["augment_after"] and self.n_fake > 0:
            u = backend.rng().uniform((self.n_fake,), dtype=xp.float64)
            y_f = xp.minimum(xp.searchsorted(self.topup_cdf, u), N_CLASSES - 1).astype(yr.dtype)
            with no_grad():
                xf = self.gan.generate(self.gan.sample_latent(self.n_fake, labels=y_f))[0]
            lc = c_loss(self.classifier, xr, yr.data, xf, y_f)
        else:
            lc = c_loss(self.classifier, xr, yr.data)
        update(self.opt_c, lc)
        return {**out, "c_loss": lc.detach()}

    @property
    def labels(self):
        return N_CLASSES

    def sample(self, n, label=None):
        labels = self.class_labels(n, label)
        with no_grad():
            x = self.gan.generate(self.gan.sample_latent(n, labels=labels))[0]
        return Samples(x.numpy(), "images", image_shape=self.image_shape, labels=backend.to_host(labels))

    def baseline(self, kind: str):
        """The same classifier, steps and optimiser on the real (imbalanced) images only: ``"plain"``, with
        class-balanced resampling (``"oversampled"``: random oversampling), or with the loss of each image
        weighted by 1 / (its class's count) (``"weighted"``: class-weighted training)."""
        backend.manual_seed(self.seed + 1000)
        c = self.config
        C = make_classifier(c)
        loss = None
        if kind == "weighted":
            w = 1.0 / self.counts.astype(xp.float32)

            def loss(logits, y):
                wy = Tensor(w[y.data])
                return F.sum(F.cross_entropy(logits, y, reduction="none") * wy) / F.sum(wy)
        return fit_classifier(C, self.batches(kind == "oversampled", self.seed + 1001), c["steps"], lr=c["lr_c"],
                              loss=loss)

    def evaluate(self, run):
        xt, yt = Tensor(backend.to_device(self.data.x_test)), backend.to_device(self.data.y_test)

        def predict(C):
            with no_grad():
                return C(xt).data.argmax(1)
        f1, per = macro_f1(predict(self.classifier), yt)
        f1_base, per_base = macro_f1(predict(self.baseline("plain")), yt)
        f1_over, _ = macro_f1(predict(self.baseline("oversampled")), yt)
        f1_weighted, _ = macro_f1(predict(self.baseline("weighted")), yt)
        minority = list(self.config["minority"])
        return {"macro_f1": f1, "macro_f1_imbalanced": f1_base, "macro_f1_oversampled": f1_over,
                "macro_f1_weighted": f1_weighted, "gain_points": 100 * (f1 - f1_base),
                "minority_f1": sum(per[i] for i in minority) / len(minority),
                "minority_f1_imbalanced": sum(per_base[i] for i in minority) / len(minority),
                "train_counts": [int(v) for v in backend.to_host(self.counts)]}

    def summary(self, r):
        return (f"macro-F1 {r['macro_f1']:.3f} vs imbalanced {r['macro_f1_imbalanced']:.3f}, "
                f"oversampled {r['macro_f1_oversampled']:.3f}, class-weighted {r['macro_f1_weighted']:.3f}")

    def figures(self, run, results):
        import matplotlib.pyplot as plt
        backend.manual_seed(self.seed + 7)
        samples = self.sample(80).data.reshape(8, N_CLASSES, 64).transpose(1, 0, 2)    # (class, 8, 64)
        tiles = samples.reshape(N_CLASSES, 8, 8, 8).transpose(0, 2, 1, 3)              # (class, row, sample, col)
        grid = 1.0 - tiles.reshape(N_CLASSES * 8, 8 * 8)
        fig, ax = plt.subplots(figsize=(5.5, 7.2))
        ax.imshow(grid, cmap="gray", vmin=0, vmax=1)
        ax.set_xticks([])
        ax.set_yticks([8 * c + 3.5 for c in range(N_CLASSES)])
        ax.set_yticklabels([f"{c} ({results['train_counts'][c]} real)" for c in range(N_CLASSES)])
        ax.set_title(f"CEGAN seed {self.seed}: G(z, y), 8 per class\n{self.summary(results)}", fontsize=9)
        fig.tight_layout()
        path = run.dir / "figure.png"
        fig.savefig(path, dpi=90)
        plt.close(fig)
        return [path]


def judge(results):
    """On every seed, C trained with CEGAN's synthetic top-up beats the same classifier on the imbalanced data
    by >= 5 macro-F1 points, and beats both standard remedies: random oversampling and class-weighted
    training (the question being whether generating minority samples adds anything)."""
    f, fs = mean_std(r["macro_f1"] for r in results)
    b, bs = mean_std(r["macro_f1_imbalanced"] for r in results)
    o, _ = mean_std(r["macro_f1_oversampled"] for r in results)
    w, _ = mean_std(r["macro_f1_weighted"] for r in results)
    g, _ = mean_std(r["gain_points"] for r in results)
    beats = sum(r["macro_f1"] > max(r["macro_f1_oversampled"], r["macro_f1_weighted"]) for r in results)
    good = sum(r["gain_points"] >= 5.0 and r["macro_f1"] > max(r["macro_f1_oversampled"], r["macro_f1_weighted"])
               for r in results)
    text = (f"macro-F1 {f:.3f} ± {fs:.3f} vs imbalanced {b:.3f} ± {bs:.3f}: {g:+.1f} points; random oversampling "
            f"{o:.3f}, class-weighted {w:.3f}; beats both on {beats}/{len(results)} seeds; {good}/{len(results)} "
            f"seeds pass")
    return text, good == len(results)


def gradcheck_case():
    """D's loss, G's loss (adversarial + classification through C) and C's loss on real + synthetic rows,
    as a function of all three networks' parameters, in float64."""
    backend.manual_seed(0)
    task = CEGANTask(CEGANTask.make_config(0, latent_dim=3, g_hidden=5, d_hidden=5, pixels=6, lambda_cls=1.0))
    gan, C = task.gan, task.classifier
    for m in (gan, C):
        to_double(m)
    g = backend.Generator(1)
    real = Tensor(g.uniform((4, 6), dtype=xp.float64))
    fake_c = Tensor(g.uniform((4, 6), dtype=xp.float64))
    y = backend.to_device([1, 5, 7, 9])
    z = Tensor(g.normal((4, 3), dtype=xp.float64))
    params = list(gan.generator.parameters()) + list(gan.discriminator.parameters()) + list(C.parameters())

    def fn(*ps):
        return (gan.d_loss((real, y), (fake_c, y)) + gan.g_loss(gan.generate((z, y)))
                + c_loss(C, real, y, fake_c, y))
    return fn, params, False


VARIANT = register(Variant(
    name="cegan", title="CEGAN", paper="Suh, Lee, Lukowicz & Lee 2021",
    idea="generator, discriminator and classifier trained together; G's class-y samples must fool D and be "
         "classified as y by C; C learns from real + synthetic minority samples (class-balanced mix)",
    data="8x8 digits, classes 5-9 cut to 10% of their training images; balanced 360-image test set",
    criterion="on every seed: macro-F1 of C >= the same classifier on the imbalanced data + 5 points, and above "
              "both random oversampling and class-weighted training of that classifier",
    task=CEGANTask, judge=judge, gradcheck_case=gradcheck_case,
    fast={"steps": 30, "augment_after": 10, "g_hidden": 32, "d_hidden": 32}, seeds=3))
