"""BigGAN: the nets, spectral norm everywhere, conditional BN, orthogonal regularisation, truncation,
the EMA and standing statistics, the measurements, and a run's whole life."""
import math

import numpy as np
import pytest

import minigen as mg
from minigen import backend
from minigen import functional as F
from minigen.autograd.tensor import Tensor
from minigen.backend import xp
from minigen.losses import hinge_d_loss, hinge_g_loss
from minigen.nn.conditional_bn import ConditionalBatchNorm2d
from minigen.zoo import biggan

from helpers import check_run_lifecycle, host


def dev(a, dtype=np.float32):
    return backend.to_device(np.asarray(a, dtype=dtype))


def small(**kw):
    return biggan.BigGANTask(biggan.BigGANTask.make_config(0, **{"ch": 2, "latent_dim": 4, **kw}))


def test_biggan_shapes_and_projection():
    G = biggan.Generator(latent_dim=4, ch=2)
    D = biggan.ProjectionDiscriminator(ch=2)
    y = dev([0, 1, 2, 9], np.int64)
    x = G(Tensor(backend.rng().normal((4, 4))), y)
    assert x.shape == (4, 1, 8, 8) and D(x, y).shape == (4, 1)
    # the projection: D(x, y) - D(x, y') = <embed(y) - embed(y'), phi(x)>
    y2 = dev([5, 5, 5, 5], np.int64)
    D.eval()
    h, e = host(D.features(x)), host(D.embed.weight)
    diff = host(D(x, y)) - host(D(x, y2))
    assert np.allclose(diff[:, 0], ((e[host(y)] - e[host(y2)]) * h).sum(1), atol=1e-4)


def test_every_weight_is_spectrally_normalised():
    gan = small().gan
    for net in (gan.generator, gan.discriminator):
        for m in net.modules():
            if type(m).__name__ in ("Conv2d", "Linear") or (net is gan.discriminator and type(m).__name__ == "Embedding"):
                assert getattr(m, "_spectral_norm", None) is not None, type(m).__name__


def test_conditional_batchnorm_uses_the_class_parameters():
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
    F.sum(y * y).backward()                              # only the rows of the classes present get gradients
    g = host(cbn.gain.weight.grad)
    assert np.all(g[1] == 0) and np.any(g[2] != 0) and np.any(g[0] != 0)
    cbn.eval()                                           # eval mode: running statistics, still the class's map
    y_eval = host(cbn(x, labels))
    rm, rv = host(cbn.bn.running_mean), host(cbn.bn.running_var)
    want = (xh - rm[None, :, None, None]) / np.sqrt(rv[None, :, None, None] + 1e-5)
    assert np.allclose(y_eval, want * gains[lab][:, :, None, None] + biases[lab][:, :, None, None], atol=1e-4)


def test_orthogonal_regularizer_value():
    w = np.array([[1.0, 2.0, 0.0], [0.0, 1.0, 1.0]])
    gram = w @ w.T
    want = 0.5 * ((gram * (1 - np.eye(2))) ** 2).sum()
    assert np.isclose(float(biggan.orthogonal_regularizer([Tensor(dev(w, np.float64))], beta=0.5).item()), want)
    # orthogonal rows of any norms: zero (only distinct filters are pushed apart)
    q = np.diag([3.0, 0.5, 2.0]) @ np.linalg.qr(np.random.default_rng(0).normal(size=(3, 3)))[0]
    assert abs(float(biggan.orthogonal_regularizer([Tensor(dev(q, np.float64))]).item())) < 1e-12
    k = np.random.default_rng(1).normal(size=(4, 2, 3, 3))      # a conv kernel is viewed as (out, in kh kw)
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
    fn(w1, w2).backward()                 # the closed form of the gradient: 4 beta ((W W^T) * (1 - I)) W
    W = host(w2)
    assert np.allclose(host(w2.grad), 4 * 0.3 * ((W @ W.T) * (1 - np.eye(4))) @ W)


@pytest.mark.parametrize("t", [2.0, 1.0, 0.5, 0.25])
def test_truncated_normal_stays_within_the_threshold(t):
    z = host(biggan.truncated_normal((2000, 8), t, backend.Generator(0)))
    assert z.shape == (2000, 8) and np.abs(z).max() <= t
    assert np.abs(z).max() > 0.95 * t and abs(z.mean()) < 0.05 * t + 0.01
    phi = math.exp(-t * t / 2) / math.sqrt(2 * math.pi)     # the truncated normal's variance
    var = 1 - 2 * t * phi / math.erf(t / math.sqrt(2))
    assert abs(z.var() - var) < 0.05 * var


def test_truncated_normal_without_threshold_is_normal():
    z = host(biggan.truncated_normal((4000,), None, backend.Generator(0)))
    assert np.abs(z).max() > 2.5 and abs(z.std() - 1) < 0.05
    with pytest.raises(ValueError):
        biggan.truncated_normal((3,), 0.0)


def test_hinge_losses():
    real, fake = Tensor(dev([[2.0], [0.5]])), Tensor(dev([[-3.0], [0.0]]))
    assert np.isclose(float(hinge_d_loss(real, fake).item()), (0 + 0.5) / 2 + (0 + 1.0) / 2)
    assert np.isclose(float(hinge_g_loss(fake).item()), 1.5)


def test_ema_starts_late_and_runs_its_own_weights():
    t = small(ema_start=3)
    gan = t.gan
    Gs = gan.sampler
    z, y = Tensor(backend.rng().normal((6, 4))), dev([0, 1, 2, 3, 4, 5], np.int64)
    Gs.eval()
    for step in range(3):                         # before the start the average is G itself
        t.step(step)
        for a, b in zip(Gs.parameters(), gan.generator.parameters()):
            np.testing.assert_array_equal(host(a), host(b))
    before = host(Gs(z, y))
    for p in gan.generator.parameters():          # move the source only: the copy keeps its weights
        p.data = p.data * 0.5 + 0.3
    assert np.allclose(host(Gs(z, y)), before, atol=1e-6)
    gan.ema.update(10)                            # and the average follows it, partly
    assert not np.allclose(host(Gs(z, y)), before, atol=1e-4)


def test_standing_stats_average_the_batch_statistics():
    G = biggan.Generator(latent_dim=4, ch=2)
    g1, g2 = backend.Generator(5), backend.Generator(5)
    names = [n for n, _ in G.named_buffers()]
    biggan.standing_stats(G, 4, n_batches=3, batch=16, generator=g1)
    assert not G.training
    assert [n for n, _ in G.named_buffers()] == names          # the statistics stay registered buffers
    seen, final_bn = [], G.bn           # the same three batches again, watched: the running mean is their mean
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


def test_sampling_leaves_the_trained_state_alone():
    t = small(standing_batches=2)
    state = {k: host(v).copy() for k, v in t.gan.state_dict().items()}
    t.sample(10)
    for k, v in t.gan.state_dict().items():
        np.testing.assert_array_equal(host(v), state[k], err_msg=k)


def test_within_class_distance():
    x = dev([[0.0, 0.0], [3.0, 4.0], [1.0, 1.0], [1.0, 1.0]])
    labels = dev([0, 0, 1, 1], np.int64)
    assert np.isclose(biggan.within_class_distance(x, labels), (5.0 + 0.0) / 2)


def test_truncation_curve_rows():
    rows = biggan.truncation_curve(small(standing_batches=2).sampler(), 4, [1.0, 0.25], per_class=3)
    assert [r["threshold"] for r in rows] == [1.0, 0.25]
    for r in rows:
        assert 0 <= r["accuracy"] <= 1 and 0 <= r["fidelity"] <= 1 and r["diversity"] >= 0
    assert rows[1]["diversity"] < rows[0]["diversity"]       # even an untrained G: tighter z, closer samples
    shape = biggan.curve_shape([{"fidelity": 0.5, "diversity": 2.0}, {"fidelity": 0.6, "diversity": 1.0}])
    assert shape == {"fidelity_rises": True, "diversity_falls": True}


def test_run(tmp_path):
    r = check_run_lifecycle(tmp_path, "biggan", {"steps": 12, "ch": 4, "ema_start": 6, "per_class": 10,
                                                "standing_batches": 2}, stop_after=8, label=2)
    assert len(r["curve"]) == 4


class ImageBank(mg.nn.Module):
    """A stand-in generator G(z, y) that returns stored digits of class y (in [-1, 1]): the one nearest to
    its class's mean when |z_1| is small, ever farther ones as |z_1| grows, so truncation acts on it as on
    a trained G."""

    def __init__(self, images, labels):
        super().__init__()
        self.bank = []
        for c in range(10):
            x = images[labels == c]
            order = np.argsort(((x - x.mean(0)) ** 2).sum(1))
            self.bank.append(x[order] * 2.0 - 1.0)

    def forward(self, z, labels):
        u = np.minimum(np.abs(mg.to_host(z.data)[:, 0]) / 2.5, 0.999)
        rows = [self.bank[c][int(a * len(self.bank[c]))] for a, c in zip(u, mg.to_host(labels))]
        return Tensor(mg.to_device(np.stack(rows).reshape(-1, 1, 8, 8).astype(np.float32)))


class Fixed(mg.nn.Module):
    """G(z, y) = one fixed image per requested class (whatever z is)."""

    def __init__(self, per_class):
        super().__init__()
        self.per_class = per_class * 2.0 - 1.0

    def forward(self, z, labels):
        return Tensor(mg.to_device(self.per_class[mg.to_host(labels)].reshape(-1, 1, 8, 8).astype(np.float32)))


def test_judge_rejects_degenerate_models():
    """A bank of held-out digits (truncation picks the typical ones) passes; the same bank of training
    digits (copies), noise, class means, one class and the untrained generator fail."""
    judge = biggan.VARIANT.judge
    t = small(per_class=30, standing_batches=2)
    d, rng = t.data, np.random.default_rng(0)
    generators = {"true": ImageBank(d.x_test, d.y_test), "copies": ImageBank(d.x_train, d.y_train),
                  "noise": Fixed(rng.uniform(size=(10, 64))),
                  "class means": Fixed(np.stack([d.x_train[d.y_train == c].mean(0) for c in range(10)])),
                  "one class": Fixed(np.repeat(d.x_test[d.y_test == 0][:1], 10, axis=0)),
                  "untrained": t.sampler()}
    for name, G in generators.items():
        verdict = judge([t.measure(G)] * 3)
        assert verdict[1] == (name == "true"), (name, verdict[0])
