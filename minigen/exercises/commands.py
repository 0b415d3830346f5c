"""``minigen exercise list | start N | check N``: the backprop exercises, graded by the gradient checker.

    minigen exercise list                  the exercises in the course's order, with their status
    minigen exercise start 5               writes ./exercises/05_reparameterization.py (forward given)
    minigen exercise check 5               grades it; when it passes, trains the model it matters to

Exit status of ``check``: 0 when the exercise passes, 1 when a check fails (the table says where) or the
model does not train with the rule, 2 for
a mistyped number, a missing file or a file that does not import (one line, as every minigen command).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

DEFAULT_DIR = "exercises"        # relative to where the learner works, never inside the installed package


def _args(p: argparse.ArgumentParser):
    from minigen.cli import Parser
    sub = p.add_subparsers(dest="action", required=True, parser_class=Parser)
    lst = sub.add_parser("list", help="the exercises and their status")
    start = sub.add_parser("start", help="write exercise N's file: the forward given, the backward to fill in")
    chk = sub.add_parser("check", help="grade exercise N; when it passes, train its model with your rule")
    for q in (lst, start, chk):
        q.add_argument("--dir", default=DEFAULT_DIR, help=f"the learner's folder (default ./{DEFAULT_DIR})")
    for q in (start, chk):
        q.add_argument("number", help="the exercise's number (see `minigen exercise list`)")
    start.add_argument("--force", action="store_true", help="overwrite an existing file")
    chk.add_argument("--no-train", action="store_true", help="only the checks")
    chk.add_argument("--quick", action="store_true", help="a smoke-sized training run (seconds)")
    chk.add_argument("--quiet", action="store_true", help="no progress bar")


def cmd_exercise(args) -> int:
    """Exercises graded by the gradient checker: write a backward rule, get a verdict and a trained model."""
    return {"list": cmd_list, "start": cmd_start, "check": cmd_check}[args.action](args)


def exercise(number: str):
    from minigen.cli import UsageError
    from minigen.exercises.catalog import BY_NUMBER
    try:
        return BY_NUMBER[int(number)]
    except (ValueError, KeyError):
        raise UsageError(f"unknown exercise {number!r}; choose 1 to {len(BY_NUMBER)} "
                         "(see `minigen exercise list`)") from None


def status(ex, folder: Path) -> str:
    """not started (no file, or an untouched one), failing, or passing; checks only, no training."""
    from minigen.exercises.grade import ExerciseFileError, grade
    path = folder / ex.filename
    if not path.is_file():
        return "not started"
    try:
        g = grade(ex, path)
    except ExerciseFileError:
        return "failing"
    if g.passed:
        return "passing"
    return "failing" if g.started else "not started"


def cmd_list(args) -> int:
    from minigen.exercises.catalog import EXERCISES
    folder = Path(args.dir)
    for ex in EXERCISES:
        print(f"{ex.number:>2}  {ex.title:<66}{status(ex, folder):<13}{folder / ex.filename}")
    return 0


def cmd_start(args) -> int:
    from minigen.cli import UsageError
    from minigen.exercises.skeletons import render
    ex = exercise(args.number)
    folder = Path(args.dir)
    path = folder / ex.filename
    if path.exists() and not args.force:
        raise UsageError(f"{path} exists; check it with `minigen exercise check {ex.number} --dir {folder}` "
                         "(or --force to start over)")
    folder.mkdir(parents=True, exist_ok=True)
    path.write_text(render(ex, folder))
    print(f"wrote {path}: fill in {', '.join(f'{o.name}.{m}' for o in ex.ops for m in o.rules)}; then "
          f"`minigen exercise check {ex.number} --dir {folder}`")
    return 0


def cmd_check(args) -> int:
    from minigen.exercises.grade import grade
    ex = exercise(args.number)
    folder = Path(args.dir)
    g = grade(ex, folder / ex.filename)
    print(g.report())
    if not g.passed:
        return 1
    if not args.no_train:
        from minigen.exercises.train import compare
        print()
        sys.stdout.flush()
        res = compare(ex, g.private, folder, quick=args.quick, quiet=args.quiet)
        if "diverged" in res["yours"]:
            return 1                  # right on the cases, yet the model did not train with it
    return 0


COMMANDS = {"exercise": (cmd_exercise, _args, "backprop exercises: list, start N, check N")}
