"""2-D convolution on NCHW tensors, lowered to matrix products by im2col / col2im.

Three bilinear ops close the family under differentiation, so every derivative of every order is
again one of them (that is what makes gradient penalties on convolutional critics exact):

    C(x, w)   = conv2d(x, w)                                y[n,o] = sum_c w[o,c] * x[n,c]   (cross-correlation)
    T(g, w)   = the adjoint of C in x  (conv_transpose2d)    <C(x, w), g> = <x, T(g, w)>
    W(x, g)   = the adjoint of C in w  (weight gradient)     <C(x, w), g> = <w, W(x, g)>

    d/dx C = T(gy, w)    d/dw C = W(x, gy)
    d/dg T = C(gy, w)    d/dw T = W(gy, g)
    d/dx W = T(g, gy)    d/dg W = C(x, gy)

Shapes: x (N, C, H, W); w (O, C/groups, kh, kw); y (N, O, Ho, Wo) with
Ho = (H + 2 p - d (kh - 1) - 1) // s + 1.

1-D convolutions are the 2-D ones on images one row high: conv1d(x, w) with x (N, C, L), w (O, C/g, k) is
conv2d(x (N, C, 1, L), w (O, C/g, 1, k)) with stride (1, s), padding (0, p), dilation (1, d), reshaped back
to (N, O, Lo), Lo = (L + 2 p - d (k - 1) - 1) // s + 1; conv_transpose1d likewise.  Their derivatives are
those of C, T and W (and of the reshapes around them).

The columns are channel-major: im2col gives, per group, a matrix (C/g kh kw, N Ho Wo) whose long axis
runs over the whole batch, so each op is one matrix product per group (the weight gradient sums over
the batch inside the product).  im2col copies each of the kh*kw kernel taps as one strided slice (a
loop over the kernel, never over pixels), and col2im adds them back.  Inside, the batch is split
N = No Ni with Ni innermost: channel-major images are (C, No, H, W, Ni) and the columns
(C, kh, kw, No, Ho, Wo, Ni).  Ni = N when the batch is at least an output row long (training batches
of small images), so every tap copy moves runs of N values instead of rows of Wo; else Ni = 1, the
plain (C, N, H, W).  The ops return their (N, C, H, W) results as views of that layout (NumPy's
elementwise ops keep a memory order, so the next conv finds its input, or its output gradient, already
channel-major); arrays in another order cross with one transposed copy, an image's worth, never a
matrix of columns.

C and W take the columns of the same input, so a node that will need W keeps them (``Function.saved``,
released with the graph): C(x, w) keeps im2col(x) when w gets a gradient, W(x, g) when g does, and
T's backward gathers im2col(gy) once for both C(gy, w) and W(gy, g).
"""
from __future__ import annotations

from minigen import workspace
from minigen.autograd.function import Function
from minigen.autograd.mode import mode
from minigen.autograd.tensor import Tensor
from minigen.backend import xp
from minigen.ops.shape import data_of, reshape, shape_of


def _pair(v) -> tuple:
    return (v, v) if isinstance(v, int) else tuple(v)


def out_size(n: int, k: int, s: int, p: int, d: int) -> int:
    return (n + 2 * p - d * (k - 1) - 1) // s + 1


class Geometry:
    """stride, padding, dilation, groups of one convolution (all pairs but groups)."""

    def __init__(self, stride=1, padding=0, dilation=1, groups=1):
        self.s, self.p, self.d, self.g = _pair(stride), _pair(padding), _pair(dilation), int(groups)

    def out_hw(self, H, W, kh, kw):
        return (out_size(H, kh, self.s[0], self.p[0], self.d[0]), out_size(W, kw, self.s[1], self.p[1], self.d[1]))


def _batch_inner(N, Wo) -> int:
    """Ni, the batch items innermost in the columns (see the module docstring): all or none of them."""
    return N if N >= Wo else 1


def _channel_major(a, g):
    """(N, C, Ho, Wo) -> (g, C/g, No Ho Wo Ni): an output-side array in the columns' layout (a copy unless
    it is already in that memory order)."""
    N, C, Ho, Wo = a.shape
    ni = _batch_inner(N, Wo)
    a = a.reshape(N // ni, ni, C, Ho, Wo).transpose(2, 0, 3, 4, 1)
    if not a.flags.c_contiguous:
        a = _copy(a)
    return a.reshape(g, C // g, N * Ho * Wo)


def _copy(a):
    """A contiguous copy of ``a`` in a reused buffer (see minigen/workspace.py)."""
    out = workspace.empty(a.shape, a.dtype)
    out[...] = a
    return out


def _matmul(a, b):
    """(g, M, K) @ (g, K, N) into a reused buffer."""
    return xp.matmul(a, b, out=workspace.empty((a.shape[0], a.shape[1], b.shape[2]), a.dtype))


def _batch_major(a, N, Ho, Wo):
    """(g, C/g, No Ho Wo Ni) -> (N, C, Ho, Wo), the inverse of _channel_major: a view (no copy)."""
    ni = _batch_inner(N, Wo)
    a = a.reshape(-1, N // ni, Ho, Wo, ni).transpose(1, 4, 0, 2, 3)
    return a.reshape(N, -1, Ho, Wo)                     # No or Ni is 1: still a view


def _tap(i, k_out, s, d):
    """The input positions that kernel tap i reads for each of the k_out outputs along one axis."""
    return slice(i * d, i * d + s * (k_out - 1) + 1, s)


def _tiles(n, k, s, p, d, n_out) -> bool:
    """Along one axis, the taps cut the padded input into n_out windows edge to edge (stride = kernel, or
    one window covering it): im2col and col2im are then one transposed copy."""
    return (d == 1 or k == 1) and (s == k or n_out == 1) and n_out * k == n + 2 * p


def _disjoint(k, s, d) -> bool:
    """Along one axis, no input position is read by two taps (stride >= the kernel's span)."""
    return s >= d * (k - 1) + 1


def _im2col(x, kh, kw, geo: Geometry, Ho, Wo):
    """(N, C, H, W) -> columns (g, C/g kh kw, No Ho Wo Ni): every kernel tap's strided view, copied once."""
    (sh, sw), (ph, pw), (dh, dw) = geo.s, geo.p, geo.d
    N, C, H, W = x.shape
    ni = _batch_inner(N, Wo)
    if _tiles(H, kh, sh, ph, dh, Ho) and _tiles(W, kw, sw, pw, dw, Wo):
        if ph or pw:
            x = xp.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
        # pixel (ho kh + i, wo kw + j) is tap (i, j) of output (ho, wo): a transpose (a view when Ho = Wo = 1)
        cols = x.reshape(N // ni, ni, C, Ho, kh, Wo, kw).transpose(2, 4, 6, 0, 3, 5, 1)
    else:
        # one copy into the channel-major (C, No, H, W, Ni) layout, padded: the taps then read from it
        xc = workspace.empty((C, N // ni, H + 2 * ph, W + 2 * pw, ni), x.dtype)
        if ph or pw:
            xc.fill(0)
        xc[:, :, ph: ph + H, pw: pw + W] = x.reshape(N // ni, ni, C, H, W).transpose(2, 0, 3, 4, 1)
        cols = workspace.empty((C, kh, kw, N // ni, Ho, Wo, ni), x.dtype)
        for i in range(kh):
            for j in range(kw):
                cols[:, i, j] = xc[:, :, _tap(i, Ho, sh, dh), _tap(j, Wo, sw, dw)]
    return cols.reshape(geo.g, C // geo.g * kh * kw, N * Ho * Wo)


def _col2im(cols, x_shape, kh, kw, geo: Geometry, Ho, Wo):
    """The adjoint of _im2col: add every tap's columns back into an (N, C, H, W) image."""
    (sh, sw), (ph, pw), (dh, dw) = geo.s, geo.p, geo.d
    N, C, H, W = x_shape
    ni = _batch_inner(N, Wo)
    cols = cols.reshape(C, kh, kw, N // ni, Ho, Wo, ni)
    if _tiles(H, kh, sh, ph, dh, Ho) and _tiles(W, kw, sw, pw, dw, Wo):
        # every padded pixel is in exactly one tap of one output: put them back in place, nothing to add
        # (a view when Ho = Wo = 1: the kernel covers the image, as a transposed conv from 1x1)
        x = cols.transpose(3, 6, 0, 4, 1, 5, 2).reshape(N, C, H + 2 * ph, W + 2 * pw)
        return x[:, :, ph: ph + H, pw: pw + W]
    x = workspace.zeros((C, N // ni, H + 2 * ph, W + 2 * pw, ni), cols.dtype)
    overlap = not (_disjoint(kh, sh, dh) or Ho == 1) or not (_disjoint(kw, sw, dw) or Wo == 1)
    for i in range(kh):
        for j in range(kw):
            if overlap:
                x[:, :, _tap(i, Ho, sh, dh), _tap(j, Wo, sw, dw)] += cols[:, i, j]
            else:                                      # no pixel in two taps: assign, nothing to add to
                x[:, :, _tap(i, Ho, sh, dh), _tap(j, Wo, sw, dw)] = cols[:, i, j]
    x = x[:, :, ph: ph + H, pw: pw + W].transpose(1, 4, 0, 2, 3)     # (No, Ni, C, H, W)
    return x.reshape(N, C, H, W)                        # a view, as _batch_major


def _check(x, w, geo: Geometry, who: str):
    if x.ndim != 4:
        raise ValueError(f"{who}: input must be (N, C, H, W), got shape {tuple(x.shape)}")
    if w.ndim != 4:
        raise ValueError(f"{who}: weight must be (O, C/groups, kh, kw), got shape {tuple(w.shape)}")
    if x.shape[1] != w.shape[1] * geo.g or w.shape[0] % geo.g:
        raise ValueError(f"{who}: input has {x.shape[1]} channels but the weight {tuple(w.shape)} with groups="
                         f"{geo.g} expects {w.shape[1] * geo.g} (and out channels divisible by groups)")


def _recorded(a) -> bool:
    """Whether ``a`` gets a gradient from the graph being recorded: only then keep columns for it."""
    return isinstance(a, Tensor) and a.requires_grad and mode.grad_enabled


class Conv2d(Function):
    """y = C(x, w):  y_g (O/g, N Ho Wo) = w_g (O/g, C/g kh kw) @ im2col(x)_g (C/g kh kw, N Ho Wo).

    ``cols``: im2col(x) when the caller has it already; ``keep_cols``: keep them for the weight gradient."""

    def __init__(self, geo: Geometry, keep_cols=False, cols=None):
        self.geo, self.keep_cols, self.saved = geo, keep_cols, cols

    def forward(self, x, w):
        _check(x, w, self.geo, "conv2d")
        N, C, H, W = x.shape
        O, Cg, kh, kw = w.shape
        Ho, Wo = self.geo.out_hw(H, W, kh, kw)
        if Ho < 1 or Wo < 1:
            raise ValueError(f"conv2d: input {H}x{W} is smaller than the kernel {kh}x{kw} (with dilation and padding)")
        g = self.geo.g
        cols = self.saved if self.saved is not None else _im2col(x, kh, kw, self.geo, Ho, Wo)   # (g, K, N L)
        self.saved = cols if self.keep_cols else None                       # W(x, gy) reads the same columns
        y = _matmul(w.reshape(g, O // g, Cg * kh * kw), cols)                    # (g, O/g, N L)
        return _batch_major(y, N, Ho, Wo)

    def backward(self, gy, x, w, y):
        gx, gw = self.needs_grad
        return (conv2d_input_grad(gy, w, shape_of(x), self.geo) if gx else None,
                conv2d_weight_grad(x, gy, shape_of(w), self.geo, cols=self.saved) if gw else None)


def _conv(x, w, geo: Geometry, cols=None):
    """C(x, w), keeping im2col(x) in the node when w will get a gradient."""
    return Conv2d(geo, keep_cols=_recorded(w), cols=cols)(x, w)


def conv2d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D cross-correlation of x (N, C, H, W) with w (O, C/groups, kh, kw), plus a bias b (O,)."""
    y = _conv(x, w, Geometry(stride, padding, dilation, groups))
    if b is not None:
        y = y + reshape(b, (1, -1, 1, 1))
    return y


class Conv2dInputGrad(Function):
    """x_grad = T(g, w) = col2im(w_g^T (C/g kh kw, O/g) @ g_g (O/g, N Ho Wo)): the adjoint of conv2d in
    its input (conv_transpose2d's core)."""

    def __init__(self, x_shape, geo: Geometry):
        self.x_shape, self.geo = tuple(x_shape), geo

    def forward(self, g, w):
        O, Cg, kh, kw = w.shape
        grp = self.geo.g
        Ho, Wo = g.shape[2], g.shape[3]
        wm = w.reshape(grp, O // grp, Cg * kh * kw)
        cols = _matmul(xp.swapaxes(wm, -1, -2), _channel_major(g, grp))          # (g, K, N L)
        return _col2im(cols, self.x_shape, kh, kw, self.geo, Ho, Wo)

    def backward(self, gy, g, w, y):
        gg, gw = self.needs_grad
        kh, kw = shape_of(w)[2:]
        # C(gy, w) and W(gy, g) take the same columns of gy: gather them once for both
        cols = _im2col(data_of(gy), kh, kw, self.geo, g.shape[2], g.shape[3]) if gg and gw else None
        return (_conv(gy, w, self.geo, cols) if gg else None,
                conv2d_weight_grad(gy, g, shape_of(w), self.geo, cols=cols) if gw else None)


def conv2d_input_grad(g, w, x_shape, geo: Geometry):
    return Conv2dInputGrad(x_shape, geo)(g, w)


def conv_transpose2d(x, w, b=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """The transposed convolution (the adjoint of conv2d in its input), PyTorch's layout:
    x (N, C_in, H, W), w (C_in, C_out/groups, kh, kw);
    H_out = (H - 1) s - 2 p + d (kh - 1) + output_padding + 1."""
    geo = Geometry(stride, padding, dilation, groups)
    xs, ws = shape_of(x), shape_of(w)
    if len(xs) != 4 or len(ws) != 4:
        raise ValueError(f"conv_transpose2d: input (N, C, H, W) and weight (C_in, C_out/groups, kh, kw) "
                         f"expected, got {xs} and {ws}")
    if xs[1] != ws[0]:
        raise ValueError(f"conv_transpose2d: input has {xs[1]} channels but the weight {ws} expects {ws[0]}")
    op = _pair(output_padding)
    (sh, sw), (ph, pw), (dh, dw) = geo.s, geo.p, geo.d
    H = (xs[2] - 1) * sh - 2 * ph + dh * (ws[2] - 1) + op[0] + 1
    W = (xs[3] - 1) * sw - 2 * pw + dw * (ws[3] - 1) + op[1] + 1
    y = Conv2dInputGrad((xs[0], ws[1] * geo.g, H, W), geo)(x, w)
    if b is not None:
        y = y + reshape(b, (1, -1, 1, 1))
    return y


class Conv2dWeightGrad(Function):
    """w_grad = W(x, g):  w_grad_g (O/g, C/g kh kw) = g_g (O/g, N Ho Wo) @ im2col(x)_g^T, the adjoint of
    conv2d in its weight (one product sums over the batch and the pixels).

    ``cols``: im2col(x) when the caller has it; ``keep_cols``: keep them for C(x, gy) in the backward."""

    def __init__(self, w_shape, geo: Geometry, keep_cols=False, cols=None):
        self.w_shape, self.geo, self.keep_cols, self.saved = tuple(w_shape), geo, keep_cols, cols

    def forward(self, x, g):
        kh, kw = self.w_shape[2:]
        Ho, Wo = g.shape[2], g.shape[3]
        cols = self.saved if self.saved is not None else _im2col(x, kh, kw, self.geo, Ho, Wo)   # (g, K, N L)
        self.saved = cols if self.keep_cols else None
        gw = xp.matmul(_channel_major(g, self.geo.g), xp.swapaxes(cols, -1, -2))  # (g, O/g, K)
        return gw.reshape(self.w_shape)

    def backward(self, gy, x, g, y):
        gx, gg = self.needs_grad
        return (conv2d_input_grad(g, gy, shape_of(x), self.geo) if gx else None,
                _conv(x, gy, self.geo, self.saved) if gg else None)


def conv2d_weight_grad(x, g, w_shape, geo: Geometry, cols=None):
    return Conv2dWeightGrad(w_shape, geo, keep_cols=_recorded(g), cols=cols)(x, g)


def _single(v, who: str, what: str) -> int:
    if isinstance(v, (tuple, list)):
        if len(v) != 1:
            raise ValueError(f"{who}: {what} must be an int or a 1-tuple, got {v!r}")
        v = v[0]
    return int(v)


def _require_ncl(x, w, who: str, weight: str):
    xs, ws = shape_of(x), shape_of(w)
    if len(xs) != 3 or len(ws) != 3:
        raise ValueError(f"{who}: input (N, C, L) and weight {weight} expected, got {xs} and {ws}")


def conv1d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D cross-correlation of x (N, C, L) with w (O, C/groups, k), plus a bias b (O,): y (N, O, Lo)."""
    _require_ncl(x, w, "conv1d", "(O, C/groups, k)")
    s, p, d = (_single(v, "conv1d", n) for v, n in ((stride, "stride"), (padding, "padding"), (dilation, "dilation")))
    (N, C, L), (O, Cg, k) = shape_of(x), shape_of(w)
    y = conv2d(reshape(x, (N, C, 1, L)), reshape(w, (O, Cg, 1, k)), None, (1, s), (0, p), (1, d), groups)
    y = reshape(y, (N, O, shape_of(y)[-1]))
    if b is not None:
        y = y + reshape(b, (1, -1, 1))
    return y


def conv_transpose1d(x, w, b=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """The transposed 1-D convolution, PyTorch's layout: x (N, C_in, L), w (C_in, C_out/groups, k);
    L_out = (L - 1) s - 2 p + d (k - 1) + output_padding + 1."""
    _require_ncl(x, w, "conv_transpose1d", "(C_in, C_out/groups, k)")
    s, p, op, d = (_single(v, "conv_transpose1d", n) for v, n in
                   ((stride, "stride"), (padding, "padding"), (output_padding, "output_padding"),
                    (dilation, "dilation")))
    (N, C, L), (Ci, Cog, k) = shape_of(x), shape_of(w)
    y = conv_transpose2d(reshape(x, (N, C, 1, L)), reshape(w, (Ci, Cog, 1, k)), None, (1, s), (0, p), (0, op),
                         groups, (1, d))
    y = reshape(y, (N, shape_of(y)[1], shape_of(y)[-1]))
    if b is not None:
        y = y + reshape(b, (1, -1, 1))
    return y
