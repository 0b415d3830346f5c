"""``Optimizer``: parameter groups, per-parameter state, hooks, state_dict.  Subclasses write ``update``.

Updates run on raw arrays, in place, outside any graph (nothing is recorded).
"""
from __future__ import annotations

from minigen import backend
from minigen.autograd.tensor import Tensor


class Optimizer:
    defaults: dict = {}

    def __init__(self, params, **hyper):
        params = list(params)
        if not params:
            raise ValueError(f"{type(self).__name__}: got an empty parameter list")
        groups = params if isinstance(params[0], dict) else [{"params": params}]
        self.param_groups = []
        for g in groups:
            group = {**self.defaults, **hyper, **g, "params": list(g["params"])}
            for p in group["params"]:
                if not isinstance(p, Tensor) or not p.requires_grad:
                    raise TypeError(f"{type(self).__name__}: can only optimize tensors that require grad")
            self.param_groups.append(group)
        self.state: dict = {}          # id(param) -> {name: array or number}
        self._hooks: list = []

    # --- the loop's API ---
    def zero_grad(self) -> None:
        """Drop every gradient (set to None, as PyTorch does by default)."""
        for g in self.param_groups:
            for p in g["params"]:
                p.grad = None

    def step(self) -> None:
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                st = self.state.setdefault(id(p), {})
                self.update(p.data, p.grad.data, st, group)
        for hook in self._hooks:
            hook(self)

    def update(self, p, g, state: dict, group: dict) -> None:
        """Change ``p`` in place given its gradient ``g`` (raw arrays)."""
        raise NotImplementedError

    def register_step_post_hook(self, hook):
        """``hook(optimizer)`` runs after every step: weight clipping, spectral normalisation, EMA, ..."""
        self._hooks.append(hook)
        return hook

    @property
    def params(self):
        return [p for g in self.param_groups for p in g["params"]]

    # --- saving ---
    def state_dict(self) -> dict:
        """{"state": {index: {name: array | number}}, "param_groups": [{hyper..., "params": [index]}]}."""
        index = {id(p): i for i, p in enumerate(self.params)}
        state = {str(index[k]): dict(v) for k, v in self.state.items() if k in index}
        groups = [{**{k: v for k, v in g.items() if k != "params"}, "params": [index[id(p)] for p in g["params"]]}
                  for g in self.param_groups]
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, sd: dict) -> None:
        params = self.params
        groups = sd["param_groups"]
        if len(groups) != len(self.param_groups) or any(
                len(a["params"]) != len(b["params"]) for a, b in zip(groups, self.param_groups)):
            raise ValueError(f"{type(self).__name__}.load_state_dict: the saved parameter groups do not match "
                             "this optimizer's (a state from another model?)")
        for saved, group in zip(groups, self.param_groups):
            group.update({k: (tuple(v) if isinstance(v, list) else v) for k, v in saved.items() if k != "params"})
        self.state = {}
        for k, st in sd["state"].items():
            p = params[int(k)]
            restored = {}
            for name, v in st.items():
                # buffers of p's shape become device arrays (a 0-d p's too: its updates run in place);
                # other 0-d values are numbers
                if hasattr(v, "shape") and (v.ndim > 0 or (p.ndim == 0 and v.dtype.kind in "fc")):
                    if tuple(v.shape) != p.shape:
                        raise ValueError(f"{type(self).__name__}.load_state_dict: state '{name}' of parameter "
                                         f"{k} has shape {tuple(v.shape)}, the parameter {p.shape}")
                    v = backend.to_device(v, dtype=p.dtype).copy()
                elif hasattr(v, "shape"):
                    v = v.item()
                restored[name] = v
            self.state[id(p)] = restored

    def __repr__(self):
        hyper = {k: v for k, v in self.param_groups[0].items() if k != "params"}
        return f"{type(self).__name__}({', '.join(f'{k}={v}' for k, v in hyper.items())})"
