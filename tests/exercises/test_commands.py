"""`minigen exercise list | start N | check N` as a learner uses it: exit 0 (passes), 1 (a check fails,
with its table), 2 (a mistyped number, a missing file, a file that does not import: one line)."""
import json

import pytest

from minigen.exercises.catalog import BY_NUMBER
from tests.exercises.solutions import solved
from tests.helpers import run_cli as run


def test_start_then_check_fails_with_a_table_and_status_1(capsys, tmp_path):
    code, out, _ = run(capsys, "exercise", "start", "2", "--dir", str(tmp_path))
    assert code == 0 and (tmp_path / "02_broadcasting.py").is_file()
    code, out, _ = run(capsys, "exercise", "check", "2", "--dir", str(tmp_path))
    assert code == 1
    assert "FAIL" in out and "hint: not written yet" in out and "exercise 2 not yet" in out


def test_a_wrong_rule_shows_the_gradient_table(capsys, tmp_path):
    ex = BY_NUMBER[5]
    (tmp_path / ex.filename).write_text(solved(ex).replace("gy * 0.5 * xp.exp", "gy * xp.exp"))
    code, out, _ = run(capsys, "exercise", "check", "5", "--dir", str(tmp_path))
    assert code == 1
    assert "worst index" in out and "analytic" in out and "hint: a factor of 1/2" in out


@pytest.mark.parametrize("n", [5, 8])
def test_a_correct_file_passes_and_trains_beside_the_library(capsys, tmp_path, n):
    ex = BY_NUMBER[n]
    (tmp_path / ex.filename).write_text(solved(ex))
    code, out, _ = run(capsys, "exercise", "check", str(n), "--dir", str(tmp_path), "--quick", "--quiet")
    assert code == 0, out
    assert f"exercise {n} PASSED" in out
    assert "with your rule and with the library's" in out and "yours" in out and "library" in out
    for who in ("yours", "library"):        # ordinary run folders, trained by the one loop
        results = json.loads((tmp_path / "runs" / f"{n:02d}-{who}" / "results.json").read_text())
        assert results["steps"] > 0


def test_list_shows_each_status(capsys, tmp_path):
    ex1, ex2 = BY_NUMBER[1], BY_NUMBER[2]
    (tmp_path / ex1.filename).write_text(solved(ex1))
    (tmp_path / ex2.filename).write_text(solved(ex2).replace("return g\n", "return -g\n", 1))
    run(capsys, "exercise", "start", "3", "--dir", str(tmp_path))
    ex7 = BY_NUMBER[7]                    # one of two rules written: under way, so failing
    (tmp_path / ex7.filename).write_text(solved(ex7).replace(
        "return gy * (s - 1.0)", 'raise NotImplementedError("exercise 7: NonSaturatingGeneratorLoss.backward")'))
    code, out, _ = run(capsys, "exercise", "list", "--dir", str(tmp_path))
    lines = out.splitlines()
    assert code == 0 and len(lines) == 8
    assert "passing" in lines[0] and "failing" in lines[1] and "not started" in lines[2]
    assert "failing" in lines[6]
    assert all("not started" in line for line in lines[3:6] + lines[7:])


@pytest.mark.parametrize("argv,message", [
    (["check", "9"], "unknown exercise '9'; choose 1 to 8"),
    (["start", "two"], "unknown exercise 'two'"),
    (["check", "3"], "no file"),
    (["chek", "3"], "invalid choice 'chek' (did you mean 'check'?)"),
])
def test_mistakes_are_one_line_and_status_2(capsys, tmp_path, argv, message):
    code, _, err = run(capsys, "exercise", *argv, "--dir", str(tmp_path))
    assert code == 2 and len(err.splitlines()) == 1 and "Traceback" not in err, err
    assert message in err, err


def test_a_file_that_does_not_import_is_one_line(capsys, tmp_path):
    (tmp_path / "04_bce_with_logits.py").write_text("from minigen.backend import xp\n\ndef oops(:\n")
    code, _, err = run(capsys, "exercise", "check", "4", "--dir", str(tmp_path))
    assert code == 2 and len(err.splitlines()) == 1 and "does not import (line 3): SyntaxError" in err, err
    (tmp_path / "04_bce_with_logits.py").write_text("import no_such_module_here\n")
    code, _, err = run(capsys, "exercise", "check", "4", "--dir", str(tmp_path))
    assert code == 2 and "ModuleNotFoundError" in err and len(err.splitlines()) == 1


def test_a_file_without_its_class_is_one_line(capsys, tmp_path):
    (tmp_path / "06_gaussian_kl.py").write_text("x = 1\n")
    code, _, err = run(capsys, "exercise", "check", "6", "--dir", str(tmp_path))
    assert code == 2 and "has no class KLNormalStandard" in err


def test_start_refuses_to_overwrite_the_learners_work(capsys, tmp_path):
    assert run(capsys, "exercise", "start", "1", "--dir", str(tmp_path))[0] == 0
    code, _, err = run(capsys, "exercise", "start", "1", "--dir", str(tmp_path))
    assert code == 2 and "exists" in err
    assert run(capsys, "exercise", "start", "1", "--dir", str(tmp_path), "--force")[0] == 0


def test_a_rule_that_passes_the_cases_but_breaks_in_training_is_status_1(capsys, tmp_path):
    ex = BY_NUMBER[1]                     # right in float64 (the cases), raises in float32 (training)
    text = solved(ex).replace("return gy * y\n", "return gy * y if x.dtype == xp.float64 else 1 / 0\n", 1)
    (tmp_path / ex.filename).write_text(text)
    code, out, _ = run(capsys, "exercise", "check", "1", "--dir", str(tmp_path), "--quick", "--quiet")
    assert code == 1 and "exercise 1 PASSED" in out
    assert "yours did not finish: your rule raised ZeroDivisionError in training" in out
