"""Recurrent cells, PyTorch's equations and weight layout (gates stacked along the rows of W_ih (G H, I) and
W_hh (G H, H)).  The LSTM's pointwise part is three fused ops; everything else is composed of linear, add,
sigmoid, tanh, relu and slicing, so a sequence unrolled from these cells is one graph that the engine
differentiates through time (BPTT) and, every rule being written with ops, differentiates twice:

    rnn_cell      h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh)                 act = tanh or relu (composed)
    gru_cell      gi = x W_ih^T + b_ih,  gh = h W_hh^T + b_hh  (blocks r, z, n; composed)
                  r = sigmoid(gi_r + gh_r),  z = sigmoid(gi_z + gh_z),  n = tanh(gi_n + r gh_n)
                  h' = (1 - z) n + z h
    lstm_cell     a = x W_ih^T + b_ih + h W_hh^T + b_hh  (blocks i, f, g, o)
                  s = lstm_gates(a),  c' = lstm_state(s, c),  h' = lstm_hidden(s, c')
    lstm_gates    s = [sigmoid(a_i), sigmoid(a_f), tanh(a_g), sigmoid(a_o)]
                  ga = gs (1 - s) (s + m),  m = 1 on the g block, else 0  (= s(1-s), or 1-s^2 on g)
    lstm_state    c' = s_f c + s_i s_g      gs = [gc' s_g | gc' c | gc' s_i | 0],  gc = gc' s_f
    lstm_hidden   h' = s_o tanh(c)          gs = [0 | 0 | 0 | gh' tanh c],  gc = gh' s_o (1 - tanh^2 c)

Shapes: x (N, I), h and c (N, H), a and s (N, 4H) (LSTM), gi and gh (N, 3H) (GRU).  Fusing the LSTM's
pointwise part saves the graph the slices of a (N, 4H) gate tensor, whose backward would each fill a
zero array of the whole tensor; sigmoid(a) is computed as tanh(a/2)/2 + 1/2, so the gate nonlinearity
is one tanh over the whole tensor: s = k tanh(k a) + 1 - k, k = (1 + m)/2.
"""
from __future__ import annotations

from minigen.autograd.function import Function
from minigen.backend import xp
from minigen.ops.elementwise import relu, sigmoid, tanh
from minigen.ops.nn import linear
from minigen.ops.shape import concatenate, shape_of


def _g_mask(n4: int, dtype):
    """(4H,) with 1 on the g block (the cell candidate, tanh) and 0 on the i, f, o blocks (sigmoid)."""
    h = n4 // 4
    m = xp.zeros((n4,), dtype=dtype)
    m[2 * h:3 * h] = 1.0
    return m


def _blocks(who: str, a, c):
    n4, H = shape_of(a)[-1], shape_of(c)[-1]
    if n4 != 4 * H or shape_of(a)[:-1] != shape_of(c)[:-1]:
        raise ValueError(f"{who}: gates (N, 4H) and state (N, H) expected, got {shape_of(a)} and {shape_of(c)}")
    return H


class LSTMGates(Function):
    def forward(self, a):
        if shape_of(a)[-1] % 4:
            raise ValueError(f"lstm_gates: the last axis holds 4 gate blocks (i, f, g, o), got {shape_of(a)}")
        k = 0.5 * (1.0 + _g_mask(a.shape[-1], a.dtype))   # 1/2 on i, f, o; 1 on g
        s = a * k                                          # sigmoid(a) = tanh(a/2)/2 + 1/2, never overflows
        xp.tanh(s, out=s)
        s *= k
        s += 1.0 - k
        return s

    def backward(self, gy, a, y):
        m = _g_mask(shape_of(a)[-1], a.dtype)
        return gy * ((1.0 - y) * (y + m))


def lstm_gates(a):
    """[sigmoid(a_i), sigmoid(a_f), tanh(a_g), sigmoid(a_o)] of pre-activations a (..., 4H)."""
    return LSTMGates()(a)


class LSTMState(Function):
    def forward(self, s, c):
        H = _blocks("lstm_state", s, c)
        return s[..., H:2 * H] * c + s[..., :H] * s[..., 2 * H:3 * H]

    def backward(self, gy, s, c, y):
        gs, gc = self.needs_grad
        H = shape_of(c)[-1]
        return (concatenate([gy * s[..., 2 * H:3 * H], gy * c, gy * s[..., :H], xp.zeros(shape_of(c), dtype=c.dtype)], -1)
                if gs else None,
                gy * s[..., H:2 * H] if gc else None)


def lstm_state(s, c):
    """c' = s_f c + s_i s_g: the new cell state from the gate activations s (..., 4H) and c (..., H)."""
    return LSTMState()(s, c)


class LSTMHidden(Function):
    def forward(self, s, c):
        H = _blocks("lstm_hidden", s, c)
        return s[..., 3 * H:] * xp.tanh(c)

    def backward(self, gy, s, c, y):
        gs, gc = self.needs_grad
        H = shape_of(c)[-1]
        tc = tanh(c)
        so = s[..., 3 * H:]
        return (concatenate([xp.zeros(shape_of(s)[:-1] + (3 * H,), dtype=s.dtype), gy * tc], -1) if gs else None,
                gy * so * (1.0 - tc * tc) if gc else None)


def lstm_hidden(s, c):
    """h' = s_o tanh(c): the new hidden state from the gate activations s (..., 4H) and the new cell state."""
    return LSTMHidden()(s, c)


def _gates(x, h, w_ih, w_hh, b_ih, b_hh):
    return linear(x, w_ih, b_ih) + linear(h, w_hh, b_hh)


def _check(who: str, x, h, w_ih, w_hh, gates: int):
    G, I = shape_of(w_ih)
    H = shape_of(w_hh)[-1]
    if G != gates * H or shape_of(w_hh) != (gates * H, H):
        raise ValueError(f"{who}: weights W_ih ({gates}H, I) and W_hh ({gates}H, H) expected, got "
                         f"{shape_of(w_ih)} and {shape_of(w_hh)}")
    if shape_of(x)[-1] != I:
        raise ValueError(f"{who}: input {shape_of(x)} has {shape_of(x)[-1]} features, the weights expect {I}")
    if shape_of(h) != shape_of(x)[:-1] + (H,):
        raise ValueError(f"{who}: hidden state {shape_of(h)} should be {shape_of(x)[:-1] + (H,)}")


def rnn_cell(x, h, w_ih, w_hh, b_ih=None, b_hh=None, nonlinearity: str = "tanh"):
    """h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh) (or relu): x (N, I), h (N, H), W_ih (H, I), W_hh (H, H)."""
    if nonlinearity not in ("tanh", "relu"):
        raise ValueError(f"rnn_cell: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
    _check("rnn_cell", x, h, w_ih, w_hh, 1)
    a = _gates(x, h, w_ih, w_hh, b_ih, b_hh)
    return tanh(a) if nonlinearity == "tanh" else relu(a)


def lstm_cell(x, h, c, w_ih, w_hh, b_ih=None, b_hh=None):
    """(h', c') of PyTorch's LSTM cell: x (N, I), h and c (N, H), W_ih (4H, I), W_hh (4H, H), biases (4H,),
    gate blocks in the order i, f, g, o."""
    _check("lstm_cell", x, h, w_ih, w_hh, 4)
    if shape_of(c) != shape_of(h):
        raise ValueError(f"lstm_cell: cell state {shape_of(c)} and hidden state {shape_of(h)} must match")
    s = lstm_gates(_gates(x, h, w_ih, w_hh, b_ih, b_hh))
    c2 = lstm_state(s, c)
    return lstm_hidden(s, c2), c2


def gru_cell(x, h, w_ih, w_hh, b_ih=None, b_hh=None):
    """h' of PyTorch's GRU cell: x (N, I), h (N, H), W_ih (3H, I), W_hh (3H, H), biases (3H,), gate blocks
    r, z, n; the reset gate multiplies the hidden projection of the candidate, bias included."""
    _check("gru_cell", x, h, w_ih, w_hh, 3)
    H = shape_of(h)[-1]
    gi, gh = linear(x, w_ih, b_ih), linear(h, w_hh, b_hh)
    rz = sigmoid(gi[..., :2 * H] + gh[..., :2 * H])
    r, z = rz[..., :H], rz[..., H:]
    n = tanh(gi[..., 2 * H:] + r * gh[..., 2 * H:])
    return n + z * (h - n)                            # (1 - z) n + z h, one op fewer
