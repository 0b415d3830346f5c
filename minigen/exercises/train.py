"""Train the exercise's small model twice, through the one training loop: with the library's rules and
with the learner's in place (same config, same seed, same steps), and print the results side by side.

Runs go to ``<learner folder>/runs/NN-library`` and ``NN-yours`` (ordinary run folders: ``minigen eval``
and ``minigen sample`` read them).
"""
from __future__ import annotations

from pathlib import Path

from minigen.exercises.grade import in_place, swaps
from minigen.training.loop import TrainingDiverged, train
from minigen.training.task import task_class


def config_for(ex, quick: bool = False, seed: int = 0) -> dict:
    t = ex.training
    return task_class(t.task).make_config(seed, **{**t.settings, **(t.quick if quick else {})})


def compare(ex, private: dict, folder, quick: bool = False, quiet: bool = False, echo=print) -> dict:
    """{"library": results, "yours": results or {"diverged": message}}; prints the side-by-side table."""
    config = config_for(ex, quick)
    runs = Path(folder) / "runs"
    out = {"library": train(config, runs / f"{ex.number:02d}-library", quiet=quiet, figures=False, echo=echo)}
    try:
        with in_place(swaps(ex, private, training=True)):
            out["yours"] = train(config, runs / f"{ex.number:02d}-yours", quiet=quiet, figures=False, echo=echo)
    except TrainingDiverged as e:             # a rule right on the checks' points yet unstable elsewhere
        out["yours"] = {"diverged": str(e)}
    except Exception as e:  # noqa: BLE001  (the learner's rule met a call the cases did not make)
        out["yours"] = {"diverged": f"your rule raised {type(e).__name__} in training: {str(e).splitlines()[0] if str(e) else ''}"}
    echo(table(ex, out, config))
    return out


def table(ex, out: dict, config: dict) -> str:
    lib, yours = out["library"], out["yours"]
    steps = lib.get("steps")
    lines = [f"{ex.training.task} trained {steps} steps (seed {config['seed']}) with your rule and with the library's:",
             f"  {'':<28}{'yours':>12}{'library':>12}"]
    if "diverged" in yours:
        return "\n".join(lines + [f"  yours did not finish: {yours['diverged']}"])
    for key, label in ex.training.report:
        if key in lib:
            lines.append(f"  {label:<28}{_fmt(yours.get(key)):>12}{_fmt(lib[key]):>12}")
    gap = max((abs(yours[k] - lib[k]) / max(abs(lib[k]), 1e-12) for k, _ in ex.training.report
               if isinstance(lib.get(k), (int, float)) and isinstance(yours.get(k), (int, float))), default=0.0)
    if gap == 0:
        lines.append("  the same numbers, bit for bit: your rule computes what the library's does")
    elif gap < 1e-2:
        lines.append(f"  the same to {gap:.1e} (relative): your rule rounds differently in float32, as rules may")
    else:
        lines.append(f"  they differ by up to {gap:.0%}: your rule rounds differently from the library's and "
                     "training amplifies it (a GAN's game most): compare the quality, not the digits")
    return "\n".join(lines)


def _fmt(v) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.4f}" if abs(v) < 10 else f"{v:.2f}"
    return str(v)
