"""Finite-difference checks of autograd: ``gradcheck`` (first derivatives) and ``gradgradcheck`` (second).

For a function f of tensors x_1..x_k with outputs y, pick a random cotangent v and compare, for every
element of every input that requires grad,

    analytic   d(v . y)/dx_ij                       (one backward pass)
    numeric    [v . y(x + eps e_ij) - v . y(x - eps e_ij)] / (2 eps)      (central difference)

and pass when |analytic - numeric| <= atol + rtol |numeric| everywhere.  ``fast=True`` compares one
random projection per input instead (u^T grad vs the difference along u), for big inputs.  Run it in
float64: float32 round-off (1e-7) divided by eps would swamp the comparison.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from minigen import backend
from minigen.backend import xp
from minigen.autograd.engine import grad
from minigen.autograd.tensor import Tensor


class GradcheckError(AssertionError):
    """Analytic and numeric derivatives disagree; the message holds a table of the worst elements."""


@dataclass
class InputCheck:
    index: int
    shape: tuple
    max_abs_err: float = 0.0
    max_rel_err: float = 0.0
    worst: tuple = ()
    analytic: float = 0.0
    numeric: float = 0.0
    passed: bool = True
    kink: str = ""


@dataclass
class Report:
    name: str
    order: int
    inputs: list = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.inputs)

    @property
    def max_abs_err(self) -> float:
        return max((c.max_abs_err for c in self.inputs), default=0.0)

    def table(self) -> str:
        what = "first" if self.order == 1 else "second"
        lines = [f"gradcheck of {self.name} ({what} derivatives): "
                 f"{'passed' if self.passed else 'FAILED'}",
                 f"  {'input':<6}{'shape':<16}{'worst index':<16}{'analytic':>14}{'numeric':>14}"
                 f"{'abs err':>11}{'rel err':>11}  ok"]
        for c in self.inputs:
            lines.append(f"  {c.index:<6}{str(c.shape):<16}{str(c.worst):<16}{c.analytic:>14.6g}"
                         f"{c.numeric:>14.6g}{c.max_abs_err:>11.2e}{c.max_rel_err:>11.2e}  "
                         f"{'yes' if c.passed else 'NO'}")
            if c.kink:
                lines.append(f"        note: {c.kink}")
        return "\n".join(lines)


def _as_tuple(out):
    return tuple(out) if isinstance(out, (tuple, list)) else (out,)


def _float_outputs(outs):
    return [o for o in outs if isinstance(o, Tensor) and o.dtype.kind == "f"]


def _cotangents(outs, rng):
    return [rng.normal(o.shape, dtype=o.dtype) for o in outs]


def _scalar(fn, inputs, vs) -> float:
    """v . f(inputs), as a Python float.  Grad mode stays on: f may itself differentiate (a gradient
    penalty calls grad inside)."""
    outs = _float_outputs(_as_tuple(fn(*inputs)))
    return float(sum(float((o.data * v).sum()) for o, v in zip(outs, vs)))


def check(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, fast=False, name=None, seed=0, order=1) -> Report:
    """Compare analytic and numeric first derivatives; return a :class:`Report` (never raises on a mismatch)."""
    inputs = list(_as_tuple(inputs))
    name = name or getattr(fn, "__name__", "function")
    checked = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not checked:
        raise ValueError(f"gradcheck({name}): no input has requires_grad=True, so there is nothing to check")
    for i in checked:
        if inputs[i].dtype != xp.float64:
            raise TypeError(f"gradcheck({name}): input {i} is {inputs[i].dtype}; run checks in float64 "
                            "(minigen.tensor(np.float64 array) or t.double()), since float32 round-off "
                            "divided by eps swamps the comparison")
    rng = backend.Generator(seed)
    outs = _float_outputs(_as_tuple(fn(*inputs)))
    if not outs:
        raise ValueError(f"gradcheck({name}): the function returned no floating-point tensor")
    vs = _cotangents(outs, rng)
    wrt = [inputs[i] for i in checked]
    if any(o.requires_grad for o in outs):
        pairs = [(o, v) for o, v in zip(outs, vs) if o.requires_grad]
        analytic = grad([o for o, _ in pairs], wrt, grad_outputs=[v for _, v in pairs], allow_unused=True)
    else:
        analytic = [None] * len(wrt)
    report = Report(name, order)
    for i, t, g in zip(checked, wrt, analytic):
        a = g.data if g is not None else xp.zeros(t.shape)
        report.inputs.append(_check_input(fn, inputs, vs, i, t, a, eps, atol, rtol, fast, rng))
    return report


def _check_input(fn, inputs, vs, i, t, a, eps, atol, rtol, fast, rng) -> InputCheck:
    orig = t.data
    t.data = orig.copy()            # perturb a private contiguous copy, restored at the end
    flat = t.data.reshape(-1)
    c = InputCheck(i, t.shape)
    try:
        if fast:
            u = rng.normal(a.shape, dtype=xp.float64)
            u /= float(xp.sqrt((u * u).sum())) or 1.0
            t.data += eps * u
            fp = _scalar(fn, inputs, vs)
            t.data -= 2 * eps * u
            fm = _scalar(fn, inputs, vs)
            num, ana = (fp - fm) / (2 * eps), float((a * u).sum())
            err = abs(ana - num)
            c.max_abs_err, c.max_rel_err = err, err / (abs(num) + 1e-12)
            c.worst, c.analytic, c.numeric = ("u",), ana, num
            c.passed = err <= atol + rtol * abs(num)
            return c
        numeric = xp.empty(a.size, dtype=xp.float64)
        for j in range(a.size):
            x0 = float(flat[j])
            flat[j] = x0 + eps
            fp = _scalar(fn, inputs, vs)
            flat[j] = x0 - eps
            fm = _scalar(fn, inputs, vs)
            flat[j] = x0
            numeric[j] = (fp - fm) / (2 * eps)
        af = a.reshape(-1)
        err = xp.abs(af - numeric)
        excess = err - (atol + rtol * xp.abs(numeric))
        j = int(excess.argmax()) if a.size else 0
        if a.size:
            c.max_abs_err = float(err.max())
            c.max_rel_err = float((err / (xp.abs(numeric) + 1e-12)).max())
            c.worst = _unravel(j, tuple(a.shape))
            c.analytic, c.numeric = float(af[j]), float(numeric[j])
            c.passed = bool(excess[j] <= 0)
        if not c.passed:
            c.kink = _kink_note(fn, inputs, vs, flat, j, eps, atol, rtol)
        return c
    finally:
        t.data = orig


def _unravel(j: int, shape: tuple) -> tuple:
    idx = []
    for n in reversed(shape):
        j, r = divmod(j, n)
        idx.append(r)
    return tuple(reversed(idx))


def _kink_note(fn, inputs, vs, flat, j, eps, atol, rtol) -> str:
    """One-sided differences that disagree mean the point is not differentiable (relu/abs at 0, a tie)."""
    x0 = float(flat[j])
    f0 = _scalar(fn, inputs, vs)
    flat[j] = x0 + eps
    fp = _scalar(fn, inputs, vs)
    flat[j] = x0 - eps
    fm = _scalar(fn, inputs, vs)
    flat[j] = x0
    left, right = (f0 - fm) / eps, (fp - f0) / eps
    if abs(left - right) > 10 * (atol + rtol * max(abs(left), abs(right))):
        return (f"this element sits on a kink (value {x0:.6g}): left derivative {left:.6g}, right "
                f"{right:.6g}; the function is not differentiable there (relu/abs at 0, a max tie, a "
                "clip bound). Check at a point away from it.")
    return ""


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True, fast=False,
              name=None, seed=0) -> bool:
    """Check first derivatives of ``fn(*inputs)`` against central differences (float64).

    Returns True when they agree; otherwise raises :class:`GradcheckError` with a table naming the
    function, the input, the worst element, analytic vs numeric values and the errors (or returns
    False when ``raise_exception=False``).
    """
    report = check(fn, inputs, eps, atol, rtol, fast, name, seed)
    if not report.passed and raise_exception:
        raise GradcheckError(report.table())
    return report.passed


def _first_derivatives(fn, inputs, seed):
    """The function (inputs..., v...) -> d(v . fn(inputs))/d(inputs), recorded for differentiation."""
    inputs = list(_as_tuple(inputs))
    checked = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    outs = [o for o in _float_outputs(_as_tuple(fn(*inputs))) if o.requires_grad]
    rng = backend.Generator(seed + 1)
    vs = [Tensor(v, requires_grad=True) for v in _cotangents(outs, rng)]
    n = len(inputs)

    def first(*args):
        xs, v = list(args[:n]), args[n:]
        ys = [o for o in _float_outputs(_as_tuple(fn(*xs))) if o.requires_grad]
        wrt = [xs[i] for i in checked]
        gs = grad(ys, wrt, grad_outputs=list(v), create_graph=True, allow_unused=True)
        return tuple(g if g is not None else Tensor(xp.zeros(w.shape, dtype=w.dtype))
                     for g, w in zip(gs, wrt))
    return first, inputs + vs


def gradgradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True, fast=False,
                  name=None, seed=0) -> bool:
    """Check second derivatives: ``gradcheck`` of the first derivatives (computed with
    ``create_graph=True``) with respect to the inputs and to the upstream gradient v."""
    first, args = _first_derivatives(fn, inputs, seed)
    report = check(first, args, eps, atol, rtol, fast, name or getattr(fn, "__name__", "function"),
                   seed, order=2)
    if not report.passed and raise_exception:
        raise GradcheckError(report.table())
    return report.passed


def gradgrad_report(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, fast=False, name=None, seed=0) -> Report:
    first, args = _first_derivatives(fn, inputs, seed)
    return check(first, args, eps, atol, rtol, fast, name, seed, order=2)
