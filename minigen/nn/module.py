"""``Module`` and ``Parameter``: the PyTorch way of holding weights.

A Module registers the Parameters and sub-Modules assigned to its attributes, so ``parameters()``,
``state_dict()``, ``train()``/``eval()`` and ``to(device)`` walk the whole tree without bookkeeping
in the layers themselves.
"""
from __future__ import annotations

from collections import OrderedDict

from minigen import backend
from minigen.autograd.tensor import Tensor


class Parameter(Tensor):
    """A Tensor that is a weight: it requires grad, and a Module holding it registers it."""

    __slots__ = ()

    def __init__(self, data, requires_grad: bool = True):
        super().__init__(data.data if isinstance(data, Tensor) else data, requires_grad=requires_grad)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()


class Module:
    """Base class of every layer and model: set Parameters / Modules as attributes, write ``forward``."""

    training = True

    def __init__(self):
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "training", True)

    def __setattr__(self, name, value):
        if "_parameters" not in self.__dict__:
            raise RuntimeError(f"{type(self).__name__}: call super().__init__() before assigning attributes")
        if name in self._buffers and not isinstance(value, (Parameter, Module)):
            object.__setattr__(self, name, value)   # a new array for a buffer (e.g. buf *= x) stays a buffer
            return
        for d in (self._parameters, self._modules, self._buffers):
            d.pop(name, None)
        if isinstance(value, Parameter):
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._modules[name] = value
        object.__setattr__(self, name, value)

    def register_buffer(self, name: str, array) -> None:
        """State that is saved and moved with the module but not trained (e.g. running statistics)."""
        object.__setattr__(self, name, array)
        self._buffers[name] = None   # the value lives in the attribute; the dict keeps the order

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} has no forward()")

    # --- walking the tree ---
    def named_children(self):
        return iter(self._modules.items())

    def children(self):
        return iter(self._modules.values())

    def named_modules(self, prefix: str = ""):
        yield prefix, self
        for name, m in self._modules.items():
            yield from m.named_modules(f"{prefix}.{name}" if prefix else name)

    def modules(self):
        return (m for _, m in self.named_modules())

    def named_parameters(self, prefix: str = ""):
        seen = set()
        for mname, m in self.named_modules(prefix):
            for pname, p in m._parameters.items():
                if id(p) not in seen:         # a shared weight is listed once
                    seen.add(id(p))
                    yield (f"{mname}.{pname}" if mname else pname), p

    def parameters(self):
        return (p for _, p in self.named_parameters())

    def named_buffers(self):
        for mname, m in self.named_modules():
            for bname in m._buffers:
                yield (f"{mname}.{bname}" if mname else bname), getattr(m, bname)

    def num_parameters(self) -> int:
        return sum(p.size for p in self.parameters())

    # --- modes ---
    def train(self, mode: bool = True) -> "Module":
        for m in self.modules():
            object.__setattr__(m, "training", mode)
        return self

    def eval(self) -> "Module":
        return self.train(False)

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.grad = None

    def requires_grad_(self, flag: bool = True) -> "Module":
        for p in self.parameters():
            p.requires_grad = flag
        return self

    # --- state ---
    def state_dict(self) -> "OrderedDict[str, object]":
        """Name -> array for every parameter and buffer (arrays of the active device, not copies)."""
        sd = OrderedDict((name, p.data) for name, p in self.named_parameters())
        sd.update((name, b) for name, b in self.named_buffers())
        return sd

    def load_state_dict(self, state_dict, strict: bool = True) -> None:
        """Copy arrays into the parameters and buffers; shapes must match.  ``strict`` also requires the
        key sets to match exactly.  Host or device arrays are accepted (moved to the active device)."""
        own = self.state_dict()
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        if strict and (missing or unexpected):
            raise KeyError(f"{type(self).__name__}.load_state_dict: missing keys {missing}, unexpected keys "
                           f"{unexpected} (was this saved from another model?)")
        bad = [f"{k}: saved {tuple(state_dict[k].shape)} vs model {tuple(own[k].shape)}"
               for k in own if k in state_dict and tuple(state_dict[k].shape) != tuple(own[k].shape)]
        if bad:
            raise ValueError(f"{type(self).__name__}.load_state_dict: shape mismatch: " + "; ".join(bad))
        params = dict(self.named_parameters())
        for mname, m in self.named_modules():
            for bname in m._buffers:
                key = f"{mname}.{bname}" if mname else bname
                if key in state_dict:
                    object.__setattr__(m, bname, backend.to_device(state_dict[key], dtype=own[key].dtype))
        for key, p in params.items():
            if key in state_dict:
                p.data = backend.to_device(state_dict[key], dtype=p.dtype).copy()

    def to(self, device: str = "device") -> "Module":
        """Move every parameter and buffer: ``"cpu"`` to host NumPy, anything else to the active backend."""
        move = backend.to_host if device in ("cpu", "host") else backend.to_device
        for p in self.parameters():
            p.data = move(p.data)
            if p.grad is not None:
                p.grad.data = move(p.grad.data)
        for m in self.modules():
            for bname in m._buffers:
                object.__setattr__(m, bname, move(getattr(m, bname)))
        return self

    def astype(self, dtype) -> "Module":
        """Cast every floating-point parameter and buffer to ``dtype`` in place (e.g. float64 for checks)."""
        for p in self.parameters():
            p.data = p.data.astype(dtype)
        for m in self.modules():
            for bname in m._buffers:
                b = getattr(m, bname)
                if b.dtype.kind == "f":
                    object.__setattr__(m, bname, b.astype(dtype))
        return self

    def double(self) -> "Module":
        return self.astype("float64")

    def float(self) -> "Module":
        return self.astype("float32")

    # --- printing ---
    def extra_repr(self) -> str:
        return ""

    def __repr__(self):
        lines = [f"{type(self).__name__}({self.extra_repr()}"]
        if self._modules:
            for name, m in self._modules.items():
                sub = repr(m).replace("\n", "\n  ")
                lines.append(f"  ({name}): {sub}")
            return "\n".join(lines) + "\n)"
        return lines[0] + ")"
