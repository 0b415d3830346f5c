"""Grade a learner's file: load it, put its rules into private copies of the ops, run the checks.

    grade(ex, path) -> Grade        every case of every op at first order (and second where asked),
                                    plus the exercise's further check; never trains (see train.py)

The private copy of a library op is ``type(name, (LibraryOp,), {learner's methods})``: the library's
class is untouched.  While a check (or a training) runs, the op's module resolves the class name to the
copy (:func:`in_place`), so the registry's case functions and the models build the learner's node; the
name is restored afterwards, also on error.  The learner's file is plain Python loaded by path.
"""
from __future__ import annotations

import contextlib
import importlib
import importlib.util
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from minigen.autograd.function import Function
from minigen.exercises import hints
from minigen.gradcheck import check, gradgrad_report


class ExerciseFileError(Exception):
    """The learner's file is missing, does not import, or lacks a class: one line, exit status 2."""


def load(ex, path) -> object:
    """The learner's module, executed from ``path``."""
    path = Path(path)
    if not path.is_file():
        raise ExerciseFileError(f"no file {path}: write it with `minigen exercise start {ex.number} "
                                f"--dir {path.parent}`")
    name = f"minigen_exercise_{ex.number:02d}"          # not under minigen.: the learner's own module
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as e:  # noqa: BLE001  (any error in the learner's file is reported in one line)
        line = next((f.lineno for f in reversed(traceback.extract_tb(e.__traceback__))
                     if Path(f.filename) == path), getattr(e, "lineno", None))
        where = f" (line {line})" if line else ""
        raise ExerciseFileError(f"{path} does not import{where}: {type(e).__name__}: {e}") from None
    for op in ex.ops:
        cls = getattr(module, op.name, None)
        if not (isinstance(cls, type) and issubclass(cls, Function)):
            raise ExerciseFileError(f"{path} has no class {op.name} (a Function subclass); "
                                    f"start again from `minigen exercise start {ex.number}`")
    return module


def privates(ex, module) -> dict:
    """Class name -> the op the checks run: the library's class with the learner's methods, or (an op
    the library has no class for) the learner's class itself."""
    out = {}
    for op in ex.ops:
        mine = getattr(module, op.name)
        if op.library is None:
            out[op.name] = mine
            continue
        lib = library_class(op)
        methods = {m: getattr(mine, m) for m in op.rules}
        out[op.name] = type(lib.__name__, (lib,), {**methods, "__module__": module.__name__,
                                                    "__qualname__": f"yours.{lib.__name__}"})
    return out


def library_class(op):
    mod, name = op.library
    return getattr(importlib.import_module(mod), name)


def swaps(ex, private: dict, training: bool = False) -> list:
    """(owner, attribute, value) triples that route the library to the learner's ops: for a checked
    library op always; for the others only in training (their cases call the private class directly)."""
    out = []
    for op in ex.ops:
        if op.library is not None:
            mod, name = op.library
            out.append((importlib.import_module(mod), name, private[op.name]))
        elif training and op.install is not None:
            out.extend(op.install(private[op.name]))
    return out


@contextlib.contextmanager
def in_place(triples):
    """Set each owner's attribute for the duration of the block; restore the originals after it."""
    saved = [(owner, attr, vars(owner)[attr]) for owner, attr, _ in triples]
    try:
        for owner, attr, value in triples:
            setattr(owner, attr, value)
        yield
    finally:
        for owner, attr, value in reversed(saved):
            setattr(owner, attr, value)


@dataclass
class Row:
    op: str
    label: str
    order: int
    passed: bool
    err: str = "-"              # the largest abs error, or "error"
    table: str = ""             # the gradient check's table where it failed
    hint: str = ""
    not_written: bool = False


@dataclass
class Grade:
    exercise: object
    rows: list = field(default_factory=list)
    extra: tuple | None = None          # (passed, text) of the exercise's further check
    private: dict = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return bool(self.rows) and all(r.passed for r in self.rows) and (self.extra is None or self.extra[0])

    @property
    def started(self) -> bool:
        """False while every rule is still to write (the untouched file); one written rule starts it."""
        return not all(r.not_written for r in self.rows)

    def report(self) -> str:
        ex = self.exercise
        lines = [f"exercise {ex.number}: {ex.title}",
                 f"  {'op':<28}{'case':<28}{'order':>6}{'max abs err':>13}  result"]
        for r in self.rows:
            lines.append(f"  {r.op:<28}{r.label[:27]:<28}{r.order:>6}{r.err:>13}  {'pass' if r.passed else 'FAIL'}")
        shown = set()
        for r in self.rows:                       # one table and hint per failing op: the first case
            if r.passed or r.op in shown:
                continue
            shown.add(r.op)
            lines.append("")
            lines.append(f"{r.op} [{r.label}], order {r.order}:")
            if r.table:
                lines.append(r.table)
            lines.append(f"  hint: {r.hint}")
        if self.extra is not None:
            lines += ["", self.extra[1]]
        n_ok = sum(r.passed for r in self.rows)
        lines += ["", f"{n_ok} of {len(self.rows)} checks pass: exercise {ex.number} "
                      + ("PASSED" if self.passed else "not yet")]
        return "\n".join(lines)


def grade(ex, path) -> Grade:
    """Run every case of every op in ``ex`` with the learner's rules (raises ExerciseFileError)."""
    return grade_module(ex, load(ex, path))


def grade_module(ex, module) -> Grade:
    """:func:`grade` of a loaded module (tests hand it one with the library's own rules in it)."""
    private = privates(ex, module)
    g = Grade(ex, private=private)
    with in_place(swaps(ex, private)):
        for op in ex.ops:
            for label, case in op.cases(private[op.name]):
                first_ok = _run(g, op, label, case, 1)
                if ex.second_order:
                    if first_ok:
                        _run(g, op, label, case, 2)
                    else:
                        g.rows.append(Row(op.name, label, 2, False, "skipped", hint="first order fails first",
                                          not_written=g.rows[-1].not_written))
        if ex.extra is not None and all(r.passed for r in g.rows):
            g.extra = ex.extra(private)
    return g


def _run(g: Grade, op, label, case, order) -> bool:
    run = check if order == 1 else gradgrad_report
    try:
        with _quiet_numerics():
            r = run(case.fn, case.inputs(), name=f"your {op.name} [{label}]", **case.tol)
    except Exception as e:  # noqa: BLE001  (the learner's rule: report it in the table, go on)
        g.rows.append(Row(op.name, label, order, False, "error", f"  {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}",
                          hints.from_error(e, op, order), isinstance(e, NotImplementedError)))
        return False
    row = Row(op.name, label, order, r.passed, f"{r.max_abs_err:.1e}")
    if not r.passed:
        row.table, row.hint = r.table(), hints.from_report(r, op)
        names = input_names(g.private[op.name])
        if order == 1 and names:
            row.table += "\n  inputs: " + ", ".join(f"{i} = {n}" for i, n in enumerate(names))
    g.rows.append(row)
    return r.passed


def input_names(cls) -> list:
    """The forward's inputs as the rule names them: backward(self, gy, *inputs, y) without gy and y."""
    import inspect
    try:
        params = list(inspect.signature(cls.backward).parameters)
    except (TypeError, ValueError):
        return []
    return params[2:-1] if len(params) > 3 else []


def _quiet_numerics():
    from minigen.exercises.catalog import backend_errstate
    return backend_errstate()
