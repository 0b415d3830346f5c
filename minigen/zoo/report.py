"""``minigen zoo --check``: run every variant's full run over its seeds and write ``docs/zoo.md``.

The table is generated from the measurements, never typed.  Each row of ``docs/zoo/results.json`` keeps
what its verdict rests on: the per-seed results, the full configuration, the seeds, and the provenance
(commit, machine, CPU, Python, NumPy, the BLAS library with its kernel and threads, the date).  A verdict
must survive a change of the BLAS thread count: after all seeds at one thread, seed 0 is trained again
with two, and the row passes only if the criterion holds both ways.  A check with fewer seeds than the
criterion names records "not enough seeds", never a pass.  ``docs/zoo.md`` is exactly :func:`render` of
``results.json`` (a test keeps it so).
"""
from __future__ import annotations

import json
import platform
import shutil
import subprocess
import time
from pathlib import Path

from minigen.zoo.registry import Variant

MARGIN_THREADS = 2        # the second BLAS thread count a verdict must survive


def provenance() -> dict:
    """What the numbers depend on: code, machine, libraries, BLAS kernel and threads, time."""
    from importlib.metadata import version

    from threadpoolctl import threadpool_info

    from minigen import backend
    blas = [{k: d.get(k) for k in ("internal_api", "version", "architecture", "num_threads", "threading_layer")}
            for d in threadpool_info() if d.get("user_api") == "blas"]
    return {"commit": _git("rev-parse", "HEAD"), "uncommitted_changes": bool(_git("status", "--porcelain")),
            "machine": platform.machine(), "cpu": _cpu(), "python": platform.python_version(),
            "numpy": version("numpy"), "blas": blas, "backend": backend.get_backend(),
            "time": time.strftime("%Y-%m-%d %H:%M:%S %Z")}


def _git(*args) -> str:
    try:
        out = subprocess.run(["git", *args], capture_output=True, text=True, timeout=10,
                             cwd=Path(__file__).resolve().parent)
        return out.stdout.strip() if out.returncode == 0 else "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _fit(v: Variant, config: dict, seed: int, run_dir: Path, quiet: bool, threads: int) -> dict:
    from threadpoolctl import threadpool_limits

    from minigen.threads import set_num_threads
    set_num_threads(threads)
    with threadpool_limits(limits=threads, user_api="blas"):
        t0 = time.perf_counter()
        res = v.fit(config, seed=seed, out=run_dir, quiet=quiet)
    res["seconds"] = round(time.perf_counter() - t0, 1)
    return {k: x for k, x in res.items() if k not in ("history", "figures")}


def _fit_by_name(name: str, config: dict, seed: int, run_dir: Path, quiet: bool, threads: int,
                 backend_name: str) -> dict:
    """_fit in a worker process (a Variant does not pickle; its name does), on the parent's backend."""
    from minigen.backend import set_backend
    from minigen.zoo.registry import variant
    set_backend(backend_name)
    return _fit(variant(name), config, seed, run_dir, quiet, threads)


def _plan(v: Variant, seeds: int | None, out_dir: Path) -> list[tuple]:
    """A variant's runs: every seed at one BLAS thread, then seed 0 at MARGIN_THREADS."""
    n = seeds or v.seeds
    return [(seed, out_dir / v.name / f"seed{seed}", 1) for seed in range(n)] + \
        [(0, out_dir / v.name / f"seed0-threads{MARGIN_THREADS}", MARGIN_THREADS)]


def _row(v: Variant, config: dict, fits: list[dict], out_dir: Path) -> dict:
    results, rerun = fits[:-1], fits[-1]
    row = {"name": v.name, "title": v.title, "paper": v.paper, "idea": v.idea, "data": v.data,
           "criterion": v.criterion, "seeds": list(range(len(results))), "seeds_required": v.seeds,
           "config": {k: x for k, x in config.items() if k != "seed"}, "results": results,
           "margin_rerun": {"seed": 0, "threads": MARGIN_THREADS, "results": rerun},
           "seconds": round(sum(f["seconds"] for f in fits), 1), "provenance": provenance()}
    row.update(judge_row(v, row))
    fig = out_dir / v.name / "seed0" / v.figure
    row["figure"] = str(fig) if fig.exists() else None
    return row


def check(v: Variant, seeds: int | None, out_dir: Path, quiet: bool = True) -> dict:
    """One variant's row: all its seeds at one BLAS thread, seed 0 again at two, the verdict and provenance
    (``seconds``: the runs' times added up).  The run folders go to ``out_dir/<variant>/seed<k>``."""
    config = v.config()
    fits = [_fit(v, config, seed, d, quiet if threads == 1 else True, threads)
            for seed, d, threads in _plan(v, seeds, Path(out_dir))]
    return _row(v, config, fits, Path(out_dir))


def judge_row(v: Variant, row: dict) -> dict:
    """The verdict of a stored row, from its per-seed results: ``measured``, ``measured_rerun``, ``passed``,
    ``verdict`` ("pass", "FAIL" or "not enough seeds")."""
    results = row["results"]
    measured, passed = v.judge(results)
    rerun = [row["margin_rerun"]["results"]] + results[1:]
    measured2, passed2 = v.judge(rerun)
    enough = len(results) >= v.seeds
    verdict = ("pass" if passed and passed2 else "FAIL") if enough else "not enough seeds"
    return {"measured": measured, "measured_rerun": measured2, "passed": bool(passed and passed2 and enough),
            "verdict": verdict}


def run_checks(variants: list[Variant], seeds: int | None, out_dir: Path, quiet: bool = True,
               jobs: int = 1) -> list[dict]:
    """Every variant's row; with ``jobs`` > 1 the runs of all variants go to that many worker processes
    (each run's numbers depend on its seed and BLAS threads only, not on what runs beside it)."""
    out_dir = Path(out_dir)
    if jobs <= 1:
        rows = []
        for v in variants:
            rows.append(check(v, seeds, out_dir, quiet))
            _print_row(rows[-1])
        return rows
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from minigen.backend import get_backend
    configs = {v.name: v.config() for v in variants}
    ctx = multiprocessing.get_context("spawn")     # fresh interpreters: no state forked from this one
    with ProcessPoolExecutor(max_workers=jobs, mp_context=ctx) as pool:
        futures = {v.name: [pool.submit(_fit_by_name, v.name, configs[v.name], seed, d, True, threads,
                                        get_backend())
                            for seed, d, threads in _plan(v, seeds, out_dir)] for v in variants}
        rows = []
        for v in variants:
            rows.append(_row(v, configs[v.name], [f.result() for f in futures[v.name]], out_dir))
            _print_row(rows[-1])
    return rows


def _print_row(row: dict) -> None:
    print(f"{row['name']:<12} {row['verdict']:<16} {row['measured']}  ({row['seconds']} s)", flush=True)


def _cell(text) -> str:
    """Text for a Markdown table cell: a '|' would end the cell."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def _machine(rows: list[dict]) -> list[str]:
    lines = []
    for key in sorted({json.dumps(r["provenance"].get("blas"), sort_keys=True) for r in rows if "provenance" in r}):
        blas = ", ".join(f"{b['internal_api']} {b['version']} ({b['architecture']} kernel)" for b in json.loads(key))
        lines.append(blas)
    p = next((r["provenance"] for r in rows if "provenance" in r), None)
    if p is None:
        return []
    return [f"Machine: {p['machine']}, {p['cpu']}; Python {p['python']}, NumPy {p['numpy']}, BLAS "
            f"{'; '.join(lines)}.  Each row names its commit and date in `zoo/results.json`."]


def render(rows: list[dict]) -> str:
    """docs/zoo.md from the rows of results.json (sorted by name)."""
    rows = sorted(rows, key=lambda r: r["name"])
    lines = ["# The GAN zoo", "",
             "Generated by `minigen zoo --check` (never typed by hand): each variant's full run over its seeds at one "
             f"BLAS thread, measured against its pass criterion, and seed 0 again at {MARGIN_THREADS} threads: a row "
             "passes only if the criterion holds both ways.", *_machine(rows), "",
             "| variant | paper | idea | data | criterion | measured | result |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        cell = {k: _cell(r[k]) for k in ("title", "paper", "idea", "data", "criterion", "measured")}
        rerun = f"; seed 0 at {r['margin_rerun']['threads']} threads: {_cell(r['measured_rerun'])}" \
            if r.get("margin_rerun") else ""
        result = r.get("verdict", "pass" if r["passed"] else "FAIL")
        lines.append(f"| **{cell['title']}** (`{r['name']}`) | {cell['paper']} | {cell['idea']} | {cell['data']} | "
                     f"{cell['criterion']} | {cell['measured']}{rerun} ({len(r['results'])} seeds, {r['seconds']} s) | "
                     f"{'pass' if result == 'pass' else f'**{result}**'} |")
    lines += ["", "## Figures", ""]
    for r in rows:
        if r.get("figure"):
            lines += [f"### {r['title']}", "", f"![{r['name']}](zoo/{r['figure']})", ""]
    return "\n".join(lines) + "\n"


def write_report(rows: list[dict], path: Path) -> Path:
    """docs/zoo.md and docs/zoo/<name>.png from the rows of :func:`run_checks` (merged with the rows of
    variants checked earlier, kept in docs/zoo/results.json)."""
    path = Path(path)
    fig_dir = path.parent / "zoo"
    fig_dir.mkdir(parents=True, exist_ok=True)
    store = fig_dir / "results.json"
    old = {r["name"]: r for r in json.loads(store.read_text())} if store.exists() else {}
    for r in rows:
        if r.get("figure"):
            dest = fig_dir / f"{r['name']}.png"
            if Path(r["figure"]).resolve() != dest.resolve():
                shutil.copyfile(r["figure"], dest)
            r["figure"] = dest.name
        old[r["name"]] = r
    merged = sorted(old.values(), key=lambda r: r["name"])
    store.write_text(json.dumps(merged, indent=1) + "\n")
    path.write_text(render(merged))
    return path
