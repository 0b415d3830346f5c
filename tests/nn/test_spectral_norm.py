"""Spectral normalisation (minigen.nn.spectral_norm): sigma tracks the SVD, the gradient flows through
sigma and not into u, v; the buffers are saved, eval mode freezes them, conv kernels work."""
import math

import numpy as np
import pytest

import minigen as mg
from minigen import backend
from minigen import functional as F
from minigen.backend import xp
from minigen.nn import Conv2d, Linear
from minigen.nn.utils import remove_spectral_norm, spectral_norm, spectral_sigma


def svd_sigma(w) -> float:
    """The largest singular value of a weight viewed as (out, -1), in float64."""
    a = w.data if isinstance(w, mg.Tensor) else w
    return float(xp.linalg.svd(a.reshape((a.shape[0], -1)).astype(xp.float64), compute_uv=False)[0])


def with_gap(w, ratio: float = 0.7, seed: int = 0):
    """Give the weight ``w`` (a Parameter) singular values 1, ratio, ratio^2, ... (random singular
    vectors): power iteration then converges like ratio^(2k) from any start, so the tests do not depend on
    how close a random matrix's top singular values happen to be."""
    g = np.random.default_rng(seed)
    a = mg.to_host(w.data)
    m = a.reshape(a.shape[0], -1)
    u, _, vt = np.linalg.svd(g.normal(size=m.shape), full_matrices=False)
    w.data = mg.to_device(((u * ratio ** np.arange(u.shape[1])) @ vt).reshape(a.shape).astype(a.dtype))
    return w


def to_double(layer):
    for p in layer.parameters():
        p.data = p.data.astype(xp.float64)
    return layer


@pytest.mark.parametrize("shape", [(8, 5), (32, 16), (5, 40)])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_sigma_matches_svd_after_20_iterations(shape, seed):
    mg.manual_seed(seed)
    layer = spectral_norm(Linear(shape[1], shape[0]), warmup_iterations=0)   # u starts random
    with_gap(layer.weight_orig, seed=seed)
    x = mg.Tensor(backend.rng().normal((4, shape[1])))
    for _ in range(20):                  # 20 training steps on a fixed W: one power iteration each
        layer(x)
    est, true = spectral_sigma(layer), svd_sigma(layer.weight_orig)
    assert abs(est - true) <= 0.01 * true, (est, true)
    # the layer uses W / sigma: its spectral norm is 1 to the same accuracy
    assert abs(svd_sigma(layer.weight) - 1.0) <= 0.01


def test_conv_kernel_viewed_as_out_by_rest():
    conv = spectral_norm(Conv2d(3, 6, 3, padding=1), warmup_iterations=0)
    with_gap(conv.weight_orig)
    assert tuple(conv.weight_u.shape) == (6,) and tuple(conv.weight_v.shape) == (27,)
    x = mg.Tensor(backend.rng().normal((2, 3, 5, 5)))
    for _ in range(20):
        y = conv(x)
    assert tuple(y.shape) == (2, 6, 5, 5)
    assert abs(spectral_sigma(conv) - svd_sigma(conv.weight_orig)) <= 0.01 * svd_sigma(conv.weight_orig)


def test_warmup_iterations_start_u_near_the_top_singular_vector():
    layer = Linear(16, 32)
    with_gap(layer.weight, ratio=0.8)
    layer = spectral_norm(layer)                     # 15 iterations at wrapping time: 0.8^30 ~ 0.1% off
    true = svd_sigma(layer.weight_orig)
    assert abs(spectral_sigma(layer) - true) <= 0.02 * true


def test_parameters_and_buffers():
    layer = spectral_norm(Linear(3, 4))
    assert sorted(n for n, _ in layer.named_parameters()) == ["bias", "weight_orig"]
    assert sorted(n for n, _ in layer.named_buffers()) == ["weight_u", "weight_v"]
    assert not isinstance(layer.weight_u, mg.Tensor)          # a raw array: nothing can give it a gradient
    assert sorted(layer.state_dict()) == ["bias", "weight_orig", "weight_u", "weight_v"]
    with pytest.raises(RuntimeError):
        spectral_norm(layer)


def test_training_updates_u_eval_freezes_it():
    layer = spectral_norm(Linear(3, 4), warmup_iterations=0)
    x = mg.Tensor(backend.rng().normal((2, 3)))
    u0 = backend.to_host(layer.weight_u).copy()
    layer(x)
    u1 = backend.to_host(layer.weight_u).copy()
    assert abs(u1 - u0).max() > 0                             # one power iteration per training forward
    layer.eval()
    y1, y2 = layer(x).numpy(), layer(x).numpy()
    assert abs(backend.to_host(layer.weight_u) - u1).max() == 0 and abs(y1 - y2).max() == 0


def test_gradient_flows_through_sigma_not_u():
    """With u, v fixed (eval mode), the output is a smooth function of the raw weight: finite differences of
    W -> layer(x) match autograd (first and second order), so the gradient includes d sigma / dW."""
    layer = to_double(spectral_norm(Linear(3, 4)))
    x = mg.Tensor(backend.rng().normal((5, 3), dtype=xp.float64))
    for _ in range(5):
        layer(x)
    layer.eval()
    w = layer.weight_orig

    def fn(weight):
        return layer(x)
    assert mg.gradcheck(fn, [w], name="spectral_norm")
    assert mg.gradgradcheck(fn, [w], name="spectral_norm")


def test_gradient_is_the_papers_formula():
    """dL/dW = (G - [sum(G * W_SN)] u v^T) / sigma with G = dL/dW_SN (Miyato et al., eq. 12): the second term
    is what the gradient through sigma adds; without it the update would ignore the normalisation."""
    layer = to_double(spectral_norm(Linear(4, 6)))
    x = mg.Tensor(backend.rng().normal((5, 4), dtype=xp.float64))
    r = backend.rng().normal((5, 6), dtype=xp.float64)
    for _ in range(10):
        layer(x)
    layer.eval()
    loss = F.sum(layer(x) * mg.Tensor(r))
    loss.backward()
    got = layer.weight_orig.grad.data
    sigma = spectral_sigma(layer)
    G = r.T @ x.data                                             # dL/dW_SN for y = x W_SN^T + b
    u, v = layer.weight_u, layer.weight_v
    want = (G - (G * layer.weight.data).sum() * (u[:, None] * v[None, :])) / sigma
    naive = G / sigma
    assert float(abs(got - want).max()) < 1e-10
    assert float(abs(got - naive).max()) > 1e-3


def test_state_dict_round_trip_and_remove():
    a = spectral_norm(Linear(3, 4))
    x = mg.Tensor(backend.rng().normal((2, 3)))
    for _ in range(3):
        a(x)
    b = spectral_norm(Linear(3, 4))
    b.load_state_dict(a.state_dict())
    a.eval(), b.eval()
    assert float(abs(a(x).data - b(x).data).max()) == 0.0
    y = a(x).numpy()
    remove_spectral_norm(a)
    assert sorted(n for n, _ in a.named_parameters()) == ["bias", "weight"]
    assert not list(a.named_buffers())
    assert float(abs(a(x).numpy() - y).max()) < 1e-6


def test_sigma_of_a_known_matrix():
    layer = spectral_norm(Linear(2, 2, bias=False), warmup_iterations=0)
    layer.weight_orig.data = backend.to_device([[3.0, 0.0], [0.0, 1.0]]).astype(layer.weight_orig.dtype)
    x = mg.Tensor(xp.ones((1, 2), dtype=layer.weight_orig.dtype))
    for _ in range(20):
        layer(x)
    assert math.isclose(spectral_sigma(layer), 3.0, rel_tol=1e-4)


def test_deepcopy_runs_its_own_weights():
    """An EMA copy of a spectrally normalised net must compute (and power-iterate) its own weights, not the
    source's: the forward is a bound method, which deepcopy rebinds to the copy."""
    import copy
    layer = spectral_norm(Linear(3, 4))
    clone = copy.deepcopy(layer)
    clone.weight_orig.data *= 2.0                    # sigma doubles too, so W_SN is unchanged, but...
    clone.bias.data += 1.0                           # ...the copy's own bias must show in its output
    x = mg.Tensor(backend.rng().normal((2, 3)))
    u_src = backend.to_host(layer.weight_u).copy()
    out = clone(x).numpy()
    assert abs(backend.to_host(layer.weight_u) - u_src).max() == 0      # the source was not iterated
    np.testing.assert_allclose(out, layer(x).numpy() + 1.0, rtol=1e-5, atol=1e-5)
