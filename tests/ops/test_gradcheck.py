"""Every op of minigen.functional passes first- and second-order finite-difference checks in float64, at
the registry's tolerances (tests/ops/test_registry.py: the registry is complete, and a rule off by 1e-4 fails)."""
import numpy as np
import pytest

import minigen as mg
from minigen import functional as F
from minigen.gradcheck import GradcheckError, gradcheck, gradgradcheck
from minigen.ops.elementwise import Exp, Tanh
from minigen.ops.registry import cases
from minigen.ops.shape import data_of

from helpers import t64

CASES = list(cases())
IDS = [f"{name}[{label}]" for name, label, _ in CASES]


@pytest.mark.parametrize("name,label,case", CASES, ids=IDS)
def test_first_order(name, label, case):
    assert gradcheck(case.fn, case.inputs(), name=name, **case.tol)


@pytest.mark.parametrize("name,label,case", CASES, ids=IDS)
def test_second_order(name, label, case):
    assert gradgradcheck(case.fn, case.inputs(), name=name, **case.tol)


def test_gradcheck_catches_a_wrong_first_derivative(monkeypatch):
    monkeypatch.setattr(Exp, "backward", lambda self, gy, x, y: gy * y * 1.01)
    with pytest.raises(GradcheckError, match="exp"):
        gradcheck(F.exp, [t64([[0.1, 0.5], [1.0, -2.0]])], name="exp")


def test_gradgradcheck_catches_a_backward_that_is_not_differentiable(monkeypatch):
    # a rule written on raw data: right first derivative, but its own derivative is lost
    monkeypatch.setattr(Tanh, "backward", lambda self, gy, x, y: gy * (1.0 - data_of(y) ** 2))
    x = t64([0.3, -0.7, 1.2])
    assert gradcheck(F.tanh, [x])
    with pytest.raises(GradcheckError, match="second"):
        gradgradcheck(F.tanh, [x])


def test_report_names_input_and_worst_element(monkeypatch):
    monkeypatch.setattr(Exp, "backward", lambda self, gy, x, y: gy * y + (x > 0.9) * 1.0)
    with pytest.raises(GradcheckError) as err:
        gradcheck(lambda a: F.exp(a).sum(), [t64([0.1, 0.5, 1.0])], name="my_fn")
    msg = str(err.value)
    assert "my_fn" in msg and "(2,)" in msg and "analytic" in msg and "numeric" in msg


def test_kink_is_named_not_a_mystery():
    x = t64([0.5, 0.0, -0.3])
    with pytest.raises(GradcheckError, match="kink"):
        gradcheck(F.relu, [x])


def test_fast_mode_projection_agrees_and_catches(monkeypatch):
    x = t64(np.random.default_rng(3).normal(size=(20, 30)))
    assert gradcheck(lambda a: F.softmax(a, 1), [x], fast=True)
    monkeypatch.setattr(Exp, "backward", lambda self, gy, x, y: gy * y * 1.05)
    with pytest.raises(GradcheckError):
        gradcheck(lambda a: F.exp(a), [x], fast=True)


def test_float32_inputs_are_refused():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(TypeError, match="float64"):
        gradcheck(F.exp, [x])
