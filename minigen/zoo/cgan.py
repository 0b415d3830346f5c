"""CGAN: Conditional Generative Adversarial Nets (Mirza & Osindero, 2014).

The idea: condition both players on extra information y (here the class label) by feeding it to both
as an additional input, which turns the minimax game into

    min_G max_D  V(D, G) = E_{x,y ~ p_data}[log D(x | y)] + E_{z ~ p_z, y ~ p_y}[log(1 - D(G(z | y) | y))]

D must now tell real from fake *for the given label*: a fake that looks like a good "3" but was asked to
be a "7" is a fake, so G learns to obey y.  Sampling a chosen class is then G(z | y) with fresh z.

The miniature keeps the conditioning exactly as the issue states it: the one-hot y is concatenated to z
at G's input and to x at D's input (the paper first embeds z and y in separate hidden layers and merges
them; it also uses maxout units and dropout in D).  It drops MNIST for the 8x8 digits, and the Parzen
log-likelihood for the reference classifier's verdict: for each class y, 100 samples G(z | y) are
classified, and the fraction that the classifier puts in class y is the conditional accuracy.
G uses the non-saturating loss -log D(G(z | y) | y) and batch norm on its hidden layers (without it this
small MLP G first collapses every (z, y) onto one image and takes thousands of steps, or never, to recover;
the paper's G has none, but its D has dropout).  ``diversity`` reports how varied each class is compared
with the real digits of that class (1 = as varied; a G that ignores z scores near 0).
"""
from __future__ import annotations

from minigen import backend
from minigen.autograd.mode import no_grad
from minigen.autograd.tensor import Tensor
from minigen.backend import xp
from minigen.metrics import class_diversity, copy_fraction
from minigen.models.classifier import judge_labels
from minigen.models.gan import ConcatLabel, ConditionalGAN
from minigen.nn import MLP, LeakyReLU
from minigen.training.task import Samples
from minigen.zoo.common import N_CLASSES, DigitsGANTask, DigitsTask
from minigen.zoo.criteria import mean_std
from minigen.zoo.gradcheck_cases import to_double
from minigen.zoo.registry import Variant, register


def cgan_players(c: dict, pixels: int = 64):
    """G(z | y): [z, onehot(y)] -> hidden -> hidden -> pixels (ReLU, batch norm, sigmoid output);
    D(x | y): [x, onehot(y)] -> hidden -> hidden -> 1 logit (LeakyReLU 0.2, optional dropout)."""
    h = c["hidden"]
    G = ConcatLabel(MLP([c["latent_dim"] + N_CLASSES, h, h, pixels], activation=c["g_act"], out_activation="sigmoid",
                        norm=c["g_norm"]), N_CLASSES)
    D = ConcatLabel(MLP([pixels + N_CLASSES, h, h, 1], activation=LeakyReLU(0.2), dropout=c["dropout"]), N_CLASSES)
    return G, D


class CGANTask(DigitsGANTask):
    defaults = {**DigitsTask.defaults, "steps": 2000, "batch_size": 64, "latent_dim": 32, "hidden": 256, "lr_g": 2e-4,
                "lr_d": 2e-4, "betas": [0.5, 0.999], "dropout": 0.0, "g_act": "relu", "g_norm": "batch",
                "per_class": 100}

    def make_gan(self):
        # one G(z | y) per step: D's step sees it detached, G's step backpropagates through it
        return ConditionalGAN(*cgan_players(self.config), N_CLASSES, latent_dim=self.config["latent_dim"],
                              reuse_fake=True)

    def generate(self, labels, generator=None):
        """G(z | labels) with fresh z, G in eval mode (batch norm uses its running statistics, so a sample does
        not depend on the rest of its batch), as a device array (n, 64)."""
        self.gan.eval()
        try:
            with no_grad():
                return self.gan.generate(self.gan.sample_latent(labels.shape[0], generator, labels))[0].data
        finally:
            self.gan.train()

    def sample(self, n, label=None):
        labels = self.class_labels(n, label)
        return Samples(backend.to_host(self.generate(labels)), "images", image_shape=self.image_shape,
                       labels=backend.to_host(labels))

    def measure(self, samples, labels) -> dict:
        """Generated digits ``samples`` (n, 64) asked to be of class ``labels``: the reference classifier's
        agreement, the within-class diversity relative to the data's, and the share of near-copies of
        training digits."""
        d = self.data
        j = judge_labels(samples, labels)
        return {"accuracy": j["accuracy"], "min_class_accuracy": min(j["per_class"]), "per_class": j["per_class"],
                "confident": j["confident"], "diversity": class_diversity(samples, labels, d.x_train, d.y_train),
                **copy_fraction(samples, d.x_train, d.x_test), "classifier_test_accuracy": j["classifier_test_accuracy"]}

    def evaluate(self, run):
        labels = xp.repeat(xp.arange(N_CLASSES), self.config["per_class"])
        return self.measure(self.generate(labels, backend.Generator(1)), labels)

    def summary(self, r):
        return (f"the judge agrees with the requested class on {r['accuracy']:.1%} of samples (worst class "
                f"{r['min_class_accuracy']:.0%}), diversity {r['diversity']:.2f} of the data's, "
                f"{r['copies']:.1%} near-copies of training digits")

    def figures(self, run, results):
        from minigen.viz import plots
        grid = self.generate(xp.repeat(xp.arange(N_CLASSES), 10), backend.Generator(1))   # 10 per class, row = y
        return [plots.save_image_grid(backend.to_host(grid), self.image_shape, run.dir / "figure.png",
                                      f"CGAN G(z | y), row = y; seed {self.seed}: judge agrees on "
                                      f"{results['accuracy']:.1%}", nrow=10)]


MIN_DIVERSITY, MAX_COPIES = 0.5, 0.05


def judge(results):
    """On every seed: the judge agrees with the requested class on >= 90% of samples, each class is at least
    half as varied as the data's (no class collapsed onto one image), and <= 5% of samples are near-copies
    of training digits (real held-out digits: 1% by construction)."""
    m, s = mean_std(r["accuracy"] for r in results)
    lo = min(r["min_class_accuracy"] for r in results)
    conf, _ = mean_std(r["confident"] for r in results)
    div, _ = mean_std(r["diversity"] for r in results)
    copies = max(r["copies"] for r in results)
    good = sum(r["accuracy"] >= 0.9 and r["diversity"] >= MIN_DIVERSITY and r["copies"] <= MAX_COPIES
               for r in results)
    text = (f"judge agrees with y on {m:.1%} ± {s:.1%} of samples (worst class {lo:.0%}, {conf:.0%} confident); "
            f"within-class diversity {div:.2f} of the data's; near-copies of training digits <= {copies:.1%}; "
            f"{good}/{len(results)} seeds pass")
    return text, good == len(results)


def gradcheck_case():
    """Both players' CGAN losses as a function of their parameters (float64, small nets): the label
    enters through the concatenations of G's and D's inputs."""
    backend.manual_seed(0)
    c = CGANTask.make_config(0, hidden=5, latent_dim=3)
    G, D = cgan_players(c)
    gan = ConditionalGAN(to_double(G), to_double(D), N_CLASSES, latent_dim=3)
    g = backend.Generator(1)
    real = Tensor(g.uniform((6, 64), dtype=xp.float64))
    fake = Tensor(g.uniform((6, 64), dtype=xp.float64))       # a constant: finite differences miss a detach
    z = Tensor(g.normal((6, 3), dtype=xp.float64))
    y_real, y_fake = g.integers(0, N_CLASSES, size=(6,)), g.integers(0, N_CLASSES, size=(6,))
    params = list(D.parameters()) + list(G.parameters())

    def fn(*ps):
        return gan.d_loss((real, y_real), (fake, y_fake)) + gan.g_loss(gan.generate((z, y_fake)))
    return fn, params, False


VARIANT = register(Variant(
    name="cgan", title="CGAN", paper="Mirza & Osindero 2014",
    idea="the one-hot label is concatenated to G's noise and to D's input: D judges (x, y) pairs",
    data="digits 8x8",
    criterion="on every seed: the reference classifier agrees with the requested label on >= 90% of samples (100 "
              "per class); within-class diversity >= 0.5 of the data's; <= 5% near-copies of training digits",
    task=CGANTask, judge=judge, gradcheck_case=gradcheck_case,
    fast={"steps": 30, "hidden": 32, "per_class": 10}, seeds=3))
