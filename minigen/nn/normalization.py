"""BatchNorm1d/2d, InstanceNorm2d and LayerNorm, composed from differentiable ops (so their second
derivatives are exact).

The layers call the functional ops (``F.batch_norm``, ``F.layer_norm``):

    BatchNorm (training):  y = (x - mean_batch) / sqrt(var_batch + eps) * gamma + beta,
                           running = (1 - momentum) running + momentum * batch statistic
                           (the running variance uses the unbiased batch variance, as in PyTorch)
    BatchNorm (eval):      the running statistics replace the batch ones
    LayerNorm:             the same over the last dimensions of each example
"""
from __future__ import annotations

from minigen import backend
from minigen import functional as F
from minigen.nn.module import Module, Parameter


class BatchNorm1d(Module):
    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1, affine: bool = True,
                 track_running_stats: bool = True, dtype=None):
        super().__init__()
        xp, dtype = backend.xp, dtype or backend.default_float()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.track_running_stats = track_running_stats
        self.weight = Parameter(xp.ones(num_features, dtype=dtype)) if affine else None
        self.bias = Parameter(xp.zeros(num_features, dtype=dtype)) if affine else None
        if track_running_stats:
            self.register_buffer("running_mean", xp.zeros(num_features, dtype=dtype))
            self.register_buffer("running_var", xp.ones(num_features, dtype=dtype))

    def forward(self, x):
        if x.ndim != 2 or x.shape[1] != self.num_features:
            raise ValueError(f"BatchNorm1d({self.num_features}): expected input (N, {self.num_features}), "
                             f"got {tuple(x.shape)}")
        use_batch = self.training or not self.track_running_stats
        stats = (self.running_mean, self.running_var) if self.track_running_stats else (None, None)
        return F.batch_norm(x, *stats, self.weight, self.bias, use_batch, self.momentum, self.eps)

    def extra_repr(self):
        return f"{self.num_features}, eps={self.eps}, momentum={self.momentum}"


class LayerNorm(Module):
    def __init__(self, normalized_shape, eps: float = 1e-5, elementwise_affine: bool = True, dtype=None):
        super().__init__()
        xp, dtype = backend.xp, dtype or backend.default_float()
        self.normalized_shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
        self.eps = eps
        self.weight = Parameter(xp.ones(self.normalized_shape, dtype=dtype)) if elementwise_affine else None
        self.bias = Parameter(xp.zeros(self.normalized_shape, dtype=dtype)) if elementwise_affine else None

    def forward(self, x):
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return f"{self.normalized_shape}, eps={self.eps}"


class BatchNorm2d(Module):
    """Batch normalisation of (N, C, H, W) per channel over (N, H, W), with running statistics."""

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1, affine: bool = True, dtype=None):
        super().__init__()
        xp, dtype = backend.xp, dtype or backend.default_float()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.weight = Parameter(xp.ones(num_features, dtype=dtype)) if affine else None
        self.bias = Parameter(xp.zeros(num_features, dtype=dtype)) if affine else None
        self.register_buffer("running_mean", xp.zeros(num_features, dtype=dtype))
        self.register_buffer("running_var", xp.ones(num_features, dtype=dtype))

    def forward(self, x):
        if x.ndim != 4 or x.shape[1] != self.num_features:
            raise ValueError(f"BatchNorm2d({self.num_features}): expected input (N, {self.num_features}, H, W), "
                             f"got {tuple(x.shape)}")
        return F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias, self.training,
                            self.momentum, self.eps)

    def extra_repr(self):
        return f"{self.num_features}, eps={self.eps}, momentum={self.momentum}"


class InstanceNorm2d(Module):
    """Normalise each example's channel over its pixels (no running statistics)."""

    def __init__(self, num_features: int, eps: float = 1e-5, affine: bool = False, dtype=None):
        super().__init__()
        xp, dtype = backend.xp, dtype or backend.default_float()
        self.num_features, self.eps = num_features, eps
        self.weight = Parameter(xp.ones(num_features, dtype=dtype)) if affine else None
        self.bias = Parameter(xp.zeros(num_features, dtype=dtype)) if affine else None

    def forward(self, x):
        if x.ndim != 4 or x.shape[1] != self.num_features:
            raise ValueError(f"InstanceNorm2d({self.num_features}): expected input (N, {self.num_features}, H, W), "
                             f"got {tuple(x.shape)}")
        return F.instance_norm(x, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return f"{self.num_features}, eps={self.eps}"
