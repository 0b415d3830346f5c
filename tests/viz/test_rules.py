"""Derivative rules read from the ops files' docstring tables: every op has its row, and the parser reads
the table's forms (comma lists, call heads, continuation lines, d/dx lines)."""
import inspect

import pytest

import minigen.functional  # noqa: F401  (imports every ops file, so every Function class exists)
import minigen.ops.elementwise as E
from minigen.autograd.function import Function
from minigen.ops import arithmetic, conv, losses, reduction
from minigen.viz.rules import parse_table, rule_for


def _all_functions():
    todo, seen = [Function], []
    while todo:
        for c in todo.pop().__subclasses__():
            seen.append(c)
            todo.append(c)
    return [c for c in seen if c.__module__.startswith("minigen.ops.")]


def test_every_op_has_its_row():
    fns = _all_functions()
    assert len(fns) > 40
    missing = [c.__name__ for c in fns if rule_for(c) is None]
    assert not missing, f"add a row to the derivative table of its ops file (or viz.rules.ALIASES): {missing}"


@pytest.mark.parametrize("cls, module, must", [
    (E.Exp, E, "y' = y"), (E.Tanh, E, "y' = 1 - y^2"), (E.LeakyReLU, E, "slope [x <= 0]"),
    (E.Minimum, E, "ga = gy [a < b]"), (arithmetic.MatMul, arithmetic, "gb = a^T @ gy"),
    (reduction.Min, reduction, "arg-max / arg-min"), (losses.BCEWithLogits, losses, "sigmoid(x) - t"),
    (conv.Conv2d, conv, "d/dx C = T(gy, w)"),
])
def test_rows_are_the_docstrings_lines(cls, module, must):
    rule = rule_for(cls)
    assert must in rule.text
    doc = inspect.cleandoc(module.__doc__)
    assert rule.text.splitlines()[0] in doc                     # verbatim from the ops file
    assert rule.source == module.__name__.replace(".", "/") + ".py"
    assert rule.legend and rule.legend in " ".join(doc.split("\n\n")[0].split())   # the first paragraph


def test_parser_forms():
    doc = """Toy ops (gy: the output's gradient):

        foo          y = foo x        y' = 2
        bar, baz     y = bar x        y' = 3
        qux(x, k)    y = x^k          gx = k x^(k-1)
                                      (k a constant)
        (hidden)     ggy = 1
        K(x)   = kernel
        d/dx K = spread(gy)

    Prose after the table is no row.
    """
    t = parse_table(doc, "toy.py")
    assert set(t) == {"foo", "bar", "baz", "qux", "hidden", "k"}
    assert t["baz"].text == t["bar"].text == "bar, baz     y = bar x        y' = 3"
    assert t["qux"].text.splitlines()[1].strip() == "(k a constant)"
    assert t["k"].text.splitlines() == ["K(x)   = kernel", "d/dx K = spread(gy)"]
    assert t["foo"].legend == "Toy ops (gy: the output's gradient):" and t["foo"].source == "toy.py"


def test_a_function_outside_the_ops_files_has_no_row():
    class Mine(Function):
        pass
    assert rule_for(Mine) is None
