"""Every exercise: the untouched skeleton fails, the library's own rule passes, the worked solution
passes, and each typical wrong answer fails with the hint that names its mistake."""
import pytest

import minigen.functional as F
from minigen.exercises.catalog import BY_NUMBER, EXERCISES
from minigen.exercises.grade import grade, grade_module, library_class, load
from minigen.gradcheck import check
from minigen.models.vae import VAE
from minigen.ops import elementwise
from tests.exercises.solutions import MISTAKES, solved

NUMBERS = [ex.number for ex in EXERCISES]


def write(tmp_path, ex, text):
    path = tmp_path / ex.filename
    path.write_text(text)
    return path


def test_the_course_has_its_eight_exercises_in_order():
    assert NUMBERS == list(range(1, 9))
    assert [ex.slug for ex in EXERCISES] == ["elementwise", "broadcasting", "matmul", "bce_with_logits",
                                             "reparameterization", "gaussian_kl", "generator_losses",
                                             "double_backprop"]


@pytest.mark.parametrize("n", NUMBERS)
def test_the_untouched_skeleton_fails_with_rules_to_write(tmp_path, n):
    from minigen.exercises.skeletons import render
    ex = BY_NUMBER[n]
    g = grade(ex, write(tmp_path, ex, render(ex, tmp_path)))
    assert not g.passed and not g.started
    assert "not written yet" in g.report()


@pytest.mark.parametrize("n", NUMBERS)
def test_the_worked_solution_passes(tmp_path, n):
    ex = BY_NUMBER[n]
    g = grade(ex, write(tmp_path, ex, solved(ex)))
    assert g.passed, g.report()
    assert "PASSED" in g.report()


@pytest.mark.parametrize("n", [ex.number for ex in EXERCISES if all(op.library for op in ex.ops)])
def test_the_librarys_own_rule_passes(tmp_path, n):
    from minigen.exercises.skeletons import render
    ex = BY_NUMBER[n]
    module = load(ex, write(tmp_path, ex, render(ex, tmp_path)))
    for op in ex.ops:                             # the skeleton's classes with the library's methods
        for m in op.rules:
            setattr(getattr(module, op.name), m, getattr(library_class(op), m))
    g = grade_module(ex, module)
    assert g.passed, g.report()


# the library composes these from smaller ops: its composition passes the exercise's cases
COMPOSED = {"Reparameterize": lambda mu, lv, eps: VAE.reparameterize(mu, lv, eps),
            "KLNormalStandard": F.kl_normal_standard,
            "MinimaxGeneratorLoss": lambda l: -F.softplus(l),
            "NonSaturatingGeneratorLoss": lambda l: F.softplus(-l)}


@pytest.mark.parametrize("name", sorted(COMPOSED))
def test_the_librarys_composition_passes_the_cases_of_a_composed_op(name):
    op = next(op for ex in EXERCISES for op in ex.ops if op.name == name)
    for label, case in op.cases(None):
        assert check(COMPOSED[name], case.inputs(), **case.tol).passed, label


@pytest.mark.parametrize("n,old,new,tag", MISTAKES, ids=[f"{m[0]}-{m[3]}-{i}" for i, m in enumerate(MISTAKES)])
def test_a_typical_wrong_answer_fails_with_its_hint(tmp_path, n, old, new, tag):
    ex = BY_NUMBER[n]
    text = solved(ex)
    assert old in text
    g = grade(ex, write(tmp_path, ex, text.replace(old, new, 1)))
    assert not g.passed
    report = g.report()
    assert f"hint: {tag}" in report, report
    assert "FAIL" in report


def test_a_failing_table_names_the_input_the_element_and_both_values(tmp_path):
    ex = BY_NUMBER[6]
    text = solved(ex).replace("gy * 0.5 * (xp.exp(logvar) - 1.0)", "gy * (xp.exp(logvar) - 1.0)")
    report = grade(ex, write(tmp_path, ex, text)).report()
    for word in ("input", "worst index", "analytic", "numeric", "NO", "a factor of 1/2"):
        assert word in report


def test_the_library_is_untouched_after_a_check_even_a_failing_one(tmp_path):
    exp_class, exp_rule = elementwise.Exp, elementwise.Exp.backward
    reparam, kl = VAE.__dict__["reparameterize"], F.kl_normal_standard
    for n in (1, 5, 6):
        ex = BY_NUMBER[n]
        grade(ex, write(tmp_path, ex, solved(ex).replace("return", "return -1 *", 1)))
    assert elementwise.Exp is exp_class and elementwise.Exp.backward is exp_rule
    assert VAE.__dict__["reparameterize"] is reparam and F.kl_normal_standard is kl


def test_bce_reports_its_values_at_huge_logits(tmp_path):
    ex = BY_NUMBER[4]
    g = grade(ex, write(tmp_path, ex, solved(ex)))
    assert "finite and exact at |logit| = 1e4: passed" in g.report()


def test_the_generator_losses_show_why_one_vanishes(tmp_path):
    ex = BY_NUMBER[7]
    report = grade(ex, write(tmp_path, ex, solved(ex))).report()
    assert "minimax: dL/dl = -D -> 0" in report
    row = next(line for line in report.splitlines() if line.strip().startswith("-10"))
    minimax, nonsat = (float(v) for v in row.split()[2:4])
    assert abs(minimax) < 1e-4 and abs(nonsat + 1) < 1e-4
