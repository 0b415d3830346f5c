"""Spectral normalisation (Miyato et al., "Spectral Normalization for Generative Adversarial Networks",
ICLR 2018): a layer's weight is divided by its largest singular value, so the layer is 1-Lipschitz.

    W_SN = W / sigma(W),    sigma(W) = max_{h != 0} ||W h|| / ||h||   (the spectral norm)

sigma is estimated by power iteration with a vector u that persists across training steps, so one
iteration per step suffices (W moves little between steps and u keeps tracking its top singular vector):

    v <- W^T u / ||W^T u||,    u <- W v / ||W v||,    sigma = u^T W v

u and v are constants for the gradient (the paper's Algorithm 1; they are buffers, not parameters), but
sigma is computed from the raw weight with differentiable ops, so the gradient of a loss L flows through
it:  dL/dW = (1/sigma) (G - [sum(G * W_SN)] u v^T),  with G = dL/dW_SN.

A weight of any shape is viewed as a matrix (out, -1), so the same code normalises a conv kernel
(out, in, kh, kw) as the (out, in*kh*kw) matrix of its im2col product.

``spectral_norm(module)`` works like PyTorch's: the raw weight becomes the parameter ``weight_orig``, the
buffers ``weight_u`` and ``weight_v`` hold the iteration's vectors, and every forward first computes
``module.weight = weight_orig / sigma`` (one power iteration in training mode; the stored u, v in eval mode)
and then runs the module's own forward.
"""
from __future__ import annotations

import types

from minigen import backend
from minigen import functional as F
from minigen.autograd.tensor import Tensor
from minigen.backend import xp
from minigen.nn.module import Module, Parameter

__all__ = ["spectral_norm", "remove_spectral_norm", "spectral_sigma", "SpectralNorm"]


def _normalize(a, eps: float):
    return a / (xp.sqrt((a * a).sum()) + eps)


class SpectralNorm:
    """The state-less part of the wrapping: how to compute the normalised weight of a module."""

    def __init__(self, name: str = "weight", n_power_iterations: int = 1, eps: float = 1e-12):
        if n_power_iterations < 1:
            raise ValueError(f"spectral_norm: n_power_iterations must be >= 1, got {n_power_iterations}")
        self.name, self.n_power_iterations, self.eps = name, n_power_iterations, eps

    def matrix(self, w):
        """The weight (array or Tensor) viewed as (out, -1)."""
        return w.reshape((w.shape[0], -1)) if not isinstance(w, Tensor) else F.reshape(w, (w.shape[0], -1))

    def vectors(self, module: Module):
        """u, v in the raw weight's dtype (a float64 gradcheck casts the parameter, not the buffers)."""
        w = getattr(module, self.name + "_orig")
        u, v = getattr(module, self.name + "_u"), getattr(module, self.name + "_v")
        if u.dtype != w.dtype:
            u, v = u.astype(w.dtype), v.astype(w.dtype)
            module.register_buffer(self.name + "_u", u)
            module.register_buffer(self.name + "_v", v)
        return u, v

    def power_iteration(self, module: Module) -> None:
        """Update the buffers u, v in place of the old ones, on raw arrays: nothing is recorded."""
        u, v = self.vectors(module)
        w = self.matrix(getattr(module, self.name + "_orig").data)
        for _ in range(self.n_power_iterations):
            v = _normalize(w.T @ u, self.eps)
            u = _normalize(w @ v, self.eps)
        module.register_buffer(self.name + "_u", u)      # new arrays: a graph that used the old ones keeps them
        module.register_buffer(self.name + "_v", v)

    def sigma(self, module: Module) -> Tensor:
        """sigma = u^T W v, differentiable in the raw weight W (u and v enter as constants)."""
        u, v = self.vectors(module)
        w = self.matrix(getattr(module, self.name + "_orig"))
        return F.sum(F.matmul(F.matmul(Tensor(u[None, :]), w), Tensor(v[:, None])))

    def compute_weight(self, module: Module, do_power_iteration: bool) -> Tensor:
        if do_power_iteration:
            self.power_iteration(module)
        return getattr(module, self.name + "_orig") / self.sigma(module)


def spectral_norm(module: Module, name: str = "weight", n_power_iterations: int = 1,
                  eps: float = 1e-12, warmup_iterations: int = 15) -> Module:
    """Spectrally normalise ``module``'s parameter ``name`` in place and return the module.

    After this call ``module.weight_orig`` is the trained Parameter, ``module.weight_u`` /
    ``module.weight_v`` are buffers (saved with ``state_dict``, never trained), and each call of the module
    recomputes ``module.weight = weight_orig / sigma`` first: with ``n_power_iterations`` updates of u, v in
    training mode, with the stored u, v in eval mode.  ``warmup_iterations`` power iterations at wrapping
    time start u near the top singular vector (as PyTorch's parametrization does), so the first steps do
    not divide by a random-vector estimate of sigma.
    """
    if getattr(module, "_spectral_norm", None) is not None:
        raise RuntimeError(f"spectral_norm: {type(module).__name__} is already spectrally normalised")
    w = module._parameters.get(name)
    if w is None:
        raise ValueError(f"spectral_norm: {type(module).__name__} has no parameter {name!r}")
    fn = SpectralNorm(name, n_power_iterations, eps)
    out_dim = w.shape[0]
    in_dim = w.size // out_dim
    g = backend.rng()
    # the raw weight moves to "<name>_orig" (the same Parameter object, so optimizers built earlier still work)
    module._parameters.pop(name)
    object.__delattr__(module, name)
    setattr(module, name + "_orig", w)
    module.register_buffer(name + "_u", _normalize(g.normal((out_dim,), dtype=w.dtype), eps))
    module.register_buffer(name + "_v", _normalize(g.normal((in_dim,), dtype=w.dtype), eps))
    object.__setattr__(module, "_spectral_norm", fn)
    if warmup_iterations > 0:
        SpectralNorm(name, warmup_iterations, eps).power_iteration(module)
    # bound methods, not closures: copy.deepcopy (EMA copies of G) rebinds them to the copy
    object.__setattr__(module, "_spectral_norm_inner_forward", module.forward)
    object.__setattr__(module, "forward", types.MethodType(_spectral_norm_forward, module))
    object.__setattr__(module, name, fn.compute_weight(module, False))
    return module


def _spectral_norm_forward(module, *args, **kwargs):
    """Recompute ``module.weight`` (a plain Tensor attribute, not a Parameter), then run the module's own
    forward, which reads ``self.weight`` as before."""
    fn = module._spectral_norm
    object.__setattr__(module, fn.name, fn.compute_weight(module, module.training))
    return module._spectral_norm_inner_forward(*args, **kwargs)


def spectral_sigma(module: Module) -> float:
    """The module's current estimate sigma = u^T W v (no iteration), as a Python float."""
    fn = getattr(module, "_spectral_norm", None)
    if fn is None:
        raise ValueError(f"spectral_sigma: {type(module).__name__} is not spectrally normalised")
    return float(fn.sigma(module).item())


def remove_spectral_norm(module: Module, name: str = "weight") -> Module:
    """Undo :func:`spectral_norm`: the parameter ``name`` becomes W / sigma with the stored u, v."""
    fn = getattr(module, "_spectral_norm", None)
    if fn is None or fn.name != name:
        raise ValueError(f"remove_spectral_norm: {name!r} of {type(module).__name__} is not normalised")
    w = fn.compute_weight(module, False).data
    for attr in (name + "_orig",):
        module._parameters.pop(attr)
        object.__delattr__(module, attr)
    for attr in (name + "_u", name + "_v"):
        module._buffers.pop(attr)
        object.__delattr__(module, attr)
    object.__delattr__(module, "forward")
    for attr in ("_spectral_norm", "_spectral_norm_inner_forward"):
        object.__delattr__(module, attr)
    setattr(module, name, Parameter(w))
    return module
