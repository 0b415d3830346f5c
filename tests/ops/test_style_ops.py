"""The ops of progressive and style-based generators: resize (nearest, bilinear, area) against PyTorch's
numbers, pixel norm, minibatch-stddev, the two forms of the modulated convolution (they agree, and
demodulation keeps the output's std at 1 whatever the style's scale), noise injection, and clear errors."""
import numpy as np
import pytest

import minigen as mg
from minigen import functional as F

from helpers import host, t64

X = np.arange(12.0).reshape(1, 1, 3, 4)

# torch.nn.functional.interpolate(torch.arange(12.).reshape(1, 1, 3, 4), size, mode, align_corners=False
# for bilinear), PyTorch 2.13, written down once (PyTorch is no dependency of minigen)
TORCH = {
    ("nearest", (4, 3)): [[0, 1, 2], [0, 1, 2], [4, 5, 6], [8, 9, 10]],
    ("nearest", (2, 3)): [[0, 1, 2], [4, 5, 6]],
    ("bilinear", (4, 3)): [[1 / 6, 1.5, 17 / 6], [8 / 3, 4, 16 / 3], [17 / 3, 7, 25 / 3], [49 / 6, 9.5, 65 / 6]],
    ("bilinear", (2, 3)): [[7 / 6, 2.5, 23 / 6], [43 / 6, 8.5, 59 / 6]],
    ("area", (4, 3)): [[0.5, 1.5, 2.5], [2.5, 3.5, 4.5], [6.5, 7.5, 8.5], [8.5, 9.5, 10.5]],
    ("area", (2, 3)): [[2.5, 3.5, 4.5], [6.5, 7.5, 8.5]],
}


@pytest.mark.parametrize("mode, size", list(TORCH), ids=[f"{m}-{s[0]}x{s[1]}" for m, s in TORCH])
def test_resize_matches_pytorch_interpolate(mode, size):
    y = F.resize(t64(X, requires_grad=False), size, mode)
    np.testing.assert_allclose(host(y)[0, 0], np.array(TORCH[mode, size]), rtol=0, atol=1e-12)


def test_resize_agrees_with_upsample_and_avg_pool_at_integer_factors():
    x = t64(np.random.default_rng(0).normal(size=(2, 3, 4, 6)), requires_grad=False)
    for mode in ("nearest", "bilinear"):
        np.testing.assert_allclose(host(F.resize(x, (8, 12), mode)), host(F.upsample(x, 2, mode)), atol=1e-12)
    np.testing.assert_allclose(host(F.resize(x, (2, 3), "area")), host(F.avg_pool2d(x, 2)), atol=1e-12)


def test_resize_preserves_constants_and_refuses_bad_input():
    x = t64(np.full((1, 2, 5, 7), 3.0), requires_grad=False)
    for mode in ("nearest", "bilinear", "area"):
        assert np.allclose(host(F.resize(x, (3, 11), mode)), 3.0)          # every row of A sums to 1
    with pytest.raises(ValueError, match="mode must be one of"):
        F.resize(x, 4, "bicubic")
    with pytest.raises(ValueError, match="positive"):
        F.resize(x, (0, 4))
    with pytest.raises(ValueError, match="N, C, H, W"):
        F.resize(t64(np.ones((3, 4)), requires_grad=False), 2)


def test_pixel_norm_gives_unit_rms_channels_at_each_pixel():
    x = t64(np.random.default_rng(1).normal(scale=5.0, size=(3, 8, 2, 2)), requires_grad=False)
    y = host(F.pixel_norm(x))
    np.testing.assert_allclose((y ** 2).mean(1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(y / host(x), np.broadcast_to((y / host(x))[:, :1], y.shape), rtol=1e-12)
    with pytest.raises(ValueError, match="pixel_norm"):
        F.pixel_norm(t64(np.ones((2, 3, 4)), requires_grad=False))


def test_minibatch_stddev_appends_each_groups_mean_std():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(6, 3, 2, 2))
    y = host(F.minibatch_stddev(t64(x, requires_grad=False), group_size=3))
    assert y.shape == (6, 4, 2, 2)
    np.testing.assert_array_equal(y[:, :3], x)
    for m in range(2):                      # groups: samples {m, m + 2, m + 4}
        members = x[m::2]
        expect = np.sqrt(members.var(0) + 1e-8).mean()
        for n in range(m, 6, 2):
            np.testing.assert_allclose(y[n, 3], expect, rtol=1e-12)
    # a collapsed batch (every sample the same) has std 0: the feature D uses to spot it
    same = host(F.minibatch_stddev(t64(np.repeat(x[:1], 4, 0), requires_grad=False), 4))
    assert np.abs(same[:, 3]).max() < 1e-3
    with pytest.raises(ValueError, match="groups of 4"):
        F.minibatch_stddev(t64(x, requires_grad=False), 4)


def _modconv_inputs(seed=3, n=3, c=4, o=5, k=3, hw=7):
    rng = np.random.default_rng(seed)
    return (t64(rng.normal(size=(n, c, hw, hw))), t64(rng.normal(size=(o, c, k, k))),
            t64(rng.uniform(0.2, 2.0, size=(n, c))))


@pytest.mark.parametrize("demodulate", [True, False])
def test_modulated_conv_grouped_and_scale_forms_agree_with_a_per_sample_loop(demodulate):
    x, w, s = _modconv_inputs()
    grouped = F.modulated_conv2d(x, w, s, demodulate, padding=1)
    scale = F.modulated_conv2d(x, w, s, demodulate, padding=1, method="scale")
    np.testing.assert_allclose(host(grouped), host(scale), rtol=1e-10, atol=1e-12)
    xs, ws, ss = host(x), host(w), host(s)
    for n in range(3):                      # the definition: sample n convolved with its own weight
        wn = ws * ss[n][None, :, None, None]
        if demodulate:
            wn = wn / np.sqrt((wn ** 2).sum((1, 2, 3), keepdims=True) + 1e-8)
        ref = host(F.conv2d(t64(xs[n:n + 1], False), t64(wn, False), padding=1))
        np.testing.assert_allclose(host(grouped)[n:n + 1], ref, rtol=1e-10, atol=1e-12)
    # and their gradients agree (both forms are checked by finite differences in the registry)
    for a, b in zip(mg.grad((grouped * grouped).sum(), [x, w, s]), mg.grad((scale * scale).sum(), [x, w, s])):
        np.testing.assert_allclose(host(a), host(b), rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("method", ["grouped", "scale"])
def test_demodulated_output_has_unit_std_for_any_style_scale(method):
    """Unit-variance inputs and weights: with demodulation the output's std is 1 +- 0.1 whether the style
    is scaled by 1e-3 or 1e3 (no padding: every output pixel sees a full window); without it, the std follows
    the style's scale."""
    rng = np.random.default_rng(4)
    x = t64(rng.normal(size=(8, 16, 10, 10)), False)
    w = t64(rng.normal(size=(16, 16, 3, 3)) / np.sqrt(16 * 9), False)
    base = rng.uniform(0.5, 2.0, size=(8, 16))
    for scale in (1e-3, 1.0, 1e3):
        y = host(F.modulated_conv2d(x, w, t64(base * scale, False), method=method))
        assert abs(y.std() - 1.0) < 0.1, (scale, y.std())
        raw = host(F.modulated_conv2d(x, w, t64(base * scale, False), demodulate=False, method=method))
        assert 0.3 * scale < raw.std() < 3 * scale


def test_modulated_conv_refuses_mismatched_shapes_and_methods():
    x, w, s = _modconv_inputs()
    with pytest.raises(ValueError, match="disagree"):
        F.modulated_conv2d(x, w, t64(np.ones((2, 4))))
    with pytest.raises(ValueError, match="method"):
        F.modulated_conv2d(x, w, s, method="fused")


def test_inject_noise_adds_one_noise_image_per_sample_scaled_per_channel():
    rng = np.random.default_rng(5)
    x, noise, b = rng.normal(size=(2, 3, 4, 4)), rng.normal(size=(2, 1, 4, 4)), np.array([0.0, 1.0, -2.0])
    y = host(F.inject_noise(t64(x, False), t64(noise, False), t64(b, False)))
    np.testing.assert_allclose(y, x + b[None, :, None, None] * noise, rtol=1e-12)
    with pytest.raises(ValueError, match="inject_noise"):
        F.inject_noise(t64(x, False), t64(rng.normal(size=(2, 3, 4, 4)), False), t64(b, False))
