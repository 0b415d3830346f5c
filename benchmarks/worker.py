"""One measurement in a fresh process; ``benchmarks.run`` starts one per (workload, implementation, repeat).

    python -m benchmarks.worker --impl minigen --workload W1 --steps 30 --warmup 5
    python -m benchmarks.worker --gemm --steps 30 --warmup 3       # the W3 GEMMs alone (--gemm-lib torch|jax)
    python -m benchmarks.worker --probe                            # machine, versions, implementations
    python -m benchmarks.worker --impl minigen --workload W2 --mem-steps 2000   # memory-growth check

The result is one line ``BENCH_RESULT {json}`` on stdout.  The process limits itself to ``--threads``
CPUs (default 2) before any library starts its thread pools: the BLAS / OpenMP variables are set (when
the parent has not set them) and the process is pinned to that many CPUs, which also sizes XLA's pool.
With ``--malloc minigen`` every implementation's process gets minigen's opt-in malloc settings
(:func:`tune_allocator`), so such a comparison is of the steps, not of the allocators; by default
(``--malloc default``) every process, minigen's included, runs with glibc's defaults, as a script that
imports minigen does.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

MARK = "BENCH_RESULT "


def limit_threads(n: int) -> dict:
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
        os.environ.setdefault(var, str(n))
    pinned = None
    if hasattr(os, "sched_getaffinity"):
        cpus = sorted(os.sched_getaffinity(0))
        if len(cpus) > n:
            pinned = cpus[:n]
            os.sched_setaffinity(0, pinned)
        else:
            pinned = cpus
    return {
        "threads": n,
        "cpus": pinned,
        **{
            v: os.environ.get(v)
            for v in (
                "OMP_NUM_THREADS",
                "OPENBLAS_NUM_THREADS",
                "MKL_NUM_THREADS",
                "OPENBLAS_CORETYPE",
                "XLA_FLAGS",
            )
        },
    }


def tune_allocator() -> dict:
    """Give this process minigen's host-allocator settings (``minigen/allocator.py``) before any
    implementation loads, so that every implementation is measured with the same malloc; skipped
    when ``MINIGEN_MALLOC=default``.  The module is loaded on its own, without importing minigen."""
    import importlib.util

    where = importlib.util.find_spec("minigen").submodule_search_locations[0]
    spec = importlib.util.spec_from_file_location("_minigen_allocator", os.path.join(where, "allocator.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.tune_host_allocator()


def set_priority(nice: int):
    """Change this process's priority.  Under Linux's autogroup scheduling, nice values only order
    processes within one session, and sessions share the CPUs equally; so the harness starts each
    worker in its own session and gives that session's autogroup the same nice value."""
    out = {}
    try:
        out["nice"] = os.nice(nice)
    except OSError as e:  # a negative value needs privileges
        out["nice"] = f"not changed: {e}"
    try:
        if os.getsid(0) == os.getpid():
            with open("/proc/self/autogroup", "w") as f:
                f.write(str(nice))
            with open("/proc/self/autogroup") as f:
                out["autogroup"] = f.read().strip()
    except OSError as e:
        out["autogroup"] = f"not changed: {e}"
    return out


def rss_kb() -> int:
    """Current resident set size (KiB)."""
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") // 1024


class ForeignLoad:
    """Was the measurement disturbed?  Two numbers over the timed interval:

    * ``run_delay()``: seconds our threads spent runnable but waiting for a CPU, per second (from the
      scheduler's /proc/self/task/*/schedstat): the disturbance itself, which the harness acts on;
    * ``fraction()``: CPU time *other* processes used (machine-wide busy time from /proc/stat minus our
      own), as a fraction of all CPUs: informative only, since others may just fill a CPU we left idle.

    Another process on a 2-core machine stalls multi-threaded BLAS / OpenMP badly (a preempted thread
    holds up its partner), so the harness repeats disturbed measurements."""

    def __init__(self):
        self.hz = os.sysconf("SC_CLK_TCK")
        self.ncpu = os.cpu_count() or 1
        self.start()

    @staticmethod
    def _busy_ticks():
        try:
            with open("/proc/stat") as f:
                v = [int(x) for x in f.readline().split()[1:]]
        except (OSError, ValueError):
            return None
        return sum(v[:8]) - v[3] - v[4]  # all but idle and iowait (guest is inside user)

    @staticmethod
    def _own_s():
        t = os.times()
        return t.user + t.system

    @staticmethod
    def _run_delay_ns():
        """Time this process's threads spent runnable but waiting for a CPU (/proc/<pid>/task/*/schedstat)."""
        total = 0
        try:
            tasks = os.listdir("/proc/self/task")
        except OSError:
            return None
        for t in tasks:
            try:
                with open(f"/proc/self/task/{t}/schedstat") as f:
                    total += int(f.read().split()[1])
            except (OSError, ValueError, IndexError):
                continue
        return total

    def start(self):
        self.t0, self.b0, self.o0 = time.perf_counter(), self._busy_ticks(), self._own_s()
        self.d0 = self._run_delay_ns()

    def run_delay(self):
        """Seconds our threads waited for a CPU, per second of wall time (0: never preempted)."""
        d1 = self._run_delay_ns()
        wall = time.perf_counter() - self.t0
        if d1 is None or self.d0 is None or wall <= 0:
            return None
        return max(0.0, (d1 - self.d0) / 1e9 / wall)

    def fraction(self):
        b1 = self._busy_ticks()
        if b1 is None or self.b0 is None:
            return None
        wall = time.perf_counter() - self.t0
        foreign = (b1 - self.b0) / self.hz - (self._own_s() - self.o0)
        return max(0.0, foreign / (wall * self.ncpu)) if wall > 0 else None


def peak_rss_kb() -> int:
    import resource

    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)  # KiB on Linux


# ----------------------------------------------------------------------------------------------------
# probing: what is installed, on what machine
# ----------------------------------------------------------------------------------------------------


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    import platform

    return platform.processor() or platform.machine()


def _blas_info() -> list:
    try:
        from threadpoolctl import threadpool_info

        return [
            {
                k: d.get(k)
                for k in (
                    "user_api",
                    "internal_api",
                    "version",
                    "architecture",
                    "num_threads",
                    "threading_layer",
                    "prefix",
                )
            }
            for d in threadpool_info()
        ]
    except ImportError:
        import numpy as np

        try:
            cfg = np.show_config(mode="dicts")
            return [{"numpy_config": cfg.get("Build Dependencies", {}).get("blas")}]
        except Exception:  # noqa: BLE001  (very old NumPy)
            return []


def probe(wanted=None) -> dict:
    """Machine, library versions, and which implementations can run here (only ``wanted`` ones are
    imported to find out: importing torch or jax takes seconds)."""
    import importlib.util
    import platform

    import numpy as np

    info = {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "numpy": np.__version__,
        "impls": ["numpy", "minigen"],
        "missing": {},
    }
    import minigen

    info["minigen"] = minigen.__version__
    for mod in ("scipy", "numexpr"):
        if importlib.util.find_spec(mod):
            info[mod] = __import__(mod).__version__
    want = (lambda name: True) if wanted is None else (lambda name: name in wanted)
    if not (want("torch") or want("torch-cuda")):
        pass
    elif importlib.util.find_spec("torch"):
        import torch

        info["torch"] = torch.__version__
        info["impls"].append("torch")
        if want("torch-cuda") and torch.cuda.is_available():
            info["impls"].append("torch-cuda")
            info["torch_cuda_device"] = torch.cuda.get_device_name(0)
        else:
            info["missing"]["torch-cuda"] = "no CUDA device for torch"
    else:
        info["missing"]["torch"] = "torch not installed"
    if not want("jax"):
        pass
    elif importlib.util.find_spec("jax"):
        import jax

        info["jax"] = jax.__version__
        info["jaxlib"] = __import__("jaxlib").__version__
        info["impls"].append("jax")
    else:
        info["missing"]["jax"] = "jax not installed"
    if not want("minigen-cupy"):
        pass
    elif importlib.util.find_spec("cupy"):
        try:
            import cupy

            n = cupy.cuda.runtime.getDeviceCount()
            if n:
                info["impls"].append("minigen-cupy")
                info["cupy"] = cupy.__version__
                props = cupy.cuda.runtime.getDeviceProperties(0)
                info["gpu"] = props["name"].decode() if isinstance(props["name"], bytes) else props["name"]
            else:
                info["missing"]["minigen-cupy"] = "no CUDA device"
        except Exception as e:  # noqa: BLE001  (cupy raises its own error types)
            info["missing"]["minigen-cupy"] = f"cupy: {e}"
    else:
        info["missing"]["minigen-cupy"] = "cupy not installed"
    info["blas"] = _blas_info()
    return info


# ----------------------------------------------------------------------------------------------------
# timing a workload
# ----------------------------------------------------------------------------------------------------


def _load_impl(name: str):
    import importlib

    from benchmarks.impls import IMPLS

    if name not in IMPLS:
        raise SystemExit(f"unknown implementation {name!r}; choose from {sorted(IMPLS)}")
    module, option = IMPLS[name]
    if name == "torch" or name == "torch-cuda":
        import torch

        torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "2")))
        try:
            torch.set_num_interop_threads(1)
        except RuntimeError:
            pass
    if name == "jax":
        os.environ.setdefault("JAX_PLATFORMS", "cpu")
    return importlib.import_module(module), option


def _live_objects() -> dict:
    import gc

    gc.collect()
    objs = gc.get_objects()
    out = {"gc_objects": len(objs)}
    if "minigen" in sys.modules:
        from minigen.autograd.function import Function
        from minigen.autograd.tensor import Tensor

        out["tensors"] = sum(1 for o in objs if isinstance(o, Tensor))
        out["functions"] = sum(1 for o in objs if isinstance(o, Function))
    return out


def time_workload(impl: str, workload: str, steps: int, warmup: int, seed: int) -> dict:
    rss0 = rss_kb()
    mod, option = _load_impl(impl)
    rss_import = rss_kb()
    step = mod.make(workload, seed=seed, option=option)
    rss_made = rss_kb()
    sync = mod.sync
    t0 = time.perf_counter()
    for _ in range(warmup):
        step()
    sync()
    warm_s = time.perf_counter() - t0
    times = []
    clock = time.perf_counter
    load = ForeignLoad()
    for _ in range(steps):
        t = clock()
        step()
        sync()
        times.append((clock() - t) * 1e3)
    foreign, delay = load.fraction(), load.run_delay()
    loss = step()
    sync()
    loss = [mod.to_float(v) for v in loss] if isinstance(loss, tuple) else mod.to_float(loss)
    return {
        "impl": impl,
        "workload": workload,
        "times_ms": times,
        "warmup_s": warm_s,
        "foreign_load": foreign,
        "run_delay": delay,
        "rss_start_kb": rss0,
        "rss_import_kb": rss_import,
        "rss_made_kb": rss_made,
        "rss_end_kb": rss_kb(),
        "peak_rss_kb": peak_rss_kb(),
        "final_loss": loss,
    }


def memory_check(impl: str, workload: str, steps: int, warmup: int, seed: int, samples: int = 10) -> dict:
    """RSS (and live object counts) sampled through ``steps`` steps: a leak shows as growth from the
    middle to the end (the first half lets the allocator settle)."""
    mod, option = _load_impl(impl)
    step = mod.make(workload, seed=seed, option=option)
    for _ in range(warmup):
        step()
    mod.sync()
    trace = [(0, rss_kb())]
    every = max(1, steps // samples)
    objs = {}
    t0 = time.perf_counter()
    for i in range(1, steps + 1):
        step()
        if i % every == 0 or i == steps:
            mod.sync()
            trace.append((i, rss_kb()))
        if i == steps // 2:
            objs["mid"] = _live_objects()
    mod.sync()
    objs["end"] = _live_objects()
    mid = min(trace, key=lambda s: abs(s[0] - steps // 2))
    return {
        "impl": impl,
        "workload": workload,
        "steps": steps,
        "rss_trace_kb": trace,
        "growth_mid_to_end_kb": trace[-1][1] - mid[1],
        "growth_start_to_end_kb": trace[-1][1] - trace[0][1],
        "objects": objs,
        "peak_rss_kb": peak_rss_kb(),
        "seconds": time.perf_counter() - t0,
    }


# ----------------------------------------------------------------------------------------------------
# the GEMM limit
# ----------------------------------------------------------------------------------------------------


def _gemm_ops(lib: str, arrays: list) -> list:
    """(name, run) per product: ``run()`` computes it with ``lib``'s own GEMM and waits for the result."""
    import numpy as np

    if lib == "numpy":
        return [(name, lambda a=a, b=b, c=np.empty((a.shape[0], b.shape[1]), np.float32): np.matmul(a, b, out=c))
                for name, a, b in arrays]
    if lib == "torch":
        import torch

        torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "2")))
        out = []
        for name, a, b in arrays:
            ta, tb = torch.from_numpy(a), torch.from_numpy(b)     # strided views: the step's layouts
            c = torch.empty((a.shape[0], b.shape[1]))
            out.append((name, lambda ta=ta, tb=tb, c=c: torch.matmul(ta, tb, out=c)))
        return out
    if lib == "jax":
        os.environ.setdefault("JAX_PLATFORMS", "cpu")
        import jax
        import jax.numpy as jnp

        out = []
        for name, a, b in arrays:
            # the transposes inside the jit, as in a jitted step: XLA folds them into the product
            ta, tb = not a.flags.c_contiguous, not b.flags.c_contiguous
            f = jax.jit(lambda x, y, ta=ta, tb=tb: (x.T if ta else x) @ (y.T if tb else y))
            x, y = jnp.asarray(a.T if ta else a), jnp.asarray(b.T if tb else b)
            out.append((name, lambda f=f, x=x, y=y: f(x, y).block_until_ready()))
        return out
    raise SystemExit(f"unknown GEMM library {lib!r}; choose numpy, torch or jax")


def time_gemms(steps: int, warmup: int, seed: int, lib: str = "numpy") -> dict:
    """Each float32 matrix product of a W3 step, in the memory layout the step uses, timed ``steps``
    times with ``lib``'s GEMM (NumPy's BLAS, PyTorch's or XLA's); the GEMM limit is the median time of
    one step's worth of them, and the harness takes the fastest library's."""
    import numpy as np

    from benchmarks import common

    g = np.random.default_rng(seed)
    gemms = common.w3_gemms(include_first_dx=True)
    arrays = []
    for name, m, k, n, ta, tb in gemms:
        a = g.standard_normal((k, m) if ta else (m, k)).astype(np.float32)
        b = g.standard_normal((n, k) if tb else (k, n)).astype(np.float32)
        arrays.append((name, a.T if ta else a, b.T if tb else b))
    ops = _gemm_ops(lib, arrays)
    per = {name: [] for name, _ in ops}
    load = ForeignLoad()
    for r in range(warmup + steps):
        if r == warmup:
            load.start()
        for name, run in ops:
            t = time.perf_counter()
            run()  # the product alone: no allocation (NumPy, PyTorch: out=)
            dt = (time.perf_counter() - t) * 1e3
            if r >= warmup:
                per[name].append(dt)
    needed = [name for name, *_ in common.w3_gemms(include_first_dx=False)]
    rounds8 = [sum(per[n][i] for n in needed) for i in range(steps)]
    rounds9 = [sum(per[n][i] for n in per) for i in range(steps)]
    return {
        "impl": "gemm",
        "lib": lib,
        "workload": "W3",
        "times_ms": rounds8,
        "times9_ms": rounds9,
        "foreign_load": load.fraction(),
        "run_delay": load.run_delay(),
        "per_gemm_median_ms": {n: float(np.median(v)) for n, v in per.items()},
        "flops8": common.gemm_flops(common.w3_gemms(include_first_dx=False)),
        "flops9": common.gemm_flops(gemms),
        "peak_rss_kb": peak_rss_kb(),
    }


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--impl")
    ap.add_argument("--workload")
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--gemm", action="store_true")
    ap.add_argument("--gemm-lib", default="numpy", help="whose GEMM: numpy, torch or jax")
    ap.add_argument("--probe", action="store_true")
    ap.add_argument("--probe-impls", default=None, help="comma-separated: which to probe (default all)")
    ap.add_argument("--mem-steps", type=int, default=0)
    ap.add_argument("--nice", type=int, default=0, help="change this process's scheduling priority")
    ap.add_argument("--malloc", choices=("default", "minigen"), default="default",
                    help="glibc's malloc defaults, or minigen's opt-in settings (minigen/allocator.py)")
    args = ap.parse_args(argv)
    threads = limit_threads(args.threads)
    malloc = tune_allocator() if args.malloc == "minigen" else {"tuned": False, "why": "glibc's defaults"}
    if args.nice:
        threads["nice"] = set_priority(args.nice)
    if args.probe:
        res = probe(args.probe_impls.split(",") if args.probe_impls else None)
    elif args.gemm:
        res = time_gemms(args.steps, args.warmup, args.seed, args.gemm_lib)
    elif args.mem_steps:
        res = memory_check(args.impl, args.workload, args.mem_steps, args.warmup, args.seed)
    else:
        res = time_workload(args.impl, args.workload, args.steps, args.warmup, args.seed)
    res["thread_settings"] = threads
    res["malloc"] = malloc
    sys.stdout.write(MARK + json.dumps(res) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
