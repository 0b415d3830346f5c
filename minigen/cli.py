"""The ``minigen`` command: ``minigen gradcheck``, ``minigen train ...``, ``minigen sample ...``.

Subcommands register themselves in ``COMMANDS``; each is a function (args) -> exit code plus a function
that adds its arguments to a parser.
"""
from __future__ import annotations

import argparse
import sys
import time


def _gradcheck_args(p: argparse.ArgumentParser):
    p.add_argument("ops", nargs="*", help="only these ops (default: every registered op)")
    p.add_argument("--first-only", action="store_true", help="skip the second-order checks")


def cmd_gradcheck(args) -> int:
    """Check every registered op's first and second derivatives against finite differences."""
    from minigen.gradcheck import check, gradgrad_report
    from minigen.ops.registry import cases

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


def _register_optional():
    """Commands whose modules may be heavier; imported when the CLI starts."""
    try:
        from minigen.training import commands
    except ImportError:
        return
    COMMANDS.update(commands.COMMANDS)


def build_parser() -> argparse.ArgumentParser:
    _register_optional()
    parser = argparse.ArgumentParser(prog="minigen", description="minigen: VAEs and GANs with hand-written, "
                                     "finite-difference-checked gradients")
    parser.add_argument("--backend", choices=["numpy", "cupy", "strict"], default=None,
                        help="array backend (default: $MINIGEN_BACKEND or numpy)")
    parser.add_argument("--threads", type=int, default=None,
                        help="BLAS threads (default 1 for train and zoo: their models are small, where one thread "
                             "is fastest and a second one only fights other processes for the cores)")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (fn, add_args, help_) in COMMANDS.items():
        p = sub.add_parser(name, help=help_, description=fn.__doc__)
        add_args(p)
        p.set_defaults(func=fn)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.backend:
        from minigen.backend import set_backend
        set_backend(args.backend)
    threads = args.threads or (1 if args.command in ("train", "zoo") else None)
    if threads:
        from threadpoolctl import threadpool_limits
        with threadpool_limits(limits=threads, user_api="blas"):
            return args.func(args) or 0
    return args.func(args) or 0


if __name__ == "__main__":
    sys.exit(main())
