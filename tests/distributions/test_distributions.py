"""Tests of the distribution objects, the closed-form KLs and the discrete information helpers.

Monte Carlo comparisons use a fixed seed and allow 4 standard errors (the chance that a correct
implementation lands outside is 6e-5 per comparison); analytic ones compare with scipy.stats on the host.
Gradients are checked against finite differences in float64 with minigen.gradcheck.
"""
import math
import warnings

import numpy as np
import pytest
from scipy import stats

import minigen as mg
import minigen.distributions as D
from minigen import functional as F
from minigen.backend import Generator

from helpers import assert_seeded, host, t64

COV3 = np.array([[2.0, 0.8, 0.3],
                 [0.8, 1.0, -0.2],
                 [0.3, -0.2, 0.5]])
MU3 = np.array([0.5, -1.0, 2.0])


def tril_of(A):
    """A Tensor's lower triangle, as a differentiable op (so gradchecks may perturb every entry)."""
    d = A.shape[-1]
    return A * mg.tensor(np.tril(np.ones((d, d))))


# ----------------------------------------------------------------------------------------------------
# Normal
# ----------------------------------------------------------------------------------------------------

def test_normal_shapes_and_gradient_flags():
    loc = mg.tensor([0.0, 1.0, -1.0], requires_grad=True)
    n = D.Normal(loc, 2.0)
    assert n.batch_shape == (3,) and n.event_shape == ()
    z = n.rsample((4, 5))
    assert z.shape == (4, 5, 3) and z.requires_grad
    s = n.sample(7)
    assert s.shape == (7, 3) and not s.requires_grad and s.creator is None
    assert n.log_prob(z).shape == (4, 5, 3)
    assert host(n.stddev).tolist() == [2.0, 2.0, 2.0]
    assert host(n.variance).tolist() == [4.0, 4.0, 4.0]
    with pytest.raises(ValueError, match="scale must be positive"):
        D.Normal(0.0, mg.tensor([1.0, 0.0]))


def test_normal_log_prob_and_entropy_match_scipy():
    loc, scale = np.array([0.3, -1.0, 2.0]), np.array([0.5, 1.0, 3.0])
    x = np.array([[0.0, 1.0, -2.0], [0.3, -1.0, 2.0]])
    n = D.Normal(t64(loc, False), t64(scale, False))
    np.testing.assert_allclose(host(n.log_prob(t64(x, False))), stats.norm.logpdf(x, loc, scale), rtol=1e-12)
    np.testing.assert_allclose(host(n.entropy()), stats.norm.entropy(loc, scale), rtol=1e-12)


def test_normal_samples_have_the_right_moments():
    n = D.Normal(t64([1.0, -2.0], False), t64([0.5, 3.0], False))
    z = host(n.sample(100_000, generator=Generator(1)))
    se_mean = np.array([0.5, 3.0]) / math.sqrt(100_000)
    assert np.all(np.abs(z.mean(0) - [1.0, -2.0]) < 4 * se_mean)
    assert np.all(np.abs(z.std(0) - [0.5, 3.0]) < 4 * np.array([0.5, 3.0]) / math.sqrt(2 * 100_000))


def test_normal_reparameterized_gradient_of_e_z_squared():
    """E[z^2] = mu^2 + sigma^2, so dE/dmu = 2 mu and dE/dsigma = 2 sigma.  The pathwise estimates are means
    of 2z and 2 z eps, whose standard deviations are 2 sigma and 2 sqrt(mu^2 + 2 sigma^2) per draw."""
    mu, sigma, n = np.array([0.5, -1.5, 2.0]), np.array([1.0, 0.3, 2.0]), 200_000
    loc, scale = t64(mu), t64(sigma)
    z = D.Normal(loc, scale).rsample((n,), generator=Generator(2))
    (z * z).mean(axis=0).sum().backward()
    assert np.all(np.abs(host(loc.grad) - 2 * mu) < 4 * 2 * sigma / math.sqrt(n))
    sd_sigma = 2 * np.sqrt(mu ** 2 + 2 * sigma ** 2) / math.sqrt(n)
    assert np.all(np.abs(host(scale.grad) - 2 * sigma) < 4 * sd_sigma)


def test_normal_log_prob_and_entropy_gradcheck():
    x = t64([[0.1, -0.7, 2.5], [1.0, 0.0, -1.0]])
    def log_prob(m, s, v):
        return D.Normal(m, s).log_prob(v)

    assert mg.gradcheck(log_prob, [t64([0.3, -1.0, 2.0]), t64([0.5, 1.2, 3.0]), x])
    assert mg.gradgradcheck(log_prob, [t64([0.3, -1.0, 2.0]), t64([0.5, 1.2, 3.0]), x])
    assert mg.gradcheck(lambda s: D.Normal(0.0, s).entropy(), [t64([0.5, 1.2, 3.0])])


def test_normal_kl_closed_form():
    m1, s1, m2, s2 = [0.5, -1.0, 0.0], [0.7, 2.0, 1.0], [0.0, 1.0, 0.0], [1.0, 0.5, 1.0]
    p, q = D.Normal(t64(m1, False), t64(s1, False)), D.Normal(t64(m2, False), t64(s2, False))
    kl = host(D.kl_divergence(p, q))
    # the engine's loss op, which takes log-variances, agrees
    lv1, lv2 = 2 * np.log(s1), 2 * np.log(s2)
    ref = host(F.kl_normal(t64(m1, False), t64(lv1, False), t64(m2, False), t64(lv2, False)))
    np.testing.assert_allclose(kl, ref, rtol=1e-12)
    assert kl[2] == 0.0 and np.all(kl[:2] > 0)                 # KL(p||p) = 0, else > 0
    np.testing.assert_allclose(host(D.kl_divergence(p, p)), 0.0, atol=1e-15)
    est, se = D.mc_kl(p, q, 200_000, generator=Generator(3))
    assert np.all(np.abs(host(est) - kl)[:2] < 4 * host(se)[:2])
    assert mg.gradcheck(lambda a, b, c, d: D.kl_divergence(D.Normal(a, b), D.Normal(c, d)),
                        [t64(m1), t64(s1), t64(m2), t64(s2)])


# ----------------------------------------------------------------------------------------------------
# MultivariateNormal
# ----------------------------------------------------------------------------------------------------

def test_mvn_rsample_reproduces_a_full_covariance():
    n = 200_000
    mvn = D.MultivariateNormal(t64(MU3, False), covariance_matrix=t64(COV3, False))
    z = host(mvn.rsample((n,), generator=Generator(4)))
    assert z.shape == (n, 3)
    # standard error of a sample covariance entry: sqrt((S_ii S_jj + S_ij^2) / n) <= 0.0095 here
    se = np.sqrt((np.outer(np.diag(COV3), np.diag(COV3)) + COV3 ** 2) / n)
    assert np.all(np.abs(np.cov(z, rowvar=False) - COV3) < 4 * se)
    assert np.all(np.abs(z.mean(0) - MU3) < 4 * np.sqrt(np.diag(COV3) / n))


def test_mvn_log_prob_and_entropy_match_scipy():
    x = np.random.default_rng(0).normal(size=(6, 3)) * 2
    ref = stats.multivariate_normal(MU3, COV3)
    by_cov = D.MultivariateNormal(t64(MU3, False), covariance_matrix=t64(COV3, False))
    by_tril = D.MultivariateNormal(t64(MU3, False), scale_tril=t64(np.linalg.cholesky(COV3), False))
    for mvn in (by_cov, by_tril):
        np.testing.assert_allclose(host(mvn.log_prob(t64(x, False))), ref.logpdf(x), rtol=1e-10)
        np.testing.assert_allclose(float(host(mvn.entropy())), ref.entropy(), rtol=1e-12)
    np.testing.assert_allclose(host(by_tril.covariance_matrix), COV3, atol=1e-12)
    np.testing.assert_allclose(host(by_cov.variance), np.diag(COV3), rtol=1e-12)


def test_mvn_batches_broadcast():
    Ls = np.stack([np.linalg.cholesky(COV3), np.diag([1.0, 2.0, 0.5])])        # batch of 2 scale matrices
    mvn = D.MultivariateNormal(t64(MU3, False), scale_tril=t64(Ls, False))
    assert mvn.batch_shape == (2,) and mvn.event_shape == (3,)
    z = mvn.sample((5,))
    assert z.shape == (5, 2, 3)
    lp = host(mvn.log_prob(z))
    zh = host(z)
    for b in range(2):
        np.testing.assert_allclose(lp[:, b], stats.multivariate_normal(MU3, Ls[b] @ Ls[b].T).logpdf(zh[:, b]),
                                   rtol=1e-10)


def test_mvn_reparameterized_gradients():
    """f(z) = ||z||^2 has E f = ||mu||^2 + ||L||_F^2, so dE/dmu = 2 mu and dE/dL = 2 L.  The pathwise
    estimates average 2 z_i and 2 z_i eps_j, of standard deviation 2 sqrt(S_ii) and
    2 sqrt(mu_i^2 + S_ii + L_ij^2) per draw."""
    n = 200_000
    L0 = np.linalg.cholesky(COV3)
    loc, L = t64(MU3), t64(L0)
    z = D.MultivariateNormal(loc, scale_tril=L).rsample((n,), generator=Generator(5))
    (z * z).sum(axis=1).mean().backward()
    S = np.diag(COV3)
    assert np.all(np.abs(host(loc.grad) - 2 * MU3) < 4 * 2 * np.sqrt(S) / math.sqrt(n))
    sd_L = 2 * np.sqrt(MU3[:, None] ** 2 + S[:, None] + L0 ** 2) / math.sqrt(n)
    assert np.all(np.abs(host(L.grad) - 2 * L0) < 4 * sd_L)


def test_mvn_log_prob_gradcheck_through_the_triangular_solve():
    x = t64(np.random.default_rng(1).normal(size=(4, 3)))
    A = t64(np.linalg.cholesky(COV3))

    def f(loc, A, x):
        return D.MultivariateNormal(loc, scale_tril=tril_of(A)).log_prob(x)

    assert mg.gradcheck(f, [t64(MU3), A, x])
    assert mg.gradgradcheck(f, [t64(MU3), A, x])
    assert mg.gradcheck(lambda A: D.MultivariateNormal(t64(MU3, False), scale_tril=tril_of(A)).entropy(), [A])


def test_mvn_kl_closed_form():
    Lp = np.linalg.cholesky(COV3)
    Lq = np.linalg.cholesky(np.array([[1.0, 0.3, 0.0], [0.3, 2.0, 0.5], [0.0, 0.5, 1.5]]))
    mq = np.array([0.0, 0.5, 1.0])
    p = D.MultivariateNormal(t64(MU3, False), scale_tril=t64(Lp, False))
    q = D.MultivariateNormal(t64(mq, False), scale_tril=t64(Lq, False))
    kl = float(host(D.kl_divergence(p, q)))
    Sq_inv = np.linalg.inv(Lq @ Lq.T)
    ref = 0.5 * (np.trace(Sq_inv @ COV3) + (mq - MU3) @ Sq_inv @ (mq - MU3) - 3
                 + np.linalg.slogdet(Lq @ Lq.T)[1] - np.linalg.slogdet(COV3)[1])
    np.testing.assert_allclose(kl, ref, rtol=1e-12)
    assert abs(float(host(D.kl_divergence(p, p)))) < 1e-12
    est, se = D.mc_kl(p, q, 200_000, generator=Generator(6))
    assert abs(float(host(est)) - kl) < 4 * float(host(se))
    # diagonal covariances: the sum of the elementwise Normal KLs
    pd = D.MultivariateNormal(t64(MU3, False), scale_tril=t64(np.diag([0.5, 1.0, 2.0]), False))
    qd = D.MultivariateNormal(t64(mq, False), scale_tril=t64(np.diag([1.0, 0.7, 1.5]), False))
    per_dim = D.kl_divergence(D.Normal(t64(MU3, False), t64([0.5, 1.0, 2.0], False)),
                              D.Normal(t64(mq, False), t64([1.0, 0.7, 1.5], False)))
    np.testing.assert_allclose(float(host(D.kl_divergence(pd, qd))), host(per_dim).sum(), rtol=1e-12)

    def f(m1, A1, m2, A2):
        return D.kl_divergence(D.MultivariateNormal(m1, scale_tril=tril_of(A1)),
                               D.MultivariateNormal(m2, scale_tril=tril_of(A2)))

    assert mg.gradcheck(f, [t64(MU3), t64(Lp), t64(mq), t64(Lq)])


def test_mvn_validates_its_arguments():
    with pytest.raises(ValueError, match="exactly one"):
        D.MultivariateNormal(MU3)
    with pytest.raises(ValueError, match="exactly one"):
        D.MultivariateNormal(MU3, covariance_matrix=COV3, scale_tril=COV3)
    with pytest.raises(ValueError, match="not positive definite"):
        D.MultivariateNormal(np.zeros(2), covariance_matrix=np.array([[1.0, 2.0], [2.0, 1.0]]))
    with pytest.raises(ValueError, match="not symmetric"):
        D.MultivariateNormal(np.zeros(2), covariance_matrix=np.array([[1.0, 0.5], [0.0, 1.0]]))
    with pytest.raises(ValueError, match="lower-triangular"):
        D.MultivariateNormal(np.zeros(2), scale_tril=np.array([[1.0, 0.5], [0.0, 1.0]]))
    with pytest.raises(ValueError, match="positive diagonal"):
        D.MultivariateNormal(np.zeros(2), scale_tril=np.array([[1.0, 0.0], [0.5, -1.0]]))
    with pytest.raises(ValueError, match="d = 3"):
        D.MultivariateNormal(MU3, covariance_matrix=np.eye(2))


# ----------------------------------------------------------------------------------------------------
# Bernoulli, Categorical, Gumbel-softmax
# ----------------------------------------------------------------------------------------------------

def test_bernoulli_is_stable_at_huge_logits():
    logits = mg.tensor([1e4, -1e4, 0.0], requires_grad=True)
    b = D.Bernoulli(logits=logits)
    lp1, lp0 = b.log_prob(mg.tensor([1.0, 1.0, 1.0])), b.log_prob(mg.tensor([0.0, 0.0, 0.0]))
    np.testing.assert_allclose(host(lp1), [0.0, -1e4, -math.log(2)], rtol=1e-6)
    np.testing.assert_allclose(host(lp0), [-1e4, 0.0, -math.log(2)], rtol=1e-6)
    np.testing.assert_allclose(host(b.entropy()), [0.0, 0.0, math.log(2)], atol=1e-6)
    (lp1.sum() + lp0.sum()).backward()
    np.testing.assert_allclose(host(logits.grad), [-1.0, 1.0, 0.0], atol=1e-6)   # (1 - p) + (0 - p) = 1 - 2p


def test_bernoulli_from_probs_samples_and_entropy():
    p = np.array([0.1, 0.5, 0.85])
    b = D.Bernoulli(probs=t64(p, False))
    bl = D.Bernoulli(logits=t64(np.log(p / (1 - p)), False))
    x = t64([1.0, 0.0, 1.0], False)
    np.testing.assert_allclose(host(b.log_prob(x)), host(bl.log_prob(x)), rtol=1e-12)
    np.testing.assert_allclose(host(b.entropy()), stats.bernoulli.entropy(p), rtol=1e-10)
    s = host(b.sample(100_000, generator=Generator(7)))
    assert set(np.unique(s)) <= {0.0, 1.0}
    assert np.all(np.abs(s.mean(0) - p) < 4 * np.sqrt(p * (1 - p) / 100_000))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        D.Bernoulli(probs=[0.5, 1.5])
    est, se = D.mc_kl(b, D.Bernoulli(probs=t64([0.3, 0.5, 0.5], False)), 100_000, generator=Generator(8))
    kl = host(D.kl_divergence(b, D.Bernoulli(probs=t64([0.3, 0.5, 0.5], False))))
    assert np.all(np.abs(host(est) - kl) < 4 * host(se) + 1e-12)
    assert kl[1] == pytest.approx(0.0, abs=1e-12) and kl[0] > 0


def test_categorical_is_stable_at_huge_logits():
    logits = mg.tensor([1e4, 0.0, -1e4], requires_grad=True)
    c = D.Categorical(logits=logits)
    lp = c.log_prob(mg.tensor(np.array([0, 1, 2])))
    np.testing.assert_allclose(host(lp), [0.0, -1e4, -2e4], rtol=1e-6)
    assert float(host(c.entropy())) == pytest.approx(0.0, abs=1e-6)
    lp.sum().backward()
    np.testing.assert_allclose(host(logits.grad), [-2.0, 1.0, 1.0], atol=1e-6)   # one-hot(k) - p, summed


def test_categorical_log_prob_batches_and_sampling():
    logits = np.array([[0.2, -1.0, 1.5], [2.0, 0.0, 0.0]])
    c = D.Categorical(logits=t64(logits, False))
    logp = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    v = np.array([[0, 2], [1, 1], [2, 0]])
    expected = np.take_along_axis(logp, v.T, 1).T
    np.testing.assert_allclose(host(c.log_prob(mg.to_device(v))), expected, rtol=1e-12)
    np.testing.assert_allclose(host(c.entropy()), -(np.exp(logp) * logp).sum(-1), rtol=1e-12)
    s = host(c.sample(50_000, generator=Generator(9)))          # Gumbel-max
    assert s.shape == (50_000, 2) and s.dtype == np.int64
    for b in range(2):
        counts = np.bincount(s[:, b], minlength=3)
        assert stats.chisquare(counts, 50_000 * np.exp(logp[b])).pvalue > 0.01
    with mg.detect_anomaly(), pytest.raises(ValueError, match=r"labels must be in \[0, 3\)"):
        c.log_prob(mg.to_device(np.array([[0, 3]])))
    with pytest.raises(TypeError, match="integer labels"):
        c.log_prob(mg.to_device(np.array([[0.0, 1.0]])))


def test_categorical_with_zero_probabilities():
    c = D.Categorical(probs=t64([0.5, 0.5, 0.0], False))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert float(host(c.entropy())) == pytest.approx(math.log(2), rel=1e-12)
        assert host(c.log_prob(mg.to_device(np.array([2]))))[0] == -np.inf
    assert np.bincount(host(c.sample(5000)), minlength=3)[2] == 0
    q = D.Categorical(probs=t64([0.2, 0.3, 0.5], False))
    np.testing.assert_allclose(float(host(D.kl_divergence(c, q))),
                               float(host(D.kl_divergence([0.5, 0.5, 0.0], [0.2, 0.3, 0.5]))), rtol=1e-12)
    assert float(host(D.kl_divergence(q, c))) == np.inf         # q puts mass where c has none


def test_gumbel_softmax_hard_is_one_hot_with_the_soft_gradient():
    logits = t64(np.tile([0.3, -1.2, 2.0, 0.5], (6, 1)))
    w = t64(np.random.default_rng(2).normal(size=(6, 4)), False)
    soft = D.gumbel_softmax(logits, 0.7, generator=Generator(10))
    (soft * w).sum().backward()
    g_soft = host(logits.grad)
    logits.grad = None
    hard = D.gumbel_softmax(logits, 0.7, hard=True, generator=Generator(10))
    (hard * w).sum().backward()
    h = host(hard)
    assert set(np.unique(h)) == {0.0, 1.0} and np.all(h.sum(1) == 1)
    np.testing.assert_array_equal(h.argmax(1), host(soft).argmax(1))
    np.testing.assert_allclose(host(logits.grad), g_soft, rtol=1e-12)
    assert np.abs(g_soft).max() > 0


def test_relaxed_one_hot_categorical_density_and_samples():
    """For K = 2, y_1 = sigmoid((l_1 - l_2 + g_1 - g_2) / tau) with g_1 - g_2 ~ Logistic(0, 1), so
    P(y_1 <= t) = sigmoid(tau logit(t) - (l_1 - l_2)); its derivative is the Concrete density."""
    tau, logits = 0.6, np.array([0.8, -0.4])
    dl = logits[0] - logits[1]
    r = D.RelaxedOneHotCategorical(tau, logits=t64(logits))
    y = r.rsample((N := 20_000,), generator=Generator(11))
    assert y.shape == (N, 2) and y.requires_grad
    np.testing.assert_allclose(host(y).sum(1), 1.0, rtol=1e-12)

    def cdf(t):
        return 1 / (1 + np.exp(-(tau * np.log(t / (1 - t)) - dl)))

    assert stats.kstest(host(y)[:, 0], cdf).pvalue > 0.01
    t = np.array([0.05, 0.3, 0.5, 0.9])
    s = cdf(t)
    density = s * (1 - s) * tau / (t * (1 - t))
    lp = r.log_prob(t64(np.stack([t, 1 - t], 1), False))
    np.testing.assert_allclose(np.exp(host(lp)), density, rtol=1e-10)


# ----------------------------------------------------------------------------------------------------
# discrete information theory and joint tables
# ----------------------------------------------------------------------------------------------------

def test_entropy_of_the_four_symbol_examples():
    assert float(host(D.entropy([0.25] * 4, base=2))) == pytest.approx(2.0, abs=1e-12)
    assert float(host(D.entropy([0.5, 0.25, 0.125, 0.125], base=2))) == pytest.approx(1.75, abs=1e-12)
    assert float(host(D.entropy([0.5, 0.25, 0.125, 0.125]))) == pytest.approx(1.75 * math.log(2), abs=1e-12)
    batch = host(D.entropy(mg.to_device(np.array([[0.25] * 4, [0.5, 0.25, 0.125, 0.125]])), base=2, axis=-1))
    np.testing.assert_allclose(batch, [2.0, 1.75], atol=1e-12)


def test_cross_entropy_and_kl():
    p, q = np.array([0.5, 0.25, 0.125, 0.125]), np.array([0.25] * 4)
    h = float(host(D.entropy(p, base=2)))
    hpq = float(host(D.cross_entropy(p, q, base=2)))
    kl = float(host(D.kl_divergence(p, q, base=2)))
    assert hpq == pytest.approx(2.0) and h == pytest.approx(1.75)
    assert kl == pytest.approx(hpq - h, abs=1e-12) and kl > 0        # KL = H(p, q) - H(p)
    assert float(host(D.kl_divergence(p, p))) == 0.0
    assert float(host(D.kl_divergence(q, p))) == pytest.approx(stats.entropy(q, p), rel=1e-12)


def test_zero_probabilities_follow_the_conventions():
    with warnings.catch_warnings():
        warnings.simplefilter("error")                 # no log(0) warnings either
        assert float(host(D.entropy([0.5, 0.5, 0.0], base=2))) == pytest.approx(1.0)
        assert float(host(D.kl_divergence([0.5, 0.5, 0.0], [0.25, 0.25, 0.5]))) == pytest.approx(math.log(2))
        assert float(host(D.kl_divergence([0.5, 0.25, 0.25], [0.5, 0.5, 0.0]))) == np.inf
        assert float(host(D.cross_entropy([0.5, 0.25, 0.25], [0.5, 0.5, 0.0]))) == np.inf


def test_entropy_is_differentiable():
    p = t64([0.1, 0.2, 0.3, 0.4])
    D.entropy(p).backward()
    np.testing.assert_allclose(host(p.grad), -(np.log([0.1, 0.2, 0.3, 0.4]) + 1), rtol=1e-12)


def test_information_helpers_validate():
    with pytest.raises(ValueError, match="sum to 1"):
        D.entropy([0.5, 0.6])
    with pytest.raises(ValueError, match="non-negative"):
        D.kl_divergence([1.5, -0.5], [0.5, 0.5])
    with pytest.raises(ValueError, match="base"):
        D.entropy([0.5, 0.5], base=1)
    with pytest.raises(NotImplementedError, match="mc_kl"):
        D.kl_divergence(D.Normal(0.0, 1.0), D.Bernoulli(logits=0.0))


JOINT = [[0.32, 0.03, 0.01],
         [0.06, 0.24, 0.02],
         [0.02, 0.03, 0.27]]


def test_joint_table_helpers_on_the_course_table():
    px, py = host(D.marginal(JOINT, 0)), host(D.marginal(JOINT, 1))
    np.testing.assert_allclose(px, [0.36, 0.32, 0.32], atol=1e-12)
    np.testing.assert_allclose(py, [0.40, 0.30, 0.30], atol=1e-12)
    assert float(host(D.expectation([1, 2, 3], D.marginal(JOINT, 0)))) == pytest.approx(1.96)
    cond = host(D.conditional(JOINT, 0, 0))                     # p(y | x = 1)
    np.testing.assert_allclose(cond, np.array([0.32, 0.03, 0.01]) / 0.36, rtol=1e-12)
    assert cond[1] == pytest.approx(0.03 / 0.36)
    np.testing.assert_allclose(host(D.conditional(JOINT, 1, 1)), np.array([0.03, 0.24, 0.03]) / 0.30)
    with pytest.raises(ValueError, match="is 0"):
        D.conditional([[0.5, 0.5], [0.0, 0.0]], 0, 1)
    with pytest.raises(ValueError, match="sum to 1"):
        D.marginal([[0.5, 0.5], [0.5, 0.5]], 0)


def test_joint_helpers_on_a_three_way_table_and_tensors():
    J = np.random.default_rng(3).random((2, 3, 4))
    J /= J.sum()
    np.testing.assert_allclose(host(D.marginal(J, (0, 2))), J.sum(1), rtol=1e-12)
    t = t64(J)
    D.conditional(t, 1, 2)[0, 0].backward()                   # p(x=0, z=0 | y=2) = J[0,2,0] / sum J[:,2,:]
    g = host(t.grad)
    m = J[:, 2, :].sum()
    assert g[0, 2, 0] == pytest.approx(1 / m - J[0, 2, 0] / m ** 2)
    assert g[1, 2, 3] == pytest.approx(-J[0, 2, 0] / m ** 2) and g[0, 1, 0] == 0


# ----------------------------------------------------------------------------------------------------
# reproducibility
# ----------------------------------------------------------------------------------------------------

def _draws():
    return [host(D.Normal(mg.tensor([0.0, 1.0]), 2.0).rsample((5,))),
            host(D.MultivariateNormal(MU3, covariance_matrix=COV3).sample((5,))),
            host(D.Bernoulli(logits=mg.tensor([0.0, 1.0])).sample((5,))),
            host(D.Categorical(logits=mg.tensor([0.0, 1.0, 2.0])).sample((20,))),
            host(D.gumbel_softmax(mg.tensor([[0.0, 1.0, 2.0]]), 0.5))]


def test_same_seed_same_samples():
    assert_seeded(_draws, 42)
