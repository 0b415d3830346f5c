"""Stable forms: losses and log-probabilities stay finite and correct at |logit| = 1e4 in float32."""
import warnings

import numpy as np
import pytest

import minigen as mg
from minigen import functional as F

from helpers import host

BIG = np.array([-1e4, -50.0, 0.0, 50.0, 1e4], np.float32)


@pytest.fixture(autouse=True)
def _no_float_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")          # no overflow / divide-by-zero warnings either
        with np.errstate(over="raise", divide="raise", invalid="raise", under="ignore"):
            yield


def _t(a):
    return mg.tensor(a, requires_grad=True)


def test_softplus_and_log_sigmoid_at_extremes():
    x = _t(BIG)
    sp = F.softplus(x)
    np.testing.assert_allclose(host(sp), [0.0, 0.0, np.log(2), 50.0, 1e4], rtol=1e-6, atol=1e-20)
    ls = F.log_sigmoid(x)
    np.testing.assert_allclose(host(ls), [-1e4, -50.0, -np.log(2), 0.0, 0.0], rtol=1e-6, atol=1e-20)
    (sp.sum() + ls.sum()).backward()
    g = host(x.grad)
    assert np.all(np.isfinite(g))
    np.testing.assert_allclose(g, [1.0, 1.0, 1.0, 1.0, 1.0], atol=1e-6)   # sigmoid(x) + sigmoid(-x)


def test_sigmoid_saturates_without_nan():
    s = host(F.sigmoid(mg.tensor(BIG)))
    np.testing.assert_allclose(s[[0, 2, 4]], [0.0, 0.5, 1.0])


def test_bce_with_logits_at_extremes():
    x = _t(BIG)
    t = mg.tensor(np.array([0, 1, 1, 0, 1], np.float32))
    loss = F.binary_cross_entropy_with_logits(x, t, reduction="none")
    np.testing.assert_allclose(host(loss), [0.0, 50.0, np.log(2), 50.0, 0.0], rtol=1e-6, atol=1e-20)
    loss.sum().backward()
    np.testing.assert_allclose(host(x.grad), [0.0, -1.0, -0.5, 1.0, 0.0], atol=1e-6)


def test_logsumexp_and_cross_entropy_at_extremes():
    x = _t(np.array([[1e4, 0.0, -1e4], [-1e4, -1e4, -1e4]], np.float32))
    lse = F.logsumexp(x, axis=1)
    np.testing.assert_allclose(host(lse), [1e4, -1e4 + np.log(3)], rtol=1e-6)
    ce = F.cross_entropy(x, mg.tensor(np.array([1, 0])), reduction="none")
    np.testing.assert_allclose(host(ce), [1e4, np.log(3)], rtol=1e-6)
    ce.sum().backward()
    assert np.all(np.isfinite(host(x.grad)))


def test_log_softmax_and_kl_stay_finite():
    x = mg.tensor(np.array([[1e4, -1e4]], np.float32))
    np.testing.assert_allclose(host(F.log_softmax(x)), [[0.0, -2e4]])
    mu, logvar = mg.tensor(np.zeros(2, np.float32)), mg.tensor(np.array([-30.0, 30.0], np.float32))
    assert np.all(np.isfinite(host(F.kl_normal_standard(mu, logvar))))


def test_bad_reduction_and_shape_are_named():
    with pytest.raises(ValueError, match="reduction"):
        F.mse_loss(mg.tensor([1.0]), mg.tensor([1.0]), reduction="avg")
    with pytest.raises(ValueError, match=r"binary_cross_entropy_with_logits.*\(3,\).*\(2,\)"):
        F.binary_cross_entropy_with_logits(mg.tensor([1.0, 2.0, 3.0]), mg.tensor([1.0, 0.0]))
    with mg.detect_anomaly(), pytest.raises(ValueError, match=r"labels must be in \[0, 2\)"):
        F.cross_entropy(mg.tensor(np.zeros((2, 2), np.float32)), mg.tensor(np.array([0, 5])))


def test_range_checks_need_no_device_read_outside_anomaly_mode():
    """Checking labels and indices means reading them on the host: a device backend skips it unless
    detect_anomaly() is on (NumPy, where it costs nothing, always checks: a negative label would wrap)."""
    from minigen.backend import count_syncs
    logits, labels = mg.tensor(np.zeros((4, 3), np.float32)), mg.tensor(np.array([0, 2, 1, 2]))
    with count_syncs() as n:
        F.cross_entropy(logits, labels)
        F.embedding(labels, mg.tensor(np.zeros((3, 2), np.float32)))
    assert n.count == 0
    if mg.get_backend() == "numpy":
        with pytest.raises(ValueError, match="labels must be in"):
            F.cross_entropy(logits, mg.tensor(np.array([0, -1, 1, 2])))
