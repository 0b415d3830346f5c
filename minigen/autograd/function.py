"""``Function``: one differentiable op, its forward on raw arrays and its backward beside it.

Every op is a small subclass::

    class Exp(Function):
        def forward(self, x):            # raw arrays in, a raw array out
            return xp.exp(x)
        def backward(self, gy, x, y):    # d/dx exp(x) = exp(x) = y
            return gy * y

``backward(gy, *inputs, y)`` receives the output's gradient, the op's inputs and its output.  The
engine calls it in one of two ways, and the same rule serves both:

* plain ``backward()``: ``gy``, the inputs and ``y`` are raw arrays, and the rule runs as plain array
  code (fast, nothing recorded);
* ``backward(create_graph=True)``: they are Tensors, so each operator and ``minigen`` function in the
  rule is itself recorded, and the gradient can be differentiated again (double backprop).

That works because every ``minigen`` function accepts raw arrays as well as Tensors: called on raw
arrays it just computes; called on Tensors it records a node when an input requires grad.
"""
from __future__ import annotations

import weakref

from minigen.autograd.mode import mode
from minigen.backend import xp


class Function:
    #: binary elementwise ops whose backward sums gradients over broadcast axes (shown by trace)
    broadcasts = False

    inputs = ()           # the arguments (Tensors and constants), kept for backward
    needs_grad = ()       # which inputs want a gradient (set when recorded; grad() asks a narrowed copy)
    _out = None           # weakref to the output Tensor
    saved = None          # arrays a forward keeps for its backward (beyond inputs and output), freed with the graph
    _kept = None          # the output, held strongly once the op consuming it has run its rule and let go

    def __call__(self, *args):
        xs = []
        has_tensor = requires = False
        for a in args:
            if isinstance(a, Tensor):
                has_tensor = True
                if a.requires_grad:
                    requires = True
                xs.append(a.data)
            else:
                xs.append(a)
        try:
            y = self.forward(*xs)
        except (TypeError, ValueError) as e:
            cls = TypeError if isinstance(e, TypeError) else ValueError
            raise cls(f"{self.name.lower()}: {e}  [inputs: {_describe(xs)}]") from e
        if mode.anomaly:
            _check_finite(y, f"{self.name} forward")
        if not has_tensor:                      # raw arrays in, raw array out
            return y
        out = Tensor._make(y)
        if requires and mode.grad_enabled:      # record: only when some input wants a gradient
            out.requires_grad = True
            out.creator = self
            self.inputs = args
            self.needs_grad = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
            self._out = weakref.ref(out)
        return out

    def narrowed(self, needs_grad: tuple) -> Function:
        """A shallow copy of this node that asks its rule only for the gradients in ``needs_grad``: how
        ``grad()`` prunes, leaving the recorded node (which another pass may share) as it is."""
        f = object.__new__(type(self))
        state = self.__dict__.copy()
        state["needs_grad"] = needs_grad
        f.__dict__ = state
        return f

    @property
    def name(self) -> str:
        return type(self).__name__

    def forward(self, *xs):
        raise NotImplementedError

    def backward(self, gy, *xs_and_y):
        raise NotImplementedError(f"{self.name} has no backward rule")

    def __repr__(self):
        return f"<{self.name}>"


def _describe(xs) -> str:
    parts = []
    for x in xs:
        shape = getattr(x, "shape", None)
        parts.append(f"{type(x).__name__}{tuple(shape)}" if shape is not None else repr(x)[:40])
    return ", ".join(parts)


def _check_finite(a, where: str):
    if hasattr(a, "dtype") and a.dtype.kind in "fc" and not bool(xp.isfinite(a).all()):
        n_nan = int(xp.isnan(a).sum())
        raise FloatingPointError(f"anomaly: {where} produced {'NaN' if n_nan else 'inf'} "
                                 f"({n_nan} NaN of {a.size} values, shape {tuple(a.shape)})")


def is_raw(a) -> bool:
    return not isinstance(a, Tensor)


# imported last: tensor.py builds on Function
from minigen.autograd.tensor import Tensor  # noqa: E402
