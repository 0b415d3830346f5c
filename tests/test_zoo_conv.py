"""The convolutional zoo variants (DCGAN, BigGAN in miniature): shapes of the nets, the pieces BigGAN adds
(conditional BatchNorm, orthogonal regularisation, truncation, EMA of a spectrally normalised G, standing
statistics) and the measurements (linear probe, within-class distance)."""
import math

import numpy as np
import pytest
from helpers import SHARED_MNIST

import minigen as mg
from minigen import backend
from minigen import functional as F
from minigen.autograd.tensor import Tensor
from minigen.backend import xp
from minigen.nn import BatchNorm2d
from minigen.nn.conditional_bn import ConditionalBatchNorm2d
from minigen.zoo import biggan, dcgan


def host(a):
    return backend.to_host(a.data if isinstance(a, Tensor) else a)


def dev(a, dtype=np.float32):
    return backend.to_device(np.asarray(a, dtype=dtype))


# ----------------------------------------------------------------------------------------------------
# DCGAN
# ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("size", [8, 28])
def test_dcgan_shapes(size):
    mg.manual_seed(0)
    G, D = dcgan.Generator(latent_dim=5, ch=2, image_size=size), dcgan.Discriminator(ch=2, image_size=size)
    x = G(Tensor(backend.rng().normal((3, 5))))
    assert x.shape == (3, 1, size, size)
    assert float(host(x).min()) >= -1.0 and float(host(x).max()) <= 1.0           # tanh
    assert D(x).shape == (3, 1)
    assert D.features(x).shape == (3, 2 * 2 * (size // 4) ** 2)


def test_dcgan_architecture_rules():
    """G: only transposed convs, BN, ReLU, tanh; D: only strided convs, LeakyReLU(0.2), BN (no pooling);
    weights start ~ N(0, 0.02)."""
    from minigen.nn import Conv2d, ConvTranspose2d, LeakyReLU, ReLU, Tanh
    mg.manual_seed(0)
    model = dcgan.DCGAN({"ch": 16})
    g_kinds = {type(m) for m in model.G.net.modules()} - {type(model.G.net)}
    assert g_kinds == {ConvTranspose2d, BatchNorm2d, ReLU, Tanh}
    d_kinds = {type(m) for m in model.D.modules()} - {type(model.D), type(model.D.body)}
    assert d_kinds == {Conv2d, LeakyReLU, BatchNorm2d}
    assert all(m.stride == (2, 2) for m in model.D.body.modules() if isinstance(m, Conv2d))
    assert all(m.negative_slope == 0.2 for m in model.D.modules() if isinstance(m, LeakyReLU))
    w = host(model.G.net[3].weight)
    assert abs(w.std() - 0.02) < 0.002 and abs(w.mean()) < 0.002
    for opt in (model.opt_g, model.opt_d):
        assert opt.param_groups[0]["lr"] == 2e-4 and opt.param_groups[0]["betas"][0] == 0.5


@pytest.mark.skipif(not (SHARED_MNIST / "t10k-images-idx3-ubyte.gz").exists(),
                    reason="the MNIST test files are not beside this checkout")
def test_dcgan_on_mnist_is_judged_by_a_classifier_of_mnist(monkeypatch):
    """data='mnist': 28x28 nets, and the judge is the reference recipe trained on the 8,000 training
    images (the 8x8 digit judge cannot read MNIST), accurate and confident on real test images."""
    monkeypatch.setenv(dcgan.MNIST_ROOT_ENV, str(SHARED_MNIST))
    r = dcgan.fit({"data": "mnist", "steps": 2, "ch": 2, "n_samples": 40, "probe_steps": 5, "snapshots": 1})
    assert r["judge_accuracy"] >= 0.95 and r["real_confident"] >= 0.8
    assert 0.0 <= r["confident"] <= 1.0 and len(r["class_fractions"]) == 10


def test_image_scaling_round_trip():
    x = dev(np.linspace(0, 1, 2 * 64).reshape(2, 64))
    t = dcgan.to_signed(x, (8, 8))
    assert t.shape == (2, 1, 8, 8)
    assert np.allclose(host(t).min(), -1.0) and np.allclose(host(t).max(), 1.0)
    assert np.allclose(host(dcgan.to_unit(t)), host(x), atol=1e-6)


def test_linear_probe_on_pixels_separates_digits():
    """The probe itself works: on the raw pixels (a linear model of the digits) it scores well above 85%."""
    data = dcgan.ImageData("digits")
    acc = dcgan.linear_probe(lambda x: F.reshape(x, (x.shape[0], -1)), data, steps=150, seed=0)
    assert acc > 0.9


# ----------------------------------------------------------------------------------------------------
# BigGAN: nets
# ----------------------------------------------------------------------------------------------------

def test_biggan_shapes_and_projection():
    mg.manual_seed(0)
    G = biggan.Generator(latent_dim=4, ch=2)
    D = biggan.ProjectionDiscriminator(ch=2)
    y = dev([0, 1, 2, 9], np.int64)
    x = G(Tensor(backend.rng().normal((4, 4))), y)
    assert x.shape == (4, 1, 8, 8)
    out = D(x, y)
    assert out.shape == (4, 1)
    # the projection: D(x, y) - D(x, y') = <embed(y) - embed(y'), phi(x)>
    y2 = dev([5, 5, 5, 5], np.int64)
    D.eval()
    h = host(D.features(x))
    e = host(D.embed.weight)
    diff = host(D(x, y)) - host(D(x, y2))
    assert np.allclose(diff[:, 0], ((e[host(y)] - e[host(y2)]) * h).sum(1), atol=1e-4)


def test_every_weight_is_spectrally_normalised():
    mg.manual_seed(0)
    model = biggan.BigGAN({"ch": 2, "latent_dim": 4})
    for net in (model.G, model.D):
        for m in net.modules():
            if type(m).__name__ in ("Conv2d", "Linear") or (net is model.D and type(m).__name__ == "Embedding"):
                assert getattr(m, "_spectral_norm", None) is not None, type(m).__name__


def test_conditional_batchnorm_uses_the_class_parameters():
    mg.manual_seed(0)
    cbn = ConditionalBatchNorm2d(3, num_classes=4)
    assert np.allclose(host(cbn.gain.weight), 1.0) and np.allclose(host(cbn.bias.weight), 0.0)
    gains = np.arange(12, dtype=np.float32).reshape(4, 3) + 1.0
    biases = -np.arange(12, dtype=np.float32).reshape(4, 3)
    cbn.gain.weight.data = dev(gains)
    cbn.bias.weight.data = dev(biases)
    x = Tensor(backend.rng().normal((5, 3, 2, 2)))
    labels = dev([2, 0, 2, 3, 3], np.int64)
    y = cbn(x, labels)
    xh = host(x)
    norm = (xh - xh.mean((0, 2, 3), keepdims=True)) / np.sqrt(xh.var((0, 2, 3), keepdims=True) + 1e-5)
    lab = host(labels)
    want = norm * gains[lab][:, :, None, None] + biases[lab][:, :, None, None]
    assert np.allclose(host(y), want, atol=1e-4)
    # only the rows of the classes present get gradients
    F.sum(y * y).backward()
    g = host(cbn.gain.weight.grad)
    assert np.all(g[1] == 0) and np.any(g[2] != 0) and np.any(g[0] != 0)
    # eval mode: running statistics, still the class's affine map
    cbn.eval()
    y_eval = host(cbn(x, labels))
    rm, rv = host(cbn.bn.running_mean), host(cbn.bn.running_var)
    want = (xh - rm[None, :, None, None]) / np.sqrt(rv[None, :, None, None] + 1e-5)
    assert np.allclose(y_eval, want * gains[lab][:, :, None, None] + biases[lab][:, :, None, None], atol=1e-4)


# ----------------------------------------------------------------------------------------------------
# BigGAN: orthogonal regularisation, truncation, hinge
# ----------------------------------------------------------------------------------------------------

def test_orthogonal_regularizer_value():
    w = np.array([[1.0, 2.0, 0.0], [0.0, 1.0, 1.0]])
    gram = w @ w.T
    want = 0.5 * ((gram * (1 - np.eye(2))) ** 2).sum()
    got = biggan.orthogonal_regularizer([Tensor(dev(w, np.float64))], beta=0.5)
    assert np.isclose(float(got.item()), want)
    # orthogonal rows of any norms: zero (only distinct filters are pushed apart)
    q = np.diag([3.0, 0.5, 2.0]) @ np.linalg.qr(np.random.default_rng(0).normal(size=(3, 3)))[0]
    assert abs(float(biggan.orthogonal_regularizer([Tensor(dev(q, np.float64))]).item())) < 1e-12
    # a conv kernel is viewed as (out, in * kh * kw)
    k = np.random.default_rng(1).normal(size=(4, 2, 3, 3))
    m = k.reshape(4, -1)
    want = (((m @ m.T) * (1 - np.eye(4))) ** 2).sum()
    assert np.isclose(float(biggan.orthogonal_regularizer([Tensor(dev(k, np.float64))], beta=1.0).item()), want)


def test_orthogonal_regularizer_gradcheck_first_and_second_order():
    g = backend.Generator(0)
    w1 = Tensor(g.normal((3, 2, 2, 2), dtype=xp.float64), requires_grad=True)
    w2 = Tensor(g.normal((4, 5), dtype=xp.float64), requires_grad=True)

    def fn(a, b):
        return biggan.orthogonal_regularizer([a, b], beta=0.3)
    assert mg.gradcheck(fn, [w1, w2], name="orthogonal_regularizer")
    assert mg.gradgradcheck(fn, [w1, w2], name="orthogonal_regularizer")
    # the closed form of the gradient: 4 beta ((W W^T) * (1 - I)) W
    fn(w1, w2).backward()
    W = host(w2)
    assert np.allclose(host(w2.grad), 4 * 0.3 * ((W @ W.T) * (1 - np.eye(4))) @ W)


@pytest.mark.parametrize("t", [2.0, 1.0, 0.5, 0.25])
def test_truncated_normal_stays_within_the_threshold(t):
    z = host(biggan.truncated_normal((2000, 8), t, backend.Generator(0)))
    assert z.shape == (2000, 8) and np.abs(z).max() <= t
    assert np.abs(z).max() > 0.95 * t                   # and fills the interval
    assert abs(z.mean()) < 0.05 * t + 0.01
    # the truncated normal's variance: 1 - 2 t phi(t) / (2 Phi(t) - 1)
    phi = math.exp(-t * t / 2) / math.sqrt(2 * math.pi)
    var = 1 - 2 * t * phi / math.erf(t / math.sqrt(2))
    assert abs(z.var() - var) < 0.05 * var


def test_truncated_normal_without_threshold_is_normal():
    z = host(biggan.truncated_normal((4000,), None, backend.Generator(0)))
    assert np.abs(z).max() > 2.5 and abs(z.std() - 1) < 0.05
    with pytest.raises(ValueError):
        biggan.truncated_normal((3,), 0.0)


def test_hinge_losses():
    real, fake = Tensor(dev([[2.0], [0.5]])), Tensor(dev([[-3.0], [0.0]]))
    assert np.isclose(float(biggan.hinge_d_loss(real, fake).item()), (0 + 0.5) / 2 + (0 + 1.0) / 2)
    assert np.isclose(float(biggan.hinge_g_loss(fake).item()), 1.5)


# ----------------------------------------------------------------------------------------------------
# BigGAN: EMA, standing statistics, measurements
# ----------------------------------------------------------------------------------------------------

def test_ema_copy_of_a_spectrally_normalised_g_runs_its_own_weights():
    mg.manual_seed(0)
    model = biggan.BigGAN({"ch": 2, "latent_dim": 4})
    model.start_ema()
    Gs = model.ema.module
    z = Tensor(backend.rng().normal((6, 4)))
    y = dev([0, 1, 2, 3, 4, 5], np.int64)
    Gs.eval()
    before = host(Gs(z, y))
    for p in model.G.parameters():                  # move the source only
        p.data = p.data * 0.5 + 0.3
    assert np.allclose(host(Gs(z, y)), before, atol=1e-6)
    model.ema.update()                              # and the average follows it, partly
    assert not np.allclose(host(Gs(z, y)), before, atol=1e-4)


def test_standing_stats_average_the_batch_statistics():
    mg.manual_seed(0)
    G = biggan.Generator(latent_dim=4, ch=2)
    g1, g2 = backend.Generator(5), backend.Generator(5)
    names = [n for n, _ in G.named_buffers()]
    biggan.standing_stats(G, 4, n_batches=3, batch=16, generator=g1)
    assert not G.training
    assert [n for n, _ in G.named_buffers()] == names          # the statistics stay registered buffers
    # the same three batches again, watched: the final BN's running mean is the average of its batch means
    seen = []
    final_bn = G.bn
    orig = final_bn.forward

    def spy(x):
        seen.append(host(x).mean((0, 2, 3)))
        return orig(x)
    object.__setattr__(final_bn, "forward", spy)
    saved = host(final_bn.running_mean).copy()
    biggan.standing_stats(G, 4, n_batches=3, batch=16, generator=g2)
    object.__delattr__(final_bn, "forward")
    assert np.allclose(host(final_bn.running_mean), np.mean(seen, 0), atol=1e-5)
    assert np.allclose(saved, host(final_bn.running_mean), atol=1e-6)


def test_within_class_distance():
    x = dev([[0.0, 0.0], [3.0, 4.0], [1.0, 1.0], [1.0, 1.0]])
    labels = dev([0, 0, 1, 1], np.int64)
    assert np.isclose(biggan.within_class_distance(x, labels), (5.0 + 0.0) / 2)


def test_truncation_curve_rows():
    mg.manual_seed(0)
    model = biggan.BigGAN({"ch": 2, "latent_dim": 4, "standing_batches": 2})
    rows = biggan.truncation_curve(model.sampler(), 4, [1.0, 0.25], per_class=3)
    assert [r["threshold"] for r in rows] == [1.0, 0.25]
    for r in rows:
        assert 0 <= r["accuracy"] <= 1 and 0 <= r["fidelity"] <= 1 and r["diversity"] >= 0
    assert rows[1]["diversity"] < rows[0]["diversity"]       # even an untrained G: tighter z, closer samples
    shape = biggan.curve_shape([{"fidelity": 0.5, "diversity": 2.0}, {"fidelity": 0.6, "diversity": 1.0}])
    assert shape == {"fidelity_rises": True, "diversity_falls": True}
