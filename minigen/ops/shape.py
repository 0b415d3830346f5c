"""Ops that move values without changing them: reshape, transpose, broadcast, sum-to, indexing, joins,
padding.  Each derivative moves the gradient back the other way, and each pair is its own adjoint:

    reshape(x, s)         gx = reshape(gy, x.shape)
    transpose(x, axes)    gx = transpose(gy, the inverse permutation)
    broadcast_to(x, s)    gx = sum_to(gy, x.shape)
    sum_to(x, s)          gx = broadcast_to(gy, x.shape)
    getitem(x, idx)       gx = scatter_add(idx, gy): zeros of x's shape, gy added at idx (repeats add up)
    (scatter_add)         ggy = getitem(ggx, idx)
    concatenate(xs, ax)   g_i = the slice of gy that x_i filled
    pad(x, widths)        gx = gy cropped back to x
    stack, split          composed of reshape + concatenate, and getitem
"""
from __future__ import annotations

from minigen import backend, workspace
from minigen.autograd.function import Function
from minigen.autograd.tensor import Tensor
from minigen.backend import xp


def shape_of(x) -> tuple:
    return tuple(x.shape)


def data_of(x):
    """The raw array behind a Tensor (constants pass through): for masks and other non-differentiable
    helpers inside backward rules."""
    return x.data if isinstance(x, Tensor) else x


def _norm_axis(axis, ndim: int):
    if axis is None:
        return tuple(range(ndim))
    axes = axis if isinstance(axis, tuple) else (axis,)
    return tuple(a % ndim for a in axes)


def require_nchw(x, who: str):
    """Refuse anything but a batch of images (N, C, H, W), naming the op."""
    if len(shape_of(x)) != 4:
        raise ValueError(f"{who}: input must be (N, C, H, W), got shape {shape_of(x)}")


class Reshape(Function):
    def __init__(self, shape):
        self.shape = shape

    def forward(self, x):
        return x.reshape(self.shape)

    def backward(self, gy, x, y):
        return reshape(gy, shape_of(x))


def reshape(x, shape):
    """View ``x`` with a new shape (one entry may be -1)."""
    shape = tuple(shape) if isinstance(shape, (tuple, list)) else (shape,)
    if not isinstance(x, Tensor):        # raw arrays (a fast backward): no node to make
        return x.reshape(shape)
    if x.shape == shape:
        return x
    return Reshape(shape)(x)


class Transpose(Function):
    def __init__(self, axes=None):
        self.axes = axes

    def forward(self, x):
        return x.transpose(self.axes) if self.axes is not None else x.T

    def backward(self, gy, x, y):
        if self.axes is None:
            return transpose(gy)
        inverse = tuple(sorted(range(len(self.axes)), key=lambda i: self.axes[i]))
        return transpose(gy, inverse)


def transpose(x, axes=None):
    """Permute axes (reverse them when ``axes`` is None); ``x.T`` for a matrix."""
    if axes is not None:
        axes = tuple(a % x.ndim for a in axes)
    return Transpose(axes)(x)


def swap_last(x):
    """Swap the last two axes (the matrix transpose of a batch of matrices)."""
    if not isinstance(x, Tensor):
        return xp.swapaxes(x, -1, -2)
    if x.ndim == 2:
        return Transpose(None)(x)
    axes = tuple(range(x.ndim - 2)) + (x.ndim - 1, x.ndim - 2)
    return Transpose(axes)(x)


class BroadcastTo(Function):
    def __init__(self, shape):
        self.shape = tuple(shape)

    def forward(self, x):
        return xp.broadcast_to(x, self.shape)

    def backward(self, gy, x, y):
        return sum_to(gy, shape_of(x))


def broadcast_to(x, shape):
    shape = tuple(shape)
    if tuple(x.shape) == shape:
        return x
    if not isinstance(x, Tensor):
        return xp.broadcast_to(x, shape)
    return BroadcastTo(shape)(x)


class SumTo(Function):
    """Sum a broadcast result back to ``shape``: the adjoint of broadcast_to."""

    def __init__(self, shape):
        self.shape = tuple(shape)

    def forward(self, x):
        lead = x.ndim - len(self.shape)
        axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(self.shape)
                                          if n == 1 and x.shape[lead + i] != 1)
        y = x.sum(axis=axes, keepdims=True) if axes else x
        return y.reshape(self.shape) if lead else y

    def backward(self, gy, x, y):
        return broadcast_to(gy, shape_of(x))


def sum_to(x, shape):
    """Sum over the axes that broadcasting added or stretched, so the result has ``shape``."""
    shape = tuple(shape)
    if tuple(x.shape) == shape:
        return x
    return SumTo(shape)(x)


def buffered(ufunc: str, a, b):
    """``xp.<ufunc>(a, b)`` for raw arrays of some size written into a reused buffer (a step's big
    temporaries would otherwise be fresh, page-faulting memory every time: minigen/workspace.py); small
    arrays, Python numbers and Tensors (a backward under create_graph) take the plain operator path."""
    f = getattr(xp, ufunc)
    if isinstance(a, Tensor) or isinstance(b, Tensor) or not (hasattr(a, "shape") and hasattr(b, "shape")) \
            or max(a.size, b.size) < workspace.SMALL:
        return f(a, b)
    shape = a.shape if a.shape == b.shape else xp.broadcast_shapes(a.shape, b.shape)
    return f(a, b, out=workspace.empty(shape, xp.result_type(a, b)))


def product(a, b):
    """a * b inside a backward rule (raw arrays into a reused buffer, Tensors recorded): see buffered."""
    return a * b if isinstance(a, Tensor) or isinstance(b, Tensor) else buffered("multiply", a, b)


def unbroadcast(g, like):
    """The gradient of a broadcast input: ``g`` summed down to ``like``'s shape (the one helper every
    broadcasting op's backward uses)."""
    shape = like.shape
    if g.shape == shape:
        return g
    return sum_to(g, shape)


# --- indexing ---

def _raw_index(idx):
    if isinstance(idx, Tensor):
        return idx.data
    if isinstance(idx, tuple):
        return tuple(_raw_index(i) for i in idx)
    if isinstance(idx, list):
        return xp.asarray(idx)
    if backend.is_host_array(idx):      # moved once, so the backward's scatter-add reuses the device copy
        return backend.to_device(idx)
    return idx


def _is_basic(idx) -> bool:
    """Only ints, slices, None and Ellipsis: each element is picked at most once."""
    items = idx if isinstance(idx, tuple) else (idx,)
    return all(i is None or i is Ellipsis or isinstance(i, (int, slice)) for i in items)


class GetItem(Function):
    def __init__(self, idx):
        self.idx = idx

    def forward(self, x):
        return x[self.idx]

    def backward(self, gy, x, y):
        return ScatterAdd(self.idx, shape_of(x))(gy)


def getitem(x, idx):
    """``x[idx]`` for ints, slices, None, Ellipsis, integer arrays (repeats allowed) and boolean masks."""
    return GetItem(_raw_index(idx))(x)


class ScatterAdd(Function):
    """zeros(shape) with ``gy`` added at ``idx`` (repeated indices add up): the adjoint of getitem."""

    def __init__(self, idx, shape):
        self.idx, self.shape = idx, shape

    def forward(self, gy):
        gx = xp.zeros(self.shape, dtype=gy.dtype)
        if _is_basic(self.idx):
            gx[self.idx] = gy
        else:
            xp.add.at(gx, self.idx, gy)
        return gx

    def backward(self, ggx, gy, y):
        return getitem(ggx, self.idx)


class Concatenate(Function):
    def __init__(self, axis):
        self.axis = axis

    def forward(self, *xs):
        return xp.concatenate(xs, axis=self.axis)

    def backward(self, gy, *xs_and_y):
        xs = xs_and_y[:-1]
        axis = self.axis % len(shape_of(gy))
        grads, start = [], 0
        for x, need in zip(xs, self.needs_grad):
            n = shape_of(x)[axis]
            grads.append(getitem(gy, (slice(None),) * axis + (slice(start, start + n),)) if need else None)
            start += n
        return tuple(grads)


def concatenate(xs, axis: int = 0):
    """Join tensors along an existing axis."""
    return Concatenate(axis)(*xs)


def stack(xs, axis: int = 0):
    """Join tensors along a new axis."""
    xs = list(xs)
    nd = len(shape_of(xs[0])) + 1
    axis = axis % nd
    expanded = [reshape(x, shape_of(x)[:axis] + (1,) + shape_of(x)[axis:]) for x in xs]
    return concatenate(expanded, axis)


def split(x, indices_or_sections, axis: int = 0) -> list:
    """Split into pieces along ``axis``, like ``numpy.split`` (equal sections or cut points)."""
    n = shape_of(x)[axis]
    axis = axis % len(shape_of(x))
    if isinstance(indices_or_sections, int):
        if n % indices_or_sections:
            raise ValueError(f"split: axis {axis} of length {n} does not divide into "
                             f"{indices_or_sections} equal sections")
        step = n // indices_or_sections
        cuts = list(range(step, n, step))
    else:
        cuts = list(indices_or_sections)
    bounds = [0] + cuts + [n]
    pre = (slice(None),) * axis
    return [getitem(x, pre + (slice(a, b),)) for a, b in zip(bounds[:-1], bounds[1:])]


class Pad(Function):
    """Constant padding: ``widths`` holds one (before, after) pair per axis, as ``numpy.pad``."""

    def __init__(self, widths, value):
        self.widths, self.value = widths, value

    def forward(self, x):
        return xp.pad(x, self.widths, constant_values=self.value)

    def backward(self, gy, x, y):
        crop = tuple(slice(a, a + n) for (a, _), n in zip(self.widths, shape_of(x)))
        return getitem(gy, crop)


def pad(x, padding, value: float = 0.0):
    """Pad the last axes: ``padding`` = (left, right) or (left, right, top, bottom), PyTorch's order."""
    p = tuple(padding)
    if len(p) % 2 or len(p) // 2 > len(shape_of(x)):
        raise ValueError(f"pad: padding must hold (before, after) pairs for the last axes, got {p}")
    pairs = [(p[i], p[i + 1]) for i in range(0, len(p), 2)]            # last axis first
    widths = [(0, 0)] * (len(shape_of(x)) - len(pairs)) + pairs[::-1]
    return Pad(tuple(widths), value)(x)



def check_range(idx, n: int, who: str, what: str) -> None:
    """ValueError when integer ``idx`` leaves [0, n).  Reading the values is a device->host wait, so on a
    device backend the check runs under ``detect_anomaly()`` only (data loaders and the tasks' label
    sources keep labels in range); on NumPy it always runs (a negative index would silently wrap)."""
    from minigen import backend
    from minigen.autograd.mode import mode
    if not idx.size or not (mode.anomaly or backend.get_backend() == "numpy"):
        return
    lo, hi = int(idx.min()), int(idx.max())
    if lo < 0 or hi >= n:
        raise ValueError(f"{who}: {what} must be in [0, {n}), got [{lo}, {hi}]")
