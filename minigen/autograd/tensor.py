"""``Tensor``: an array of the active backend plus what reverse-mode autograd needs.

A Tensor holds ``data`` (an ``xp`` array), ``grad`` (a Tensor, filled by ``backward``),
``requires_grad`` and ``creator`` (the :class:`~minigen.autograd.function.Function` that made it, or
``None`` for a leaf).  Operators and methods call the ops of :mod:`minigen.functional`.
"""
from __future__ import annotations

from minigen import backend
from minigen.backend import _state as _active  # its array_types follow set_backend
from minigen.backend import xp

_FLOAT_KINDS = "fc"


def _as_array(data, dtype=None):
    """Anything array-like -> an array of the active backend, with PyTorch's dtype rule.

    Python floats and lists of them become float32 (the default float); a float64 NumPy array keeps
    float64, so gradient checks can run in double precision.
    """
    if isinstance(data, Tensor):
        data = data.data
    if backend.is_array(data):
        return data if dtype is None or data.dtype == dtype else data.astype(dtype)
    from_array = backend.is_host_array(data) or hasattr(data, "get")
    a = backend.to_device(data)
    if dtype is None and not from_array and a.dtype == xp.float64:
        dtype = backend.default_float()          # Python floats -> float32
    if dtype is not None and a.dtype != dtype:
        a = a.astype(dtype)
    return a


class Tensor:
    """An n-dimensional array that remembers how it was made, so gradients can flow back through it."""

    __slots__ = ("data", "grad", "requires_grad", "creator", "name", "_retain", "__weakref__")
    __array_ufunc__ = None   # ndarray + Tensor -> Tensor.__radd__, never an object array

    def __init__(self, data, requires_grad: bool = False, dtype=None, name: str | None = None):
        self.data = _as_array(data, dtype)
        self.grad = None
        self.creator = None
        self.name = name
        self._retain = False
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _make(cls, data):
        """Fast constructor for op outputs: no copy, no dtype rule.  A NumPy scalar (what NumPy returns for
        a 0-d result, e.g. ``x ** 2`` or ``x.sum()`` of a 0-d ``x``) becomes a 0-d array, so ``.data`` is
        always an array and in-place updates of it stick."""
        if not isinstance(data, _active.array_types):
            data = backend.scalar_to_array(data)
        t = object.__new__(Tensor)
        t.data = data
        t.grad = None
        t.requires_grad = False
        t.creator = None
        t.name = None
        t._retain = False
        return t

    # --- what it is ---
    shape = property(lambda self: tuple(self.data.shape))
    dtype = property(lambda self: self.data.dtype)
    ndim = property(lambda self: self.data.ndim)
    size = property(lambda self: self.data.size)
    grad_fn = property(lambda self: self.creator)
    is_leaf = property(lambda self: self.creator is None)

    @property
    def device(self) -> str:
        return "cpu" if backend.is_host_array(self.data) else backend.get_backend()

    def __len__(self):
        return len(self.data)

    def __repr__(self):
        body = repr(backend.to_host(self.data)).replace("array(", "tensor(", 1).replace(", dtype=float32", "")
        extra = []
        if self.data.dtype != xp.float32 and body.endswith(")") and "dtype=" not in body:
            extra.append(f"dtype={self.data.dtype}")
        if self.creator is not None:
            extra.append(f"grad_fn=<{self.creator.name}>")
        elif self.requires_grad:
            extra.append("requires_grad=True")
        if extra:
            body = body[:-1] + ", " + ", ".join(extra) + ")"
        return body

    # --- autograd ---
    def requires_grad_(self, flag: bool = True) -> "Tensor":
        if flag and self.data.dtype.kind not in _FLOAT_KINDS:
            raise TypeError(f"only floating-point tensors can require gradients; this one is "
                            f"{self.data.dtype} (convert with .float() or .double())")
        self.requires_grad = bool(flag)
        return self

    def retain_grad(self) -> "Tensor":
        """Keep ``.grad`` for this non-leaf tensor too (leaves always keep theirs)."""
        self._retain = True
        return self

    def backward(self, grad=None, retain_graph: bool | None = None, create_graph: bool = False,
                 trace: bool = False) -> None:
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad`` (``+=``, as in PyTorch).

        ``grad`` is the upstream gradient, needed when ``self`` is not a scalar.  ``create_graph=True``
        records the backward pass, so the gradients can be differentiated again.  ``trace=True`` prints
        each backward step.
        """
        from minigen.autograd.engine import run_backward
        run_backward([self], [grad], retain_graph=create_graph if retain_graph is None else retain_graph,
                     create_graph=create_graph, trace=trace)

    def detach(self) -> "Tensor":
        """The same data, cut from the graph (no copy)."""
        return Tensor._make(self.data)

    def zero_grad_(self):
        self.grad = None

    # --- leaving the engine ---
    def numpy(self):
        """The data as a host NumPy array (copied from a device)."""
        return backend.to_host(self.data)

    def item(self) -> float:
        if self.data.size != 1:
            raise ValueError(f"item(): only a one-element tensor converts to a Python number; "
                             f"this one has shape {self.shape}")
        return self.data.item()

    def tolist(self):
        return backend.to_host(self.data).tolist()

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __bool__(self):
        if self.data.size != 1:
            raise ValueError(f"the truth value of a tensor of shape {self.shape} is ambiguous; "
                             f"use (t).all() or (t).any() on its data")
        return bool(self.data)

    def to(self, device: str) -> "Tensor":
        """``"cpu"``/``"host"``: a NumPy copy; anything else: the active backend's device."""
        data = backend.to_host(self.data) if device in ("cpu", "host") else backend.to_device(self.data)
        t = Tensor._make(data)
        t.requires_grad = self.requires_grad and self.creator is None
        return t

    def astype(self, dtype) -> "Tensor":
        return F.astype(self, dtype)

    def float(self) -> "Tensor":
        return F.astype(self, xp.float32)

    def double(self) -> "Tensor":
        return F.astype(self, xp.float64)

    # --- arithmetic (each is one recorded op) ---
    def __add__(self, o): return F.add(self, o)
    def __radd__(self, o): return F.add(o, self)
    def __sub__(self, o): return F.sub(self, o)
    def __rsub__(self, o): return F.sub(o, self)
    def __mul__(self, o): return F.mul(self, o)
    def __rmul__(self, o): return F.mul(o, self)
    def __truediv__(self, o): return F.div(self, o)
    def __rtruediv__(self, o): return F.div(o, self)
    def __pow__(self, o): return F.pow(self, o)
    def __rpow__(self, o): return F.pow(o, self)
    def __matmul__(self, o): return F.matmul(self, o)
    def __rmatmul__(self, o): return F.matmul(o, self)
    def __neg__(self): return F.neg(self)
    def __abs__(self): return F.abs(self)
    def __getitem__(self, idx): return F.getitem(self, idx)

    # comparisons are not differentiable: boolean tensors, never recorded
    def __lt__(self, o): return Tensor._make(self.data < _data(o))
    def __le__(self, o): return Tensor._make(self.data <= _data(o))
    def __gt__(self, o): return Tensor._make(self.data > _data(o))
    def __ge__(self, o): return Tensor._make(self.data >= _data(o))
    def __eq__(self, o): return Tensor._make(self.data == _data(o))
    def __ne__(self, o): return Tensor._make(self.data != _data(o))
    __hash__ = object.__hash__

    # --- methods that mirror the functions ---
    T = property(lambda self: F.transpose(self))

    def reshape(self, *shape): return F.reshape(self, shape[0] if len(shape) == 1 else shape)
    def transpose(self, *axes): return F.transpose(self, axes or None)
    def flatten(self, start_dim: int = 0):
        return F.reshape(self, self.shape[:start_dim] + (-1,))
    def sum(self, axis=None, keepdims=False): return F.sum(self, axis, keepdims)
    def mean(self, axis=None, keepdims=False): return F.mean(self, axis, keepdims)
    def max(self, axis=None, keepdims=False): return F.max(self, axis, keepdims)
    def min(self, axis=None, keepdims=False): return F.min(self, axis, keepdims)
    def var(self, axis=None, keepdims=False, ddof=0): return F.var(self, axis, keepdims, ddof)
    def logsumexp(self, axis=None, keepdims=False): return F.logsumexp(self, axis, keepdims)
    def exp(self): return F.exp(self)
    def log(self): return F.log(self)
    def sqrt(self): return F.sqrt(self)
    def abs(self): return F.abs(self)
    def tanh(self): return F.tanh(self)
    def sigmoid(self): return F.sigmoid(self)
    def relu(self): return F.relu(self)
    def softmax(self, axis=-1): return F.softmax(self, axis)
    def log_softmax(self, axis=-1): return F.log_softmax(self, axis)
    def clip(self, lo=None, hi=None): return F.clip(self, lo, hi)
    clamp = clip

    def argmax(self, axis=None):
        return Tensor._make(self.data.argmax(axis=axis))

    def argmin(self, axis=None):
        return Tensor._make(self.data.argmin(axis=axis))


def _data(o):
    return o.data if isinstance(o, Tensor) else o


def tensor(data, requires_grad: bool = False, dtype=None) -> Tensor:
    """Make a Tensor on the active device from a copy of ``data``, as ``torch.tensor`` does: an optimizer
    updating the tensor never writes into the caller's array (``Tensor(array)`` wraps without copying).

    >>> tensor([1.0, 2.0]).dtype         # Python floats -> float32
    dtype('float32')
    >>> import numpy as np; tensor(np.zeros(2)).dtype   # a float64 array keeps float64
    dtype('float64')
    """
    t = Tensor(data.data if isinstance(data, Tensor) else data, requires_grad=requires_grad, dtype=dtype)
    if hasattr(data, "shape"):           # an array (or Tensor) may have been taken as it is
        t.data = t.data.copy()
    return t


from minigen import functional as F  # noqa: E402  (the ops build on Tensor)
