"""The GAN of Goodfellow et al. (2014): a generator G and a discriminator D in a game, and the one
training step every GAN of minigen takes (the ``minigen train gan`` task and every zoo variant).

One step, as in Algorithm 1 of the paper:

    repeat critic_steps(t) times:
        D <- D - lr_D grad_D d_loss(x, G(z).detach())     (G's output detached: D's step leaves G alone)
        after_d_step()                                     (e.g. WGAN's weight clipping)
    once:
        G <- G - lr_G grad_G g_loss(G(z))                  (backprop through D into G; only G's optimiser steps)
    ema.update(t)                                          (an average of G's weights to sample from)

A variant changes only what makes it different, by overriding the pieces the step calls: the losses
(``d_loss``, ``g_loss``), ``critic`` (what D sees: packs, labels), ``sample_latent`` / ``generate``
(conditional inputs), ``critic_steps`` (a critic schedule), ``after_d_step``.  Batches and latents may
be Tensors or tuples such as ``(x, labels)``; the first element is the sample.

Built in, off by default:

* ``pack=m`` (PacGAN, Lin et al. 2018): D judges m samples at once, all real or all fake, concatenated
  into one input of m * data_dim features; a batch of n samples becomes n / m packed inputs.
* ``r1_gamma=g`` (R1, Mescheder et al. 2018): D's loss gains g/2 E_x[ ||grad_x D(x)||^2 ] on real
  (packed) inputs, trained by double backprop (``grad(..., create_graph=True)``).  ``r1_every=k`` makes it
  lazy (StyleGAN2, Karras et al. 2020, section 3.1): only every k-th D update (those with
  (step n_critic + i) mod k = 0) carries the penalty, weighted k g so that its average pull is unchanged.
* ``g_regularizer(step)``: a term added to G's loss at a step (None: nothing), e.g. StyleGAN2's lazy
  path-length penalty (:class:`PathLengthPenalty`).
* ``ema=d``: an exponential moving average of G's weights (:class:`minigen.nn.EMA`), ``sampler``.
* ``reuse_fake=True`` (the DCGAN reference code): G's step reuses the last D step's G(z) instead of
  drawing fresh latents, saving one forward pass of G.
"""
from __future__ import annotations

import math

from minigen import backend, losses
from minigen import functional as F
from minigen.autograd.engine import grad
from minigen.autograd.mode import no_grad
from minigen.autograd.tensor import Tensor
from minigen.backend import xp
from minigen.nn import EMA, MLP, Module

LATENTS = ("normal", "uniform")


def first(batch):
    """The samples of a batch that may carry labels: ``x`` of ``(x, labels, ...)``."""
    return batch[0] if isinstance(batch, tuple) else batch


def detach(batch):
    """A generated batch cut from G's graph (its first element; labels are constants)."""
    if isinstance(batch, tuple):
        return (batch[0].detach(),) + batch[1:]
    return batch.detach()


def one_hot(labels, k: int, dtype=None) -> Tensor:
    """Integer labels (n,) (device array) -> a constant (n, k) one-hot Tensor: how a conditional GAN feeds a
    class to its players."""
    labels = labels.data if isinstance(labels, Tensor) else labels
    return Tensor(xp.eye(k, dtype=dtype or backend.default_float())[labels])


def update(opt, loss) -> None:
    """One optimiser step on ``loss``: zero the gradients, backpropagate, step."""
    opt.zero_grad()
    loss.backward()
    opt.step()


class GAN(Module):
    """``GAN(generator, discriminator, loss="nonsaturating" | "minimax", n_critic=1, latent_dim=None,
    latent="normal" | "uniform", pack=1, r1_gamma=0.0, ema=0.0, ema_warmup=True, ema_start=0,
    reuse_fake=False)``."""

    def __init__(self, generator: Module, discriminator: Module, loss: str = "nonsaturating", n_critic: int = 1,
                 latent_dim: int | None = None, latent: str = "normal", pack: int = 1, r1_gamma: float = 0.0,
                 ema: float = 0.0, ema_warmup: bool = True, ema_start: int = 0, reuse_fake: bool = False,
                 r1_every: int = 1):
        super().__init__()
        if loss not in losses.GENERATOR_LOSSES:
            raise ValueError(f"GAN: loss must be one of {losses.GENERATOR_LOSSES}, got {loss!r}")
        if latent not in LATENTS:
            raise ValueError(f"GAN: latent must be one of {LATENTS}, got {latent!r}")
        if int(pack) < 1 or r1_gamma < 0 or int(n_critic) < 1 or int(r1_every) < 1:
            raise ValueError(f"GAN: pack, n_critic and r1_every must be >= 1 and r1_gamma >= 0, got pack={pack}, "
                             f"n_critic={n_critic}, r1_every={r1_every}, r1_gamma={r1_gamma}")
        self.generator, self.discriminator = generator, discriminator
        self.loss_kind, self.n_critic, self.latent = loss, int(n_critic), latent
        self.latent_dim = latent_dim or _in_features(generator)
        self.pack, self.r1_gamma, self.reuse_fake = int(pack), float(r1_gamma), bool(reuse_fake)
        self.r1_every = int(r1_every)
        self.r1_now = True            # whether the D update being taken carries the R1 penalty (lazy R1)
        if ema > 0:
            self.ema = EMA(generator, ema, warmup=ema_warmup, start=ema_start)

    # --- the pieces a variant overrides ---
    def sample_latent(self, n: int, generator=None):
        """z ~ N(0, I) (or U(-1, 1)^d with ``latent="uniform"``), shape (n, latent_dim)."""
        g = generator or backend.rng()
        shape = (n, self.latent_dim)
        return Tensor(g.normal(shape) if self.latent == "normal" else g.uniform(shape, -1.0, 1.0))

    def latent_for(self, real):
        """The latents of a step whose real batch is ``real`` (same size)."""
        return self.sample_latent(first(real).shape[0])

    def generate(self, z, net: Module | None = None):
        """G(z) (or ``net``(z), e.g. the EMA of G); conditional variants return ``(x, labels)``."""
        return (net or self.generator)(z)

    def critic(self, x):
        """D's logits for a batch (n, d): one per sample, or one per pack of ``pack`` samples."""
        if self.pack > 1:
            n = x.shape[0]
            if n % self.pack:
                raise ValueError(f"GAN: a batch of {n} cannot be split into packs of {self.pack}")
            x = x.reshape((n // self.pack, -1))
        return self.discriminator(x)

    def d_loss(self, real, fake):
        """The discriminator's loss on a real batch and a generated one (already detached from G); with R1 on
        this update, plus r1_every * r1_gamma * the penalty."""
        if not (self.r1_gamma and self.r1_now):
            return losses.discriminator_loss(self.critic(real), self.critic(fake))
        real = real.detach().requires_grad_()
        real_logits = self.critic(real)
        loss = losses.discriminator_loss(real_logits, self.critic(fake))
        return loss + (self.r1_every * self.r1_gamma) * self.r1_penalty(real, real_logits)

    def r1_penalty(self, real: Tensor, real_logits: Tensor) -> Tensor:
        """1/2 E[ ||grad_x D(x)||^2 ] over the (packed) real inputs, differentiable (create_graph)."""
        (g,) = grad(real_logits.sum(), [real], create_graph=True)
        n_inputs = real.shape[0] // self.pack
        return 0.5 * F.sum(g * g) / n_inputs

    def g_loss(self, fake, real=None):
        """The generator's loss, through the (fixed) discriminator."""
        return losses.generator_loss(self.critic(fake), self.loss_kind)

    def critic_steps(self, step: int) -> int:
        """Discriminator updates before generator update ``step``."""
        return self.n_critic

    def after_d_step(self) -> None:
        """Runs after every discriminator update (e.g. WGAN's weight clipping)."""

    def g_regularizer(self, step: int):
        """A term added to G's loss at generator update ``step`` (a scalar Tensor), or None (the default)."""

    # --- the step ---
    def train_step(self, next_real, opt_d, opt_g, step: int = 0, latent=None) -> dict:
        """``critic_steps(step)`` discriminator updates, one generator update, the EMA.  ``next_real()`` gives
        a fresh real batch for each D update (a batch itself is accepted too); ``latent`` fixes G's input for
        both players (AAE's encoder sees the data batch).  Returns the two losses as scalar Tensors."""
        k = self.critic_steps(step)
        for i in range(k):
            real = next_real() if callable(next_real) else next_real
            z = self.latent_for(real) if latent is None else latent
            if self.reuse_fake and i == k - 1:
                fake = self.generate(z)                   # kept with its graph for G's step
                d_fake = detach(fake)
            else:
                with no_grad():
                    d_fake = self.generate(z)
            self.r1_now = (step * self.n_critic + i) % self.r1_every == 0
            d = self.d_loss(real, d_fake)
            self.r1_now = True
            update(opt_d, d)
            self.after_d_step()
        if not (self.reuse_fake and k):
            fake = self.generate(self.latent_for(real) if latent is None else latent)
        g = self.g_loss(fake, real)
        reg = self.g_regularizer(step)
        update(opt_g, g if reg is None else g + reg)
        if hasattr(self, "ema"):
            self.ema.update(step)
        out = {"d_loss": d.detach(), "g_loss": g.detach()}
        if reg is not None:
            out["g_reg"] = reg.detach()
        return out

    # --- sampling ---
    @property
    def sampler(self) -> Module:
        """The network that maps latents to samples: the EMA of G if there is one, else G."""
        return self.ema.module if hasattr(self, "ema") else self.generator

    def sample(self, n: int, generator=None):
        """``n`` samples from the sampler (no graph); conditional variants return ``(x, labels)``."""
        with no_grad():
            return self.generate(self.sample_latent(n, generator), self.sampler)


class PathLengthPenalty(Module):
    """StyleGAN2's path-length regulariser (Karras et al. 2020, section 3.2, eq. 4): for per-layer latents
    ws (N, L, w_dim) and images g(ws) (N, C, H, W),

        y ~ N(0, I) / sqrt(H W)                      a random image direction, scaled so E||.|| is resolution-free
        J^T y = grad_ws sum(g(ws) * y)                by backprop, kept in the graph (create_graph: double backprop)
        l_n = sqrt(mean_layers sum_w (J^T y)^2)       the path length of sample n
        a <- a + decay (mean_n l_n - a)               a running mean (a buffer: saved, resumed, no gradient)
        penalty = weight * every * mean_n (l_n - a)^2

    It pulls every |J^T y| towards one value, so that a fixed step in W changes the image by a fixed amount
    in every direction (a smoother, better-conditioned generator); ``every`` > 1 applies it lazily, every
    ``every``-th G step, scaled up to keep its average pull."""

    def __init__(self, weight: float = 2.0, decay: float = 0.01, every: int = 4):
        super().__init__()
        if weight < 0 or not 0.0 < decay <= 1.0 or int(every) < 1:
            raise ValueError(f"PathLengthPenalty: need weight >= 0, decay in (0, 1] and every >= 1, got weight="
                             f"{weight}, decay={decay}, every={every}")
        self.weight, self.decay, self.every = float(weight), float(decay), int(every)
        self.register_buffer("mean", xp.zeros((1,), dtype=backend.default_float()))

    def lengths(self, synthesis, ws: Tensor, generator=None) -> Tensor:
        """l_n (N,) for the images ``synthesis(ws)``, differentiable (ws must require grad)."""
        img = synthesis(ws)
        H, W = img.shape[2:]
        y = (generator or backend.rng()).normal(img.shape, dtype=img.dtype) / math.sqrt(H * W)
        (g,) = grad(F.sum(img * y), [ws], create_graph=True)
        return F.sqrt(F.mean(F.sum(g * g, 2), 1) + 1e-12)

    def forward(self, synthesis, ws: Tensor, generator=None) -> Tensor:
        """The penalty (a scalar Tensor); updates the running mean a (before the penalty uses it, as in the
        authors' code)."""
        lengths = self.lengths(synthesis, ws, generator)
        a = self.mean + self.decay * (lengths.data.mean().astype(self.mean.dtype) - self.mean)
        self.mean[...] = a
        return (self.weight * self.every) * F.mean((lengths - a[0]) ** 2)


class ConditionalGAN(GAN):
    """A class-conditional GAN: G(z, y) and D(x, y) take the labels as a second argument (Mirza & Osindero
    2014; BigGAN).  Real batches and latents are ``(tensor, labels)`` pairs; the fakes of a step are asked
    for labels drawn uniformly from the ``num_classes`` classes, and a generated batch is ``(x, labels)``,
    so D always judges a pair."""

    def __init__(self, generator: Module, discriminator: Module, num_classes: int, **kw):
        super().__init__(generator, discriminator, **kw)
        self.num_classes = int(num_classes)

    def sample_latent(self, n: int, generator=None, labels=None):
        g = generator or backend.rng()
        if labels is None:
            labels = g.integers(0, self.num_classes, size=(n,))
        return super().sample_latent(n, g), labels

    def generate(self, latent, net: Module | None = None):
        z, labels = latent
        return (net or self.generator)(z, labels), labels

    def critic(self, batch):
        x, labels = batch
        return self.discriminator(x, labels)


class ConcatLabel(Module):
    """``net([x, onehot(y)])``: the conditioning of the CGAN paper, the one-hot label concatenated to the
    input of a network that takes one tensor."""

    def __init__(self, net: Module, num_classes: int):
        super().__init__()
        self.net, self.num_classes = net, int(num_classes)

    def forward(self, x, labels):
        return self.net(F.concatenate([x, one_hot(labels, self.num_classes, x.dtype)], axis=1))


def mlp_gan(data_dim: int = 2, latent_dim: int = 2, hidden: int = 128, depth: int = 2, loss: str = "nonsaturating",
            n_critic: int = 1, activation: str = "relu", pack: int = 1, r1_gamma: float = 0.0) -> GAN:
    """The MLP pair of the 2-D experiments: G: latent -> hidden^depth -> data, D: data*pack -> hidden^depth -> 1."""
    G = MLP([latent_dim] + [hidden] * depth + [data_dim], activation=activation)
    D = MLP([data_dim * pack] + [hidden] * depth + [1], activation=activation)
    return GAN(G, D, loss=loss, n_critic=n_critic, latent_dim=latent_dim, pack=pack, r1_gamma=r1_gamma)


def _in_features(m: Module) -> int:
    for p in m.parameters():
        if p.ndim == 2:
            return p.shape[1]
    raise ValueError("GAN: cannot infer latent_dim from the generator; pass latent_dim=")
