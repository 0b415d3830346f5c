"""Each update rule against its formula on a hand-computed example; Adam against the published algorithm."""
import math

import numpy as np
import pytest

import minigen as mg
from minigen import nn, optim

from helpers import host


def _param(values):
    return nn.Parameter(np.array(values, np.float64))


def _set_grad(p, g):
    p.grad = mg.tensor(np.array(g, np.float64))


def test_sgd_plain_and_weight_decay():
    p = _param([1.0, -2.0])
    opt = optim.SGD([p], lr=0.1, weight_decay=0.5)
    _set_grad(p, [0.2, 0.4])
    opt.step()
    # g + wd p = [0.7, -0.6]; p - 0.1 g
    np.testing.assert_allclose(host(p), [1.0 - 0.07, -2.0 + 0.06])


def test_sgd_momentum_and_nesterov_by_hand():
    p, q = _param([1.0]), _param([1.0])
    heavy = optim.SGD([p], lr=0.1, momentum=0.9)
    nest = optim.SGD([q], lr=0.1, momentum=0.9, nesterov=True)
    for g in (1.0, 2.0):
        _set_grad(p, [g])
        _set_grad(q, [g])
        heavy.step()
        nest.step()
    # heavy ball: b1 = 1, p = 0.9; b2 = 0.9 + 2 = 2.9, p = 0.9 - 0.29 = 0.61
    np.testing.assert_allclose(host(p), [0.61])
    # nesterov: b1 = 1, step g + 0.9 b = 1.9 -> 0.81; b2 = 2.9, step 2 + 2.61 = 4.61 -> 0.349
    np.testing.assert_allclose(host(q), [0.349])


def _adam_reference(theta, grads, lr, b1, b2, eps, amsgrad=False):
    """Kingma & Ba (2015), Algorithm 1 (with the AMSGrad max of Reddi et al. 2018 when asked)."""
    m = v = vmax = np.zeros_like(theta)
    for t, g in enumerate(grads, start=1):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        vmax = np.maximum(vmax, v)
        m_hat = m / (1 - b1 ** t)
        v_hat = (vmax if amsgrad else v) / (1 - b2 ** t)
        theta = theta - lr * m_hat / (np.sqrt(v_hat) + eps)
    return theta


@pytest.mark.parametrize("amsgrad", [False, True])
def test_adam_first_steps_match_published_algorithm(amsgrad):
    grads = [np.array([0.5, -1.0, 2.0]), np.array([0.1, 0.3, -2.0]), np.array([-0.4, 0.2, 0.1]),
             np.array([0.05, -3.0, 1.0])]
    theta0 = np.array([1.0, 0.0, -1.0])
    p = _param(theta0)
    opt = optim.Adam([p], lr=0.01, betas=(0.8, 0.95), eps=1e-6, amsgrad=amsgrad)
    for g in grads:
        _set_grad(p, g)
        opt.step()
    np.testing.assert_allclose(host(p), _adam_reference(theta0, grads, 0.01, 0.8, 0.95, 1e-6, amsgrad), rtol=1e-12)


def test_adam_first_step_moves_each_coordinate_by_lr():
    p = _param([3.0, -3.0])
    opt = optim.Adam([p], lr=0.1, eps=0.0)
    _set_grad(p, [1e-3, -50.0])
    opt.step()
    np.testing.assert_allclose(host(p), [2.9, -2.9])   # m_hat / sqrt(v_hat) = sign(g) at t = 1


def test_adam_l2_vs_adamw_decoupled_decay():
    p, q = _param([2.0]), _param([2.0])
    a = optim.Adam([p], lr=0.1, weight_decay=0.5, eps=1e-12)
    w = optim.AdamW([q], lr=0.1, weight_decay=0.5, eps=1e-12)
    _set_grad(p, [0.0])
    _set_grad(q, [0.0])
    a.step()
    w.step()
    np.testing.assert_allclose(host(p), [1.9])              # g = 0 + 0.5 * 2 -> Adam step of -lr
    np.testing.assert_allclose(host(q), [2.0 * (1 - 0.05)])  # decay only; m = 0


def test_rmsprop_by_hand():
    p = _param([1.0])
    opt = optim.RMSprop([p], lr=0.01, alpha=0.9, eps=0.0)
    _set_grad(p, [2.0])
    opt.step()
    v = 0.1 * 4.0
    np.testing.assert_allclose(host(p), [1.0 - 0.01 * 2.0 / math.sqrt(v)])
    c = _param([1.0])
    opt = optim.RMSprop([c], lr=0.01, alpha=0.9, eps=0.0, centered=True, momentum=0.5)
    _set_grad(c, [2.0])
    opt.step()
    denom = math.sqrt(0.4 - 0.2 ** 2)
    np.testing.assert_allclose(host(c), [1.0 - 0.01 * 2.0 / denom])


def test_clip_grad_norm():
    a, b = _param([0.0, 0.0]), _param([0.0])
    _set_grad(a, [3.0, 0.0])
    _set_grad(b, [4.0])
    total = optim.clip_grad_norm_([a, b], 1.0)
    assert float(total) == pytest.approx(5.0)
    np.testing.assert_allclose(host(a.grad), [0.6, 0.0], rtol=1e-5)
    np.testing.assert_allclose(host(b.grad), [0.8], rtol=1e-5)


def test_schedules():
    p = _param([0.0])
    opt = optim.SGD([p], lr=1.0)
    s = optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    lrs = []
    for _ in range(5):
        s.step()
        lrs.append(s.get_last_lr()[0])
    assert lrs == [1.0, 0.5, 0.5, 0.25, 0.25]
    opt2 = optim.SGD([p], lr=1.0)
    c = optim.lr_scheduler.CosineAnnealingLR(opt2, T_max=4, eta_min=0.0)
    for _ in range(2):
        c.step()
    assert c.get_last_lr()[0] == pytest.approx(0.5)


def test_step_post_hook_clips_weights():
    p = _param([0.5, -0.5])
    opt = optim.SGD([p], lr=1.0)
    opt.register_step_post_hook(lambda o: [mg.backend.xp.clip(q.data, -0.01, 0.01, out=q.data) for q in o.params])
    _set_grad(p, [0.1, -0.1])
    opt.step()
    np.testing.assert_allclose(host(p), [0.01, -0.01])


def test_optimizer_state_dict_round_trip_continues_identically():
    grads = [np.array([0.5, -1.0]), np.array([0.2, 0.1]), np.array([-0.3, 0.7])]
    p = _param([1.0, 2.0])
    opt = optim.Adam([p], lr=0.05)
    _set_grad(p, grads[0])
    opt.step()
    sd = opt.state_dict()
    q = _param(host(p).copy())
    opt2 = optim.Adam([q], lr=0.05)
    opt2.load_state_dict({"state": {k: {n: (mg.to_host(v) if hasattr(v, "shape") else v) for n, v in s.items()}
                                    for k, s in sd["state"].items()}, "param_groups": sd["param_groups"]})
    for g in grads[1:]:
        _set_grad(p, g)
        _set_grad(q, g)
        opt.step()
        opt2.step()
    np.testing.assert_array_equal(host(p), host(q))


def test_training_reduces_a_loss():
    mg.manual_seed(0)
    model = nn.MLP([2, 16, 1])
    opt = optim.Adam(model.parameters(), lr=0.05)
    x = mg.tensor(np.random.default_rng(0).normal(size=(64, 2)).astype(np.float32))
    y = (x[:, :1] * 2.0 - x[:, 1:] * 3.0).detach()
    first = None
    for _ in range(100):
        loss = mg.F.mse_loss(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        first = first if first is not None else loss.item()
    assert loss.item() < 0.05 * first



def test_clip_grad_norm_leaves_small_gradients_and_takes_inf_norm():
    a = _param([0.0, 0.0])
    _set_grad(a, [0.3, -0.4])
    assert float(optim.clip_grad_norm_([a], 1.0)) == pytest.approx(0.5)
    np.testing.assert_allclose(host(a.grad), [0.3, -0.4], rtol=1e-6)        # under the bar: untouched
    assert float(optim.clip_grad_norm_([a], 0.2, norm_type=math.inf)) == pytest.approx(0.4)
    np.testing.assert_allclose(host(a.grad), [0.15, -0.2], rtol=1e-5)
    _set_grad(a, [float("nan"), 0.0])
    with pytest.raises(FloatingPointError, match="error_if_nonfinite"):
        optim.clip_grad_norm_([a], 1.0, error_if_nonfinite=True)


def test_clip_grad_norm_scales_gradients_that_came_from_one_array_once():
    # a + b of equal shapes hands both leaves the same upstream gradient: each must own its copy,
    # or clipping one would scale the other (and a shared array would be scaled twice)
    a, b = _param([0.0, 0.0]), _param([0.0, 0.0])
    ((a + b) * mg.tensor([3.0, 4.0])).sum().backward()
    assert a.grad.data is not b.grad.data
    total = float(optim.clip_grad_norm_([a, b], 1.0))
    assert total == pytest.approx(math.sqrt(50.0))
    np.testing.assert_allclose(host(a.grad), np.array([3.0, 4.0]) / math.sqrt(50.0), rtol=1e-5)
    np.testing.assert_allclose(host(b.grad), np.array([3.0, 4.0]) / math.sqrt(50.0), rtol=1e-5)
