"""The GAN of Goodfellow et al. (2014): a generator G(z) and a discriminator D(x) (a logit) in a game.

One training step, as in Algorithm 1 of the paper:

    for d_steps:  D <- D - lr_D * grad_D [ -log D(x) - log(1 - D(G(z).detach())) ]   (G's output detached:
                                                                                       D's step leaves G alone)
    once:         G <- G - lr_G * grad_G [ generator loss of D(G(z)) ]              (backprop through D into G;
                                                                                       only G's optimizer steps)

Two options, both off by default:

* ``pack=m`` (PacGAN, Lin et al. 2018): D judges m samples at once, all real or all fake, concatenated
  into one input of m * data_dim features; a batch of n samples becomes n / m packed inputs.  A
  collapsed generator is easy to spot in a pack, which penalises mode collapse.
* ``r1_gamma=g`` (R1, Mescheder et al. 2018): D's loss gains g/2 E_x[ ||grad_x D(x)||^2 ] on real
  (packed) inputs, the zero-centred gradient penalty that makes the game converge locally.  It is
  trained by double backprop (``grad(..., create_graph=True)``).
"""
from __future__ import annotations

from minigen import backend, losses
from minigen import functional as F
from minigen.autograd.engine import grad
from minigen.autograd.mode import no_grad
from minigen.autograd.tensor import Tensor
from minigen.nn import MLP, Module


class GAN(Module):
    """``GAN(generator, discriminator, loss="nonsaturating" | "minimax", d_steps=1, latent_dim=None,
    pack=1, r1_gamma=0.0)``."""

    def __init__(self, generator: Module, discriminator: Module, loss: str = "nonsaturating", d_steps: int = 1,
                 latent_dim: int | None = None, pack: int = 1, r1_gamma: float = 0.0):
        super().__init__()
        if loss not in losses.GENERATOR_LOSSES:
            raise ValueError(f"GAN: loss must be one of {losses.GENERATOR_LOSSES}, got {loss!r}")
        if int(pack) < 1 or r1_gamma < 0:
            raise ValueError(f"GAN: pack must be >= 1 and r1_gamma >= 0, got pack={pack}, r1_gamma={r1_gamma}")
        self.generator, self.discriminator = generator, discriminator
        self.loss_kind, self.d_steps = loss, int(d_steps)
        self.latent_dim = latent_dim or _in_features(generator)
        self.pack, self.r1_gamma = int(pack), float(r1_gamma)

    def critic(self, x: Tensor) -> Tensor:
        """D's logits for a batch (n, d): one per sample, or one per pack of ``pack`` samples (n must then
        be a multiple of ``pack``)."""
        if self.pack > 1:
            n = x.shape[0]
            if n % self.pack:
                raise ValueError(f"GAN: a batch of {n} cannot be split into packs of {self.pack}")
            x = x.reshape((n // self.pack, -1))
        return self.discriminator(x)

    def sample_latent(self, n: int) -> Tensor:
        """z ~ N(0, I), shape (n, latent_dim)."""
        return Tensor(backend.rng().normal((n, self.latent_dim)))

    def d_loss(self, real: Tensor, z: Tensor | None = None) -> Tensor:
        """The discriminator's loss on a real batch and a detached fake batch of the same size."""
        z = z if z is not None else self.sample_latent(real.shape[0])
        fake = self.generator(z).detach()
        if not self.r1_gamma:
            return losses.discriminator_loss(self.critic(real), self.critic(fake))
        real = real.detach().requires_grad_()
        real_logits = self.critic(real)
        loss = losses.discriminator_loss(real_logits, self.critic(fake))
        return loss + self.r1_gamma * self.r1_penalty(real, real_logits)

    def r1_penalty(self, real: Tensor, real_logits: Tensor) -> Tensor:
        """1/2 E[ ||grad_x D(x)||^2 ] over the (packed) real inputs, differentiable (create_graph)."""
        (g,) = grad(real_logits.sum(), [real], create_graph=True)
        n_inputs = real.shape[0] // self.pack
        return 0.5 * F.sum(g * g) / n_inputs

    def g_loss(self, n: int | None = None, z: Tensor | None = None) -> Tensor:
        """The generator's loss, through the (fixed) discriminator."""
        z = z if z is not None else self.sample_latent(n)
        return losses.generator_loss(self.critic(self.generator(z)), self.loss_kind)

    def train_step(self, real, opt_d, opt_g) -> dict:
        """``d_steps`` discriminator updates then one generator update.  ``real`` is a batch, or a
        callable returning a fresh batch for each discriminator update.  Returns the two losses."""
        for _ in range(self.d_steps):
            batch = real() if callable(real) else real
            d = self.d_loss(batch)
            opt_d.zero_grad()
            d.backward()
            opt_d.step()
        g = self.g_loss(batch.shape[0])
        opt_g.zero_grad()
        g.backward()
        opt_g.step()
        return {"d_loss": d.item(), "g_loss": g.item()}

    def sample(self, n: int) -> Tensor:
        with no_grad():
            return self.generator(self.sample_latent(n))


def mlp_gan(data_dim: int = 2, latent_dim: int = 2, hidden: int = 128, depth: int = 2, loss: str = "nonsaturating",
            d_steps: int = 1, activation: str = "relu", pack: int = 1, r1_gamma: float = 0.0) -> GAN:
    """The MLP pair of the 2-D experiments: G: latent -> hidden^depth -> data, D: data*pack -> hidden^depth -> 1."""
    G = MLP([latent_dim] + [hidden] * depth + [data_dim], activation=activation)
    D = MLP([data_dim * pack] + [hidden] * depth + [1], activation=activation)
    return GAN(G, D, loss=loss, d_steps=d_steps, latent_dim=latent_dim, pack=pack, r1_gamma=r1_gamma)


def _in_features(m: Module) -> int:
    for p in m.parameters():
        if p.ndim == 2:
            return p.shape[1]
    raise ValueError("GAN: cannot infer latent_dim from the generator; pass latent_dim=")
