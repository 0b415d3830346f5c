"""The files `start` writes: the forward given, a docstring per rule, and no solution."""
import ast

import pytest

from minigen.exercises.catalog import EXERCISES
from minigen.exercises.skeletons import render
from tests.exercises.solutions import SOLUTIONS


@pytest.mark.parametrize("ex", EXERCISES, ids=[ex.slug for ex in EXERCISES])
def test_every_rule_to_write_has_a_docstring_and_raises(ex):
    tree = ast.parse(render(ex, "exercises"))
    classes = {c.name: c for c in tree.body if isinstance(c, ast.ClassDef)}
    for op in ex.ops:
        for m in op.rules:
            fn = next(f for f in classes[op.name].body if isinstance(f, ast.FunctionDef) and f.name == m)
            assert ast.get_docstring(fn), f"{op.name}.{m} says nothing of what to derive"
            assert isinstance(fn.body[-1], ast.Raise), f"{op.name}.{m} is not left to write"


@pytest.mark.parametrize("ex", EXERCISES, ids=[ex.slug for ex in EXERCISES])
def test_no_solution_line_is_in_the_skeleton(ex):
    text = render(ex, "exercises")
    for code in SOLUTIONS[ex.number].values():
        for line in code.splitlines():
            if "return" in line:
                assert line.strip() not in text, f"exercise {ex.number} gives away {line.strip()!r}"


def test_the_docs_have_a_paragraph_per_exercise_and_its_demo_exists():
    from pathlib import Path
    root = Path(__file__).resolve().parents[2]
    doc = (root / "docs" / "exercises.md").read_text()
    for ex in EXERCISES:
        assert f"**{ex.number}. " in doc, f"docs/exercises.md has no paragraph for exercise {ex.number}"
        assert (root / "demos" / ex.demo).is_file(), ex.demo
        assert f"demos/{ex.demo}" in doc
