"""Run every workload for every available implementation and write the results (issue 7).

    python -m benchmarks.run                                   # everything, default steps
    python -m benchmarks.run --workloads W2 --impls numpy,minigen --steps 50 --repeats 2
    python -m benchmarks.run --steps W1=30,W2=200,W3=30 --warmup W1=5,W2=20,W3=3

For each workload and each repeat, each implementation runs in a fresh process (``benchmarks.worker``),
in interleaved order (A B C, then B C A, ...), limited to ``--threads`` CPUs.  Step times of all repeats
are pooled into median / p10 / p90; ratios are to the hand-written NumPy reference measured in the same
run.  W3 also gets the GEMM limit: its matrix products alone, timed the same way.  A memory check then
runs minigen for ``--mem-steps`` steps and reports RSS growth and live graph objects.

Writes ``--out`` (JSON) and regenerates the table in ``benchmarks/README.md`` (``--readme``; ``--no-readme``
to skip).  Implementations that are not installed (torch, jax, cupy) are skipped and listed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from benchmarks import common, report
from benchmarks.impls import IMPLS, REFERENCE
from benchmarks.worker import MARK

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DEFAULT_IMPLS = ["numpy", "minigen", "torch", "jax", "minigen-cupy", "torch-cuda"]
DEFAULT_STEPS = {"W1": 50, "W2": 200, "W3": 30, "W4": 30, "W5": 50, "W6": 30}
DEFAULT_WARMUP = {"W1": 5, "W2": 20, "W3": 3, "W4": 3, "W5": 5, "W6": 3}


def per_workload(spec: str | None, default: dict) -> dict:
    """ "30" -> every workload 30; "W1=30,W2=200" -> those two (others keep their default)."""
    out = dict(default)
    if spec is None:
        return out
    spec = str(spec)
    if "=" not in spec:
        return {w: int(spec) for w in out}
    for part in spec.split(","):
        w, n = part.split("=")
        if w.strip() not in out:
            raise SystemExit(f"unknown workload {w!r} in {spec!r}")
        out[w.strip()] = int(n)
    return out


MALLOC = ["default"]
BLAS = ["machine"]
# the BLAS settings a run can compare: the machine's environment as it is, and OpenBLAS choosing its
# kernel for the CPU itself (OPENBLAS_CORETYPE removed, in the measuring processes only)
BLAS_SETTINGS = {"machine": "the machine's environment", "own": "OpenBLAS's own choice of kernel"}


def worker_env(threads: int) -> dict:
    env = dict(os.environ)
    env.pop("MINIGEN_MALLOC", None)       # the worker's --malloc decides
    if BLAS[0] == "own":
        env.pop("OPENBLAS_CORETYPE", None)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
        env[var] = str(threads)
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


NICE = [0]


def run_worker(args: list, threads: int, timeout: float = 900) -> dict:
    cmd = [
        sys.executable,
        "-m",
        "benchmarks.worker",
        "--threads",
        str(threads),
        "--nice",
        str(NICE[0]),
        "--malloc",
        MALLOC[0],
        *map(str, args),
    ]
    try:
        p = subprocess.run(
            cmd,
            cwd=ROOT,
            env=worker_env(threads),
            capture_output=True,
            text=True,
            timeout=timeout,
            start_new_session=bool(NICE[0]),
            check=False,
        )
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s: {' '.join(cmd[2:])}"}
    for line in p.stdout.splitlines():
        if line.startswith(MARK):
            return json.loads(line[len(MARK) :])
    tail = (p.stderr or p.stdout).strip().splitlines()[-6:]
    return {"error": f"exit {p.returncode}: " + " | ".join(tail)}


def machine_busy(seconds: float = 1.0):
    """Fraction of all CPUs busy over ``seconds`` (this process sleeps meanwhile, so it is other
    processes' load); None where /proc/stat is unreadable."""

    def ticks():
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        return sum(v[:8]) - v[3] - v[4], sum(v[:8])

    try:
        b0, t0 = ticks()
        time.sleep(seconds)
        b1, t1 = ticks()
    except (OSError, ValueError):
        return None
    return (b1 - b0) / max(1, t1 - t0)


def wait_quiet(limit: float, max_wait: float) -> float:
    """Wait (up to ``max_wait`` s) until other processes use at most ``limit`` of the CPUs for 2 s."""
    t0 = time.time()
    quiet = 0
    while time.time() - t0 < max_wait:
        b = machine_busy(1.0)
        if b is None:
            return 0.0
        quiet = quiet + 1 if b <= limit else 0
        if quiet >= 2:
            break
    return time.time() - t0


def summarize(times: list) -> dict:
    a = np.asarray(times, dtype=float)
    if a.size == 0:
        return {}
    p10, med, p90 = np.percentile(a, [10, 50, 90])
    return {
        "median_ms": float(med),
        "p10_ms": float(p10),
        "p90_ms": float(p90),
        "mean_ms": float(a.mean()),
        "min_ms": float(a.min()),
        "n": int(a.size),
    }


def measure(workloads, impls, gemm_libs, steps, warmup, args) -> dict:
    """Every (workload, implementation) ``--repeats`` times, each in a fresh process, interleaved; W3 also
    the GEMMs alone with each library's own GEMM.  Returns {workload: {impl: [worker results]}}."""
    raw: dict = {w: {} for w in workloads}
    for w in workloads:
        entries = ([i for i in impls if (w, i) not in common.EXCLUDED]
                   + ([f"gemm:{g}" for g in gemm_libs] if w == "W3" else []))
        for r in range(args.repeats):
            order = entries[r % len(entries) :] + entries[: r % len(entries)]
            for impl in order:
                if impl.startswith("gemm:"):
                    cmd = ["--gemm", "--gemm-lib", impl[5:], "--steps", steps[w], "--warmup",
                           max(1, warmup[w]), "--seed", args.seed]
                else:
                    cmd = [
                        "--impl",
                        impl,
                        "--workload",
                        w,
                        "--steps",
                        steps[w],
                        "--warmup",
                        warmup[w],
                        "--seed",
                        args.seed,
                    ]
                best = None
                for attempt in range(args.retries + 1):
                    if args.max_wait > 0:
                        waited = wait_quiet(args.max_foreign_load, args.max_wait)
                        if waited > 5:
                            log(f"   waited {waited:.0f} s for other processes to quieten")
                    res = run_worker(cmd, args.threads)
                    if "error" in res:
                        log(f"{w} {impl} repeat {r}: ERROR {res['error']}")
                        best = res
                        break
                    busy = res.get("foreign_load") or 0.0
                    log(
                        f"{w} {common.NAMES[w]:8s} {impl:13s} repeat {r}: median "
                        f"{np.median(res['times_ms']):8.2f} ms   (others' CPU load {busy:.2f}, our threads "
                        f"waited for a CPU {res.get('run_delay') or 0:.2f} s/s)"
                    )
                    if best is None or busy < (best.get("foreign_load") or 0.0):
                        best = res  # all attempts disturbed: keep the least disturbed one
                    if busy <= args.max_foreign_load:
                        break
                    if attempt < args.retries:
                        log("   other processes were busy meanwhile: measuring again")
                best["attempts"] = attempt + 1
                raw[w].setdefault(impl, []).append(best)

    return raw


def log(msg: str):
    print(msg, file=sys.stderr, flush=True)


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workloads", default=",".join(common.WORKLOADS))
    ap.add_argument(
        "--impls",
        default=",".join(DEFAULT_IMPLS),
        help="comma-separated, from " + ", ".join(IMPLS) + " (missing ones are skipped)",
    )
    ap.add_argument("--steps", default=None, help=f"N or W1=N,W2=N,... (default {DEFAULT_STEPS})")
    ap.add_argument("--warmup", default=None, help=f"N or W1=N,... (default {DEFAULT_WARMUP})")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-gemm", action="store_true", help="skip the GEMM-limit measurement")
    ap.add_argument(
        "--max-foreign-load",
        type=float,
        default=0.1,
        help="measure again when other processes used more than this fraction of the CPUs "
        "meanwhile (default 0.1); before each measurement, wait (--max-wait) for that too",
    )
    ap.add_argument("--retries", type=int, default=3, help="how often to repeat such a measurement")
    ap.add_argument(
        "--nice",
        type=int,
        default=0,
        help="priority change for the measuring processes (negative: ahead of other users' "
        "jobs on a shared machine; needs privileges)",
    )
    ap.add_argument(
        "--max-wait",
        type=float,
        default=120,
        help="before each measurement, wait up to this many seconds for the machine to be quiet",
    )
    ap.add_argument(
        "--malloc",
        choices=("minigen", "default"),
        default="default",
        help="host allocator of every worker: glibc's defaults (as a script importing minigen gets), or "
        "minigen's opt-in settings (minigen/allocator.py, what the minigen command uses)",
    )
    ap.add_argument(
        "--blas",
        default="machine,own",
        help="BLAS settings to measure: machine (the environment as it is), own (OPENBLAS_CORETYPE "
        "removed in the measuring processes: OpenBLAS picks its kernel); the same when it is not set",
    )
    ap.add_argument("--mem-steps", type=int, default=2000, help="memory check length (0: skip)")
    ap.add_argument("--mem-workloads", default="W1,W2,W3,W4,W5,W6", help="workloads of the memory check")
    ap.add_argument("--mem-impls", default="minigen")
    ap.add_argument("--out", default=str(HERE / "results.json"))
    ap.add_argument("--readme", default=str(HERE / "README.md"))
    ap.add_argument("--no-readme", action="store_true")
    args = ap.parse_args(argv)

    t_start = time.time()
    NICE[0] = args.nice
    MALLOC[0] = args.malloc
    workloads = [w.strip() for w in args.workloads.split(",") if w.strip()]
    for w in workloads:
        if w not in common.WORKLOADS:
            raise SystemExit(f"unknown workload {w!r}; choose from {common.WORKLOADS}")
    steps = per_workload(args.steps, DEFAULT_STEPS)
    warmup = per_workload(args.warmup, DEFAULT_WARMUP)

    settings = [b.strip() for b in args.blas.split(",") if b.strip()]
    for b in settings:
        if b not in BLAS_SETTINGS:
            raise SystemExit(f"unknown --blas setting {b!r}; choose from {', '.join(BLAS_SETTINGS)}")
    if "OPENBLAS_CORETYPE" not in os.environ and len(settings) > 1:
        log("OPENBLAS_CORETYPE is not set: the machine's setting is OpenBLAS's own choice; measuring it once")
        settings = settings[:1]
    requested = [i.strip() for i in args.impls.split(",") if i.strip()]
    for i in requested:
        if i not in IMPLS:
            raise SystemExit(f"unknown implementation {i!r}; choose from {list(IMPLS)}")
    runs = {}
    for setting in settings:
        BLAS[0] = setting
        log(f"=== BLAS: {BLAS_SETTINGS[setting]}")
        machine = run_worker(["--probe", "--probe-impls", args.impls], args.threads)
        if "error" in machine:
            raise SystemExit(f"probe failed: {machine['error']}")
        impls = [i for i in requested if i in machine["impls"]]
        skipped = {i: machine["missing"].get(i, "not available") for i in requested if i not in impls}
        if REFERENCE in impls:  # the reference first in the rotation
            impls.remove(REFERENCE)
            impls.insert(0, REFERENCE)
        else:
            log(f"note: the reference {REFERENCE!r} is not in --impls; no ratios will be computed")
        for i, why in skipped.items():
            log(f"skipping {i}: {why}")
        gemm_libs = [] if args.no_gemm else [g for g in ("numpy", "torch", "jax") if g in machine["impls"]]
        runs[setting] = {"machine": machine, "skipped": skipped,
                         "raw": measure(workloads, impls, gemm_libs, steps, warmup, args)}
    BLAS[0] = settings[0]

    memory = []
    if args.mem_steps:
        first = runs[settings[0]]["machine"]
        for w in [x.strip() for x in args.mem_workloads.split(",") if x.strip()]:
            for impl in [x.strip() for x in args.mem_impls.split(",") if x.strip()]:
                if impl not in first["impls"]:
                    continue
                res = run_worker(
                    ["--impl", impl, "--workload", w, "--mem-steps", args.mem_steps, "--warmup",
                     warmup.get(w, 5), "--seed", args.seed],
                    args.threads,
                )
                res.setdefault("impl", impl)
                res.setdefault("workload", w)
                memory.append(res)
                if "error" in res:
                    log(f"memory {w} {impl}: ERROR {res['error']}")
                else:
                    log(
                        f"memory {w} {impl}: {args.mem_steps} steps, RSS growth mid->end "
                        f"{res['growth_mid_to_end_kb'] / 1024:+.1f} MiB, objects {res['objects']}"
                    )

    data = {
        "meta": {
            "date": time.strftime("%Y-%m-%d %H:%M"),
            "max_foreign_load": args.max_foreign_load,
            "nice": args.nice,
            "malloc": runs[settings[0]]["machine"].get("malloc"),
            "threads": args.threads,
            "repeats": args.repeats,
            "steps": steps,
            "warmup": warmup,
            "seed": args.seed,
            "command": "python -m benchmarks.run " + " ".join(sys.argv[1:] if argv is None else argv),
            "coretype_env": os.environ.get("OPENBLAS_CORETYPE"),
        },
        "settings": {name: {"label": BLAS_SETTINGS[name], **aggregate(r["raw"], r["machine"], r["skipped"])}
                     for name, r in runs.items()},
        "memory": memory,
    }
    data["meta"]["total_s"] = time.time() - t_start
    for sub in data["settings"].values():
        sub["targets"] = report.targets({**data, **sub})
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(data, f, indent=1)
    print(report.render_console(data))
    log(f"wrote {args.out}")
    if not args.no_readme:
        report.write_readme(data, args.readme, json_path=args.out)
        log(f"updated {args.readme}")
    return data


def aggregate(raw, machine, skipped) -> dict:
    """One BLAS setting's worker results -> per (workload, implementation) statistics and ratios; the GEMM
    limit is the fastest library's."""
    out = {"machine": machine, "skipped": skipped, "workloads": {}, "gemm": None, "gemms": {}}
    for w, by_impl in raw.items():
        entry = {"name": common.NAMES[w], "impls": {}}
        for impl, runs in by_impl.items():
            ok = [r for r in runs if "error" not in r]
            errors = [r["error"] for r in runs if "error" in r]
            times = [t for r in ok for t in r["times_ms"]]
            st = summarize(times)
            st["repeat_medians_ms"] = [float(np.median(r["times_ms"])) for r in ok]
            st["foreign_load"] = [r.get("foreign_load") for r in ok]
            st["run_delay"] = [r.get("run_delay") for r in ok]
            st["attempts"] = sum(r.get("attempts", 1) for r in runs)
            st["peak_rss_mb"] = float(np.median([r["peak_rss_kb"] for r in ok])) / 1024 if ok else None
            if not impl.startswith("gemm:") and ok:
                st["rss_import_mb"] = float(np.median([r["rss_import_kb"] for r in ok])) / 1024
                st["rss_made_mb"] = float(np.median([r["rss_made_kb"] for r in ok])) / 1024
                st["final_loss"] = ok[-1]["final_loss"]
                st["warmup_s"] = float(np.median([r["warmup_s"] for r in ok]))
            if errors:
                st["errors"] = errors
            if impl.startswith("gemm:"):
                if ok:
                    g = ok[0]
                    t9 = [t for r in ok for t in r["times9_ms"]]
                    st.update(
                        {
                            "limit_ms": st.get("median_ms"),
                            "limit9_ms": float(np.median(t9)),
                            "flops8": g["flops8"],
                            "flops9": g["flops9"],
                            "gflops": g["flops8"] / st["median_ms"] / 1e6,
                            "per_gemm_median_ms": {
                                k: float(np.median([r["per_gemm_median_ms"][k] for r in ok]))
                                for k in g["per_gemm_median_ms"]
                            },
                        }
                    )
                    st["lib"] = impl[5:]
                out["gemms"][impl[5:]] = st
            else:
                entry["impls"][impl] = st
        if w == "W3" and out["gemms"]:
            timed = [g for g in out["gemms"].values() if g.get("limit_ms")]
            out["gemm"] = min(timed, key=lambda g: g["limit_ms"]) if timed else None
        ref = entry["impls"].get(REFERENCE, {})
        for impl, st in entry["impls"].items():
            if ref.get("median_ms") and st.get("median_ms"):
                st["ratio"] = st["median_ms"] / ref["median_ms"]
                if ref.get("peak_rss_mb") and st.get("peak_rss_mb"):
                    st["rss_ratio"] = st["peak_rss_mb"] / ref["peak_rss_mb"]
        if w == "W3" and out["gemm"] and out["gemm"].get("limit_ms"):
            for st in entry["impls"].values():
                if st.get("median_ms"):
                    st["ratio_to_gemm_limit"] = st["median_ms"] / out["gemm"]["limit_ms"]
        out["workloads"][w] = entry
    return out


if __name__ == "__main__":
    main()
