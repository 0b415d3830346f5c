"""Gaussians: ``Normal`` (independent, elementwise) and ``MultivariateNormal`` (full covariance).

Both sample with the reparameterization trick,

    z = mu + sigma * eps             eps ~ N(0, 1)          (Normal)
    z = mu + L eps                   eps ~ N(0, I), L L^T = Sigma   (MultivariateNormal)

so ``rsample`` is an ordinary differentiable function of the parameters: d z / d mu = 1,
d z / d sigma = eps.  This is what lets a VAE backpropagate through its sampling step.
"""
from __future__ import annotations

import math

from minigen.autograd.tensor import Tensor
from minigen.backend import xp
from minigen.distributions.distribution import (Distribution, all_true, as_params, broadcast_shapes,
                                                generator_or_default)
from minigen.distributions.linalg import cholesky, diag_part, solve_tril
from minigen.ops.arithmetic import matmul
from minigen.ops.elementwise import log
from minigen.ops.reduction import sum as _sum
from minigen.ops.shape import broadcast_to, reshape, swap_last

_LOG_2PI = math.log(2.0 * math.pi)


class Normal(Distribution):
    """Independent Gaussians N(loc, scale^2), one per element of the broadcast of ``loc`` and ``scale``.

        log p(x) = -(x - mu)^2 / (2 sigma^2) - log sigma - 1/2 log(2 pi)       (elementwise)
        H        = 1/2 + 1/2 log(2 pi) + log sigma = 1/2 log(2 pi e sigma^2)

    ``loc`` and ``scale`` are Tensors (gradients reach them), arrays or numbers; ``batch_shape`` is their
    broadcast shape and ``event_shape`` is ``()``, so ``log_prob`` is elementwise (sum it over the
    dimensions of a diagonal Gaussian yourself, as in PyTorch).
    """

    has_rsample = True

    def __init__(self, loc, scale, validate_args: bool = True):
        self.loc, self.scale = as_params(loc, scale)
        if validate_args and not all_true(self.scale.data > 0):
            raise ValueError("Normal: scale must be positive everywhere (it is the standard deviation, "
                             "not the variance or the log-variance)")
        super().__init__(broadcast_shapes(self.loc.shape, self.scale.shape), ())

    def rsample(self, sample_shape=(), generator=None) -> Tensor:
        """z = loc + scale * eps, eps ~ N(0, 1) of shape ``sample_shape + batch_shape``."""
        eps = generator_or_default(generator).normal(self._extended_shape(sample_shape), dtype=self.dtype)
        return self.loc + self.scale * eps

    def log_prob(self, value) -> Tensor:
        """log N(value; loc, scale^2) elementwise, shape ``broadcast(value, batch_shape)``."""
        z = (value - self.loc) / self.scale
        return -0.5 * (z * z) - log(self.scale) - 0.5 * _LOG_2PI

    def entropy(self) -> Tensor:
        """1/2 log(2 pi e sigma^2) per element, shape ``batch_shape``."""
        return broadcast_to(0.5 + 0.5 * _LOG_2PI + log(self.scale), self.batch_shape)

    @property
    def dtype(self):
        return xp.result_type(self.loc.dtype, self.scale.dtype)

    @property
    def mean(self) -> Tensor:
        return broadcast_to(self.loc, self.batch_shape)

    @property
    def stddev(self) -> Tensor:
        return broadcast_to(self.scale, self.batch_shape)

    @property
    def variance(self) -> Tensor:
        return self.stddev * self.stddev

    def __repr__(self):
        return f"Normal(batch_shape={self.batch_shape})"


class MultivariateNormal(Distribution):
    """N(loc, Sigma) over vectors of length d, parameterized by ``covariance_matrix`` Sigma or its Cholesky
    factor ``scale_tril`` L (lower-triangular, positive diagonal, L L^T = Sigma).

        z        = mu + L eps,  eps ~ N(0, I_d)
        log p(x) = -1/2 ||L^{-1}(x - mu)||^2 - sum_i log L_ii - d/2 log(2 pi)
        H        = d/2 (1 + log 2 pi) + sum_i log L_ii          (sum_i log L_ii = 1/2 log det Sigma)

    Shapes: ``loc`` (..., d), ``scale_tril`` / ``covariance_matrix`` (..., d, d); their batch axes
    broadcast to ``batch_shape``; ``event_shape = (d,)``.

    What is differentiable:

    * ``rsample``: in ``loc`` and in ``scale_tril`` (a matmul with the tensor L);
    * ``log_prob`` and ``entropy``: in the value and ``loc``, and in ``scale_tril`` when it is a Tensor
      that requires grad (the triangular solve then runs as recorded forward substitution, d steps);
    * ``covariance_matrix`` is factorized with a raw Cholesky, so gradients do **not** reach it; pass
      ``scale_tril`` to learn a covariance.
    """

    has_rsample = True

    def __init__(self, loc, covariance_matrix=None, scale_tril=None, validate_args: bool = True):
        if (covariance_matrix is None) == (scale_tril is None):
            raise ValueError("MultivariateNormal: pass exactly one of covariance_matrix or scale_tril")
        self._covariance = None
        if scale_tril is not None:
            loc, L = as_params(loc, scale_tril)
            _check_square(L, "scale_tril")
            if validate_args:
                if not all_true(xp.triu(L.data, 1) == 0):
                    raise ValueError("MultivariateNormal: scale_tril must be lower-triangular (zeros above "
                                     "the diagonal)")
                if not all_true(xp.diagonal(L.data, axis1=-2, axis2=-1) > 0):
                    raise ValueError("MultivariateNormal: scale_tril must have a positive diagonal")
        else:
            loc, cov = as_params(loc, covariance_matrix)
            _check_square(cov, "covariance_matrix")
            L = Tensor(cholesky(cov, "MultivariateNormal"))
            self._covariance = cov
        if loc.ndim < 1:
            raise ValueError("MultivariateNormal: loc must have at least one axis (..., d)")
        d = loc.shape[-1]
        if L.shape[-1] != d:
            raise ValueError(f"MultivariateNormal: loc has d = {d} but the scale matrix is "
                             f"{L.shape[-2]}x{L.shape[-1]}")
        self.loc, self.scale_tril = loc, L
        super().__init__(broadcast_shapes(loc.shape[:-1], L.shape[:-2]), (d,))

    @property
    def dtype(self):
        return xp.result_type(self.loc.dtype, self.scale_tril.dtype)

    def rsample(self, sample_shape=(), generator=None) -> Tensor:
        """z = loc + L eps, eps ~ N(0, I) of shape ``sample_shape + batch_shape + (d,)``."""
        shape = self._extended_shape(sample_shape)
        eps = generator_or_default(generator).normal(shape + (1,), dtype=self.dtype)
        return self.loc + reshape(matmul(self.scale_tril, eps), shape)     # (..., d, d) @ (..., d, 1)

    def log_prob(self, value) -> Tensor:
        """log N(value; mu, Sigma), shape ``broadcast(value.shape[:-1], batch_shape)``."""
        d = self.event_shape[0]
        diff = value - self.loc
        y = solve_tril(self.scale_tril, reshape(diff, tuple(diff.shape) + (1,)))     # L^{-1}(x - mu)
        maha = _sum(reshape(y * y, tuple(diff.shape)), axis=-1)
        return -0.5 * (maha + d * _LOG_2PI) - self._half_log_det()

    def entropy(self) -> Tensor:
        """d/2 (1 + log 2 pi) + 1/2 log det Sigma, shape ``batch_shape``."""
        d = self.event_shape[0]
        return broadcast_to(0.5 * d * (1.0 + _LOG_2PI) + self._half_log_det(), self.batch_shape)

    def _half_log_det(self):
        """1/2 log det Sigma = sum_i log L_ii, shape L.shape[:-2]."""
        return _sum(log(diag_part(self.scale_tril)), axis=-1)

    @property
    def covariance_matrix(self) -> Tensor:
        """Sigma = L L^T (the matrix given, when it was given)."""
        if self._covariance is not None:
            return self._covariance
        return matmul(self.scale_tril, swap_last(self.scale_tril))

    @property
    def mean(self) -> Tensor:
        return broadcast_to(self.loc, self.batch_shape + self.event_shape)

    @property
    def variance(self) -> Tensor:
        """diag(Sigma)_i = sum_j L_ij^2."""
        L = self.scale_tril
        return broadcast_to(_sum(L * L, axis=-1), self.batch_shape + self.event_shape)

    def __repr__(self):
        return f"MultivariateNormal(batch_shape={self.batch_shape}, event_shape={self.event_shape})"


def _check_square(m: Tensor, name: str):
    if m.ndim < 2 or m.shape[-1] != m.shape[-2]:
        raise ValueError(f"MultivariateNormal: {name} must be square (..., d, d), got shape {m.shape}")


__all__ = ["Normal", "MultivariateNormal"]
