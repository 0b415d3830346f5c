"""The GAN of Goodfellow et al. (2014): a generator G(z) and a discriminator D(x) (a logit) in a game.

One training step, as in Algorithm 1 of the paper:

    for d_steps:  D <- D - lr_D * grad_D [ -log D(x) - log(1 - D(G(z).detach())) ]   (G's output detached:
                                                                                       D's step leaves G alone)
    once:         G <- G - lr_G * grad_G [ generator loss of D(G(z)) ]              (backprop through D into G;
                                                                                       only G's optimizer steps)
"""
from __future__ import annotations

from minigen import backend
from minigen import losses
from minigen.autograd.mode import no_grad
from minigen.autograd.tensor import Tensor
from minigen.nn import MLP, Module


class GAN(Module):
    """``GAN(generator, discriminator, loss="nonsaturating" | "minimax", d_steps=1, latent_dim=None)``."""

    def __init__(self, generator: Module, discriminator: Module, loss: str = "nonsaturating", d_steps: int = 1,
                 latent_dim: int | None = None):
        super().__init__()
        if loss not in losses.GENERATOR_LOSSES:
            raise ValueError(f"GAN: loss must be one of {losses.GENERATOR_LOSSES}, got {loss!r}")
        self.generator, self.discriminator = generator, discriminator
        self.loss_kind, self.d_steps = loss, int(d_steps)
        self.latent_dim = latent_dim or _in_features(generator)

    def sample_latent(self, n: int) -> Tensor:
        """z ~ N(0, I), shape (n, latent_dim)."""
        return Tensor(backend.rng().normal((n, self.latent_dim)))

    def d_loss(self, real: Tensor, z: Tensor | None = None) -> Tensor:
        """The discriminator's loss on a real batch and a detached fake batch of the same size."""
        z = z if z is not None else self.sample_latent(real.shape[0])
        fake = self.generator(z).detach()
        return losses.discriminator_loss(self.discriminator(real), self.discriminator(fake))

    def g_loss(self, n: int | None = None, z: Tensor | None = None) -> Tensor:
        """The generator's loss, through the (fixed) discriminator."""
        z = z if z is not None else self.sample_latent(n)
        return losses.generator_loss(self.discriminator(self.generator(z)), self.loss_kind)

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
            d_steps: int = 1, activation: str = "relu") -> GAN:
    """The MLP pair of the 2-D experiments: G: latent -> hidden^depth -> data, D: data -> hidden^depth -> 1."""
    G = MLP([latent_dim] + [hidden] * depth + [data_dim], activation=activation)
    D = MLP([data_dim] + [hidden] * depth + [1], activation=activation)
    return GAN(G, D, loss=loss, d_steps=d_steps, latent_dim=latent_dim)


def _in_features(m: Module) -> int:
    for p in m.parameters():
        if p.ndim == 2:
            return p.shape[1]
    raise ValueError("GAN: cannot infer latent_dim from the generator; pass latent_dim=")
