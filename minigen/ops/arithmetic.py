"""Arithmetic: + - * / ** @ and dtype casts.  The rules (gy: the output's gradient, y: the output):

    add      y = a + b          ga = gy                  gb = gy
    sub      y = a - b          ga = gy                  gb = -gy
    mul      y = a b            ga = gy b                gb = gy a
    div      y = a / b          ga = gy / b              gb = -gy y / b
    neg      y = -x             gx = -gy
    pow      y = a^b            ga = gy b a^(b-1)        gb = gy y log a
    matmul   y = a @ b          ga = gy @ b^T            gb = a^T @ gy
    astype   y = x as dtype     gx = gy cast back to x's dtype

Binary ops broadcast like NumPy; their backward sums the gradient back to each input's shape with
``unbroadcast``.  A rule skips the inputs that need no gradient (``self.needs_grad``), so a constant
operand costs nothing on the way back.
"""
from __future__ import annotations

import math

from minigen.autograd.function import Function
from minigen.ops.shape import buffered, product, reshape, shape_of, swap_last, unbroadcast


class Add(Function):
    broadcasts = True

    def forward(self, a, b):
        return buffered("add", a, b)

    def backward(self, gy, a, b, y):
        ga, gb = self.needs_grad
        return (unbroadcast(gy, a) if ga else None,
                unbroadcast(gy, b) if gb else None)


def add(a, b):
    """a + b"""
    return Add()(a, b)


class Sub(Function):
    broadcasts = True

    def forward(self, a, b):
        return a - b

    def backward(self, gy, a, b, y):
        ga, gb = self.needs_grad
        return (unbroadcast(gy, a) if ga else None,
                unbroadcast(-gy, b) if gb else None)


def sub(a, b):
    """a - b"""
    return Sub()(a, b)


class Mul(Function):
    broadcasts = True

    def forward(self, a, b):
        return buffered("multiply", a, b)

    def backward(self, gy, a, b, y):
        ga, gb = self.needs_grad
        return (unbroadcast(product(gy, b), a) if ga else None,
                unbroadcast(product(gy, a), b) if gb else None)


def mul(a, b):
    """a * b (elementwise)"""
    return Mul()(a, b)


class Div(Function):
    broadcasts = True

    def forward(self, a, b):
        return a / b

    def backward(self, gy, a, b, y):
        # d(a/b)/da = 1/b,  d(a/b)/db = -a/b^2 = -y/b
        ga, gb = self.needs_grad
        return (unbroadcast(gy / b, a) if ga else None,
                unbroadcast(-(gy * y) / b, b) if gb else None)


def div(a, b):
    """a / b (elementwise)"""
    return Div()(a, b)


class Neg(Function):
    def forward(self, x):
        return -x

    def backward(self, gy, x, y):
        return -gy


def neg(x):
    """-x"""
    return Neg()(x)


class Pow(Function):
    broadcasts = True

    def forward(self, a, b):
        return a ** b

    def backward(self, gy, a, b, y):
        # d(a^b)/da = b a^(b-1),  d(a^b)/db = a^b log a
        from minigen.ops.elementwise import log
        ga, gb = self.needs_grad
        grad_a = grad_b = None
        if ga:
            grad_a = unbroadcast(gy * b * a ** (b - 1), a)
        if gb:
            log_a = math.log(a) if isinstance(a, (int, float)) else log(a)
            grad_b = unbroadcast(gy * y * log_a, b)
        return grad_a, grad_b


def pow(a, b):  # noqa: A001  (the operator's name)
    """a ** b, with a scalar or a tensor exponent."""
    return Pow()(a, b)


class MatMul(Function):
    """Matrix product of matrices or batches of matrices (batch axes broadcast): (..., n, k) @ (..., k, m)."""

    broadcasts = True

    def forward(self, a, b):
        if a.shape[-1] != b.shape[-2]:
            raise ValueError(f"{tuple(a.shape)} @ {tuple(b.shape)}: inner dims "
                             f"{a.shape[-1]} != {b.shape[-2]}")
        return a @ b

    def backward(self, gy, a, b, y):
        # y = a b:  dL/da = gy b^T,  dL/db = a^T gy  (summed over broadcast batch axes)
        ga, gb = self.needs_grad
        return (unbroadcast(gy @ swap_last(b), a) if ga else None,
                unbroadcast(swap_last(a) @ gy, b) if gb else None)


def matmul(a, b):
    """a @ b for matrices and batches of matrices; a 1-D operand is treated as a row / column vector."""
    a_nd, b_nd = len(shape_of(a)), len(shape_of(b))
    if a_nd == 0 or b_nd == 0:
        raise ValueError(f"matmul: operands must have at least 1 dimension, got shapes "
                         f"{shape_of(a)} and {shape_of(b)}")
    if a_nd == 1 or b_nd == 1:
        a2 = reshape(a, (1,) + shape_of(a)) if a_nd == 1 else a
        b2 = reshape(b, shape_of(b) + (1,)) if b_nd == 1 else b
        y = MatMul()(a2, b2)
        shape = shape_of(y)
        if a_nd == 1:
            shape = shape[:-2] + shape[-1:]
        if b_nd == 1:
            shape = shape[:-1]
        return reshape(y, shape)
    return MatMul()(a, b)


class AsType(Function):
    def __init__(self, dtype):
        self.dtype = dtype

    def forward(self, x):
        return x.astype(self.dtype)

    def backward(self, gy, x, y):
        return astype(gy, x.dtype)


def astype(x, dtype):
    """Cast to ``dtype``; the gradient is cast back."""
    if x.dtype == dtype:
        return x
    return AsType(dtype)(x)
