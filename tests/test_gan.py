"""Both players' losses are gradient-checked, and the step keeps the players apart."""
import numpy as np
import pytest

import minigen as mg
from minigen import losses, optim
from minigen.models import mlp_gan

from helpers import host, t64

RNG = np.random.default_rng(0)


@pytest.fixture
def gan64():
    return mlp_gan(data_dim=2, latent_dim=2, hidden=4, depth=1, activation="tanh").double()


def test_discriminator_loss_gradcheck_wrt_D_params(gan64):
    real = t64(RNG.normal(size=(5, 2)), requires_grad=False)
    z = t64(RNG.normal(size=(5, 2)), requires_grad=False)
    D = list(gan64.discriminator.parameters())
    assert mg.gradcheck(lambda *ps: gan64.d_loss(real, z), D, name="D loss")
    assert mg.gradgradcheck(lambda *ps: gan64.d_loss(real, z), D, name="D loss")


@pytest.mark.parametrize("kind", ["nonsaturating", "minimax"])
def test_generator_loss_gradcheck_through_D(gan64, kind):
    gan64.loss_kind = kind
    z = t64(RNG.normal(size=(5, 2)), requires_grad=False)
    G = list(gan64.generator.parameters())
    assert mg.gradcheck(lambda *ps: gan64.g_loss(z=z), G, name=f"G {kind} loss")
    assert mg.gradgradcheck(lambda *ps: gan64.g_loss(z=z), G, name=f"G {kind} loss")


def test_loss_formulas_match_the_value_function():
    real = t64([[2.0], [-1.0]], requires_grad=False)
    fake = t64([[0.5], [-3.0]], requires_grad=False)
    sig = lambda a: 1 / (1 + np.exp(-a))   # noqa: E731
    r, f = host(real), host(fake)
    v = np.mean(np.log(sig(r))) + np.mean(np.log(1 - sig(f)))
    assert losses.discriminator_loss(real, fake).item() == pytest.approx(-v)
    assert losses.generator_loss_minimax(fake).item() == pytest.approx(np.mean(np.log(1 - sig(f))))
    assert losses.generator_loss_nonsaturating(fake).item() == pytest.approx(-np.mean(np.log(sig(f))))


def test_saturating_loss_vanishes_when_D_wins():
    fake = t64([[-12.0], [-15.0]])            # D is sure these are fake
    (g_mm,) = mg.grad(losses.generator_loss_minimax(fake), [fake])
    (g_ns,) = mg.grad(losses.generator_loss_nonsaturating(fake), [fake])
    assert np.abs(host(g_mm)).max() < 1e-5
    assert np.abs(host(g_ns)).min() > 0.49    # -sigmoid(-l) / N with N = 2


def test_D_step_leaves_G_alone_and_G_step_does_not_move_D():
    gan = mlp_gan(hidden=8, depth=1)
    opt_d = optim.Adam(gan.discriminator.parameters(), lr=1e-2)
    opt_g = optim.Adam(gan.generator.parameters(), lr=1e-2)
    real = mg.tensor(RNG.normal(size=(16, 2)).astype(np.float32))
    d = gan.d_loss(real)
    d.backward()
    assert all(p.grad is None for p in gan.generator.parameters())
    assert all(p.grad is not None for p in gan.discriminator.parameters())
    opt_d.step()
    D_before = [host(p).copy() for p in gan.discriminator.parameters()]
    G_before = [host(p).copy() for p in gan.generator.parameters()]
    g = gan.g_loss(16)
    opt_g.zero_grad()
    g.backward()
    opt_g.step()
    for p, b in zip(gan.discriminator.parameters(), D_before):
        np.testing.assert_array_equal(host(p), b)
    assert any(not np.array_equal(host(p), b) for p, b in zip(gan.generator.parameters(), G_before))


def test_train_step_returns_losses_and_d_steps():
    gan = mlp_gan(hidden=8, depth=1, d_steps=3)
    calls = []

    def real():
        calls.append(1)
        return mg.tensor(RNG.normal(size=(8, 2)).astype(np.float32))
    out = gan.train_step(real, optim.SGD(gan.discriminator.parameters(), lr=0.01),
                         optim.SGD(gan.generator.parameters(), lr=0.01))
    assert len(calls) == 3 and set(out) == {"d_loss", "g_loss"}
    assert np.isfinite(out["d_loss"]) and np.isfinite(out["g_loss"])
