"""The triangular linear algebra the Gaussians need, composed from existing ops.

    solve_tril(L, B)   X with L X = B, L lower-triangular (..., d, d), B (..., d, k)
    diag_part(L)       the diagonal (..., d)
    cholesky(C)        L with L L^T = C (raw arrays: a constant, no gradient)

``solve_tril`` is differentiable in B always, and in L when L is a Tensor that requires grad: then it
runs forward substitution,

    x_i = (b_i - sum_{j<i} L_ij x_j) / L_ii          i = 1..d,

as ordinary recorded ops (d small steps, exact first and second derivatives).  Otherwise it multiplies
B by the constant L^{-1} (one op, fast).
"""
from __future__ import annotations

from minigen.autograd.mode import is_grad_enabled
from minigen.autograd.tensor import Tensor
from minigen.backend import xp
from minigen.ops.arithmetic import matmul
from minigen.ops.reduction import sum as _sum
from minigen.ops.shape import concatenate, data_of


def requires_grad(x) -> bool:
    return isinstance(x, Tensor) and x.requires_grad and is_grad_enabled()


def solve_tril(L, B):
    """X = L^{-1} B for lower-triangular L (..., d, d) and B (..., d, k); batch axes broadcast."""
    if not requires_grad(L):
        return matmul(xp.linalg.inv(data_of(L)), B)      # L constant: one matmul, B keeps its gradient
    d = L.shape[-1]
    rows = []
    for i in range(d):
        b_i = B[..., i:i + 1, :]                           # (..., 1, k)
        if i:
            b_i = b_i - matmul(L[..., i:i + 1, :i], concatenate(rows, axis=-2))
        rows.append(b_i / L[..., i:i + 1, i:i + 1])
    return concatenate(rows, axis=-2)


def diag_part(L):
    """The diagonal of (..., d, d) as (..., d): sum_j L_ij [i == j] (differentiable)."""
    d = L.shape[-1]
    return _sum(L * xp.eye(d, dtype=L.dtype), axis=-1)


def cholesky(C, who: str = "cholesky"):
    """Lower-triangular L with L L^T = C, for a symmetric positive-definite C (raw array)."""
    c = data_of(C)
    tol = 1e3 * float(xp.finfo(c.dtype).eps) * max(1.0, float(xp.abs(c).max()))
    if float(xp.abs(c - xp.swapaxes(c, -1, -2)).max()) > tol:
        raise ValueError(f"{who}: covariance_matrix is not symmetric")
    try:
        L = xp.linalg.cholesky(c)
    except Exception as e:          # numpy.linalg.LinAlgError; CuPy returns NaN instead (checked below)
        raise ValueError(f"{who}: covariance_matrix is not positive definite ({e})") from e
    if not bool(xp.isfinite(L).all()):
        raise ValueError(f"{who}: covariance_matrix is not positive definite")
    return L
