"""DCGAN: the nets' shapes and the paper's architecture rules, the MNIST judge, the linear probe, a run."""
import numpy as np
import pytest

import minigen as mg
from minigen import backend
from minigen.autograd.tensor import Tensor
from minigen.nn import BatchNorm2d, Conv2d, ConvTranspose2d, LeakyReLU, ReLU, Tanh
from minigen.zoo import dcgan

from helpers import SHARED_MNIST, check_run_lifecycle, digit_samplers, host


@pytest.mark.parametrize("size", [8, 28])
def test_dcgan_shapes(size):
    G, D = dcgan.Generator(latent_dim=5, ch=2, image_size=size), dcgan.Discriminator(ch=2, image_size=size)
    x = G(Tensor(backend.rng().normal((3, 5))))
    assert x.shape == (3, 1, size, size)
    assert float(host(x).min()) >= -1.0 and float(host(x).max()) <= 1.0           # tanh
    assert D(x).shape == (3, 1)
    assert D.features(x).shape == (3, 2 * 2 * (size // 4) ** 2)


def test_dcgan_architecture_rules():
    """G: only transposed convs, BN, ReLU, tanh; D: only strided convs, LeakyReLU(0.2), BN (no pooling);
    weights start ~ N(0, 0.02); Adam(2e-4, beta1 0.5)."""
    t = dcgan.DCGANTask(dcgan.DCGANTask.make_config(0, ch=16))
    G, D = t.gan.generator, t.gan.discriminator
    g_kinds = {type(m) for m in G.net.modules()} - {type(G.net)}
    assert g_kinds == {ConvTranspose2d, BatchNorm2d, ReLU, Tanh}
    d_kinds = {type(m) for m in D.modules()} - {type(D), type(D.body)}
    assert d_kinds == {Conv2d, LeakyReLU, BatchNorm2d}
    assert all(m.stride == (2, 2) for m in D.body.modules() if isinstance(m, Conv2d))
    assert all(m.negative_slope == 0.2 for m in D.modules() if isinstance(m, LeakyReLU))
    w = host(G.net[3].weight)
    assert abs(w.std() - 0.02) < 0.002 and abs(w.mean()) < 0.002
    for opt in (t.opt_g, t.opt_d):
        assert opt.param_groups[0]["lr"] == 2e-4 and opt.param_groups[0]["betas"][0] == 0.5
    z = host(t.gan.sample_latent(500))
    assert z.min() >= -1 and z.max() <= 1 and z.min() < -0.9          # z ~ U(-1, 1)


def test_images_are_signed_for_the_tanh_and_judged_as_rows():
    t = dcgan.DCGANTask(dcgan.DCGANTask.make_config(0, ch=2))
    x, _ = t.loader.next()
    assert x.shape == (64, 1, 8, 8) and host(x).min() >= -1 and host(x).max() <= 1 and host(x).min() < -0.99
    rows = t.rows(x)
    assert rows.shape == (64, 64) and np.allclose(host(t.images(rows)), host(x), atol=1e-6)


@pytest.mark.skipif(not (SHARED_MNIST / "t10k-images-idx3-ubyte.gz").exists(),
                    reason="the MNIST test files are not beside this checkout")
def test_dcgan_on_mnist_is_judged_by_a_classifier_of_mnist():
    """data='mnist': 28x28 nets, and the judge is the reference recipe trained on minigen's MNIST split (the
    8x8 digit judge cannot read MNIST), accurate and confident on real test images."""
    v = dcgan.VARIANT
    r = v.fit(v.config(data="mnist", data_dir=str(SHARED_MNIST), steps=2, ch=2, n_samples=40, probe_steps=5,
                       snapshots=1))
    assert r["judge_accuracy"] >= 0.95 and r["real_confident"] >= 0.8
    assert 0.0 <= r["confident"] <= 1.0 and len(r["class_fractions"]) == 10


def test_linear_probe_separates_the_digits():
    """The probe itself works: even D's random features of the digits are linearly separable well above
    chance (the trained D's are judged against 85%)."""
    t = dcgan.DCGANTask(dcgan.DCGANTask.make_config(0, ch=8))
    assert t.linear_probe(150) > 0.6


def test_run(tmp_path):
    r = check_run_lifecycle(tmp_path, "dcgan", {"steps": 20, "ch": 8, "n_samples": 100, "snapshots": 2,
                                               "probe_steps": 20}, stop_after=13)
    assert len(r["class_fractions"]) == 10
    assert len(list((tmp_path / "full" / "snapshots").glob("*.npy"))) == 2


def test_judge_rejects_degenerate_models():
    """Held-out digits pass; uniform noise, the class mean images, one class only, copies of training digits
    and the untrained generator fail (the linear probe, D's part, set to a passing value)."""
    judge = dcgan.VARIANT.judge
    t = dcgan.DCGANTask(dcgan.DCGANTask.make_config(0, ch=8))
    labels = np.arange(1000) % 10
    samplers = {k: mg.to_device(x.astype(np.float32)) for k, x in digit_samplers(t.data, labels).items()}
    samplers["untrained generator"] = t.generate(t.gan.sample_latent(1000, backend.Generator(1)))
    for name, x in samplers.items():
        verdict = judge([{**t.measure(x), "probe_accuracy": 0.97}] * 3)
        assert verdict[1] == (name == "true"), (name, verdict[0])
