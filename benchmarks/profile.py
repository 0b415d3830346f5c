"""Where a minigen training step spends its time.

    python -m benchmarks.profile --workload W1 [--steps 30] [--warmup 5] [--cprofile 15]
    python -m benchmarks.profile --workload W4        # the DCGAN: im2col / col2im vs GEMM vs the rest
    python -m benchmarks.profile --workload all --save after   # keep the categories for the README's table
    python -m benchmarks.profile --workload all --save before --minigen ../old   # an older checkout's minigen

Three measurements in one process (threads limited as in the harness):

1. the plain step time (median), nothing instrumented;
2. the step with every op's ``forward`` / ``backward``, ``Adam.update``, ``Function.__call__``,
   ``Module.__call__`` and the backward engine wrapped in timers that keep *exclusive* time (a backward
   rule's nested ops are counted as those ops, tagged "in backward"), giving the array work by op and a
   remainder that is the engine's Python overhead;
3. optionally cProfile's top functions (self time and cumulative time).

On the NumPy backend the convolution ops (``minigen/ops/conv.py``) are split further
(:func:`install_conv_split`): im2col / col2im (the gather and the scatter-add of the kernel taps, padding
included), the matrix products inside the ops, and the ops' remaining glue.

Nothing in ``minigen`` is edited: the timers are installed on the classes at run time.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from collections import defaultdict

from benchmarks.worker import limit_threads, set_priority


def _median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2]


class Timers:
    def __init__(self):
        self.acc = defaultdict(float)  # label -> exclusive seconds
        self.calls = defaultdict(int)
        self.stack = []
        self.in_backward = 0
        self.patched = []

    def wrap(self, owner, attr, label_fn):
        orig = owner.__dict__[attr]
        timers = self
        clock = time.perf_counter

        def wrapped(*args, **kwargs):
            timers.stack.append(0.0)
            t = clock()
            try:
                return orig(*args, **kwargs)
            finally:
                el = clock() - t
                child = timers.stack.pop()
                label = label_fn(args)
                timers.acc[label] += el - child
                timers.calls[label] += 1
                if timers.stack:
                    timers.stack[-1] += el

        wrapped.__wrapped__ = orig
        setattr(owner, attr, wrapped)
        self.patched.append((owner, attr, orig))

    def unpatch(self):
        for owner, attr, orig in reversed(self.patched):
            setattr(owner, attr, orig)
        self.patched.clear()

    def reset(self):
        self.acc = defaultdict(float)
        self.calls = defaultdict(int)


def _all_subclasses(cls):
    out, todo = [], [cls]
    while todo:
        c = todo.pop()
        for s in c.__subclasses__():
            out.append(s)
            todo.append(s)
    return out


def install(timers: Timers):
    from minigen.autograd import engine
    from minigen.autograd.function import Function
    from minigen.nn.module import Module
    from minigen.optim.optimizer import Optimizer

    def phase():
        return " (in backward)" if timers.in_backward else ""

    for cls in _all_subclasses(Function):
        for attr in ("forward", "backward"):
            if attr in cls.__dict__:
                timers.wrap(cls, attr, lambda a, attr=attr: f"op {type(a[0]).__name__}.{attr}{phase()}")
    timers.wrap(Function, "__call__", lambda a: "engine: Function.__call__ bookkeeping" + phase())
    timers.wrap(Module, "__call__", lambda a: "nn: Module.__call__ / forward glue")
    for cls in _all_subclasses(Optimizer):
        if "update" in cls.__dict__:
            timers.wrap(cls, "update", lambda a: f"optim: {type(a[0]).__name__}.update (array math)")
    timers.wrap(Optimizer, "step", lambda a: "optim: step loop (Python)")
    timers.wrap(Optimizer, "zero_grad", lambda a: "optim: zero_grad")
    timers.wrap(engine, "_topological_order", lambda a: "engine: topological sort")

    orig_backprop = engine.__dict__["_backprop"]

    def backprop(*args, **kwargs):
        timers.in_backward += 1
        try:
            return orig_backprop(*args, **kwargs)
        finally:
            timers.in_backward -= 1

    engine._backprop = backprop
    timers.patched.append((engine, "_backprop", orig_backprop))
    timers.wrap(engine, "_backprop", lambda a: "engine: backward loop (Python)")
    timers.wrap(engine, "run_backward", lambda a: "engine: run_backward (grad accumulation)")


CONV_OPS = ("Conv2d", "Conv2dInputGrad", "Conv2dWeightGrad")


def install_conv_split(timers: Timers) -> bool:
    """Time im2col, col2im and the matrix products inside the conv ops (conv.py calls ``xp.matmul`` for
    each of them; Linear's calls outside a conv op count as GEMM ops), each tagged with the op that called it (the op's own exclusive time is then its
    glue: the transposes between (N, C, ...) and (C, N, ...), reshapes, bookkeeping).  NumPy backend only
    (returns False elsewhere), as the other backends' arrays may compute asynchronously."""
    from minigen import backend
    from minigen.ops import conv

    if backend.get_backend() != "numpy":
        return False
    ops = []  # the conv op being run (innermost last), to tag what it calls

    def op_tag():
        return f" [{ops[-1]}]" if ops else ""

    for name in CONV_OPS:
        cls = getattr(conv, name)
        for attr in ("forward", "backward"):   # a backward rule may gather columns itself (T's does)
            inner = cls.__dict__[attr]
            tag = name if attr == "forward" else f"{name}.backward"

            def run(self, *args, _inner=inner, _tag=tag, **kwargs):
                ops.append(_tag + (" (in backward)" if timers.in_backward and "." not in _tag else ""))
                try:
                    return _inner(self, *args, **kwargs)
                finally:
                    ops.pop()

            setattr(cls, attr, run)
            timers.patched.append((cls, attr, inner))

    timers.wrap(conv, "_im2col", lambda a: "conv: im2col (gather, padding included)" + op_tag())
    timers.wrap(conv, "_col2im", lambda a: "conv: col2im (scatter-add, unpadding included)" + op_tag())
    # Linear's forward calls xp.matmul too: outside a conv op the product stays with the GEMM ops
    timers.wrap(backend.xp, "matmul", lambda a: "conv: GEMM (matmul)" + op_tag() if ops else "gemm: xp.matmul")
    return True


def category(label: str) -> str:
    if label.startswith(("conv: im2col", "conv: col2im")):
        return "conv im2col / col2im (the gather / scatter-add of the kernel taps)"
    if label.startswith("conv: GEMM"):
        return "conv GEMM (the matrix products inside the conv ops)"
    if label.startswith(tuple(f"op {n}." for n in CONV_OPS)):
        return "conv glue (the conv ops' transposes between (N, C) and (C, N) layouts, reshapes, bookkeeping)"
    if label.startswith(("op Linear", "op MatMul", "gemm:")):
        return "GEMM ops (Linear / MatMul: the products, plus the bias add)"
    if label.startswith("op "):
        return "other array ops (elementwise, reductions, losses, transposes)"
    if label.startswith("optim") and "array math" in label:
        return "Adam update (array math)"
    return "Python overhead (engine, Function/Module calls, optimizer loop)"


def profile(workload: str, steps: int, warmup: int, seed: int, cprofile: int, backend: str = "numpy"):
    import minigen as mg
    from benchmarks.impls import minigen_impl

    mg.set_backend(backend)
    step = minigen_impl.make(workload, seed=seed)
    for _ in range(warmup):
        step()

    def one():
        t = time.perf_counter()
        step()
        minigen_impl.sync()
        return (time.perf_counter() - t) * 1e3

    # plain and instrumented steps alternate, so both see the same machine load
    timers = Timers()
    plain, inst, snaps, calls = [], [], [], defaultdict(int)
    for i in range(steps + 2):
        plain.append(one())
        install(timers)
        install_conv_split(timers)
        try:
            timers.reset()
            inst.append(one())
        finally:
            timers.unpatch()
        if i >= 2:  # the first two instrumented steps warm the wrappers
            snaps.append(dict(timers.acc))
            for k, c in timers.calls.items():
                calls[k] += c
    n = steps
    plain_ms, inst_ms = _median(plain), _median(inst[2:])
    labels = {k for sn in snaps for k in sn}
    # per label, the median over steps of its ms in a step (robust to a noisy machine)
    per_step = {k: _median([sn.get(k, 0.0) for sn in snaps]) * 1e3 for k in labels}
    cats = defaultdict(float)
    for k, v in per_step.items():
        cats[category(k)] += v
    compute = sum(v for k, v in cats.items() if not k.startswith("Python"))
    overhead = plain_ms - compute
    lines = [
        (
            f"minigen {workload} ({backend}): plain step median {plain_ms:.2f} ms over {n} steps "
            f"(instrumented steps: median {inst_ms:.2f} ms)"
        ),
        "",
        "by category: ms per step, share of the plain step (Python overhead = plain step - array work)",
    ]
    for k, v in sorted(cats.items(), key=lambda kv: -kv[1]):
        if not k.startswith("Python"):
            lines.append(f"  {v:8.3f} ms  {100 * v / plain_ms:5.1f}%  {k}")
    lines.append(
        f"  {overhead:8.3f} ms  {100 * overhead / plain_ms:5.1f}%  Python overhead (engine, "
        f"Function/Module calls, optimizer loop, user code)"
    )
    lines.append("")
    lines.append("by label: exclusive ms per step (median over steps; timer cost included), calls per step")
    for k, v in sorted(per_step.items(), key=lambda kv: -kv[1])[:40]:
        lines.append(f"  {v:8.3f} ms  {calls[k] / n:6.1f}x  {k}")
    print("\n".join(lines))

    if cprofile:
        import cProfile
        import io
        import pstats

        pr = cProfile.Profile()
        pr.enable()
        for _ in range(steps):
            step()
        pr.disable()
        for key in ("tottime", "cumulative"):
            s = io.StringIO()
            pstats.Stats(pr, stream=s).sort_stats(key).print_stats(cprofile)
            text = s.getvalue()
            print(f"\ncProfile, {steps} steps, sorted by {key}:")
            print(text[text.find("   ncalls") :].rstrip())
    return {"plain_ms": plain_ms, "categories": dict(cats), "labels": per_step}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workload", default="W1", help="W1..W6, a comma list, or all")
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--cprofile", type=int, default=0, help="also print cProfile's top N functions")
    ap.add_argument("--backend", default="numpy")
    ap.add_argument("--nice", type=int, default=0, help="as for benchmarks.run (a shared machine)")
    ap.add_argument("--save", metavar="LABEL", help="keep the categories under LABEL (e.g. before, after) in --json "
                    "and regenerate the README's profile table")
    ap.add_argument("--json", default=str(Path(__file__).resolve().parent / "profiles.json"))
    ap.add_argument("--minigen", metavar="DIR", help="profile the minigen package in DIR (e.g. a worktree of an "
                    "older commit) instead of the installed one")
    args = ap.parse_args(argv)
    if args.minigen:  # before anything imports minigen; this harness stays the one that measures
        if "minigen" in sys.modules:
            ap.error("--minigen: minigen is already imported")
        sys.path.insert(0, os.path.abspath(args.minigen))
    limit_threads(args.threads)
    if args.nice:
        try:
            os.setsid()  # our own session, so our own autogroup (see worker.set_priority)
        except OSError:
            pass
        print("priority:", set_priority(args.nice))
    workloads = ["W1", "W2", "W3", "W4", "W5", "W6"] if args.workload == "all" else args.workload.split(",")
    results = {w: profile(w, args.steps, args.warmup, args.seed, args.cprofile, args.backend) for w in workloads}
    if args.save:
        save(args.save, results, args)


def _minigen_commit() -> str | None:
    """The commit of the minigen being profiled (a checkout's HEAD), or None outside a git checkout."""
    import subprocess

    import minigen

    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=os.path.dirname(minigen.__file__),
                             capture_output=True, text=True, timeout=10)
    except OSError:
        return None
    return out.stdout.strip() or None


def save(label: str, results: dict, args) -> None:
    """Merge this run into ``--json`` under ``label`` and regenerate the README's profile section."""
    import json
    import platform

    from benchmarks import report

    path = report.Path(args.json)
    data = json.loads(path.read_text()) if path.exists() else {}
    entry = data.setdefault(label, {"workloads": {}})
    entry.update(commit=_minigen_commit(), measured=time.strftime("%Y-%m-%d %H:%M"), threads=args.threads,
                 backend=args.backend, steps=args.steps, python=platform.python_version())
    for w, r in results.items():
        entry["workloads"][w] = {"plain_ms": r["plain_ms"], "categories": r["categories"]}
    path.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    report.write_profiles(data)
    print(f"saved as {label!r} in {path}; README's profile section regenerated")


if __name__ == "__main__":
    main()
