"""Pass criteria shared by variants: each turns the per-seed results of a variant's runs into (a measured
summary in words, pass or fail).

Every 2-D mixture variant is held to the same bar on every seed (the main ``minigen train gan`` reaches
8/8 and 25/25 modes at 97-98% high quality and reverse KL < 0.01):

    every mode covered   a mode holds at least 1/4 of its fair share of the high-quality samples
    high quality >= 90%  samples within 3 standard deviations of a mode
    reverse KL <= 0.1    of the mode histogram from uniform

(:func:`minigen.metrics.mode_coverage`).  A uniform ring covers the modes but has ~7% high-quality
samples; modes blurred to 3 sigma ~40%; all mass on one mode covers one.  Comparisons with a baseline are
made seed by seed.
"""
from __future__ import annotations

import math

MIN_HIGH_QUALITY = 0.90
MAX_REVERSE_KL = 0.10


def mean_std(values) -> tuple[float, float]:
    v = [float(x) for x in values]
    m = sum(v) / len(v)
    return m, math.sqrt(sum((x - m) ** 2 for x in v) / len(v))


def mixture_ok(r: dict) -> bool:
    """One seed's samples meet the mixture bar: every mode covered, high quality, low reverse KL."""
    return (r["modes"] == r["n_modes"] and r["high_quality"] >= MIN_HIGH_QUALITY
            and r["reverse_kl"] <= MAX_REVERSE_KL)


def mixture_summary(results: list) -> str:
    """Modes, high quality and reverse KL over the seeds (mean ± std, and the worst seed's)."""
    m, s = mean_std(r["modes"] for r in results)
    hq, hqs = mean_std(r["high_quality"] for r in results)
    kl, kls = mean_std(r["reverse_kl"] for r in results)
    worst_hq = min(r["high_quality"] for r in results)
    worst_kl = max(r["reverse_kl"] for r in results)
    return (f"modes {m:.1f} ± {s:.1f} / {results[0]['n_modes']}, high quality {hq:.1%} ± {hqs:.1%} (worst "
            f"{worst_hq:.1%}), reverse KL {kl:.3f} ± {kls:.3f} (worst {worst_kl:.3f})")


def mode_criterion(extra=None, extra_text: str = ""):
    """The mixture bar on every seed, and ``extra(result)`` too where given (a variant's own check)."""

    def judge(results):
        good = sum(mixture_ok(r) and (extra is None or extra(r)) for r in results)
        text = f"{mixture_summary(results)}{extra_text and '; ' + extra_text}; {good}/{len(results)} seeds pass"
        return text, good == len(results)
    return judge


MIXTURE_BAR = (f"every mode covered (>= 1/4 of its fair share of the high-quality samples), high quality >= "
               f"{MIN_HIGH_QUALITY:.0%} and reverse KL <= {MAX_REVERSE_KL} on every seed")
