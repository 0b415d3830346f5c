"""Results JSON -> the tables: the console summary of ``benchmarks.run`` and the generated section of
``benchmarks/README.md`` (between ``<!-- results:start -->`` and ``<!-- results:end -->``).

    python -m benchmarks.report [--json benchmarks/results.json] [--readme benchmarks/README.md]

The README section is always generated from the JSON, never typed.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from benchmarks import common
from benchmarks.impls import REFERENCE

HERE = Path(__file__).resolve().parent
START, END = "<!-- results:start -->", "<!-- results:end -->"

LABELS = {
    "numpy": "hand NumPy",
    "minigen": "minigen",
    "torch": "PyTorch eager",
    "jax": "JAX jit",
    "minigen-cupy": "minigen (CuPy)",
    "torch-cuda": "PyTorch CUDA",
}
ORDER = ["numpy", "minigen", "torch", "jax", "minigen-cupy", "torch-cuda"]

SUBJECT = "minigen"
TORCH_MARGIN = 1.1  # issue 20: faster than PyTorch eager by >= 10% on every workload (issue 22: W5 too)
JAX_TARGET = 1.15  # W1-W3 within 1.15x of JAX jit (W4: ahead of it)
GEMM_TARGET = 1.1  # W3 within 1.1x of the GEMM limit (the fastest library's GEMMs)
RSS_TARGET = 1.2  # peak RSS vs hand NumPy, every workload
GROWTH_SLACK_KB = 2048  # RSS wobble allowed between the middle and the end of the memory check


def _impls(data) -> list:
    seen = {i for w in data["workloads"].values() for i in w["impls"]}
    return [i for i in ORDER if i in seen] + sorted(seen - set(ORDER))


def _st(data, w, impl) -> dict:
    return data["workloads"].get(w, {}).get("impls", {}).get(impl, {})


def memory_ok(m: dict):
    if "error" in m:
        return None
    objs = m.get("objects", {})
    mid, end = objs.get("mid", {}), objs.get("end", {})
    grew_objects = any(end.get(k, 0) > mid.get(k, 0) for k in ("tensors", "functions"))
    slack = max(GROWTH_SLACK_KB, 0.01 * m["rss_trace_kb"][-1][1])
    return (m["growth_mid_to_end_kb"] <= slack) and not grew_objects


def _versus(data, w, other, label, bar, strict_ahead=False) -> dict:
    """minigen's step against ``other``'s: met when other / minigen >= bar (or minigen / other < 1)."""
    a, b = _st(data, w, SUBJECT), _st(data, w, other)
    if not (a.get("median_ms") and b.get("median_ms")):
        return {"target": label, "measured": f"{LABELS.get(other, other)} not measured", "met": None}
    r = a["median_ms"] / b["median_ms"]
    return {"target": label, "measured": f"{a['median_ms']:.2f} vs {b['median_ms']:.2f} ms ({r:.2f}x)",
            "met": r < 1.0 if strict_ahead else r <= bar}


def targets(data) -> list:
    """Issue 20's targets for one BLAS setting, each {"target", "measured", "met"} (met None: not measured
    in this run).  ``data``: one setting's numbers (workloads, gemm) with the run's memory checks."""
    out = []
    for w in ("W1", "W2", "W3", "W4", "W5"):
        if w in data["workloads"]:
            out.append(_versus(data, w, "torch", f"{w}: faster than PyTorch eager by >= 10%",
                               1.0 / TORCH_MARGIN))
    for w in ("W1", "W2", "W3"):
        if w in data["workloads"]:
            out.append(_versus(data, w, "jax", f"{w}: within {JAX_TARGET}x of JAX jit", JAX_TARGET))
    if "W4" in data["workloads"]:
        out.append(_versus(data, "W4", "jax", "W4: faster than JAX jit", 1.0, strict_ahead=True))
    g = data.get("gemm") or {}
    a = _st(data, "W3", SUBJECT)
    if "W3" in data["workloads"]:
        r = a.get("ratio_to_gemm_limit")
        out.append(
            {
                "target": f"W3: within {GEMM_TARGET}x of the GEMM limit (the fastest library's)",
                "measured": (f"{a['median_ms']:.1f} ms vs limit {g['limit_ms']:.1f} ms ({g.get('lib')}; {r:.2f}x)"
                             if r else "not measured"),
                "met": (r <= GEMM_TARGET) if r else None,
            }
        )
    mems = [m for m in data.get("memory", []) if m.get("impl") == SUBJECT]
    for m in mems:
        ok = memory_ok(m)
        if ok is None:
            meas = m["error"]
        else:
            objs = m.get("objects", {})
            meas = (
                f"RSS {m['growth_mid_to_end_kb'] / 1024:+.1f} MiB from step {m['steps'] // 2} to "
                f"{m['steps']}; live tensors {objs.get('mid', {}).get('tensors')} -> "
                f"{objs.get('end', {}).get('tensors')}"
            )
        out.append({"target": f"{m['workload']}: no memory growth over {m['steps']} steps", "measured": meas,
                    "met": ok})
    if not mems:
        out.append({"target": "no memory growth", "measured": "not measured", "met": None})
    for w in common.WORKLOADS:          # issue 20: peak RSS on every workload
        if w not in data["workloads"]:
            continue
        a, r = _st(data, w, SUBJECT), _st(data, w, SUBJECT).get("rss_ratio")
        out.append(
            {
                "target": f"{w}: peak RSS within {RSS_TARGET}x of the hand-written version",
                "measured": (f"{a['peak_rss_mb']:.0f} vs {_st(data, w, REFERENCE)['peak_rss_mb']:.0f} MiB "
                             f"({r:.2f}x)") if r else "not measured",
                "met": (r <= RSS_TARGET) if r else None,
            }
        )
    return out


def _mark(met) -> str:
    return {True: "met", False: "**not met**", None: "n/a"}[met]


def views(data):
    """(setting, one BLAS setting's numbers merged with the run's meta and memory checks) per setting."""
    for name, sub in data["settings"].items():
        yield name, {**data, **sub}


def _kernel(view) -> str:
    blas = [b for b in view["machine"].get("blas", []) if b.get("user_api") == "blas"]
    return ", ".join(f"{b.get('internal_api')} {b.get('version') or ''} {b.get('architecture') or ''}".strip()
                     for b in blas) or "unknown BLAS"


def _machine_line(view) -> str:
    m = view["machine"]
    libs = [f"Python {m.get('python')}", f"NumPy {m.get('numpy')}", f"minigen {m.get('minigen')}"]
    for k, name in (("torch", "PyTorch"), ("jax", "JAX"), ("cupy", "CuPy")):
        if m.get(k):
            libs.append(f"{name} {m[k]}")
    gpu = f", GPU {m['gpu']}" if m.get("gpu") else ""
    return (
        f"{m.get('cpu')} ({m.get('cores')} cores{gpu}), {view['meta']['threads']} threads per process; "
        + ", ".join(libs)
    )


def _loads(st) -> str:
    fl, rd = st.get("foreign_load") or [], st.get("run_delay") or []
    return " ".join(
        ("-" if a is None else f"{a:.2f}") + "/" + ("-" if b is None else f"{b:.2f}") for a, b in zip(fl, rd)
    )


def _header(data, json_path) -> list:
    meta = data["meta"]
    first = next(v for _, v in views(data))
    L = [f"Measured {meta['date']} on {_machine_line(first)}.  "]
    L.append(
        f"Command: `{meta['command'].strip()}` ({meta['repeats']} repeats of "
        + ", ".join(f"{w} {meta['steps'][w]} steps" for w in first["workloads"])
        + f" after warm-up, per BLAS setting; {meta.get('total_s', 0) / 60:.1f} min in all)"
        + (f"; raw numbers in `{Path(json_path).name}`." if json_path else ".")
    )
    if meta.get("nice"):
        L.append(f"The measuring processes ran at nice {meta['nice']} (a shared machine).  ")
    malloc = meta.get("malloc")
    if malloc:
        L.append(
            "Host allocator, the same in every measuring process and every row: "
            + (f"minigen's opt-in settings ({malloc['why']}, `minigen/allocator.py`; `--malloc minigen`).  "
               if malloc["tuned"] else "glibc's defaults, as in any script that imports minigen.  ")
        )
    coretype = meta.get("coretype_env")
    L.append(
        f"BLAS settings: {', '.join(v['label'] for _, v in views(data))} "
        + (f"(this machine sets `OPENBLAS_CORETYPE={coretype}`; \"OpenBLAS's own choice\" removes it in the "
           "measuring processes only)." if coretype else
           "(`OPENBLAS_CORETYPE` is not set here, so the machine's setting is OpenBLAS's own choice).")
    )
    lim = meta.get("max_foreign_load")
    if lim is not None:
        loads = []
        for _, v in views(data):
            loads += [(st.get("foreign_load") or [], st.get("attempts", 0), len(st.get("repeat_medians_ms", [])))
                      for e in v["workloads"].values() for st in e["impls"].values()]
            loads += [(g.get("foreign_load") or [], g.get("attempts", 0), len(g.get("repeat_medians_ms", [])))
                      for g in v.get("gemms", {}).values()]
        redone = sum(max(0, a - n) for _, a, n in loads)
        still = sum(1 for fl, _, _ in loads for x in fl if x is not None and x > lim)
        L.append(
            f"Measurements during which other processes used more than {lim:.0%} of the CPUs were "
            f"taken again: {redone} retakes"
            + (f"; {still} still over the limit after the retries (the least disturbed kept)" if still else "")
            + "."
        )
    if first.get("skipped"):
        L.append("Skipped: " + "; ".join(f"{LABELS.get(k, k)} ({v})" for k, v in first["skipped"].items()) + ".")
    excluded = [(w, i, why) for (w, i), why in common.EXCLUDED.items() if w in first["workloads"]]
    if excluded:
        L.append("Not run: " + "; ".join(f"{w} {LABELS.get(i, i)} ({why})" for w, i, why in excluded) + ".")
    return L


def _section(view) -> list:
    impls = _impls(view)
    L = ["", f"### BLAS: {view['label']} (NumPy's BLAS kernel: {_kernel(view)})", ""]
    L.append("**Median ms per training step, as a ratio to the hand-written NumPy step of the same run**")
    L.append("")
    L.append("| workload | " + " | ".join(LABELS.get(i, i) for i in impls) + " |")
    L.append("|---|" + "---:|" * len(impls))
    for w, e in view["workloads"].items():
        cells = []
        for i in impls:
            st = e["impls"].get(i, {})
            if not st.get("median_ms"):
                cells.append("error" if st.get("errors") else "-")
            elif "ratio" in st:
                cells.append(f"{st['ratio']:.2f} ({st['median_ms']:.3g} ms)")
            else:
                cells.append(f"{st['median_ms']:.3g} ms")
        L.append(f"| {w} {e['name']} | " + " | ".join(cells) + " |")
    g = view.get("gemm")
    if g and g.get("limit_ms") and "W3" in view["workloads"]:
        ref = _st(view, "W3", REFERENCE).get("median_ms")
        cells = [f"{_st(view, 'W3', i)['ratio_to_gemm_limit']:.2f}" if _st(view, "W3", i).get("ratio_to_gemm_limit")
                 else "-" for i in impls]
        L.append(f"| W3 / GEMM limit ({g['limit_ms']:.3g} ms) | " + " | ".join(cells) + " |")
        L.append("")
        each = ", ".join(f"{lib} {x['limit_ms']:.1f} ms ({x['gflops']:.0f} GFLOP/s)"
                         for lib, x in view.get("gemms", {}).items() if x.get("limit_ms"))
        L.append(
            f"GEMM limit: a W3 step needs 8 float32 GEMMs (forward, weight and input gradients of 3 "
            f"1024x1024 layers at batch 512, minus the first layer's unused input gradient) = "
            f"{g['flops8'] / 1e9:.2f} GFLOP, timed alone with each library's own GEMM ({each}); the limit is "
            f"the fastest, {g.get('lib')}'s (p10-p90 {g['p10_ms']:.1f}-{g['p90_ms']:.1f} ms)"
            + (f", {g['limit_ms'] / ref:.2f} of the hand NumPy step" if ref else "")
            + f".  Counting 9 GEMMs (3 per layer) it is {g['limit9_ms']:.1f} ms."
        )
    L.append("")
    L.append("| target (issue 20) | measured | |")
    L.append("|---|---|---|")
    for t in view.get("targets") or targets(view):
        L.append(f"| {t['target']} | {t['measured']} | {_mark(t['met'])} |")
    return L


def _details(view) -> list:
    impls = _impls(view)
    L = ["", f"BLAS: {view['label']}", ""]
    L.append(
        "| workload | implementation | median ms | p10 | p90 | steps | repeat medians | vs hand NumPy "
        "| peak RSS MiB | RSS vs hand NumPy | RSS after imports | others' CPU load / our wait |"
    )
    L.append("|---|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---|")
    for w, e in view["workloads"].items():
        for i in impls:
            st = e["impls"].get(i)
            if not st:
                continue
            if not st.get("median_ms"):
                L.append(f"| {w} | {LABELS.get(i, i)} | error: {'; '.join(st.get('errors', []))[:200]} |" + " |" * 9)
                continue
            L.append(
                f"| {w} | {LABELS.get(i, i)} | {st['median_ms']:.2f} | {st['p10_ms']:.2f} | "
                f"{st['p90_ms']:.2f} | {st['n']} | "
                + " ".join(f"{x:.3g}" for x in st.get("repeat_medians_ms", []))
                + f" | {st.get('ratio', float('nan')):.2f} | {st['peak_rss_mb']:.0f} | "
                f"{st.get('rss_ratio', float('nan')):.2f} | {st.get('rss_import_mb', float('nan')):.0f} | "
                f"{_loads(st)} |"
            )
    for lib, g in view.get("gemms", {}).items():
        if g.get("median_ms"):
            L.append(
                f"| W3 | GEMMs alone ({lib}) | {g['median_ms']:.2f} | {g['p10_ms']:.2f} | {g['p90_ms']:.2f} | "
                f"{g['n']} | " + " ".join(f"{x:.3g}" for x in g.get("repeat_medians_ms", []))
                + f" | | | | | {_loads(g)} |"
            )
    return L


def _memory(data) -> list:
    if not data.get("memory"):
        return []
    L = ["", "| memory check | steps | RSS at start / middle / end MiB | growth middle to end | live tensors "
         "middle / end | |", "|---|---:|---|---:|---|---|"]
    for m in data["memory"]:
        if "error" in m:
            L.append(f"| {m['workload']} {LABELS.get(m['impl'], m['impl'])} | | error: {m['error'][:200]} | | | |")
            continue
        tr = m["rss_trace_kb"]
        mid = min(tr, key=lambda s: abs(s[0] - m["steps"] // 2))
        objs = m.get("objects", {})
        L.append(
            f"| {m['workload']} {LABELS.get(m['impl'], m['impl'])} | {m['steps']} | "
            f"{tr[0][1] / 1024:.0f} / {mid[1] / 1024:.0f} / {tr[-1][1] / 1024:.0f} | "
            f"{m['growth_mid_to_end_kb'] / 1024:+.1f} MiB | {objs.get('mid', {}).get('tensors')} / "
            f"{objs.get('end', {}).get('tensors')} | {_mark(memory_ok(m))} |"
        )
    return L


def render_markdown(data, json_path: str | None = None) -> str:
    L = _header(data, json_path)
    for _, view in views(data):
        L += _section(view)
    L += ["", "<details><summary>All numbers: p10 / p90, peak RSS, memory checks</summary>"]
    for _, view in views(data):
        L += _details(view)
    L += [
        "",
        "Last column, per repeat: the fraction of all CPUs that other processes used during the timed "
        "steps, and the seconds per second this process's threads spent runnable but waiting for a CPU "
        "(other processes, or its own threads oversubscribing the cores).",
    ]
    L += _memory(data)
    L += ["", "</details>"]
    return "\n".join(L)


def render_console(data) -> str:
    lines = []
    for _, view in views(data):
        impls = _impls(view)
        w0 = 16
        lines += ["", f"BLAS: {view['label']} ({_kernel(view)}): median ms per step (ratio to hand NumPy)", ""]
        lines.append(f"{'workload':<{w0}}" + "".join(f"{LABELS.get(i, i):>22}" for i in impls))
        for w, e in view["workloads"].items():
            row = f"{w + ' ' + e['name']:<{w0}}"
            for i in impls:
                st = e["impls"].get(i, {})
                cell = (f"{st.get('ratio', float('nan')):.2f} ({st['median_ms']:.3g} ms)" if st.get("median_ms")
                        else ("error" if st.get("errors") else "-"))
                row += f"{cell:>22}"
            lines.append(row)
        g = view.get("gemm")
        if g and g.get("limit_ms") and "W3" in view["workloads"]:
            row = f"{'W3 / GEMM lim':<{w0}}"
            for i in impls:
                r = _st(view, "W3", i).get("ratio_to_gemm_limit")
                row += f"{(f'{r:.2f}' if r else '-'):>22}"
            lines.append(row + f"   (limit {g['limit_ms']:.1f} ms, {g.get('lib')}, {g['gflops']:.0f} GFLOP/s)")
        lines.append("")
        for t in view.get("targets") or targets(view):
            lines.append(f"  [{_mark(t['met']).strip('*'):>7}] {t['target']}: {t['measured']}")
    return "\n".join(lines)


def write_readme(data, readme: str | Path = HERE / "README.md", json_path: str | None = None) -> None:
    """Replace the generated section of the README (appended with its markers when they are missing)."""
    _replace_section(readme, START, END, "`python -m benchmarks.report` from the results JSON",
                     render_markdown(data, json_path), "Results")


def _replace_section(readme, start: str, end: str, source: str, body: str, heading: str) -> None:
    """Put ``body`` between the README's markers ``start`` and ``end`` (appended under ``heading`` with its
    markers when they are missing)."""
    readme = Path(readme)
    text = readme.read_text() if readme.exists() else "# Benchmarks\n"
    block = f"{start}\n<!-- generated by {source}; do not edit -->\n{body}\n{end}"
    if start in text and end in text:
        head, rest = text.split(start, 1)
        _, tail = rest.split(end, 1)
        text = head + block + tail
    else:
        text = text.rstrip("\n") + f"\n\n## {heading}\n\n" + block + "\n"
    readme.write_text(text)


PSTART, PEND = "<!-- profiles:start -->", "<!-- profiles:end -->"
# benchmarks.profile's categories, by their first words, as short column names
PROFILE_COLUMNS = [("GEMM ops", "Linear GEMMs"), ("conv GEMM", "conv GEMMs"), ("conv im2col", "im2col / col2im"),
                   ("conv glue", "conv glue"), ("other array ops", "other ops"), ("Adam", "Adam"),
                   ("Python overhead", "Python")]


def render_profiles(data) -> str:
    """``benchmarks/profiles.json`` (runs of ``benchmarks.profile --save LABEL``) as one table: per workload
    and label, a step's ms by category (share of the step in parentheses)."""
    labels = list(data)
    L = []
    for label in labels:
        e = data[label]
        L.append(f"- **{label}**: minigen at `{e.get('commit') or '?'}`, measured {e.get('measured')}, "
                 f"{e.get('threads')} threads, {e.get('backend')} backend, median of {e.get('steps')} steps.")
    L += ["", "| workload | profile | step ms | " + " | ".join(c for _, c in PROFILE_COLUMNS) + " |",
          "|---|---|---:|" + "---:|" * len(PROFILE_COLUMNS)]
    workloads = sorted({w for e in data.values() for w in e["workloads"]})
    for w in workloads:
        for label in labels:
            r = data[label]["workloads"].get(w)
            if not r:
                continue
            cells = []
            for prefix, _ in PROFILE_COLUMNS:
                ms = sum(v for k, v in r["categories"].items() if k.startswith(prefix))
                if prefix == "Python overhead":  # the step's time not spent in array work
                    ms = r["plain_ms"] - sum(v for k, v in r["categories"].items() if not k.startswith("Python"))
                cells.append(f"{ms:.2f} ({100 * ms / r['plain_ms']:.0f}%)" if abs(ms) >= 0.005 else "-")
            L.append(f"| {w} | {label} | {r['plain_ms']:.2f} | " + " | ".join(cells) + " |")
    return "\n".join(L)


def write_profiles(data, readme: str | Path = HERE / "README.md") -> None:
    """Replace the README's generated profile table (appended with its markers when they are missing)."""
    _replace_section(readme, PSTART, PEND, "`python -m benchmarks.profile --save LABEL` from profiles.json",
                     render_profiles(data), "Where the time goes, before and after")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--json", default=str(HERE / "results.json"))
    ap.add_argument("--readme", default=str(HERE / "README.md"))
    args = ap.parse_args(argv)
    with open(args.json) as f:
        data = json.load(f)
    for name, view in views(data):
        data["settings"][name]["targets"] = targets(view)
    write_readme(data, args.readme, json_path=args.json)
    print(render_console(data))


if __name__ == "__main__":
    main()
