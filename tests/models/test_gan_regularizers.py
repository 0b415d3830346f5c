"""StyleGAN2's lazy regularisers on the one GAN: lazy R1 (the penalty on every k-th D update, weighted k
gamma) and the path-length penalty (double backprop through a synthesis network: J^T y checked against
finite differences, the penalty gradient-checked to second order, the running mean)."""
import numpy as np
import pytest

import minigen as mg
from minigen import backend, optim
from minigen import functional as F
from minigen.autograd.tensor import Tensor
from minigen.models import mlp_gan
from minigen.models.gan import PathLengthPenalty
from minigen.nn import ModulatedConv2d, Module

from helpers import host, t64

RNG = np.random.default_rng(0)


def test_lazy_r1_applies_the_penalty_on_every_kth_d_update_weighted_k_gamma(monkeypatch):
    gan = mlp_gan(hidden=8, depth=1, n_critic=2, r1_gamma=0.5)
    gan.r1_every = 3
    seen = []
    real_penalty = gan.r1_penalty

    def spy(real, logits):
        seen.append(True)
        return real_penalty(real, logits)
    monkeypatch.setattr(gan, "r1_penalty", spy)
    opt_d, opt_g = optim.SGD(gan.discriminator.parameters(), lr=0.0), optim.SGD(gan.generator.parameters(), lr=0.0)
    real = mg.tensor(RNG.normal(size=(8, 2)).astype(np.float32))
    hits = []
    for step in range(6):                     # D updates 0..11; the penalty on 0, 3, 6, 9
        before = len(seen)
        gan.train_step(real, opt_d, opt_g, step)
        hits.append(len(seen) - before)
    assert hits == [1, 1, 0, 1, 1, 0]
    # the weight: the loss with the penalty exceeds the plain loss by r1_every * gamma * penalty
    fake = mg.tensor(RNG.normal(size=(8, 2)).astype(np.float32))
    gan.r1_now = False
    plain = gan.d_loss(real, fake).item()
    gan.r1_now = True
    with_r1 = gan.d_loss(real, fake).item()
    r = real.detach().requires_grad_()
    pen = real_penalty(r, gan.critic(r)).item()
    assert with_r1 - plain == pytest.approx(3 * 0.5 * pen, rel=1e-4)
    with pytest.raises(ValueError, match="r1_every"):
        mlp_gan().__class__(gan.generator, gan.discriminator, r1_every=0)


class TinySynthesis(Module):
    """ws (N, 2, 3) -> images (N, 2, 4, 4): a constant input through two modulated convolutions, one per
    layer's latent, with a LeakyReLU between."""

    def __init__(self):
        super().__init__()
        self.const = mg.nn.Parameter(backend.to_device(RNG.normal(size=(1, 2, 4, 4))))
        self.conv1 = ModulatedConv2d(2, 2, 3, w_dim=3, dtype=np.float64)
        self.conv2 = ModulatedConv2d(2, 2, 1, w_dim=3, demodulate=False, method="scale", dtype=np.float64)
        for p in self.parameters():
            p.data = p.data.astype(np.float64)

    def forward(self, ws):
        x = F.broadcast_to(self.const, (ws.shape[0], 2, 4, 4))
        x = F.leaky_relu(self.conv1(x, ws[:, 0]), 0.2)
        return self.conv2(x, ws[:, 1])


def test_path_lengths_are_the_norms_of_j_transpose_y():
    mg.manual_seed(0)
    syn = TinySynthesis()
    ws = t64(RNG.normal(size=(3, 2, 3)))
    pl = PathLengthPenalty()
    lengths = host(pl.lengths(syn, ws, backend.Generator(5)))
    y = host(backend.Generator(5).normal((3, 2, 4, 4), dtype=np.float64)) / 4.0
    # J^T y by central differences on sum(g(ws) * y)
    base, eps = host(ws).copy(), 1e-6
    jty = np.zeros_like(base)
    for idx in np.ndindex(base.shape):
        for sgn in (1, -1):
            w = base.copy()
            w[idx] += sgn * eps
            jty[idx] += sgn * (host(syn(t64(w, False))) * y).sum() / (2 * eps)
    expect = np.sqrt((jty ** 2).sum(2).mean(1))
    np.testing.assert_allclose(lengths, expect, rtol=1e-6)


def test_path_length_penalty_gradchecks_to_second_order_and_tracks_its_mean():
    mg.manual_seed(0)
    syn = TinySynthesis()
    ws = t64(RNG.normal(size=(3, 2, 3)))
    pl = PathLengthPenalty(weight=2.0, every=4)
    params = list(syn.parameters())

    def fn(*ps):                        # the penalty's value at a fixed running mean a = 0.3
        lengths = pl.lengths(syn, ws, backend.Generator(5))
        return F.mean((lengths - 0.3) ** 2)
    assert mg.gradcheck(fn, params + [ws], name="path-length penalty")
    assert mg.gradgradcheck(fn, [ws], name="path-length penalty, second order")
    # the running mean moves by decay towards the batch's mean length; the penalty is weight * every * var-like
    lengths = host(pl.lengths(syn, ws, backend.Generator(6)))
    p = pl(syn, ws, backend.Generator(6)).item()
    a = 0.01 * lengths.mean()
    assert host(pl.mean)[0] == pytest.approx(a, rel=1e-6)             # a float32 buffer
    assert p == pytest.approx(8.0 * ((lengths - a) ** 2).mean(), rel=1e-5)
    with pytest.raises(ValueError, match="decay"):
        PathLengthPenalty(decay=0.0)


def test_g_regularizer_is_added_to_gs_loss_and_reported():
    gan = mlp_gan(hidden=8, depth=1)
    calls = []

    def reg(step):
        calls.append(step)
        g = gan.generator(Tensor(backend.rng().normal((4, 2))))
        return 0.0 * F.sum(g) + 1.5
    gan.g_regularizer = reg
    opt_d, opt_g = optim.SGD(gan.discriminator.parameters(), lr=0.01), optim.SGD(gan.generator.parameters(), lr=0.01)
    out = gan.train_step(mg.tensor(RNG.normal(size=(8, 2)).astype(np.float32)), opt_d, opt_g, 7)
    assert calls == [7] and out["g_reg"].item() == pytest.approx(1.5)
