"""The op library, PyTorch's ``torch.nn.functional`` in spirit: ``import minigen.functional as F``.

Every function here accepts Tensors (and records the op when an input requires grad) or raw arrays
(and simply computes), has exact first and second derivatives, and has an entry in the gradient-check
registry (:mod:`minigen.ops.registry`); a test fails when one is missing.
"""
from minigen.ops.arithmetic import add, astype, div, matmul, mul, neg, pow, sub
from minigen.ops.conv import conv1d, conv2d, conv_transpose1d, conv_transpose2d
from minigen.ops.elementwise import (abs, clip, exp, leaky_relu, log, log_sigmoid, maximum, minimum, relu,
                                     sigmoid, softplus, sqrt, tanh, where)
from minigen.ops.embedding import embedding
from minigen.ops.losses import (binary_cross_entropy_with_logits, cross_entropy, gaussian_nll, kl_normal,
                                kl_normal_standard, l1_loss, mse_loss)
from minigen.ops.nn import dropout, linear, log_softmax, softmax
from minigen.ops.normalization import batch_norm, instance_norm, layer_norm, pixel_norm
from minigen.ops.pooling import avg_pool2d, max_pool2d
from minigen.ops.recurrent import gru_cell, lstm_cell, rnn_cell
from minigen.ops.reduction import logsumexp, max, mean, min, sum, var
from minigen.ops.shape import (broadcast_to, concatenate, getitem, pad, reshape, split, stack, sum_to,
                               transpose)
from minigen.ops.style import inject_noise, minibatch_stddev, modulated_conv2d
from minigen.ops.upsampling import pixel_shuffle, resize, upsample

__all__ = [
    # arithmetic
    "add", "sub", "mul", "div", "neg", "pow", "matmul", "astype",
    # elementwise
    "exp", "log", "sqrt", "abs", "sigmoid", "tanh", "relu", "leaky_relu", "softplus", "log_sigmoid",
    "clip", "maximum", "minimum", "where",
    # reductions
    "sum", "mean", "max", "min", "logsumexp", "var",
    # shapes
    "reshape", "transpose", "broadcast_to", "sum_to", "getitem", "concatenate", "stack", "split",
    # networks
    "linear", "softmax", "log_softmax", "dropout",
    # convolution, pooling, upsampling
    "conv1d", "conv_transpose1d", "conv2d", "conv_transpose2d", "max_pool2d", "avg_pool2d", "upsample", "resize",
    "pixel_shuffle", "pad",
    # recurrent cells
    "rnn_cell", "lstm_cell", "gru_cell",
    # normalisation, embedding
    "batch_norm", "instance_norm", "layer_norm", "pixel_norm", "embedding",
    # progressive and style-based generators
    "minibatch_stddev", "modulated_conv2d", "inject_noise",
    # losses
    "binary_cross_entropy_with_logits", "mse_loss", "l1_loss", "cross_entropy", "gaussian_nll",
    "kl_normal_standard", "kl_normal",
]
