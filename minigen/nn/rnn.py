"""Recurrent layers in PyTorch's shape: ``RNNCell``, ``LSTMCell``, ``GRUCell`` and the sequence layers
``RNN``, ``LSTM``, ``GRU`` (``num_layers``, ``batch_first``, dropout between layers, an initial state in
and the final state out).

A sequence layer unrolls its cells over time with the ops of :mod:`minigen.ops.recurrent`, so the
forward pass leaves one graph over the whole sequence and ``backward()`` is backprop through time: the
gradient reaching h_t is the sum of what the output at t sends and what h_{t+1} sends back,

    dL/dh_t = dL/dy_t + (dh_{t+1}/dh_t)^T dL/dh_{t+1},        dL/dW = sum_t (dh_t/dW)^T dL/dh_t  (W shared)

and, every rule being made of ops, ``grad(..., create_graph=True)`` differentiates it again.

Weights as in PyTorch: layer k has ``weight_ih_l{k}`` (G H, I_k), ``weight_hh_l{k}`` (G H, H),
``bias_ih_l{k}`` and ``bias_hh_l{k}`` (G H,), G = 1 (RNN), 3 (GRU: r, z, n), 4 (LSTM: i, f, g, o), I_0 the
input size and I_k = H above; every one drawn from U(-1/sqrt(H), 1/sqrt(H)).  Shapes: input (L, N, I)
((N, L, I) with ``batch_first``, or (L, I) unbatched), states (num_layers, N, H) (unbatched
(num_layers, H)); output (L, N, H) (batch_first (N, L, H)), the last layer's h_t for every t.
"""
from __future__ import annotations

import math

from minigen import backend
from minigen import functional as F
from minigen.autograd.tensor import Tensor
from minigen.backend import xp
from minigen.nn import init
from minigen.nn.module import Module, Parameter

GATES = {"RNN": 1, "GRU": 3, "LSTM": 4}


def _shape(x) -> tuple:
    return tuple(x.shape)


def _zeros(shape, dtype):
    return Tensor._make(xp.zeros(shape, dtype=dtype))


def _params(m: Module, suffix: str, input_size: int, hidden_size: int, gates: int, bias: bool, dtype, generator):
    """weight_ih, weight_hh (and bias_ih, bias_hh) ``+ suffix``, all U(-1/sqrt(H), 1/sqrt(H)) as in PyTorch."""
    dtype = dtype or backend.default_float()
    k = 1.0 / math.sqrt(hidden_size)
    shapes = {"weight_ih": (gates * hidden_size, input_size), "weight_hh": (gates * hidden_size, hidden_size)}
    if bias:
        shapes.update(bias_ih=(gates * hidden_size,), bias_hh=(gates * hidden_size,))
    for name, shape in shapes.items():
        p = Parameter(xp.zeros(shape, dtype=dtype))
        init.uniform_(p, -k, k, generator=generator)
        setattr(m, name + suffix, p)
    if not bias:
        setattr(m, "bias_ih" + suffix, None)
        setattr(m, "bias_hh" + suffix, None)


def _step(mode: str, nonlinearity: str, x, state, w_ih, w_hh, b_ih, b_hh):
    """One cell step: ``state`` is h (RNN, GRU) or (h, c) (LSTM); returns the new state."""
    if mode == "LSTM":
        return F.lstm_cell(x, state[0], state[1], w_ih, w_hh, b_ih, b_hh)
    if mode == "GRU":
        return F.gru_cell(x, state, w_ih, w_hh, b_ih, b_hh)
    return F.rnn_cell(x, state, w_ih, w_hh, b_ih, b_hh, nonlinearity)


def _check_sizes(who: str, input_size, hidden_size):
    for name, v in (("input_size", input_size), ("hidden_size", hidden_size)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ValueError(f"{who}: {name} must be a positive int, got {v!r}")


# ---- cells -----------------------------------------------------------------------------------------------

class _Cell(Module):
    mode = ""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, nonlinearity: str = "tanh",
                 dtype=None, generator=None):
        super().__init__()
        _check_sizes(type(self).__name__, input_size, hidden_size)
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"{type(self).__name__}: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        self.input_size, self.hidden_size, self.bias, self.nonlinearity = input_size, hidden_size, bias, nonlinearity
        _params(self, "", input_size, hidden_size, GATES[self.mode], bias, dtype, generator)

    def _input(self, x):
        s = _shape(x)
        if len(s) not in (1, 2) or s[-1] != self.input_size:
            raise ValueError(f"{type(self).__name__}({self.input_size}, {self.hidden_size}): expected input (N, "
                             f"{self.input_size}) or ({self.input_size},), got {s}")
        return (F.reshape(x, (1, s[0])), True) if len(s) == 1 else (x, False)

    def _state(self, hx, x, unbatched: bool, what: str = "hx"):
        N = _shape(x)[0]
        if hx is None:
            return _zeros((N, self.hidden_size), self.weight_ih.dtype)
        want = (self.hidden_size,) if unbatched else (N, self.hidden_size)
        if _shape(hx) != want:
            raise ValueError(f"{type(self).__name__}: {what} must have shape {want} for input {_shape(x)}, "
                             f"got {_shape(hx)}")
        return F.reshape(hx, (1, self.hidden_size)) if unbatched else hx

    def _cell(self, x, state):
        return _step(self.mode, self.nonlinearity, x, state, self.weight_ih, self.weight_hh, self.bias_ih,
                     self.bias_hh)

    def extra_repr(self):
        extra = ", bias=False" if not self.bias else ""
        if self.mode == "RNN" and self.nonlinearity != "tanh":
            extra += f", nonlinearity={self.nonlinearity!r}"
        return f"{self.input_size}, {self.hidden_size}{extra}"


class RNNCell(_Cell):
    """h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh) (``nonlinearity="relu"``: relu); ``forward(x, h=None)``."""

    mode = "RNN"

    def forward(self, x, hx=None):
        x, unbatched = self._input(x)
        h = self._cell(x, self._state(hx, x, unbatched))
        return F.reshape(h, (self.hidden_size,)) if unbatched else h


class GRUCell(_Cell):
    """r, z = sigmoid(.), n = tanh(x W_in^T + b_in + r (h W_hn^T + b_hn)), h' = (1 - z) n + z h;
    ``forward(x, h=None)``."""

    mode = "GRU"

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, dtype=None, generator=None):
        super().__init__(input_size, hidden_size, bias, dtype=dtype, generator=generator)

    def forward(self, x, hx=None):
        x, unbatched = self._input(x)
        h = self._cell(x, self._state(hx, x, unbatched))
        return F.reshape(h, (self.hidden_size,)) if unbatched else h


class LSTMCell(_Cell):
    """i, f, o = sigmoid(.), g = tanh(.), c' = f c + i g, h' = o tanh(c'); ``forward(x, (h, c)=None)`` ->
    (h', c')."""

    mode = "LSTM"

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, dtype=None, generator=None):
        super().__init__(input_size, hidden_size, bias, dtype=dtype, generator=generator)

    def forward(self, x, hx=None):
        x, unbatched = self._input(x)
        if hx is not None and (not isinstance(hx, (tuple, list)) or len(hx) != 2):
            raise ValueError("LSTMCell: hx must be a pair (h, c)")
        h, c = (None, None) if hx is None else hx
        h, c = self._cell(x, (self._state(h, x, unbatched, "h"), self._state(c, x, unbatched, "c")))
        if unbatched:
            return F.reshape(h, (self.hidden_size,)), F.reshape(c, (self.hidden_size,))
        return h, c


# ---- sequence layers -------------------------------------------------------------------------------------

class _RNNBase(Module):
    mode = ""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 nonlinearity: str = "tanh", dtype=None, generator=None):
        super().__init__()
        who = type(self).__name__
        _check_sizes(who, input_size, hidden_size)
        if isinstance(num_layers, bool) or not isinstance(num_layers, int) or num_layers < 1:
            raise ValueError(f"{who}: num_layers must be a positive int, got {num_layers!r}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"{who}: dropout must be in [0, 1), got {dropout}")
        if bidirectional:
            raise ValueError(f"{who}: bidirectional layers are not implemented (run a second layer on the "
                             "reversed sequence)")
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"{who}: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.dropout, self.nonlinearity = bias, batch_first, float(dropout), nonlinearity
        for k in range(num_layers):
            _params(self, f"_l{k}", input_size if k == 0 else hidden_size, hidden_size, GATES[self.mode], bias,
                    dtype, generator)

    def _layer(self, k: int):
        return tuple(getattr(self, f"{n}_l{k}") for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))

    def _steps(self, x):
        """The input as a list of L tensors (N, I), and whether it was unbatched."""
        who, s = type(self).__name__, _shape(x)
        if len(s) not in (2, 3) or s[-1] != self.input_size:
            layout = "(N, L, I)" if self.batch_first else "(L, N, I)"
            raise ValueError(f"{who}({self.input_size}, {self.hidden_size}): expected input {layout} or (L, I) "
                             f"with I = {self.input_size}, got {s}")
        if len(s) == 2:
            return [x[t][None] for t in range(s[0])], True
        if s[1 if self.batch_first else 0] == 0:
            raise ValueError(f"{who}: the input sequence is empty ({s})")
        if self.batch_first:
            return [x[:, t] for t in range(s[1])], False
        return [x[t] for t in range(s[0])], False

    def _initial(self, hx, N: int, unbatched: bool, what: str):
        """The initial state of every layer: a list of (N, H) tensors (zeros when ``hx`` is None)."""
        H, K = self.hidden_size, self.num_layers
        if hx is None:
            zero = _zeros((N, H), self.weight_ih_l0.dtype)
            return [zero] * K
        want = (K, H) if unbatched else (K, N, H)
        if _shape(hx) != want:
            raise ValueError(f"{type(self).__name__}: {what} must have shape {want} (num_layers, "
                             f"{'' if unbatched else 'N, '}H), got {_shape(hx)}")
        return [hx[k][None] if unbatched else hx[k] for k in range(K)]

    def _run(self, x, states: list):
        """Unroll every layer over the sequence: (outputs of the last layer, final state of each layer)."""
        finals = []
        for k in range(self.num_layers):
            if k and self.dropout and self.training:
                x = [F.dropout(v, self.dropout) for v in x]
            w = self._layer(k)
            state, out = states[k], []
            for xt in x:
                state = _step(self.mode, self.nonlinearity, xt, state, *w)
                out.append(state[0] if self.mode == "LSTM" else state)
            finals.append(state)
            x = out
        return x, finals

    def _output(self, hs, unbatched: bool):
        if unbatched:
            return F.concatenate(hs, 0)                                # (L, H)
        return F.stack(hs, 1 if self.batch_first else 0)

    def _sequence(self, x, hx):
        steps, unbatched = self._steps(x)
        N = _shape(steps[0])[0]
        if self.mode == "LSTM":
            if hx is not None and (not isinstance(hx, (tuple, list)) or len(hx) != 2):
                raise ValueError("LSTM: hx must be a pair (h_0, c_0)")
            h0, c0 = (None, None) if hx is None else hx
            states = list(zip(self._initial(h0, N, unbatched, "h_0"), self._initial(c0, N, unbatched, "c_0")))
        else:
            states = self._initial(hx, N, unbatched, "h_0")
        hs, finals = self._run(steps, states)
        return self._output(hs, unbatched), finals, unbatched

    def _final(self, hs: list, unbatched: bool):
        return F.concatenate(hs, 0) if unbatched else F.stack(hs, 0)

    def forward(self, x, hx=None):
        out, finals, unbatched = self._sequence(x, hx)
        return out, self._final(finals, unbatched)

    def extra_repr(self):
        parts = [f"{self.input_size}, {self.hidden_size}"]
        if self.num_layers != 1:
            parts.append(f"num_layers={self.num_layers}")
        if self.mode == "RNN" and self.nonlinearity != "tanh":
            parts.append(f"nonlinearity={self.nonlinearity!r}")
        if not self.bias:
            parts.append("bias=False")
        if self.batch_first:
            parts.append("batch_first=True")
        if self.dropout:
            parts.append(f"dropout={self.dropout}")
        return ", ".join(parts)


class RNN(_RNNBase):
    """Elman RNN layers: h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh) (or relu).
    ``forward(x, h_0=None)`` -> (output, h_n)."""

    mode = "RNN"


class GRU(_RNNBase):
    """GRU layers (PyTorch's equations, see :class:`GRUCell`).  ``forward(x, h_0=None)`` -> (output, h_n)."""

    mode = "GRU"

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False, dtype=None,
                 generator=None):
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         dtype=dtype, generator=generator)


class LSTM(_RNNBase):
    """LSTM layers (PyTorch's equations, see :class:`LSTMCell`).  ``forward(x, (h_0, c_0)=None)`` ->
    (output, (h_n, c_n))."""

    mode = "LSTM"

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False, dtype=None,
                 generator=None):
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         dtype=dtype, generator=generator)

    def forward(self, x, hx=None):
        out, finals, unbatched = self._sequence(x, hx)
        return out, (self._final([h for h, _ in finals], unbatched), self._final([c for _, c in finals], unbatched))
