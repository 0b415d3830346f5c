"""Float64 instances of the zoo's games, for the gradient checks of their distinctive losses."""
from __future__ import annotations

from minigen import backend
from minigen.autograd.tensor import Tensor
from minigen.backend import xp


def to_double(module):
    """Cast a module's parameters to float64 in place (checks run in double precision)."""
    for p in module.parameters():
        p.data = p.data.astype(xp.float64)
    return module


def small_game(task_cls, **overrides):
    """The GAN of a 2-D variant's task with one hidden layer of 5 tanh units, in float64."""
    task = task_cls(task_cls.make_config(0, **{"hidden": 5, "depth": 1, "activation": "tanh", "n_train": 64, "batch_size": 32,
                                               **overrides}))
    gan = task.gan
    to_double(gan)
    return gan


def toy_loss_case(task_cls, second_order: bool = False, n: int = 6, **overrides):
    """(fn, inputs, second_order): the game's D loss (on a fixed real batch and a fixed fake batch) plus its
    G loss (through D, from fixed latents), as a function of both players' parameters, in float64.
    The fake batch of the D loss is a constant: finite differences cannot see a ``detach``."""
    backend.manual_seed(0)
    gan = small_game(task_cls, **overrides)
    g = backend.Generator(1)
    real = Tensor(g.normal((n, 2), dtype=xp.float64))
    fake = Tensor(g.normal((n, 2), dtype=xp.float64))
    z = Tensor(g.normal((n, gan.latent_dim), dtype=xp.float64))
    params = list(gan.discriminator.parameters()) + list(gan.generator.parameters())

    def fn(*ps):
        return gan.d_loss(real, fake) + gan.g_loss(gan.generate(z))
    return fn, params, second_order
