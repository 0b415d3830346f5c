"""BatchNorm1d and LayerNorm, composed from differentiable ops (so their second derivatives are exact).

    BatchNorm (training):  y = (x - mean_batch) / sqrt(var_batch + eps) * gamma + beta,
                           running = (1 - momentum) running + momentum * batch statistic
                           (the running variance uses the unbiased batch variance, as in PyTorch)
    BatchNorm (eval):      the running statistics replace the batch ones
    LayerNorm:             the same over the last dimensions of each example
"""
from __future__ import annotations

from minigen import backend
from minigen import functional as F
from minigen.autograd.mode import no_grad
from minigen.nn.module import Module, Parameter
from minigen.ops.shape import data_of


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
        if self.training or not self.track_running_stats:
            n = x.shape[0]
            if self.training and n < 2:
                raise ValueError("BatchNorm1d: a training batch needs at least 2 examples to estimate a variance")
            mean = F.mean(x, 0)
            var = F.var(x, 0)
            if self.training and self.track_running_stats:
                with no_grad():
                    m = self.momentum
                    self.running_mean = (1 - m) * self.running_mean + m * data_of(mean)
                    self.running_var = (1 - m) * self.running_var + m * data_of(var) * (n / (n - 1))
        else:
            mean, var = self.running_mean, self.running_var
        y = (x - mean) / F.sqrt(var + self.eps)
        if self.weight is not None:
            y = y * self.weight + self.bias
        return y

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
        k = len(self.normalized_shape)
        if tuple(x.shape[-k:]) != self.normalized_shape:
            raise ValueError(f"LayerNorm{self.normalized_shape}: input shape {tuple(x.shape)} does not end "
                             f"with {self.normalized_shape}")
        axes = tuple(range(x.ndim - k, x.ndim))
        mean = F.mean(x, axes, keepdims=True)
        var = F.var(x, axes, keepdims=True)
        y = (x - mean) / F.sqrt(var + self.eps)
        if self.weight is not None:
            y = y * self.weight + self.bias
        return y

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
