"""How to check every op: for each name in :mod:`minigen.functional`, cases giving shapes (broadcasting
ones included), the domain to draw inputs from (away from kinks and outside-domain points), and any
constant arguments.  ``tests/ops/test_gradcheck.py`` runs first- and second-order checks on every case,
``minigen gradcheck`` prints the table, and ``tests/ops/test_registry.py`` fails when an op of
``minigen.functional`` or a ``Function`` subclass has no case, or when a backward rule scaled by
1 + 1e-4 still passes.

The cases check at :data:`TOL`, a thousand times tighter than PyTorch's ``rtol = 1e-3`` (the defaults of
:func:`minigen.gradcheck.gradcheck`): central differences in float64 with eps = 1e-6 are good to about
1e-9, and the worst case here errs by 1.3e-8 in absolute terms.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from minigen import backend
from minigen import functional as F
from minigen.autograd.tensor import Tensor
from minigen.backend import xp

# input domains: each draws float64 values where the op is smooth
DOMAINS = {
    "real": lambda g, s: g.normal(s, dtype=xp.float64),
    "wide": lambda g, s: g.normal(s, scale=3.0, dtype=xp.float64),
    "positive": lambda g, s: g.uniform(s, 0.5, 2.0, dtype=xp.float64),
    "unit": lambda g, s: g.uniform(s, 0.05, 0.95, dtype=xp.float64),
    # |x| in [0.2, 1.5]: away from the kink of relu / abs at 0
    "nonzero": lambda g, s: (g.uniform(s, 0.2, 1.5, dtype=xp.float64)
                             * xp.where(g.uniform(s, dtype=xp.float64) < 0.5, -1.0, 1.0)),
}


#: the suite's tolerances: a rule off by one part in 1e4 fails wherever a gradient exceeds ~1e-3
TOL = {"eps": 1e-6, "atol": 1e-7, "rtol": 1e-6}


@dataclass
class Case:
    fn: Callable
    shapes: tuple                 # one shape per differentiable input
    domains: tuple = ("real",)    # one per input (the last one repeats)
    consts: Callable | None = None   # g -> extra constant arguments appended after the tensors
    label: str = ""
    tol: dict = field(default_factory=lambda: dict(TOL))   # eps / atol / rtol for this case

    def inputs(self, seed: int = 0) -> list:
        g = backend.Generator(seed)
        out = []
        for i, s in enumerate(self.shapes):
            dom = self.domains[min(i, len(self.domains) - 1)]
            out.append(Tensor(DOMAINS[dom](g, s), requires_grad=True))
        if self.consts is not None:
            out.extend(self.consts(g))
        return out


def _c(fn, *shapes, dom=("real",), consts=None, label="", **tol):
    return Case(fn, shapes, tuple(dom) if isinstance(dom, (tuple, list)) else (dom,), consts, label, {**TOL, **tol})


def _labels(n, k):
    return lambda g: [g.integers(0, k, size=(n,))]


def _mask(shape):
    return lambda g: [g.uniform(shape) < 0.5]


REGISTRY: dict[str, list[Case]] = {
    # arithmetic
    "add": [_c(F.add, (3, 4), (3, 4)), _c(F.add, (3, 4), (4,), label="broadcast"),
            _c(F.add, (2, 1, 3), (4, 1), label="broadcast both")],
    "sub": [_c(F.sub, (3, 4), (3, 4)), _c(F.sub, (3, 1), (1, 4), label="broadcast")],
    "mul": [_c(F.mul, (3, 4), (3, 4)), _c(F.mul, (2, 3, 4), (3, 1), label="broadcast")],
    "div": [_c(F.div, (3, 4), (3, 4), dom=("real", "positive")),
            _c(F.div, (3, 4), (4,), dom=("real", "positive"), label="broadcast")],
    "neg": [_c(F.neg, (3, 4))],
    "pow": [_c(lambda a: F.pow(a, 3.0), (3, 4), label="scalar exponent"),
            _c(lambda a: F.pow(a, 0.5), (3, 4), dom="positive", label="sqrt exponent"),
            _c(F.pow, (3, 4), (4,), dom=("positive", "real"), label="tensor exponent"),
            _c(lambda b: F.pow(2.0, b), (3,), label="scalar base")],
    "matmul": [_c(F.matmul, (3, 4), (4, 5)),
               _c(F.matmul, (2, 3, 4), (4, 5), label="batched"),
               _c(F.matmul, (2, 1, 3, 4), (3, 4, 2), label="batch broadcast"),
               _c(F.matmul, (4,), (4, 3), label="vector @ matrix"),
               _c(F.matmul, (3, 4), (4,), label="matrix @ vector")],
    # x -> float32 -> float64 is the identity up to float32 rounding (the gradient too: ~6e-8 relative),
    # so no truncation error: a large eps (a power of two) keeps that rounding's share small
    "astype": [_c(lambda x: F.astype(F.astype(x, xp.float32), xp.float64), (3, 4), label="via float32",
                  eps=0.25)],
    # elementwise
    "exp": [_c(F.exp, (3, 4))],
    "log": [_c(F.log, (3, 4), dom="positive")],
    "sqrt": [_c(F.sqrt, (3, 4), dom="positive")],
    "abs": [_c(F.abs, (3, 4), dom="nonzero")],
    "sigmoid": [_c(F.sigmoid, (3, 4), dom="wide")],
    "tanh": [_c(F.tanh, (3, 4))],
    "relu": [_c(F.relu, (3, 4), dom="nonzero")],
    "leaky_relu": [_c(lambda x: F.leaky_relu(x, 0.2), (3, 4), dom="nonzero")],
    "softplus": [_c(F.softplus, (3, 4), dom="wide")],
    "log_sigmoid": [_c(F.log_sigmoid, (3, 4), dom="wide")],
    "clip": [_c(lambda x: F.clip(x, -0.5, 0.5), (3, 4)), _c(lambda x: F.clip(x, lo=0.1), (3, 4), label="lower only")],
    "maximum": [_c(F.maximum, (3, 4), (4,))],
    "minimum": [_c(F.minimum, (3, 4), (3, 1))],
    "where": [_c(lambda a, b, c: F.where(c, a, b), (3, 4), (4,), consts=_mask((3, 4)))],
    # reductions
    "sum": [_c(F.sum, (3, 4)), _c(lambda x: F.sum(x, 0), (3, 4), label="axis 0"),
            _c(lambda x: F.sum(x, (0, 2), keepdims=True), (2, 3, 4), label="axes (0,2) keepdims")],
    "mean": [_c(F.mean, (3, 4)), _c(lambda x: F.mean(x, 1), (3, 4), label="axis 1"),
             _c(lambda x: F.mean(x, -1, keepdims=True), (2, 3, 4), label="keepdims")],
    "max": [_c(F.max, (3, 4)), _c(lambda x: F.max(x, 1), (3, 4), label="axis 1"),
            _c(lambda x: F.max(x, 0, keepdims=True), (3, 4), label="keepdims")],
    "min": [_c(F.min, (3, 4)), _c(lambda x: F.min(x, 0), (3, 4), label="axis 0")],
    "logsumexp": [_c(F.logsumexp, (3, 4)), _c(lambda x: F.logsumexp(x, 1), (3, 4), label="axis 1"),
                  _c(lambda x: F.logsumexp(x, -1, keepdims=True), (2, 3, 4), label="keepdims")],
    "var": [_c(F.var, (3, 4)), _c(lambda x: F.var(x, 0, ddof=1), (5, 3), label="axis 0, ddof 1")],
    # shapes
    "reshape": [_c(lambda x: F.reshape(x, (2, 6)), (3, 4)), _c(lambda x: F.reshape(x, (-1,)), (2, 3, 2))],
    "transpose": [_c(F.transpose, (3, 4)), _c(lambda x: F.transpose(x, (2, 0, 1)), (2, 3, 4), label="axes")],
    "broadcast_to": [_c(lambda x: F.broadcast_to(x, (2, 3, 4)), (3, 1))],
    "sum_to": [_c(lambda x: F.sum_to(x, (3, 1)), (2, 3, 4))],
    "getitem": [_c(lambda x: F.getitem(x, 1), (3, 4), label="int"),
                _c(lambda x: F.getitem(x, (slice(None), slice(1, 3))), (3, 4), label="slice"),
                _c(lambda x: F.getitem(x, (None, Ellipsis, 0)), (2, 3, 4), label="None, Ellipsis"),
                _c(lambda x: F.getitem(x, [0, 2, 0, 0]), (3, 4), label="int array, repeats"),
                _c(lambda x, m: F.getitem(x, m), (3, 4), consts=_mask((3, 4)), label="boolean mask")],
    "concatenate": [_c(lambda a, b: F.concatenate([a, b], 0), (2, 3), (4, 3)),
                    _c(lambda a, b: F.concatenate([a, b], -1), (2, 3), (2, 1), label="last axis")],
    "stack": [_c(lambda a, b: F.stack([a, b], 1), (2, 3), (2, 3))],
    "split": [_c(lambda x: tuple(F.split(x, 3, 0)), (6, 4)),
              _c(lambda x: tuple(F.split(x, [1, 3], 1)), (2, 4), label="cut points")],
    # networks
    "linear": [_c(F.linear, (5, 3), (4, 3), (4,)), _c(F.linear, (5, 3), (4, 3), label="no bias"),
               _c(F.linear, (2, 5, 3), (4, 3), (4,), label="3-D input")],
    "softmax": [_c(F.softmax, (3, 5)), _c(lambda x: F.softmax(x, 0), (3, 5), label="axis 0")],
    "log_softmax": [_c(F.log_softmax, (3, 5)), _c(lambda x: F.log_softmax(x, 0), (3, 5), label="axis 0")],
    "dropout": [_c(lambda x: F.dropout(x, 0.3, True, generator=backend.Generator(7)), (4, 5),
                   label="fixed mask")],
    # convolution, pooling, upsampling
    "conv2d": [_c(F.conv2d, (2, 3, 5, 5), (4, 3, 3, 3), (4,)),
               _c(lambda x, w: F.conv2d(x, w, stride=2, padding=1), (2, 2, 5, 4), (3, 2, 3, 2), label="stride 2, pad 1"),
               _c(lambda x, w: F.conv2d(x, w, dilation=2, padding=1), (1, 2, 6, 6), (2, 2, 3, 3), label="dilation 2"),
               _c(lambda x, w: F.conv2d(x, w, groups=2), (1, 4, 4, 4), (6, 2, 2, 2), label="groups 2"),
               # geometries with their own paths in im2col / col2im
               _c(F.conv2d, (2, 2, 3, 3), (3, 2, 3, 3), label="kernel covers the input"),
               _c(lambda x, w: F.conv2d(x, w, stride=2, padding=1), (1, 2, 2, 4), (3, 2, 2, 2),
                  label="stride = kernel, pad 1"),
               _c(lambda x, w: F.conv2d(x, w, stride=3), (1, 2, 5, 5), (2, 2, 2, 2), label="stride > kernel"),
               _c(F.conv2d, (2, 3, 2, 3), (2, 3, 1, 1), label="1x1 kernel"),
               _c(lambda x, w: F.conv2d(x, w, stride=2, padding=1, groups=2), (3, 4, 4, 3), (2, 2, 3, 3),
                  label="batch innermost (N >= Wo), groups 2")],
    "conv_transpose2d": [
        _c(F.conv_transpose2d, (2, 3, 3, 3), (3, 2, 3, 3), (2,)),
        _c(lambda x, w: F.conv_transpose2d(x, w, stride=2, padding=1, output_padding=1), (1, 2, 3, 3), (2, 3, 4, 4),
           label="stride 2, output_padding"),
        _c(lambda x, w: F.conv_transpose2d(x, w, groups=2, dilation=2), (1, 4, 3, 3), (4, 1, 2, 2),
           label="groups 2, dilation 2"),
        _c(F.conv_transpose2d, (2, 3, 1, 1), (3, 2, 3, 3), label="from 1x1"),
        _c(lambda x, w: F.conv_transpose2d(x, w, groups=2), (2, 4, 1, 1), (4, 1, 2, 3), label="from 1x1, groups 2"),
        _c(lambda x, w: F.conv_transpose2d(x, w, stride=2), (1, 2, 2, 3), (2, 3, 2, 2), label="stride = kernel"),
        _c(lambda x, w: F.conv_transpose2d(x, w, stride=3), (1, 2, 2, 2), (2, 1, 2, 2), label="stride > kernel"),
        _c(lambda x, w: F.conv_transpose2d(x, w, stride=2, padding=1), (3, 2, 2, 2), (2, 2, 3, 3),
           label="batch innermost (N >= W)")],
    # 1-D convolutions: the 2-D ones on one-row images
    "conv1d": [_c(F.conv1d, (2, 3, 7), (4, 3, 3), (4,)),
               _c(lambda x, w: F.conv1d(x, w, stride=2, padding=1), (2, 2, 6), (3, 2, 3), label="stride 2, pad 1"),
               _c(lambda x, w: F.conv1d(x, w, dilation=2, groups=2), (1, 4, 7), (2, 2, 2), label="dilation 2, groups 2"),
               _c(lambda x, w: F.conv1d(x, w, stride=2), (5, 2, 8), (3, 2, 2), label="stride = kernel")],
    "conv_transpose1d": [
        _c(F.conv_transpose1d, (2, 3, 4), (3, 2, 3), (2,)),
        _c(lambda x, w: F.conv_transpose1d(x, w, stride=2, padding=1, output_padding=1), (1, 2, 4), (2, 3, 4),
           label="stride 2, output_padding"),
        _c(lambda x, w: F.conv_transpose1d(x, w, groups=2, dilation=2), (2, 4, 3), (4, 1, 2), label="groups 2, dilation 2")],
    "max_pool2d": [_c(lambda x: F.max_pool2d(x, 2), (2, 2, 4, 4)),
                   _c(lambda x: F.max_pool2d(x, 3, stride=1, padding=1), (1, 2, 3, 4), label="3x3, pad 1")],
    "avg_pool2d": [_c(lambda x: F.avg_pool2d(x, 2), (2, 2, 4, 4)),
                   _c(lambda x: F.avg_pool2d(x, 3, stride=2, padding=1), (1, 2, 5, 5), label="3x3 stride 2 pad 1")],
    "upsample": [_c(lambda x: F.upsample(x, 2), (1, 2, 2, 3), label="nearest"),
                 _c(lambda x: F.upsample(x, 2, "bilinear"), (1, 2, 3, 3), label="bilinear")],
    "resize": [_c(lambda x: F.resize(x, (5, 3), "bilinear"), (2, 2, 3, 4), label="bilinear, up and down"),
               _c(lambda x: F.resize(x, (4, 3), "bilinear"), (1, 2, 3, 2), label="bilinear, factor 4/3 up"),
               _c(lambda x: F.resize(x, (2, 5), "nearest"), (1, 2, 3, 4), label="nearest"),
               _c(lambda x: F.resize(x, (3, 2), "area"), (2, 1, 4, 5), label="area, factor 4/3 down"),
               _c(lambda x: F.resize(x, 2, "area"), (1, 2, 4, 4), label="area = avg-pool 2")],
    "pixel_shuffle": [_c(lambda x: F.pixel_shuffle(x, 2), (1, 8, 2, 3))],
    "pad": [_c(lambda x: F.pad(x, (1, 2, 0, 1)), (2, 3, 3, 3)), _c(lambda x: F.pad(x, (2, 1), 0.5), (3, 4), label="1-D, value")],
    # recurrent cells (x, h[, c], W_ih, W_hh, b_ih, b_hh); the LSTM's fused pointwise ops inside lstm_cell
    "rnn_cell": [_c(F.rnn_cell, (3, 2), (3, 4), (4, 2), (4, 4), (4,), (4,)),
                 _c(F.rnn_cell, (3, 2), (3, 4), (4, 2), (4, 4), label="no bias")],
    "lstm_cell": [_c(F.lstm_cell, (3, 2), (3, 3), (3, 3), (12, 2), (12, 3), (12,), (12,)),
                  _c(lambda x, h, c, wi, wh: F.lstm_cell(x, h, c, wi, wh)[0], (2, 3), (2, 2), (2, 2), (8, 3), (8, 2),
                     dom=("wide",), label="h' only, wide, no bias"),
                  _c(lambda x, h, c, wi, wh: F.lstm_cell(x, h, c, wi, wh)[1], (2, 3), (2, 2), (2, 2), (8, 3), (8, 2),
                     label="c' only")],
    "gru_cell": [_c(F.gru_cell, (3, 2), (3, 3), (9, 2), (9, 3), (9,), (9,)),
                 _c(F.gru_cell, (2, 3), (2, 2), (6, 3), (6, 2), dom=("wide",), label="wide, no bias")],
    # normalisation, embedding
    "batch_norm": [_c(lambda x, w, b: F.batch_norm(x, weight=w, bias=b), (5, 3), (3,), (3,), label="2-D train"),
                   _c(lambda x, w, b: F.batch_norm(x, weight=w, bias=b), (3, 2, 3, 3), (2,), (2,), label="4-D train"),
                   _c(lambda x, w, b, rm, rv: F.batch_norm(x, rm, rv, w, b, training=False), (3, 2, 2, 2), (2,), (2,),
                      consts=lambda g: [g.normal((2,), dtype=xp.float64), g.uniform((2,), 0.5, 2.0, dtype=xp.float64)],
                      label="4-D eval")],
    "instance_norm": [_c(F.instance_norm, (2, 3, 3, 4), (3,), (3,))],
    "layer_norm": [_c(lambda x, w, b: F.layer_norm(x, (4, 5), w, b), (3, 4, 5), (4, 5), (4, 5))],
    "pixel_norm": [_c(F.pixel_norm, (2, 3, 2, 2), label="4-D"), _c(F.pixel_norm, (4, 5), label="2-D")],
    "embedding": [_c(lambda w, i: F.embedding(i, w), (5, 3), consts=lambda g: [g.integers(0, 5, size=(2, 4))])],
    # progressive and style-based generators
    "minibatch_stddev": [_c(lambda x: F.minibatch_stddev(x, 2), (4, 2, 2, 3), label="groups of 2"),
                         _c(lambda x: F.minibatch_stddev(x, 4), (3, 2, 2, 2), label="one group (G = N)")],
    "modulated_conv2d": [
        _c(lambda x, w, s: F.modulated_conv2d(x, w, s, padding=1), (2, 3, 3, 3), (2, 3, 3, 3), (2, 3),
           label="grouped, demodulated"),
        _c(lambda x, w, s: F.modulated_conv2d(x, w, s, padding=1, method="scale"), (2, 3, 3, 3), (2, 3, 3, 3),
           (2, 3), label="scale trick, demodulated"),
        _c(lambda x, w, s: F.modulated_conv2d(x, w, s, demodulate=False), (2, 2, 3, 2), (3, 2, 1, 1), (2, 2),
           label="grouped, 1x1, no demodulation"),
        _c(lambda x, w, s: F.modulated_conv2d(x, w, s, demodulate=False, method="scale"), (2, 2, 3, 2),
           (3, 2, 1, 1), (2, 2), label="scale, no demodulation")],
    "inject_noise": [_c(F.inject_noise, (2, 3, 2, 2), (2, 1, 2, 2), (3,))],
    # losses
    "binary_cross_entropy_with_logits": [
        _c(F.binary_cross_entropy_with_logits, (4, 3), (4, 3), dom=("wide", "unit")),
        _c(lambda x, t: F.binary_cross_entropy_with_logits(x, t, "sum"), (4, 3), (4, 3),
           dom=("wide", "unit"), label="sum"),
        _c(lambda x, t: F.binary_cross_entropy_with_logits(x, t, "none"), (4, 3), (4, 3),
           dom=("wide", "unit"), label="none")],
    "mse_loss": [_c(F.mse_loss, (4, 3), (4, 3)), _c(lambda a, b: F.mse_loss(a, b, "sum"), (4, 3), (4, 3), label="sum")],
    "l1_loss": [_c(F.l1_loss, (4, 3), (4, 3))],
    "cross_entropy": [_c(F.cross_entropy, (5, 4), consts=_labels(5, 4)),
                      _c(lambda x, y: F.cross_entropy(x, y, "sum"), (5, 4), consts=_labels(5, 4), label="sum")],
    "gaussian_nll": [_c(F.gaussian_nll, (4, 3), (4, 3), (4, 3)),
                     _c(lambda x, m, lv: F.gaussian_nll(x, m, lv, "mean"), (4, 3), (3,), (3,), label="broadcast, mean")],
    "kl_normal_standard": [_c(F.kl_normal_standard, (4, 3), (4, 3))],
    "kl_normal": [_c(F.kl_normal, (4, 3), (4, 3), (4, 3), (4, 3))],
}


def cases():
    """(op name, case label, Case) for every registered case."""
    for name, cs in REGISTRY.items():
        for i, c in enumerate(cs):
            yield name, c.label or f"case {i}", c
