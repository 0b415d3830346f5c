"""The VAE's whole objective is gradient-checked; the reparameterization is shown at work."""
import math

import numpy as np
import pytest

import minigen as mg
from minigen import functional as F
from minigen.models import VAE, AutoEncoder

from helpers import host, t64

RNG = np.random.default_rng(0)


def _data(n, d, binary=False):
    x = RNG.uniform(0.05, 0.95, size=(n, d))
    return t64(x, requires_grad=True)


CONFIGS = {
    "bernoulli": dict(likelihood="bernoulli"),
    "gaussian-fixed": dict(likelihood="gaussian", fixed_variance=0.3),
    "gaussian-learned": dict(likelihood="gaussian"),
}


@pytest.mark.parametrize("cfg", CONFIGS.values(), ids=CONFIGS.keys())
def test_negative_elbo_gradcheck_every_parameter_and_input(cfg):
    vae = VAE(4, 2, hidden=(5,), activation="tanh", **cfg).double()
    x = _data(3, 4)
    eps = t64(RNG.normal(size=(3, 2)), requires_grad=False)   # eps held fixed
    params = list(vae.parameters())
    assert len(params) == 10    # encoder trunk, mu and logvar heads, 2 decoder layers: weights and biases
    assert mg.gradcheck(lambda x, *ps: vae.elbo(x, eps=eps).loss(), [x, *params], name="-ELBO")


@pytest.mark.parametrize("cfg", CONFIGS.values(), ids=CONFIGS.keys())
def test_negative_elbo_gradgradcheck(cfg):
    vae = VAE(3, 2, hidden=(3,), activation="tanh", **cfg).double()
    x = _data(2, 3)
    eps = t64(RNG.normal(size=(2, 2)), requires_grad=False)
    params = list(vae.parameters())
    assert mg.gradgradcheck(lambda x, *ps: vae.elbo(x, eps=eps).loss(), [x, *params[:4]], name="-ELBO")


def test_multi_sample_elbo_gradcheck():
    vae = VAE(3, 2, hidden=(4,), activation="tanh").double()
    x = _data(2, 3)
    eps = t64(RNG.normal(size=(5, 2, 2)), requires_grad=False)
    assert mg.gradcheck(lambda *ps: vae.elbo(x, eps=eps).loss(), list(vae.parameters()))


def test_gradient_reaches_mu_and_logvar_through_z():
    """dL/dmu and dL/dlogvar through z = mu + exp(logvar/2) eps, against the chain rule by hand."""
    mu, logvar = t64([[0.3, -0.2]]), t64([[0.1, -0.5]])
    eps = t64([[0.7, -1.1]], requires_grad=False)
    z = VAE.reparameterize(mu, logvar, eps)
    f = (z * z).sum()                          # any f(z): here |z|^2, df/dz = 2z
    f.backward()
    zh = host(z)
    np.testing.assert_allclose(host(mu.grad), 2 * zh)                                        # dz/dmu = 1
    np.testing.assert_allclose(host(logvar.grad), 2 * zh * 0.5 * np.exp(0.5 * host(logvar)) * host(eps))


def test_elbo_is_deterministic_given_eps_and_random_without():
    vae = VAE(6, 2, hidden=(8,))
    x = mg.tensor(RNG.uniform(size=(4, 6)).astype(np.float32))
    eps = mg.tensor(RNG.normal(size=(4, 2)).astype(np.float32))
    a, b = vae.elbo(x, eps=eps).elbo, vae.elbo(x, eps=eps).elbo
    np.testing.assert_array_equal(host(a), host(b))
    c, d = vae.elbo(x).elbo, vae.elbo(x).elbo
    assert not np.array_equal(host(c), host(d))


def test_kl_term_and_its_gradient_match_closed_form():
    mu, logvar = t64([[0.5, -1.0, 0.0]]), t64([[0.2, -0.3, 1.0]])
    kl = F.sum(F.kl_normal_standard(mu, logvar), axis=-1)
    m, lv = host(mu), host(logvar)
    np.testing.assert_allclose(host(kl), 0.5 * (m ** 2 + np.exp(lv) - 1 - lv).sum(-1))
    kl.sum().backward()
    np.testing.assert_allclose(host(mu.grad), m)                        # d KL / d mu = mu
    np.testing.assert_allclose(host(logvar.grad), 0.5 * (np.exp(lv) - 1))   # d KL / d logvar


def test_elbo_terms_add_up_and_shapes():
    vae = VAE(6, 3, hidden=(8, 4))
    x = mg.tensor(RNG.uniform(size=(5, 6)).astype(np.float32))
    e = vae.elbo(x)
    assert e.elbo.shape == e.reconstruction.shape == e.kl.shape == (5,)
    np.testing.assert_allclose(host(e.elbo), host(e.reconstruction) - host(e.kl), rtol=1e-6)
    assert np.all(host(e.kl) >= 0)
    assert e.elbo.dtype == np.float32


def test_iwae_is_at_least_the_elbo_and_tightens():
    mg.manual_seed(1)
    vae = VAE(6, 2, hidden=(8,))
    x = mg.tensor(RNG.uniform(size=(8, 6)).astype(np.float32))
    elbo = np.mean([host(vae.elbo(x).elbo).mean() for _ in range(200)])
    iw1 = host(vae.iwae(x, k=1)).mean()
    iw500 = host(vae.iwae(x, k=500, chunk=128)).mean()
    assert abs(iw1 - elbo) < 0.5          # k = 1 is the ELBO (a noisy estimate)
    assert iw500 >= elbo


def test_bad_shape_is_named():
    vae = VAE(6, 2)
    with pytest.raises(ValueError, match=r"VAE: expected data of shape \(N, 6\), got \(4, 5\)"):
        vae.elbo(mg.tensor(np.zeros((4, 5), np.float32)))


def test_autoencoder_gradcheck_and_sample_shapes():
    ae = AutoEncoder(4, 2, hidden=(5,), activation="tanh").double()
    x = _data(3, 4)
    assert mg.gradcheck(lambda x, *ps: ae.loss(x), [x, *ae.parameters()])
    vae = VAE(4, 2, hidden=(5,))
    s = vae.sample(7)
    assert s.shape == (7, 4) and np.all((host(s) >= 0) & (host(s) <= 1))
    assert vae.reconstruct(mg.tensor(np.zeros((3, 4), np.float32))).shape == (3, 4)
    assert math.isfinite(float(ae.loss(mg.tensor(np.zeros((3, 4)))).item()))
