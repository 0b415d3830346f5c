"""Pass criteria shared by variants: each turns the per-seed results of ``fit`` into
(a measured summary in words, pass or fail)."""
from __future__ import annotations

import math


def mean_std(values) -> tuple[float, float]:
    v = [float(x) for x in values]
    m = sum(v) / len(v)
    return m, math.sqrt(sum((x - m) ** 2 for x in v) / len(v))


def mode_criterion(min_modes: int, min_hq: float | None = None, max_reverse_kl: float | None = None,
                   min_passing: int | None = None):
    """Per seed: modes >= min_modes (and high quality >= min_hq, reverse KL <= max_reverse_kl);
    the variant passes when at least ``min_passing`` seeds do (default: all)."""

    def ok(r):
        return (r["modes"] >= min_modes and (min_hq is None or r["high_quality"] >= min_hq)
                and (max_reverse_kl is None or r["reverse_kl"] <= max_reverse_kl))

    def judge(results):
        need = len(results) if min_passing is None else min_passing
        good = sum(ok(r) for r in results)
        m, s = mean_std(r["modes"] for r in results)
        hq, hqs = mean_std(r["high_quality"] for r in results)
        kl, kls = mean_std(r["reverse_kl"] for r in results)
        n_modes = results[0]["n_modes"]
        text = (f"modes {m:.1f} ± {s:.1f} / {n_modes}, high quality {hq:.1%} ± {hqs:.1%}, "
                f"reverse KL {kl:.3f} ± {kls:.3f}; {good}/{len(results)} seeds pass")
        return text, good >= need
    return judge
