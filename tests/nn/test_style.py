"""The layers of progressive and style-based generators: the equalised learning rate as a layer option,
pixel norm and minibatch-stddev layers, noise injection with a learned per-channel strength, the modulated
convolution layer, the truncation trick and style mixing."""
import math

import numpy as np
import pytest

import minigen as mg
from minigen import backend
from minigen import functional as F
from minigen.nn import Conv2d, Linear, MinibatchStdDev, ModulatedConv2d, NoiseInjection, PixelNorm
from minigen.nn.style import broadcast_styles, mix_styles, truncate
from minigen.optim import Adam

from helpers import host


def test_equalized_layers_store_unit_normal_weights_and_scale_them_at_run_time():
    mg.manual_seed(0)
    lin = Linear(400, 300, equalized=True)
    w = host(lin.weight)
    assert abs(w.std() - 1.0) < 0.01 and np.all(host(lin.bias) == 0)
    x = mg.tensor(np.random.default_rng(0).normal(size=(5, 400)).astype(np.float32))
    expect = host(x) @ (w * math.sqrt(2.0) / math.sqrt(400)).T
    np.testing.assert_allclose(host(lin(x)), expect, rtol=1e-4, atol=1e-5)
    conv = Conv2d(3, 4, 3, padding=1, equalized=True, gain=1.0)
    xi = mg.tensor(np.random.default_rng(1).normal(size=(2, 3, 5, 5)).astype(np.float32))
    ref = F.conv2d(xi, conv.weight * (1.0 / math.sqrt(27)), conv.bias, padding=1)
    np.testing.assert_allclose(host(conv(xi)), host(ref), rtol=1e-5, atol=1e-6)
    slow = Linear(8, 8, equalized=True, lr_mul=0.01, bias_init=1.0)
    assert abs(host(slow.weight).std() - 100.0) < 40 and np.allclose(host(slow.bias) * 0.01, 1.0)
    with pytest.raises(ValueError, match="lr_mul > 0"):
        Linear(3, 3, equalized=True, lr_mul=0.0)


def test_equalized_learning_rate_moves_wide_and_narrow_layers_alike():
    """One Adam step moves each stored weight by about lr whatever its gradient's scale, so the relative change
    of the weights a layer uses is lr / std(stored weight): about lr for every equalised layer (stored std 1),
    but sqrt(3 fan_in) lr with PyTorch's default init (std 1 / sqrt(3 fan_in)): a layer 100 times wider
    learns 10 times faster.  That imbalance is what the equalised learning rate removes."""
    def relative_change(fan_in, equalized):
        mg.manual_seed(0)
        layer = Linear(fan_in, 16, bias=False, equalized=equalized, gain=1.0)
        x = mg.tensor(np.random.default_rng(2).normal(size=(64, fan_in)).astype(np.float32))
        before = host(layer.scaled_params()[0]).copy()
        opt = Adam(layer.parameters(), lr=0.01)
        (layer(x) ** 2).mean().backward()
        opt.step()
        after = host(layer.scaled_params()[0])
        return np.linalg.norm(after - before) / np.linalg.norm(before)
    eq = [relative_change(n, True) for n in (4, 400)]
    plain = [relative_change(n, False) for n in (4, 400)]
    assert 0.8 < eq[1] / eq[0] < 1.25 and abs(eq[0] - 0.01) < 0.003
    assert plain[1] / plain[0] > 8.0


def test_pixel_norm_and_minibatch_stddev_layers():
    x = mg.tensor(np.random.default_rng(3).normal(size=(4, 6, 3, 3)).astype(np.float32))
    np.testing.assert_allclose((host(PixelNorm()(x)) ** 2).mean(1), 1.0, rtol=1e-5)
    assert MinibatchStdDev(2)(x).shape == (4, 7, 3, 3)


def test_noise_injection_starts_silent_and_learns_a_strength_per_channel():
    mg.manual_seed(0)
    layer = NoiseInjection(3)
    x = mg.tensor(np.random.default_rng(4).normal(size=(2, 3, 4, 4)).astype(np.float32))
    np.testing.assert_array_equal(host(layer(x)), host(x))                 # strength 0 at the start
    layer.weight.data = backend.to_device(np.array([0.0, 1.0, 2.0], dtype=np.float32))
    noise = mg.tensor(np.random.default_rng(5).normal(size=(2, 1, 4, 4)).astype(np.float32))
    y = host(layer(x, noise))
    np.testing.assert_allclose(y[:, 2] - host(x)[:, 2], 2.0 * host(noise)[:, 0], rtol=1e-6)
    a, b = host(layer(x)), host(layer(x))
    assert not np.allclose(a, b)                                            # fresh noise at each call
    (layer(x, noise) * x).sum().backward()
    expect = (host(x) * host(noise)).sum((0, 2, 3))
    np.testing.assert_allclose(host(layer.weight.grad), expect, rtol=1e-5)


@pytest.mark.parametrize("method", ["grouped", "scale"])
def test_modulated_conv_layer_style_starts_at_one_and_keeps_unit_std(method):
    mg.manual_seed(0)
    layer = ModulatedConv2d(16, 16, 3, w_dim=8, method=method)
    w = mg.tensor(np.zeros((4, 8), dtype=np.float32))
    np.testing.assert_allclose(host(layer.style(w)), 1.0)                   # s = A(0) = bias = 1
    x = mg.tensor(np.random.default_rng(6).normal(size=(4, 16, 12, 12)).astype(np.float32))
    for scale in (0.1, 10.0):
        y = host(layer(x, mg.tensor(np.random.default_rng(7).normal(scale=scale, size=(4, 8)).astype(np.float32))))
        assert y.shape == (4, 16, 12, 12)
        assert abs(y[:, :, 1:-1, 1:-1].std() - 1.0) < 0.1                  # the interior: a full window
    with pytest.raises(ValueError, match="odd kernel"):
        ModulatedConv2d(2, 2, 2, w_dim=3)


def test_truncation_pulls_latents_to_the_average():
    w = np.random.default_rng(8).normal(size=(5, 4))
    avg = np.array([1.0, 2.0, 3.0, 4.0])
    np.testing.assert_array_equal(truncate(w, avg, 1.0), w)
    np.testing.assert_allclose(truncate(w, avg, 0.0), np.broadcast_to(avg, w.shape))
    np.testing.assert_allclose(truncate(w, avg, 0.5), avg + 0.5 * (w - avg))
    with pytest.raises(ValueError, match="psi"):
        truncate(w, avg, 1.5)


def test_style_mixing_takes_coarse_layers_from_one_latent_and_fine_from_the_other():
    rng = np.random.default_rng(9)
    w1, w2 = (mg.tensor(rng.normal(size=(3, 4)), requires_grad=True) for _ in range(2))
    k = backend.to_device(np.array([0, 2, 5]))
    ws = mix_styles(w1, w2, k, 5)
    got = host(ws)
    for n, cut in enumerate([0, 2, 5]):
        for layer in range(5):
            src = host(w1)[n] if layer < cut else host(w2)[n]
            np.testing.assert_array_equal(got[n, layer], src)
    np.testing.assert_array_equal(host(mix_styles(w1, w2, 5, 5)), host(broadcast_styles(w1, 5)))
    ws.sum().backward()                                      # each latent gets the gradient of its layers
    np.testing.assert_array_equal(host(w1.grad)[:, 0], [0, 2, 5])
    with pytest.raises(ValueError, match="one per sample"):
        mix_styles(w1, w2, backend.to_device(np.array([1, 2])), 5)
