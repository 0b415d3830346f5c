"""The ``minigen`` command: ``minigen gradcheck``, ``minigen train ...``, ``minigen sample ...``, ``minigen exercise ...``.

Subcommands register themselves in ``COMMANDS``; each is a function (args) -> exit code plus a function
that adds its arguments to a parser.
"""
from __future__ import annotations

import argparse
import sys
import time


class UsageError(Exception):
    """A mistyped command line; reported in one line with exit status 2."""


def _gradcheck_args(p: argparse.ArgumentParser):
    p.add_argument("ops", nargs="*", help="only these ops (default: every registered op)")
    p.add_argument("--first-only", action="store_true", help="skip the second-order checks")


def cmd_gradcheck(args) -> int:
    """Check every registered op's first and second derivatives against finite differences."""
    from minigen.gradcheck import check, gradgrad_report
    from minigen.ops.registry import cases

    known = sorted({name for name, _, _ in cases()})
    unknown = [op for op in args.ops if op not in known]
    if unknown:
        import difflib
        close = [m for op in unknown for m in difflib.get_close_matches(op, known, n=1)]
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise UsageError(f"unknown op(s) {', '.join(unknown)}{hint}; known ops: {', '.join(known)}")
    print(f"{'op':<34}{'case':<22}{'1st-order err':>14}{'2nd-order err':>15}  result")
    n_fail = n = 0
    t0 = time.perf_counter()
    for name, label, c in cases():
        if args.ops and name not in args.ops:
            continue
        n += 1
        errs, ok = [], True
        for order in (1, 2):
            if order == 2 and args.first_only:
                errs.append("-")
                continue
            try:
                run = check if order == 1 else gradgrad_report
                r = run(c.fn, c.inputs(), name=f"{name} [{label}]", **c.tol)
                errs.append(f"{r.max_abs_err:.1e}")
                if not r.passed:
                    ok = False
                    print(r.table(), file=sys.stderr)
            except Exception as e:  # report and go on: the table is the point
                ok = False
                errs.append("error")
                print(f"{name} [{label}] order {order}: {type(e).__name__}: {e}", file=sys.stderr)
        n_fail += not ok
        print(f"{name:<34}{label[:21]:<22}{errs[0]:>14}{errs[1]:>15}  {'pass' if ok else 'FAIL'}")
    dt = time.perf_counter() - t0
    print(f"\n{n - n_fail} of {n} op cases pass first- and second-order finite-difference checks "
          f"(float64, {dt:.1f} s)")
    return 1 if n_fail else 0


COMMANDS = {
    "gradcheck": (cmd_gradcheck, _gradcheck_args, "check every op's derivatives (1st and 2nd order)"),
}


class Parser(argparse.ArgumentParser):
    """argparse, but a mistake is one line (with the closest valid choice) and exit status 2."""

    def error(self, message):
        import difflib
        import re
        m = re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)", message)
        if m:
            choices = re.findall(r"'([^']*)'", m.group(2))
            close = difflib.get_close_matches(m.group(1), choices, n=1)
            message = (f"invalid choice {m.group(1)!r}" + (f" (did you mean {close[0]!r}?)" if close else "")
                       + f"; choose from {', '.join(choices)}")
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    from minigen.exercises import commands as exercises
    from minigen.training import commands
    COMMANDS.update(commands.COMMANDS)
    COMMANDS.update(exercises.COMMANDS)
    parser = Parser(prog="minigen", description="minigen: VAEs and GANs with hand-written, "
                    "finite-difference-checked gradients")
    _add_global_options(parser, default=None)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    for name, (fn, add_args, help_) in COMMANDS.items():
        p = sub.add_parser(name, help=help_, description=fn.__doc__)
        add_args(p)
        p.set_defaults(func=fn)
    for p in _subparsers(parser):      # `minigen train vae --backend strict` works as well as before `train`
        _add_global_options(p, default=argparse.SUPPRESS)
    return parser


def _add_global_options(parser, default) -> None:
    parser.add_argument("--backend", choices=["numpy", "cupy", "strict"], default=default,
                        help="array backend (default: $MINIGEN_BACKEND or numpy)")
    parser.add_argument("--threads", type=int, default=default,
                        help="BLAS threads (default 1 for train, zoo, eval and sample: their models are small, where "
                             "one thread is fastest, and eval then repeats training's sums bit for bit)")


def _subparsers(parser):
    """Every parser below ``parser`` (commands, and models under ``train``)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for p in dict.fromkeys(action.choices.values()):
                yield p
                yield from _subparsers(p)


def _user_errors() -> tuple:
    """The exceptions that mean the user asked for something that cannot be done: one line, exit 2."""
    from minigen.data import DatasetNotFoundError, IDXError
    from minigen.exercises.grade import ExerciseFileError
    from minigen.serialization import CheckpointError
    from minigen.training.task import ConfigError
    return (UsageError, ConfigError, DatasetNotFoundError, IDXError, CheckpointError, ExerciseFileError)


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.threads is not None and args.threads < 1:
        parser.error(f"--threads must be positive, got {args.threads}")
    try:
        if args.backend:
            from minigen.backend import set_backend
            try:
                set_backend(args.backend)
            except RuntimeError as e:        # CuPy or its device missing: the message says what to install
                raise UsageError(str(e)) from None
        if args.command in ("train", "zoo", "eval", "sample", "exercise"):
            from minigen.allocator import tune_host_allocator
            tune_host_allocator()        # this process is ours: reuse freed buffers (minigen/allocator.py)
        # one BLAS thread for runs: their models are small, and eval / sample then repeat training's sums exactly
        threads = args.threads or (1 if args.command in ("train", "zoo", "eval", "sample", "exercise") else None)
        if threads:
            from threadpoolctl import threadpool_limits

            from minigen.threads import set_num_threads
            set_num_threads(threads)                # minigen's own elementwise threads (Adam) likewise
            with threadpool_limits(limits=threads, user_api="blas"):
                return args.func(args) or 0
        return args.func(args) or 0
    except _user_errors() as e:
        msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        print(f"minigen {args.command}: error: {msg}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
