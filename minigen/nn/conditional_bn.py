"""Class-conditional batch normalisation (de Vries et al. 2017; Miyato & Koyama 2018; BigGAN's generator):
a BatchNorm2d without its own affine, followed by a gain and a bias picked by each example's class:

    y[n, c] = (x[n, c] - mean_c) / sqrt(var_c + eps) * gain[label_n, c] + bias[label_n, c]

The statistics are shared by all classes (the batch's, or the running ones in eval mode); the gains and
biases are rows of two Embedding tables (num_classes, C), started at 1 and 0, so the layer starts as a
plain BatchNorm and each class learns its own affine map: the label steers every layer of the generator.
"""
from __future__ import annotations

from minigen import functional as F
from minigen.nn import init
from minigen.nn.embedding import Embedding
from minigen.nn.module import Module
from minigen.nn.normalization import BatchNorm2d


class ConditionalBatchNorm2d(Module):
    """``cbn(x, labels)`` with x (N, C, H, W) and integer labels (N,) (an array or an integer Tensor).

    ``cbn.bn`` holds the running statistics (momentum, eps as BatchNorm2d); ``cbn.gain.weight`` and
    ``cbn.bias.weight`` (num_classes, C) are the per-class parameters."""

    def __init__(self, num_features: int, num_classes: int, eps: float = 1e-5, momentum: float = 0.1, dtype=None):
        super().__init__()
        self.num_features, self.num_classes = num_features, num_classes
        self.bn = BatchNorm2d(num_features, eps=eps, momentum=momentum, affine=False, dtype=dtype)
        self.gain = Embedding(num_classes, num_features, dtype=dtype)
        self.bias = Embedding(num_classes, num_features, dtype=dtype)
        init.ones_(self.gain.weight)
        init.zeros_(self.bias.weight)

    def forward(self, x, labels):
        n, c = x.shape[0], self.num_features
        h = self.bn(x)
        gain = F.reshape(self.gain(labels), (n, c, 1, 1))
        bias = F.reshape(self.bias(labels), (n, c, 1, 1))
        return h * gain + bias

    def extra_repr(self):
        return f"{self.num_features}, num_classes={self.num_classes}"
