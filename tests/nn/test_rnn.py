"""Recurrent layers: PyTorch's equations and names, shapes and states, BPTT, first- and second-order checks of
a cell and of a short unrolled sequence, the fused LSTM ops against their plain composition, and parity with
PyTorch's LSTM (outputs and gradients, float64) where PyTorch is installed."""
import numpy as np
import pytest

import minigen as mg
from minigen import functional as F
from minigen import nn
from minigen.ops.recurrent import lstm_gates, lstm_hidden, lstm_state

from helpers import host, t64

RNG = np.random.default_rng(0)


def sig(a):
    return 1.0 / (1.0 + np.exp(-a))


def reference_step(mode, x, h, c, w_ih, w_hh, b_ih, b_hh):
    """One step of PyTorch's documented equations, in plain NumPy (host, float64)."""
    gi, gh = x @ w_ih.T + b_ih, h @ w_hh.T + b_hh
    H = h.shape[-1]
    if mode == "RNN":
        return np.tanh(gi + gh), None
    if mode == "GRU":
        r, z = sig(gi[:, :H] + gh[:, :H]), sig(gi[:, H:2 * H] + gh[:, H:2 * H])
        n = np.tanh(gi[:, 2 * H:] + r * gh[:, 2 * H:])
        return (1 - z) * n + z * h, None
    a = gi + gh
    i, f, g, o = sig(a[:, :H]), sig(a[:, H:2 * H]), np.tanh(a[:, 2 * H:3 * H]), sig(a[:, 3 * H:])
    c2 = f * c + i * g
    return o * np.tanh(c2), c2


def reference_sequence(m, x, h0, c0):
    """The layer's output and final states by the reference equations, layer by layer (host arrays)."""
    mode = m.mode
    if m.batch_first:
        x = x.transpose(1, 0, 2)
    hs, cs = [], []
    for k in range(m.num_layers):
        w = [host(getattr(m, f"{n}_l{k}")) for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
        h, c, out = h0[k], c0[k], []
        for t in range(x.shape[0]):
            h, c = reference_step(mode, x[t], h, c, *w)
            out.append(h)
        hs.append(h)
        cs.append(c)
        x = np.stack(out)
    return (x.transpose(1, 0, 2) if m.batch_first else x), np.stack(hs), (np.stack(cs) if mode == "LSTM" else None)


# ---- names, shapes, states ------------------------------------------------------------------------------

@pytest.mark.parametrize("cls, gates", [(nn.RNN, 1), (nn.GRU, 3), (nn.LSTM, 4)])
def test_parameter_names_shapes_and_init_follow_pytorch(cls, gates):
    m = cls(3, 5, num_layers=2)
    names = list(dict(m.named_parameters()))
    assert names == [f"{n}_l{k}" for k in range(2) for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
    sd = m.state_dict()
    assert sd["weight_ih_l0"].shape == (gates * 5, 3) and sd["weight_ih_l1"].shape == (gates * 5, 5)
    assert sd["weight_hh_l1"].shape == (gates * 5, 5) and sd["bias_hh_l0"].shape == (gates * 5,)
    bound = 1 / np.sqrt(5)
    allw = np.concatenate([host(p).ravel() for p in m.parameters()])
    assert np.abs(allw).max() <= bound and np.abs(allw).max() > 0.8 * bound       # U(-1/sqrt(H), 1/sqrt(H))
    assert [n for n, _ in cls(3, 5, bias=False).named_parameters()] == ["weight_ih_l0", "weight_hh_l0"]


@pytest.mark.parametrize("cls", [nn.RNN, nn.GRU, nn.LSTM])
@pytest.mark.parametrize("batch_first", [False, True])
def test_sequence_matches_the_reference_equations(cls, batch_first):
    m = cls(3, 4, num_layers=2, batch_first=batch_first).double()
    L, N = 5, 2
    x = RNG.normal(size=(N, L, 3) if batch_first else (L, N, 3))
    h0, c0 = RNG.normal(size=(2, N, 4)), RNG.normal(size=(2, N, 4))
    hx = (t64(h0), t64(c0)) if cls is nn.LSTM else t64(h0)
    out, state = m(t64(x), hx)
    ref_out, ref_h, ref_c = reference_sequence(m, x, h0, c0)
    assert out.shape == ((N, L, 4) if batch_first else (L, N, 4))
    np.testing.assert_allclose(host(out), ref_out, rtol=1e-12, atol=1e-12)
    h_n = state[0] if cls is nn.LSTM else state
    np.testing.assert_allclose(host(h_n), ref_h, rtol=1e-12, atol=1e-12)
    if cls is nn.LSTM:
        np.testing.assert_allclose(host(state[1]), ref_c, rtol=1e-12, atol=1e-12)
    last = host(out)[:, -1] if batch_first else host(out)[-1]
    np.testing.assert_array_equal(last, host(h_n)[-1])                 # the last layer's final h is the last output


@pytest.mark.parametrize("cls", [nn.RNN, nn.GRU, nn.LSTM])
def test_zero_initial_state_unbatched_input_and_carrying_the_state_on(cls):
    m = cls(2, 3).double()
    x = RNG.normal(size=(6, 1, 2))
    out, _ = m(t64(x))
    zeros = (t64(np.zeros((1, 1, 3))), t64(np.zeros((1, 1, 3)))) if cls is nn.LSTM else t64(np.zeros((1, 1, 3)))
    np.testing.assert_array_equal(host(m(t64(x), zeros)[0]), host(out))         # None means zeros
    u_out, _ = m(t64(x[:, 0]))                                            # unbatched (L, I)
    assert u_out.shape == (6, 3)
    np.testing.assert_allclose(host(u_out), host(out)[:, 0], rtol=1e-14)
    first, mid = m(t64(x[:4]))                                                  # two halves, the state carried
    second, _ = m(t64(x[4:]), mid)
    np.testing.assert_allclose(np.concatenate([host(first), host(second)]), host(out), rtol=1e-13)


@pytest.mark.parametrize("cell, layer", [(nn.RNNCell, nn.RNN), (nn.GRUCell, nn.GRU), (nn.LSTMCell, nn.LSTM)])
def test_cells_are_the_layers_step(cell, layer):
    m = layer(3, 4).double()
    c = cell(3, 4).double()
    c.load_state_dict({k[:-3]: v for k, v in m.state_dict().items()})
    x = RNG.normal(size=(2, 3))
    h = c(t64(x))
    out, _ = m(t64(x[None]))
    np.testing.assert_allclose(host(h[0] if cell is nn.LSTMCell else h), host(out)[0], rtol=1e-14)
    assert (c(t64(x[0]))[0] if cell is nn.LSTMCell else c(t64(x[0]))).shape == (4,)     # unbatched


def test_rnn_relu_and_dropout_between_layers():
    m = nn.RNN(2, 3, nonlinearity="relu").double()
    out, _ = m(t64(RNG.normal(size=(4, 2, 2))))
    assert host(out).min() >= 0
    d = nn.LSTM(2, 3, num_layers=2, dropout=0.5)
    x = mg.tensor(RNG.normal(size=(4, 2, 2)).astype(np.float32))
    a, b = d(x)[0], d(x)[0]
    assert not np.array_equal(host(a), host(b))                     # training: a fresh mask each call
    d.eval()
    np.testing.assert_array_equal(host(d(x)[0]), host(d(x)[0]))     # eval: no dropout


@pytest.mark.parametrize("bad, match", [
    (lambda: nn.LSTM(3, 4)(mg.tensor(np.zeros((5, 2, 2), np.float32))), "expected input"),
    (lambda: nn.LSTM(3, 4)(mg.tensor(np.zeros((5, 2, 3), np.float32)), mg.tensor(np.zeros((1, 2, 4), np.float32))),
     "pair"),
    (lambda: nn.GRU(3, 4)(mg.tensor(np.zeros((5, 2, 3), np.float32)), mg.tensor(np.zeros((2, 2, 4), np.float32))),
     "h_0 must have shape"),
    (lambda: nn.LSTM(3, 4, bidirectional=True), "bidirectional"),
    (lambda: nn.RNN(3, 4, nonlinearity="sigmoid"), "nonlinearity"),
    (lambda: nn.GRU(3, 0), "hidden_size"),
    (lambda: nn.LSTMCell(3, 4)(mg.tensor(np.zeros((2, 3), np.float32)), mg.tensor(np.zeros((2, 4), np.float32))),
     "pair"),
    (lambda: F.lstm_cell(*[mg.tensor(np.zeros(s)) for s in ((2, 3), (2, 4), (2, 4), (12, 3), (16, 4))]),
     "weights"),
])
def test_bad_input_is_refused_naming_the_problem(bad, match):
    with pytest.raises(ValueError, match=match):
        bad()


# ---- BPTT and the checks --------------------------------------------------------------------------------

def test_bptt_reaches_the_first_step():
    """The gradient of the last output reaches x_0 through every step, and cutting the graph between two
    halves (carrying a detached state) stops it there."""
    m = nn.LSTM(2, 3).double()
    x = t64(RNG.normal(size=(8, 1, 2)))
    out, _ = m(x)
    F.sum(out[-1]).backward()
    gx = host(x.grad)
    assert np.abs(gx[0]).sum() > 0 and np.abs(gx[-1]).sum() > np.abs(gx[0]).sum()
    a, b = t64(host(x)[:4]), t64(host(x)[4:])
    _, (h, c) = m(a)
    out, _ = m(b, (h.detach(), c.detach()))
    F.sum(out[-1]).backward()
    assert a.grad is None and np.abs(host(b.grad)[0]).sum() > 0


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
def test_cell_first_and_second_order(cell):
    H, I, N = 3, 2, 2
    g = {"rnn": 1, "gru": 3, "lstm": 4}[cell]
    ws = [t64(RNG.normal(size=s)) for s in ((g * H, I), (g * H, H), (g * H,), (g * H,))]
    x, h, c = t64(RNG.normal(size=(N, I))), t64(RNG.normal(size=(N, H))), t64(RNG.normal(size=(N, H)))
    if cell == "lstm":
        def f(x, h, c, *w):
            return F.lstm_cell(x, h, c, *w)
        args = [x, h, c, *ws]
    else:
        def f(x, h, *w):
            return (F.rnn_cell if cell == "rnn" else F.gru_cell)(x, h, *w)
        args = [x, h, *ws]
    assert mg.gradcheck(f, args, atol=1e-7, rtol=1e-6)
    assert mg.gradgradcheck(f, args, atol=1e-7, rtol=1e-6)


@pytest.mark.parametrize("cls", [nn.RNN, nn.GRU, nn.LSTM])
def test_unrolled_sequence_first_and_second_order(cls):
    """A two-layer layer over 4 steps: d(output, final state) / d(input, initial state, every weight), and
    the derivatives of those (double backprop through time)."""
    m = cls(2, 3, num_layers=2, batch_first=True).double()
    params = list(m.parameters())
    x, h0, c0 = t64(RNG.normal(size=(2, 4, 2))), t64(RNG.normal(size=(2, 2, 3))), t64(RNG.normal(size=(2, 2, 3)))

    def f(x, h0, c0, *ps):
        if cls is nn.LSTM:
            out, (h, c) = m(x, (h0, c0))
            return out, h, c
        out, h = m(x, h0)
        return out, h + 0.0 * c0
    assert mg.gradcheck(f, [x, h0, c0, *params], atol=1e-7, rtol=1e-6)
    assert mg.gradgradcheck(f, [x, h0, c0, *params], atol=1e-7, rtol=1e-6)


def test_fused_lstm_ops_equal_their_composition():
    """lstm_gates / lstm_state / lstm_hidden give the values, gradients and second derivatives of the
    plain composition sigmoid / tanh / slices / products."""
    H = 3
    a, c = RNG.normal(size=(2, 4 * H)) * 2, RNG.normal(size=(2, H))

    def fused(a, c):
        s = lstm_gates(a)
        c2 = lstm_state(s, c)
        return lstm_hidden(s, c2) * c2

    def plain(a, c):
        i, f, g, o = F.sigmoid(a[:, :H]), F.sigmoid(a[:, H:2 * H]), F.tanh(a[:, 2 * H:3 * H]), F.sigmoid(a[:, 3 * H:])
        c2 = f * c + i * g
        return o * F.tanh(c2) * c2

    outs = []
    for fn in (fused, plain):
        A, C = t64(a), t64(c)
        y = fn(A, C)
        ga, gc = mg.grad(F.sum(y * y), [A, C], create_graph=True)
        hvp = mg.grad(F.sum(ga * ga) + F.sum(gc), [A, C])
        outs.append([host(v) for v in (y, ga, gc, *hvp)])
    for u, v in zip(*outs):
        np.testing.assert_allclose(u, v, rtol=1e-12, atol=1e-13)


# ---- parity with PyTorch ----------------------------------------------------------------------------------

def _torch_parity(cls_name, **kw):
    torch = pytest.importorskip("torch", reason="PyTorch is not installed: the parity test needs it")
    torch.manual_seed(0)
    tm = getattr(torch.nn, cls_name)(3, 5, **kw).double()
    m = getattr(nn, cls_name)(3, 5, **kw).double()
    m.load_state_dict({k: v.detach().numpy() for k, v in tm.state_dict().items()})
    L, N = 7, 4
    K = kw.get("num_layers", 1)
    x = RNG.normal(size=(N, L, 3) if kw.get("batch_first") else (L, N, 3))
    h0, c0 = RNG.normal(size=(K, N, 5)), RNG.normal(size=(K, N, 5))
    w_out = RNG.normal(size=(N, L, 5) if kw.get("batch_first") else (L, N, 5))
    w_h, w_c = RNG.normal(size=(K, N, 5)), RNG.normal(size=(K, N, 5))

    tx, th0, tc0 = (torch.tensor(v, requires_grad=True) for v in (x, h0, c0))
    if cls_name == "LSTM":
        tout, (th, tc) = tm(tx, (th0, tc0))
        tloss = (tout * torch.tensor(w_out)).sum() + (th * torch.tensor(w_h)).sum() + (tc * torch.tensor(w_c)).sum()
    else:
        tout, th = tm(tx, th0)
        tloss = (tout * torch.tensor(w_out)).sum() + (th * torch.tensor(w_h)).sum()
    tloss.backward()

    mx, mh0, mc0 = t64(x), t64(h0), t64(c0)
    if cls_name == "LSTM":
        out, (h, c) = m(mx, (mh0, mc0))
        loss = F.sum(out * t64(w_out, False)) + F.sum(h * t64(w_h, False)) + F.sum(c * t64(w_c, False))
    else:
        out, h = m(mx, mh0)
        loss = F.sum(out * t64(w_out, False)) + F.sum(h * t64(w_h, False))
    loss.backward()

    np.testing.assert_allclose(host(out), tout.detach().numpy(), rtol=1e-12, atol=1e-12)
    assert float(loss.item()) == pytest.approx(float(tloss.item()), rel=1e-12)
    grads = dict(m.named_parameters())
    for name, p in tm.named_parameters():
        np.testing.assert_allclose(host(grads[name].grad), p.grad.numpy(), rtol=1e-10, atol=1e-12, err_msg=name)
    for mine, theirs, name in ((mx, tx, "input"), (mh0, th0, "h_0"), (mc0, tc0, "c_0")):
        if cls_name != "LSTM" and name == "c_0":
            continue
        np.testing.assert_allclose(host(mine.grad), theirs.grad.numpy(), rtol=1e-10, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("kw", [{}, {"num_layers": 2, "batch_first": True}], ids=["one layer", "two layers, batch_first"])
def test_lstm_with_pytorchs_weights_gives_pytorchs_outputs_and_gradients(kw):
    _torch_parity("LSTM", **kw)


@pytest.mark.parametrize("cls_name", ["GRU", "RNN"])
def test_gru_and_rnn_match_pytorch(cls_name):
    _torch_parity(cls_name, num_layers=2)


# ---- 1-D convolutions -------------------------------------------------------------------------------------

def test_conv1d_matches_a_direct_sum_and_conv_transpose1d_is_its_adjoint():
    x, w, b = RNG.normal(size=(2, 3, 9)), RNG.normal(size=(4, 3, 3)), RNG.normal(size=(4,))
    y = host(F.conv1d(t64(x), t64(w), t64(b), stride=2, padding=1))
    xp_ = np.pad(x, ((0, 0), (0, 0), (1, 1)))
    ref = np.stack([np.einsum("nck,ock->no", xp_[:, :, 2 * t:2 * t + 3], w) for t in range(5)], -1) + b[None, :, None]
    np.testing.assert_allclose(y, ref, rtol=1e-12)
    g = RNG.normal(size=y.shape)
    xt = host(F.conv_transpose1d(t64(g), t64(w), stride=2, padding=1, output_padding=0))
    # <conv1d(x, w), g> = <x, conv_transpose1d(g, w)> (the transposed weight layout is (C_in, C_out, k) = w's)
    assert xt.shape == (2, 3, 9)
    assert np.sum((y - b[None, :, None]) * g) == pytest.approx(np.sum(x * xt), rel=1e-12)


def test_conv1d_layers():
    c = nn.Conv1d(3, 4, 3, padding=1)
    t = nn.ConvTranspose1d(4, 2, 4, stride=2, padding=1)
    x = mg.tensor(RNG.normal(size=(2, 3, 8)).astype(np.float32))
    y = c(x)
    assert y.shape == (2, 4, 8) and t(y).shape == (2, 2, 16)
    assert c.weight.shape == (4, 3, 3) and t.weight.shape == (4, 2, 4)
    with pytest.raises(ValueError, match=r"expected input \(N, 3, L\)"):
        c(mg.tensor(np.zeros((2, 3, 4, 4), np.float32)))
    with pytest.raises(ValueError, match="stride must be an int"):
        F.conv1d(x, c.weight, stride=(1, 2))
