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

import time
from pathlib import Path

from minigen import backend
from minigen import functional as F
from minigen import losses
from minigen.autograd.mode import no_grad
from minigen.autograd.tensor import Tensor
from minigen.backend import xp
from minigen.optim import Adam
from minigen.zoo.criteria import mean_std
from minigen.zoo.digits_game import (N_CLASSES, Digits, class_diversity, judge_labels, mlp, one_hot,
                                    write_results)
from minigen.zoo.gradcheck_cases import to_double
from minigen.zoo.registry import Variant, register

DEFAULTS = {"steps": 2000, "batch_size": 64, "latent_dim": 32, "hidden": 256, "lr_g": 2e-4, "lr_d": 2e-4,
            "betas": (0.5, 0.999), "dropout": 0.0, "g_act": "relu", "g_norm": "batch", "per_class": 100}


class CGAN:
    """G(z | y): [z, onehot(y)] -> hidden -> hidden -> 64 (ReLU, batch norm, sigmoid output);
    D(x | y): [x, onehot(y)] -> hidden -> hidden -> 1 logit (LeakyReLU 0.2)."""

    def __init__(self, config: dict):
        self.cfg = c = {**DEFAULTS, **config}
        h = c["hidden"]
        self.G = mlp([c["latent_dim"] + N_CLASSES, h, h, 64], c["g_act"], out_act="sigmoid", norm=c["g_norm"])
        self.D = mlp([64 + N_CLASSES, h, h, 1], "leaky_relu", dropout=c["dropout"])
        self.opt_g = Adam(self.G.parameters(), lr=c["lr_g"], betas=tuple(c["betas"]))
        self.opt_d = Adam(self.D.parameters(), lr=c["lr_d"], betas=tuple(c["betas"]))

    def generate(self, z: Tensor, y1h: Tensor) -> Tensor:
        return self.G(F.concatenate([z, y1h], axis=1))

    def discriminate(self, x: Tensor, y1h: Tensor) -> Tensor:
        return self.D(F.concatenate([x, y1h], axis=1))

    def d_loss(self, real, y_real, fake, y_fake):
        """-E log D(x | y) - E log(1 - D(G(z | y') | y')); ``fake`` is already detached from G."""
        return losses.discriminator_loss(self.discriminate(real, y_real), self.discriminate(fake, y_fake))

    def g_loss(self, fake, y_fake):
        return losses.generator_loss_nonsaturating(self.discriminate(fake, y_fake))

    def latent(self, n: int) -> Tensor:
        return Tensor(backend.rng().normal((n, self.cfg["latent_dim"])))

    def train_step(self, real: Tensor, labels) -> dict:
        n = real.shape[0]
        y_real = one_hot(labels)
        # the fakes are asked for labels drawn from the data's label marginal (the labels of another batch
        # of real data would do the same; uniform is the digits' marginal to within 1%)
        y_fake = one_hot(backend.rng().integers(0, N_CLASSES, size=(n,)))
        fake = self.generate(self.latent(n), y_fake)
        d = self.d_loss(real, y_real, fake.detach(), y_fake)
        self.opt_d.zero_grad()
        d.backward()
        self.opt_d.step()
        g = self.g_loss(fake, y_fake)
        self.opt_g.zero_grad()
        g.backward()
        self.opt_g.step()
        return {"d_loss": d.item(), "g_loss": g.item()}

    def sample(self, labels):
        """G(z | labels) with fresh z, G in eval mode (batch norm uses its running statistics, so a sample
        does not depend on the rest of its batch)."""
        self.G.eval()
        try:
            with no_grad():
                return self.generate(self.latent(labels.shape[0]), one_hot(labels)).data
        finally:
            self.G.train()


def fit(config: dict, seed: int = 0, out=None, quiet: bool = True) -> dict:
    cfg = {**DEFAULTS, **config}
    backend.manual_seed(seed)
    data = Digits()
    model = CGAN(cfg)
    t0 = time.perf_counter()
    history = []
    from tqdm import tqdm
    for step in tqdm(range(cfg["steps"]), disable=quiet, desc="CGAN"):
        x, y = data.batch(cfg["batch_size"])
        m = model.train_step(x, y)
        if (step + 1) % max(1, cfg["steps"] // 20) == 0:
            history.append({"step": step + 1, **m})
    seconds = time.perf_counter() - t0
    labels = xp.repeat(xp.arange(N_CLASSES), cfg["per_class"])
    samples = model.sample(labels)
    j = judge_labels(samples, labels)
    diversity = class_diversity(samples, labels, data.x_train, data.y_train)
    res = {"seed": seed, "accuracy": j["accuracy"], "min_class_accuracy": min(j["per_class"]),
           "per_class": j["per_class"], "confident": j["confident"],
           "diversity": diversity,
           "classifier_test_accuracy": j["classifier_test_accuracy"], "seconds": round(seconds, 1),
           "history": history}
    if out is not None:
        from minigen.viz import plots
        out = Path(out)
        # one row per class: the first 10 samples of each class
        grid = samples.reshape(N_CLASSES, cfg["per_class"], 64)[:, :10].reshape(-1, 64)
        plots.save_image_grid(backend.to_host(grid), data.image_shape, out / "figure.png",
                              f"CGAN G(z | y), row = y; seed {seed}: judge agrees on {j['accuracy']:.1%}",
                              nrow=10)
        write_results(out, res)
    return res


def judge(results):
    m, s = mean_std(r["accuracy"] for r in results)
    lo = min(r["min_class_accuracy"] for r in results)
    conf, _ = mean_std(r["confident"] for r in results)
    div, _ = mean_std(r["diversity"] for r in results)
    good = sum(r["accuracy"] >= 0.9 for r in results)
    text = (f"judge agrees with y on {m:.1%} ± {s:.1%} of samples (worst class {lo:.0%}, "
            f"{conf:.0%} confident; within-class diversity {div:.2f} of the data's); "
            f"{good}/{len(results)} seeds >= 90%")
    return text, m >= 0.9 and good == len(results)


def gradcheck_case():
    """Both players' CGAN losses as a function of their parameters (float64, small nets): the label
    enters through the concatenations of G's and D's inputs."""
    backend.manual_seed(0)
    model = CGAN({"hidden": 5, "latent_dim": 3})
    to_double(model.G)
    to_double(model.D)
    g = backend.Generator(1)
    real = Tensor(g.uniform((6, 64), dtype=xp.float64))
    fake = Tensor(g.uniform((6, 64), dtype=xp.float64))       # a constant: finite differences miss a detach
    z = Tensor(g.normal((6, 3), dtype=xp.float64))
    y_real = one_hot(g.integers(0, N_CLASSES, size=(6,)), dtype=xp.float64)
    y_fake = one_hot(g.integers(0, N_CLASSES, size=(6,)), dtype=xp.float64)
    params = list(model.D.parameters()) + list(model.G.parameters())

    def fn(*ps):
        return model.d_loss(real, y_real, fake, y_fake) + model.g_loss(model.generate(z, y_fake), y_fake)
    return fn, params, False


VARIANT = register(Variant(
    name="cgan", title="CGAN", paper="Mirza & Osindero 2014",
    idea="the one-hot label is concatenated to G's noise and to D's input: D judges (x, y) pairs",
    data="digits 8x8",
    criterion="the reference classifier agrees with the requested label on >= 90% of samples "
              "(100 per class), mean over 3 seeds, each seed >= 90%",
    fit=fit, judge=judge, gradcheck_case=gradcheck_case,
    defaults=dict(DEFAULTS), fast={"steps": 30, "hidden": 32, "per_class": 10}, seeds=3))
