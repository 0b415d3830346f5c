"""The GAN: both players' losses gradient-checked (packing and R1 too), the step keeps the players apart
and takes its critic steps, conditional GANs judge pairs, and the EMA of G warms up."""
import numpy as np
import pytest

import minigen as mg
from minigen import backend, losses, optim
from minigen.models import ConcatLabel, ConditionalGAN, mlp_gan
from minigen.nn import MLP

from helpers import host, t64

RNG = np.random.default_rng(0)


def _double(m):
    for p in m.parameters():
        p.data = p.data.astype(np.float64)
    return m


@pytest.fixture
def gan64():
    return mlp_gan(data_dim=2, latent_dim=2, hidden=4, depth=1, activation="tanh").double()


def test_discriminator_loss_gradcheck_wrt_D_params(gan64):
    real = t64(RNG.normal(size=(5, 2)), requires_grad=False)
    fake = t64(RNG.normal(size=(5, 2)), requires_grad=False)
    D = list(gan64.discriminator.parameters())
    assert mg.gradcheck(lambda *ps: gan64.d_loss(real, fake), D, name="D loss")
    assert mg.gradgradcheck(lambda *ps: gan64.d_loss(real, fake), D, name="D loss")


@pytest.mark.parametrize("kind", ["nonsaturating", "minimax"])
def test_generator_loss_gradcheck_through_D(gan64, kind):
    gan64.loss_kind = kind
    z = t64(RNG.normal(size=(5, 2)), requires_grad=False)
    G = list(gan64.generator.parameters())
    assert mg.gradcheck(lambda *ps: gan64.g_loss(gan64.generate(z)), G, name=f"G {kind} loss")
    assert mg.gradgradcheck(lambda *ps: gan64.g_loss(gan64.generate(z)), G, name=f"G {kind} loss")


@pytest.mark.parametrize("pack,r1", [(2, 0.0), (1, 0.7), (2, 0.7)])
def test_packed_and_r1_discriminator_loss_gradcheck(pack, r1):
    gan = _double(mlp_gan(hidden=4, depth=1, activation="tanh", pack=pack, r1_gamma=r1))
    real = t64(RNG.normal(size=(4, 2)), requires_grad=False)
    fake = t64(RNG.normal(size=(4, 2)), requires_grad=False)
    D = list(gan.discriminator.parameters())
    assert mg.gradcheck(lambda *ps: gan.d_loss(real, fake), D, name=f"D loss pack={pack} r1={r1}")
    G = list(gan.generator.parameters())
    assert mg.gradcheck(lambda *ps: gan.g_loss(gan.generate(fake)), G, name=f"G loss pack={pack}")


def test_r1_penalty_value_and_packing_shape():
    gan = _double(mlp_gan(hidden=3, depth=1, activation="tanh", pack=2, r1_gamma=2.0))
    real = t64(np.random.default_rng(0).normal(size=(6, 2)))
    logits = gan.critic(real)
    assert logits.shape == (3, 1)
    x = host(real).reshape(3, 4)            # the penalty by finite differences of D's logit wrt each packed input
    eps, sq = 1e-6, np.zeros(3)
    for j in range(4):
        e = np.zeros_like(x)
        e[:, j] = eps
        f = lambda a: host(gan.discriminator(t64(a, requires_grad=False)))[:, 0]   # noqa: E731
        sq += ((f(x + e) - f(x - e)) / (2 * eps)) ** 2
    assert gan.r1_penalty(real, logits).item() == pytest.approx(0.5 * sq.mean(), rel=1e-6)
    with pytest.raises(ValueError):
        gan.critic(t64(np.zeros((5, 2))))


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


def _snapshot(m):
    return [host(p).copy() for p in m.parameters()]


def test_D_step_leaves_G_alone_and_G_step_does_not_move_D():
    gan = mlp_gan(hidden=8, depth=1)
    real = mg.tensor(RNG.normal(size=(16, 2)).astype(np.float32))
    gan.d_loss(real, gan.generate(gan.sample_latent(16)).detach()).backward()
    assert all(p.grad is None for p in gan.generator.parameters())
    assert all(p.grad is not None for p in gan.discriminator.parameters())
    opt_g = optim.Adam(gan.generator.parameters(), lr=1e-2)
    D_before, G_before = _snapshot(gan.discriminator), _snapshot(gan.generator)
    opt_g.zero_grad()
    gan.g_loss(gan.generate(gan.sample_latent(16))).backward()
    opt_g.step()
    for p, b in zip(gan.discriminator.parameters(), D_before):
        np.testing.assert_array_equal(host(p), b)
    assert any(not np.array_equal(host(p), b) for p, b in zip(gan.generator.parameters(), G_before))


@pytest.mark.parametrize("reuse", [False, True])
def test_train_step_returns_losses_and_takes_n_critic_steps(reuse):
    gan = mlp_gan(hidden=8, depth=1, n_critic=3)
    gan.reuse_fake = reuse
    calls = []

    def real():
        calls.append(1)
        return mg.tensor(RNG.normal(size=(8, 2)).astype(np.float32))
    opt_d, opt_g = optim.SGD(gan.discriminator.parameters(), lr=0.01), optim.SGD(gan.generator.parameters(), lr=0.01)
    G_before = _snapshot(gan.generator)
    out = gan.train_step(real, opt_d, opt_g)
    assert len(calls) == 3 and set(out) == {"d_loss", "g_loss"}
    assert np.isfinite(out["d_loss"].item()) and np.isfinite(out["g_loss"].item())
    assert any(not np.array_equal(host(p), b) for p, b in zip(gan.generator.parameters(), G_before))


def test_conditional_gan_judges_pairs_and_draws_uniform_labels():
    G = ConcatLabel(MLP([3 + 4, 8, 2]), 4)
    D = ConcatLabel(MLP([2 + 4, 8, 1]), 4)
    gan = ConditionalGAN(G, D, num_classes=4, latent_dim=3)
    z, labels = gan.sample_latent(400)
    assert z.shape == (400, 3) and set(host(labels).tolist()) == {0, 1, 2, 3}
    x, y = gan.generate((z, labels))
    assert x.shape == (400, 2) and y is labels
    assert gan.critic((x, y)).shape == (400, 1)
    only = gan.sample_latent(5, labels=backend.to_device(np.full(5, 2)))[1]
    assert host(only).tolist() == [2] * 5


def test_ema_of_g_warms_up():
    """The EMA's decay starts at (1 + t) / (10 + t), so a short run samples from a G that has learned, not
    from (mostly) the initial weights; later it is the configured decay."""
    gan = mlp_gan(hidden=4, depth=1)
    from minigen.models import GAN
    gan = GAN(gan.generator, gan.discriminator, ema=0.999)
    first = _snapshot(gan.sampler)
    for p in gan.generator.parameters():
        p.data += 1.0
    gan.ema.update(0)                                       # decay 0.1: mostly the new weights
    for e, f, p in zip(gan.sampler.parameters(), first, gan.generator.parameters()):
        np.testing.assert_allclose(host(e), 0.1 * f + 0.9 * host(p), rtol=1e-5, atol=1e-6)
    before = _snapshot(gan.sampler)
    gan.ema.update(100_000)                                 # the configured 0.999
    for e, b, p in zip(gan.sampler.parameters(), before, gan.generator.parameters()):
        np.testing.assert_allclose(host(e), 0.999 * b + 0.001 * host(p), rtol=1e-5, atol=1e-6)


def test_one_hot():
    from minigen.models.gan import one_hot
    oh = host(one_hot(backend.to_device(np.array([2, 0, 1])), 3))
    assert np.array_equal(oh, np.eye(3)[[2, 0, 1]])
