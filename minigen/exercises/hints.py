"""Hints for the common mistakes, read off a failed check.

A wrong rule leaves a fingerprint: the engine refusing a gradient of the wrong shape (a forgotten sum
over a broadcast axis, a transposed matrix, a reduced gradient not spread back), analytic / numeric at
the worst element near -1 (a sign), 2 or 1/2 (a factor of 1/2), n or 1/n (a count), 0 (a missing term),
a non-finite value (an overflowing exp), or a rule that passes at first order and fails at second (raw
array code, invisible to double backprop).  Each hint starts with a short tag the tests look for.
"""
from __future__ import annotations

import math
import re

SHAPE = re.compile(r"returned a gradient of shape \(([\d, ]*)\) for an input of shape \(([\d, ]*)\)")


def _shape(text: str) -> tuple:
    return tuple(int(n) for n in text.replace(" ", "").split(",") if n)


def from_error(e: BaseException, op, order: int) -> str:
    """A hint for a rule that raised (or whose gradient the engine refused)."""
    msg = str(e)
    if isinstance(e, NotImplementedError):
        return "not written yet: replace the `raise NotImplementedError(...)` line with your rule"
    if order == 2:
        return double_backprop(op)
    m = SHAPE.search(msg)
    if m:
        got, want = _shape(m.group(1)), _shape(m.group(2))
        return shape_hint(got, want)
    if "core dimension" in msg or "not aligned" in msg or "matmul" in msg.lower():
        return ("transpose: a product of mismatched shapes; write each factor's shape down: dL/da has a's "
                "shape, dL/db has b's (use xp.swapaxes(m, -1, -2) for a batch transpose)")
    if "broadcast" in msg:
        return ("forgotten broadcast sum: shapes that do not line up; sum the gradient over the axes "
                "broadcasting added before returning it")
    if isinstance(e, FloatingPointError) or "overflow" in msg:
        return overflow_hint()
    return f"your rule raised {type(e).__name__}: {msg.splitlines()[0] if msg else ''}"


def shape_hint(got: tuple, want: tuple) -> str:
    size = math.prod(got) if got else 1
    want_size = math.prod(want) if want else 1
    if sorted(got) == sorted(want) and got != want:
        return (f"transpose: you returned shape {got} for an input of shape {want}: the same numbers in "
                "the other order; a gradient has its input's shape, so transpose the other factor")
    if size > want_size:
        return (f"forgotten broadcast sum: you returned shape {got} for an input of shape {want}; the input "
                "was broadcast, so sum the gradient over the axes broadcasting added (and keep size-1 ones)")
    return (f"reduced shape: you returned shape {got} for an input of shape {want}; gy has the output's "
            "shape: re-insert the reduced axes and spread it back over the input")


def overflow_hint() -> str:
    return ("overflowing exp: a value came out inf or NaN; never compute exp of a large positive number: "
            "rewrite with |x| and log1p (e.g. log(1 + e^x) = max(x, 0) + log1p(e^-|x|))")


def double_backprop(op) -> str:
    return ("double backprop: the rule is right at first order, but its second derivative is not; under "
            "create_graph=True gy and x are Tensors: write the rule with minigen ops and operators "
            "(e.g. sigmoid(x) * gy), not xp.* or .data on raw arrays, which cut the graph")


def from_report(report, op) -> str:
    """A hint for a rule whose values are wrong, from the worst element of each failing input."""
    if report.order == 2:
        return double_backprop(op)
    for c in report.inputs:
        if c.passed:
            continue
        a, n = c.analytic, c.numeric
        if not (math.isfinite(a) and math.isfinite(n)):
            return overflow_hint()
        if abs(n) < 1e-9:
            return _other(op, c)
        r = a / n
        if abs(r + 1) < 1e-4:
            return f"sign: for input {c.index} your gradient is the negative of the true one (analytic {a:.4g}, numeric {n:.4g})"
        if abs(r - 2) < 2e-4 or abs(r - 0.5) < 5e-5:
            which = "twice" if r > 1 else "half"
            return (f"a factor of 1/2: for input {c.index} your gradient is {which} the true one; look for the 1/2 "
                    "(the chain rule through exp(1/2 logvar), or a 1/2 in front)")
        if abs(r) < 1e-6:
            return f"zero: your rule gives 0 for input {c.index} where the true gradient is {n:.4g}; a term is missing"
        for k in (r, 1 / r):
            if k >= 2.5 and abs(k - round(k)) < 1e-4 * k:     # exactly n: a count, not chance
                return (f"a factor of {round(k)}: for input {c.index} your gradient is off by {round(k)}x; "
                        "a mean divides by the number n of values it averages (and so does its gradient)")
        return _other(op, c)
    return ""


def _other(op, c) -> str:
    return (f"wrong values at input {c.index}, element {c.worst}: analytic {c.analytic:.6g} vs numeric "
            f"{c.numeric:.6g}; derive again ({op.formula})")
