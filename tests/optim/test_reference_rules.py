"""Every optimiser against PyTorch's documented algorithm (the pseudo-code of the torch.optim docs), written
out below as plain NumPy float64 loops, on 0-d, 1-d and 2-d parameters over several steps.

The gradient comes from minigen's own backward of  loss = sum(w * (p - c)^2),  so a 0-d parameter takes
the engine's 0-d path (where NumPy hands back scalars, not arrays); the reference uses its formula
g = 2 w (p - c).
"""
import numpy as np
import pytest

from minigen import functional as F
from minigen import nn, optim

from helpers import host, t64

STEPS = 6
SHAPES = [(), (3,), (2, 3)]


# --- the reference rules, one step each: (p, g, state, hyper) -> p ---

def sgd_step(p, g, s, lr, momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0):
    if weight_decay:
        g = g + weight_decay * p
    if momentum:
        s["b"] = g if "b" not in s else momentum * s["b"] + (1 - dampening) * g
        g = g + momentum * s["b"] if nesterov else s["b"]
    return p - lr * g


def adam_step(p, g, s, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, decoupled=False):
    b1, b2 = betas
    s["t"] = t = s.get("t", 0) + 1
    if weight_decay and decoupled:          # AdamW: decay the parameter itself
        p = p - lr * weight_decay * p
    elif weight_decay:                      # Adam: L2 term in the gradient
        g = g + weight_decay * p
    s["m"] = b1 * s.get("m", 0.0) + (1 - b1) * g
    s["v"] = b2 * s.get("v", 0.0) + (1 - b2) * g * g
    m_hat, v_hat = s["m"] / (1 - b1 ** t), s["v"] / (1 - b2 ** t)
    return p - lr * m_hat / (np.sqrt(v_hat) + eps)


def adamw_step(p, g, s, lr, weight_decay=1e-2, **kw):
    return adam_step(p, g, s, lr, weight_decay=weight_decay, decoupled=True, **kw)


def rmsprop_step(p, g, s, lr, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False):
    if weight_decay:
        g = g + weight_decay * p
    s["v"] = alpha * s.get("v", 0.0) + (1 - alpha) * g * g
    v = s["v"]
    if centered:
        s["a"] = alpha * s.get("a", 0.0) + (1 - alpha) * g
        v = v - s["a"] ** 2
    if momentum:
        s["b"] = momentum * s.get("b", 0.0) + g / (np.sqrt(v) + eps)
        return p - lr * s["b"]
    return p - lr * g / (np.sqrt(v) + eps)


CONFIGS = [
    (optim.SGD, sgd_step, {"lr": 0.1}),
    (optim.SGD, sgd_step, {"lr": 0.1, "momentum": 0.9}),
    (optim.SGD, sgd_step, {"lr": 0.1, "momentum": 0.9, "dampening": 0.3}),
    (optim.SGD, sgd_step, {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
    (optim.SGD, sgd_step, {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.2}),
    (optim.SGD, sgd_step, {"lr": 0.1, "weight_decay": 0.2}),
    (optim.Adam, adam_step, {"lr": 0.1}),
    (optim.Adam, adam_step, {"lr": 0.05, "betas": (0.8, 0.95), "eps": 1e-6, "weight_decay": 0.2}),
    (optim.AdamW, adamw_step, {"lr": 0.1}),
    (optim.AdamW, adamw_step, {"lr": 0.05, "betas": (0.8, 0.95), "weight_decay": 0.3}),
    (optim.RMSprop, rmsprop_step, {"lr": 0.01}),
    (optim.RMSprop, rmsprop_step, {"lr": 0.01, "alpha": 0.9, "momentum": 0.9}),
    (optim.RMSprop, rmsprop_step,
     {"lr": 0.01, "alpha": 0.9, "weight_decay": 0.2, "momentum": 0.5, "centered": True}),
]
IDS = [f"{cls.__name__}({', '.join(f'{k}={v}' for k, v in hyper.items())})" for cls, _, hyper in CONFIGS]


@pytest.mark.parametrize("shape", SHAPES, ids=["0-d", "1-d", "2-d"])
@pytest.mark.parametrize("cls,rule,hyper", CONFIGS, ids=IDS)
def test_optimiser_follows_the_documented_rule(cls, rule, hyper, shape):
    rng = np.random.default_rng(len(shape))
    p0, c, w = rng.normal(size=shape), rng.normal(size=shape), rng.uniform(0.5, 2.0, size=shape)
    p = nn.Parameter(p0.copy())            # Tensor() keeps a NumPy array without copying
    opt = cls([p], **hyper)
    ref, state = p0, {}
    c_t, w_t = t64(c, requires_grad=False), t64(w, requires_grad=False)
    for _ in range(STEPS):
        opt.zero_grad()
        F.sum(w_t * (p - c_t) ** 2).backward()
        opt.step()
        ref = rule(ref, 2 * w * (ref - c), state, **hyper)
        np.testing.assert_allclose(host(p), ref, rtol=1e-12, atol=1e-14)
    assert host(p).shape == shape
    moved = np.abs(ref - p0).max()
    assert moved > 1e-3, "the steps must move the parameter, or the comparison proves nothing"


def test_sgd_momentum_on_a_0d_parameter_matches_the_issue_numbers():
    # loss p^2, p0 = 1, lr 0.1, momentum 0.9, by hand: g = 2p, b = 0.9 b + g (b = g first), p -= 0.1 b
    #   p: 1 -> 0.8 -> 0.46 -> 0.062 -> -0.3086 -> -0.58042   (a scalar buffer gave 0.188 after 3 steps)
    p = nn.Parameter(np.array(1.0))
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    seen = []
    for _ in range(5):
        opt.zero_grad()
        (p ** 2).backward()
        opt.step()
        seen.append(float(host(p)))
    np.testing.assert_allclose(seen, [0.8, 0.46, 0.062, -0.3086, -0.58042], rtol=1e-12)


@pytest.mark.parametrize("cls,hyper", [(optim.SGD, {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.1}),
                                       (optim.Adam, {"lr": 0.1}), (optim.RMSprop, {"lr": 0.01, "momentum": 0.5})])
def test_0d_state_survives_a_state_dict_round_trip(cls, hyper):
    """A 0-d parameter's buffers are 0-d arrays: loading them must not turn them into numbers, whose
    in-place updates would be lost."""
    p, q = nn.Parameter(np.array(1.5)), nn.Parameter(np.array(1.5))
    a, b = cls([p], **hyper), cls([q], **hyper)
    for step in range(4):
        for t, opt in ((p, a), (q, b)):
            opt.zero_grad()
            (t ** 2).backward()
            opt.step()
        if step == 0:
            sd = a.state_dict()
            b.load_state_dict({"state": {k: {n: (host(v) if hasattr(v, "shape") else v) for n, v in s.items()}
                                         for k, s in sd["state"].items()},
                               "param_groups": sd["param_groups"]})
    assert float(host(p)) == float(host(q))
