"""Reverse-mode automatic differentiation: Tensor, Function, the backward engine and its switches."""
from minigen.autograd.tensor import Tensor, tensor  # noqa: F401  (first: the ops build on it)
from minigen.autograd.function import Function  # noqa: F401
from minigen.autograd.factories import (arange, full, ones, ones_like, rand, randint, randn, zeros,  # noqa: F401
                                        zeros_like)
from minigen.autograd.engine import grad, trace_backward  # noqa: F401
from minigen.autograd.mode import detect_anomaly, enable_grad, is_grad_enabled, no_grad, set_grad_enabled  # noqa: F401
