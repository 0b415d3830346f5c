"""Each op's derivative rule, read from the table in its ops file's docstring (``minigen/ops/*.py``), so
what the backward page shows and what the code documents cannot drift apart.

A table row is a docstring line indented by four spaces: the op's name (``exp``, ``max, min``,
``reshape(x, s)``, ``(scatter_add)``), two or more spaces, then its formulas; a line indented deeper
continues the row above, and a line ``d/dx C = ...`` adds to the rule of ``C``.  A Function class finds
its row by its name (``LeakyReLU`` -> ``leaky_relu``: case and underscores ignored) or through
:data:`ALIASES` where the two differ.
"""
from __future__ import annotations

import importlib
import inspect
import re
from dataclasses import dataclass
from functools import cache

#: Function classes whose table row has another name
ALIASES = {
    "BCEWithLogits": "binary_cross_entropy_with_logits",
    "Conv2d": "C",                 # conv.py writes the family as C, T, W
    "Conv2dInputGrad": "T",
    "Conv2dWeightGrad": "W",
}

_ROW = re.compile(r"^ {4}(\S.*?)(?: {2,}(\S.*))?$")
_DERIVATIVE = re.compile(r"^d/d\w+ (\w+) =")


@dataclass(frozen=True)
class Rule:
    op: str                      # the row's name as the table writes it
    text: str                    # the row (and its continuation lines), as in the docstring
    source: str                  # e.g. "minigen/ops/elementwise.py"
    legend: str                  # the docstring's first paragraph: what gy, y, n mean there


def _key(name: str) -> str:
    return name.replace("_", "").replace(" ", "").lower()


def _names(head: str) -> list[str]:
    """``reshape(x, s)`` -> [reshape]; ``max, min`` -> [max, min]; ``(scatter_add)`` -> [scatter_add]."""
    if head.startswith("(") and head.endswith(")"):
        head = head[1:-1]
    head = re.sub(r"\(.*?\)", "", head)
    return [n.strip() for n in head.split(",") if n.strip()]


def parse_table(doc: str, source: str = "") -> dict[str, Rule]:
    """{normalised op name: Rule} for every row of the derivative table in ``doc``."""
    lines = inspect.cleandoc(doc).splitlines()
    legend_lines = []
    for line in lines:
        if not line.strip() or line.startswith("    "):
            break
        legend_lines.append(line.strip())
    legend = " ".join(" ".join(legend_lines).split())
    rows: dict[str, list] = {}        # key -> [display name, lines]
    last = None
    for line in lines:
        if line.startswith("     ") and line.strip() and last is not None:      # deeper: continues the row
            rows[last][1].append(line[4:].rstrip())
            continue
        m = _ROW.match(line)
        if not m:
            last = None
            continue
        body = line[4:].rstrip()
        d = _DERIVATIVE.match(body)
        if d and _key(d.group(1)) in rows:
            rows[_key(d.group(1))][1].append(body)
            last = None
            continue
        names = _names(m.group(1))
        if not names:
            last = None
            continue
        for n in names:
            rows[_key(n)] = [n, [body]]
        last = _key(names[-1])
    return {k: Rule(name, "\n".join(text), source, legend) for k, (name, text) in rows.items()}


@cache
def _module_table(module: str) -> dict[str, Rule]:
    mod = importlib.import_module(module)
    return parse_table(mod.__doc__ or "", module.replace(".", "/") + ".py")


def rule_for(fn) -> Rule | None:
    """The table row of a Function (an instance or its class), or None for one without a row (an op
    defined outside ``minigen/ops``)."""
    cls = fn if isinstance(fn, type) else type(fn)
    for c in cls.__mro__:                 # Minimum(Maximum): its own name first
        if not c.__module__.startswith("minigen.ops."):
            continue
        table = _module_table(c.__module__)
        rule = table.get(_key(ALIASES.get(c.__name__, c.__name__)))
        if rule is not None:
            return rule
    return None
