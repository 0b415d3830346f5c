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


def toy_loss_case(game_cls, config: dict, second_order: bool = False):
    """(fn, inputs, second_order): the game's D loss (on a fixed real batch and a fixed fake batch) plus its
    G loss (through D, from fixed latents), as a function of both players' parameters, in float64.
    The fake batch of the D loss is a constant: finite differences cannot see a ``detach``."""
    backend.manual_seed(0)
    game = game_cls({**config, "hidden": 5, "depth": 1, "activation": "tanh"})
    to_double(game.G)
    to_double(game.D)
    g = backend.Generator(1)
    real = Tensor(g.normal((6, 2), dtype=xp.float64))
    z = Tensor(g.normal((6, game.cfg["latent_dim"]), dtype=xp.float64))
    fake = Tensor(g.normal((6, 2), dtype=xp.float64))
    params = list(game.D.parameters()) + list(game.G.parameters())

    def fn(*ps):
        return game.d_loss(real, fake) + game.g_loss(game.G(z))
    return fn, params, second_order
