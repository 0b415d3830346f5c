"""The mode-collapse metrics give the right answer where it is known: samples of the true mixture, a
collapsed sampler, samples far from every mode; and the sliced Wasserstein distance on clouds whose
distance is known."""
import math

import numpy as np
import pytest

import minigen as mg
from minigen import metrics
from minigen.data import gaussian_mixture, toy2d


@pytest.mark.parametrize("name", ["ring8", "grid25"])
def test_true_mixture_covers_every_mode_with_about_99_percent_high_quality(name):
    ds = toy2d(name, 2500, seed=3)
    r = metrics.mode_coverage(ds.x, ds.means, ds.std)
    k = len(ds.means)
    assert r.modes == r.n_modes == k
    # 3 sigma in 2-D: P(chi2_2 < 9) = 1 - exp(-4.5) = 0.98889; binomial std on 2,500 samples ~0.002
    assert r.high_quality == pytest.approx(1 - math.exp(-4.5), abs=0.008)
    assert r.reverse_kl < 0.02
    assert sum(r.counts) == round(r.high_quality * 2500) and sum(r.assigned) == 2500


def test_collapsed_sampler_on_three_of_eight_modes():
    ring = toy2d("ring8", 10, seed=0)
    x = np.repeat(ring.means[[0, 3, 5]], 100, axis=0)        # equal weight on 3 of the 8 modes, exactly
    r = metrics.mode_coverage(mg.tensor(x.astype(np.float32)), ring.means, ring.std)
    assert (r.modes, r.n_modes, r.high_quality) == (3, 8, 1.0)
    assert r.reverse_kl == pytest.approx(math.log(8 / 3), rel=1e-9)
    assert r.counts == [100, 0, 0, 100, 0, 100, 0, 0]
    # a random sampler of those 3 modes: same picture up to sampling noise
    c = gaussian_mixture(ring.means[[1, 2, 7]], ring.std, 2500, seed=1)
    r = metrics.mode_coverage(c.x, ring.means, ring.std)
    assert r.modes == 3 and r.reverse_kl == pytest.approx(math.log(8 / 3), abs=0.01)


def test_samples_far_from_every_mode_are_not_high_quality():
    grid = toy2d("grid25", 10, seed=0)
    x = grid.means[:10] + np.array([1.0, 1.0])              # the centres between modes
    r = metrics.mode_coverage(x, grid.means, grid.std)
    assert (r.modes, r.high_quality, r.reverse_kl) == (0, 0.0, math.inf)
    assert sum(r.assigned) == 10


def test_threshold_is_strict_and_in_standard_deviations():
    means = np.array([[0.0, 0.0], [10.0, 0.0]])
    x = np.array([[0.29, 0.0], [0.31, 0.0], [10.0, 0.2]])
    r = metrics.mode_coverage(x, means, std=0.1)
    assert r.counts == [1, 1] and r.high_quality == pytest.approx(2 / 3)
    assert metrics.mode_coverage(x, means, std=0.1, threshold=4.0).counts == [2, 1]


def test_chunking_does_not_change_the_answer():
    ds = toy2d("grid25", 3000, seed=5)
    a = metrics.mode_coverage(ds.x, ds.means, ds.std)
    b = metrics.mode_coverage(ds.x, ds.means, ds.std, chunk=7)
    assert a == b


def test_histogram_kl_uniform():
    assert metrics.histogram_kl_uniform([5, 5, 5, 5]) == pytest.approx(0.0, abs=1e-12)
    assert metrics.histogram_kl_uniform([0, 7, 0, 0]) == pytest.approx(math.log(4))
    p = np.array([1.0, 2.0, 3.0, 0.0])
    q = p / p.sum()
    want = sum(v * math.log(v * 4) for v in q if v > 0)
    assert metrics.histogram_kl_uniform(p) == pytest.approx(want)
    assert metrics.histogram_kl_uniform([0, 0]) == math.inf


def test_summarize_mean_and_std():
    rows = [{"modes": 8, "high_quality": 0.9, "reverse_kl": 0.1}, {"modes": 6, "high_quality": 0.7, "reverse_kl": 0.3}]
    s = metrics.summarize(rows)
    assert s["modes"] == (7.0, 1.0) and s["runs"] == 2
    assert s["high_quality"][0] == pytest.approx(0.8) and s["high_quality"][1] == pytest.approx(0.1)


def test_sliced_wasserstein_known_distances():
    g = mg.backend.Generator(0)
    ds = toy2d("moons", 600, seed=0)
    assert metrics.sliced_wasserstein(ds.x, ds.x, 16, g) == pytest.approx(0.0, abs=1e-12)
    # clouds of different sizes: b is a with every point twice, the same empirical measure
    a = ds.x[:50]
    assert metrics.sliced_wasserstein(a, np.concatenate([a, a]), 32, g) == pytest.approx(0.0, abs=1e-7)
    # a translation by v: W2 of each projection is |theta . v|, and E[(theta . v)^2] = |v|^2 / 2 in 2-D
    v = np.array([3.0, 4.0], np.float32)
    sw = metrics.sliced_wasserstein(ds.x, ds.x + v, 4000, g)
    assert sw == pytest.approx(5 / math.sqrt(2), rel=0.03)
    # unequal sizes against a brute-force merge of the quantile functions
    b = ds.x[100:130] + 0.3
    th = np.array([[1.0], [0.0]])
    pa, pb = np.sort((a @ th)[:, 0]), np.sort((b @ th)[:, 0])
    u = (np.arange(1500) + 0.5) / 1500                       # 1500 = lcm(50, 30): exact midpoints
    brute = np.sqrt(np.mean((pa[(u * 50).astype(int)] - pb[(u * 30).astype(int)]) ** 2))
    got = _sw_along(a, b, th)
    assert got == pytest.approx(brute, rel=1e-6)


def _sw_along(a, b, th):
    """sliced_wasserstein with one fixed direction (a generator whose 'normal' returns th)."""
    class Fixed:
        def normal(self, size, dtype=None):
            return mg.to_device(th.astype(dtype))
    return metrics.sliced_wasserstein(a, b, 1, Fixed())


def test_bad_shapes_raise():
    with pytest.raises(ValueError):
        metrics.mode_coverage(np.zeros((4, 3)), np.zeros((2, 2)), 0.1)
    with pytest.raises(ValueError):
        metrics.mode_coverage(np.zeros((4, 2)), np.zeros((2, 2)), 0.0)
    with pytest.raises(ValueError):
        metrics.sliced_wasserstein(np.zeros((4, 2)), np.zeros((4, 3)))


# ---- two-sample measures: MMD, the PCA baseline, class diversity --------------------------------------

def _dev(a, dtype=np.float64):
    return mg.to_device(np.asarray(a, dtype=dtype))


def test_mmd2_is_the_unbiased_estimator():
    import math

    from minigen.metrics import mmd2
    rs = np.random.default_rng(0)
    x, y = rs.normal(size=(5, 2)), rs.normal(size=(4, 2)) + 0.5
    k = lambda a, b: math.exp(-((a - b) ** 2).sum() / (2 * 0.7 ** 2))   # noqa: E731
    sxx = sum(k(x[i], x[j]) for i in range(5) for j in range(5) if i != j) / 20
    syy = sum(k(y[i], y[j]) for i in range(4) for j in range(4) if i != j) / 12
    sxy = sum(k(a, b) for a in x for b in y) / 20
    assert mmd2(_dev(x), _dev(y), bandwidth=0.7) == pytest.approx(sxx + syy - 2 * sxy, rel=1e-10)


def test_mmd2_separates_a_scale_mismatch_from_the_prior():
    from minigen.metrics import mmd2
    rs = np.random.default_rng(1)
    prior = _dev(rs.normal(size=(2000, 2)))
    same = mmd2(_dev(rs.normal(size=(1000, 2))), prior)
    wide = mmd2(_dev(1.5 * rs.normal(size=(1000, 2))), prior)
    # closed form for N(0, a^2 I) vs N(0, b^2 I), bandwidth 1, d = 2: 1/(1+2a^2) + 1/(1+2b^2) - 2/(1+a^2+b^2)
    exact = 1 / 3 + 1 / (1 + 2 * 2.25) - 2 / (1 + 1 + 2.25)
    assert abs(same) < 0.003
    assert wide == pytest.approx(exact, abs=0.005) and wide > 0.01


def test_pca_reconstruction_mse():
    from minigen.metrics import pca_reconstruction_mse
    rs = np.random.default_rng(2)
    train = rs.normal(size=(200, 6)) * np.array([5.0, 3, 1, 0.5, 0.1, 0.01])
    test = rs.normal(size=(50, 6)) * np.array([5.0, 3, 1, 0.5, 0.1, 0.01])
    errs = [pca_reconstruction_mse(_dev(train), _dev(test), k) for k in range(1, 7)]
    assert all(a > b for a, b in zip(errs, errs[1:])) and errs[-1] < 1e-20
    assert errs[1] == pytest.approx((1 + 0.25 + 0.01 + 1e-4) / 6, rel=0.3)   # k = 2 keeps the first two axes


def test_class_diversity():
    from minigen.metrics import class_diversity
    rs = np.random.default_rng(3)
    x, y = rs.uniform(size=(100, 64)), np.repeat(np.arange(10), 10)
    assert class_diversity(_dev(x), _dev(y, np.int64), _dev(x), _dev(y, np.int64)) == pytest.approx(1.0)
    collapsed = np.repeat(x[::10], 10, axis=0)            # one image per class
    labels = _dev(y, np.int64)
    assert class_diversity(_dev(collapsed), labels, _dev(x), labels) == pytest.approx(0.0, abs=1e-3)


def test_laplacian_pyramid_bands_and_patches():
    """The bands are finest first, halve in size, and the finest band plus the upsampled coarse level give the
    images back; patches lists every neighbourhood (stride 1)."""
    x = np.random.default_rng(0).uniform(size=(3, 1, 8, 8)).astype(np.float32)
    bands = metrics.laplacian_pyramid(x, 3)
    assert [b.shape[2] for b in bands] == [8, 4, 2]
    coarse = mg.functional.avg_pool2d(mg.tensor(x), 2)
    up = mg.functional.resize(coarse, (8, 8), "bilinear")
    np.testing.assert_allclose(mg.to_host(bands[0]) + up.numpy(), x, atol=1e-6)
    p = mg.to_host(metrics.patches(x, 3))
    assert p.shape == (3 * 36, 9)
    np.testing.assert_array_equal(p[0], x[0, 0, :3, :3].ravel())
    with pytest.raises(ValueError, match="cannot be halved"):
        metrics.laplacian_pyramid(np.zeros((1, 1, 6, 6), np.float32), 3)


def test_pyramid_swd_is_zero_for_the_same_set_and_grows_with_blur_and_noise():
    rng = np.random.default_rng(1)
    a = rng.uniform(size=(200, 64)).astype(np.float32)
    same = metrics.pyramid_swd(a, a, (8, 8), n_projections=32)
    assert len(same["levels"]) == 3 and same["swd"] == pytest.approx(0.0, abs=1e-6)
    blurred = np.repeat(a.reshape(200, 4, 2, 4, 2).mean((2, 4)), 2, 1).repeat(2, 2).reshape(200, 64)
    swd = metrics.pyramid_swd(blurred, a, (8, 8), n_projections=32)
    assert swd["levels"][0] > 0.3 > swd["levels"][2]          # the fine band misses its detail, the coarse one not


def test_frechet_distance_of_gaussians():
    """Identical sets: 0; a shift by v: |v|^2; a scale by s of unit Gaussians in d dims: d (s - 1)^2."""
    x = np.random.default_rng(2).normal(size=(4000, 3))
    assert metrics.frechet_distance(x, x) == pytest.approx(0.0, abs=1e-6)
    v = np.array([1.0, 2.0, 2.0])
    assert metrics.frechet_distance(x, x + v) == pytest.approx(9.0, abs=1e-6)
    assert metrics.frechet_distance(x, 2 * x) == pytest.approx(metrics.frechet_distance(x, x) + 3.0, rel=0.05)
