"""The distinctive mechanisms of WGAN, WGAN-GP, SN-GAN and PacGAN (and the toy game's learning-rate decay),
each checked on its own; test_zoo.py gradchecks and fast-runs every variant."""
import math

import pytest

import minigen as mg
from minigen import backend
from minigen import functional as F
from minigen.backend import xp
from minigen.nn import Linear
from minigen.zoo.game import TOY_DEFAULTS, Mixture, lr_factor
from minigen.zoo.pacgan import PacGAN, pack
from minigen.zoo.sngan import SNGAN, hinge_d_loss, sn_layers
from minigen.zoo.wgan import WGAN, spearman
from minigen.zoo.wgan_gp import gradient_penalty, interpolates

SMALL = {"hidden": 16, "batch_size": 32}


def host(a):
    return backend.to_host(a.data if isinstance(a, mg.Tensor) else a)


# --- WGAN ---------------------------------------------------------------------------------------------

def test_wgan_clips_every_critic_parameter_after_each_step():
    game = WGAN({**SMALL, "monitor_n": 16, "optimizer": "rmsprop", "lr_d": 0.5})
    data = Mixture("ring8", 0, pool=1000)
    game.d_step(data.batch(32))                 # a huge step: without clipping the weights would leave the box
    for p in game.D.parameters():
        assert float(abs(host(p)).max()) <= 0.01 + 1e-9
    assert any(float(abs(host(p)).max()) > 0.0099 for p in game.D.parameters())


def test_wgan_critic_schedule_bursts_first_and_every_500():
    game = WGAN({**SMALL, "monitor_n": 16, "critic_warmup": 2, "critic_burst": 7, "burst_every": 4})
    calls = []
    game.d_step = lambda real: calls.append(1) or 0.0
    data = Mixture("ring8", 0, pool=1000)
    counts = []
    for _ in range(6):
        calls.clear()
        game.train_step(lambda: data.batch(8))
        counts.append(len(calls))
    # g-steps 0, 1 (warm-up) and 4 (every 4th) get the burst; the others n_critic = 1 (TOY default)
    assert counts == [7, 7, 1, 1, 7, 1]


def test_wgan_critic_loss_is_the_negated_estimate():
    game = WGAN({**SMALL, "monitor_n": 16})
    real = mg.Tensor(backend.rng().normal((8, 2)))
    fake = mg.Tensor(backend.rng().normal((8, 2)))
    est = F.mean(game.D(real)) - F.mean(game.D(fake))
    assert abs(game.d_loss(real, fake).item() + est.item()) < 1e-7


def test_spearman():
    assert spearman([1, 2, 3, 4], [10, 20, 30, 45]) == pytest.approx(1.0)
    assert spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    assert spearman([1, 2, 2, 3], [1, 2, 2, 3]) == pytest.approx(1.0)                   # ties: mean ranks
    assert spearman([1, 2, 3, 4, 5], [2, 1, 4, 3, 5]) == pytest.approx(0.8)              # 1 - 6*4/(5*24)


# --- WGAN-GP ------------------------------------------------------------------------------------------

def test_gradient_penalty_of_a_linear_critic():
    """D(x) = a.x + b has gradient a everywhere, so the penalty is (|a| - 1)^2 and its gradient in a is
    2 (|a| - 1) a / |a|: a derivative of a derivative, computed by double backprop."""
    D = Linear(2, 1)
    D.weight.data = backend.to_device([[3.0, 4.0]]).astype(D.weight.dtype)
    x = interpolates(mg.Tensor(backend.rng().normal((5, 2))), mg.Tensor(backend.rng().normal((5, 2))),
                     backend.rng().uniform((5, 1)))
    gp = gradient_penalty(D, x)
    assert gp.item() == pytest.approx(16.0, rel=1e-5)
    gp.backward()
    assert host(D.weight.grad)[0] == pytest.approx([4.8, 6.4], rel=1e-5)


def test_interpolates_lie_between_real_and_fake():
    real, fake = mg.Tensor(xp.zeros((4, 2))), mg.Tensor(xp.ones((4, 2)))
    eps = backend.to_device([[0.0], [0.25], [0.5], [1.0]]).astype(real.dtype)
    x = interpolates(real, fake, eps)
    assert x.requires_grad and host(x)[:, 0].tolist() == [1.0, 0.75, 0.5, 0.0]


# --- SN-GAN -------------------------------------------------------------------------------------------

def test_sngan_normalises_every_discriminator_layer():
    game = SNGAN({**SMALL, "depth": 2})
    assert len(sn_layers(game.D)) == 3
    names = [n for n, _ in game.D.named_parameters()]
    assert all(not n.endswith(".weight") for n in names) and sum(n.endswith("weight_orig") for n in names) == 3
    data = Mixture("ring8", 0, pool=1000)
    for _ in range(60):
        game.train_step(lambda: data.batch(32))
    assert max(abs(s - 1.0) for s in game.layer_spectral_norms()) < 0.05


def test_hinge_loss():
    big = mg.Tensor(xp.full((4, 1), 3.0))
    assert hinge_d_loss(big, -big).item() == 0.0                  # outside the margin: no loss
    zero = mg.Tensor(xp.zeros((4, 1)))
    assert hinge_d_loss(zero, zero).item() == pytest.approx(2.0)


# --- PacGAN -------------------------------------------------------------------------------------------

def test_pack_concatenates_consecutive_samples():
    x = mg.Tensor(backend.to_device([[0.0, 1.0], [2.0, 3.0], [4.0, 5.0], [6.0, 7.0], [8.0, 9.0], [10.0, 11.0]]))
    assert host(pack(x, 3)).tolist() == [[0, 1, 2, 3, 4, 5], [6, 7, 8, 9, 10, 11]]
    assert host(pack(x, 2)).tolist() == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]]


@pytest.mark.parametrize("m", [1, 3])
def test_pacgan_discriminator_sees_packs_of_m(m):
    game = PacGAN({**SMALL, "pack": m})
    assert game.D[0].in_features == 2 * m
    shapes = []
    d_step = game.d_step
    game.d_step = lambda real: shapes.append(real.shape) or d_step(real)
    data = Mixture("grid25", 0, pool=1000)
    game.train_step(lambda: data.batch(8))
    assert shapes == [(8 * m, 2)]                # m * batch_size real points = batch_size packs


def test_pacgan_generator_gradient_reaches_every_sample_of_a_pack():
    game = PacGAN({**SMALL, "pack": 4})
    fake = mg.Tensor(backend.rng().normal((8, 2)), requires_grad=True)
    (g,) = mg.grad(game.g_loss(fake), [fake])
    assert float(abs(host(g)).min()) > 0


# --- the toy game's learning-rate decay ----------------------------------------------------------------

def test_lr_factor_is_constant_then_linear_to_the_final_fraction():
    cfg = {**TOY_DEFAULTS, "steps": 101, "lr_decay": 0.1, "decay_start": 0.5}
    assert lr_factor(cfg, 0) == 1.0 and lr_factor(cfg, 50) == 1.0
    assert lr_factor(cfg, 100) == pytest.approx(0.1)
    assert lr_factor(cfg, 75) == pytest.approx(0.55, rel=0.02)
    assert lr_factor({**cfg, "lr_decay": 1.0}, 100) == 1.0


def test_set_lr_factor_scales_from_the_initial_rates():
    game = WGAN({**SMALL, "monitor_n": 16, "lr_g": 1e-3, "lr_d": 2e-3})
    game.set_lr_factor(0.5)
    game.set_lr_factor(0.1)                      # not compounding
    assert math.isclose(game.opt_g.param_groups[0]["lr"], 1e-4)
    assert math.isclose(game.opt_d.param_groups[0]["lr"], 2e-4)
