"""The CLI's run commands: ``minigen train MODEL``, ``minigen sample RUN``, ``minigen eval RUN``, ``minigen zoo``.

Every model is a :class:`~minigen.training.task.Task` and every run a folder made by the one training loop,
so these commands do not branch on model kinds: ``train`` builds the task's configuration from its flags
and ``--set key=value``, ``sample`` and ``eval`` rebuild the task from the run's ``config.json`` and
checkpoint, only reading the folder.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from minigen.training.task import ConfigError

_BASE_TRAIN_FLAGS = ("seed", "steps", "out", "resume", "quiet", "no_figures", "set", "stop_after", "model")


# ----------------------------------------------------------------------------------------------------
# train
# ----------------------------------------------------------------------------------------------------

def _all_tasks() -> dict:
    from minigen.training.task import TASKS, task_class
    task_class("vae")              # vae, ae, gan
    from minigen.zoo import load_all
    load_all()
    return TASKS


def _train_args(p):
    sub = p.add_subparsers(dest="model", required=True, metavar="MODEL", parser_class=type(p))
    for name, cls in _all_tasks().items():
        q = sub.add_parser(name, help=cls.description, description=cls.description)
        q.add_argument("--seed", type=int, default=0)
        if "steps" in cls.defaults:
            q.add_argument("--steps", type=int, default=None, help="training steps (default: the model's full run)")
        q.add_argument("--out", default=None, help=f"run folder (default runs/{name}...)")
        q.add_argument("--resume", action="store_true", help="continue the run in --out from its checkpoint")
        q.add_argument("--quiet", action="store_true", help="no progress bar")
        q.add_argument("--no-figures", action="store_true", help="skip drawing the figures")
        q.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                       help="change any setting of the model's configuration (repeatable; JSON values)")
        q.add_argument("--stop-after", type=int, default=None, help=argparse.SUPPRESS)   # tests: simulate a stop
        for flag, (key, kind, help_) in getattr(cls, "cli", {}).items():
            dest = "cli_" + flag.lstrip("-").replace("-", "_")
            q.add_argument(flag, dest=dest, type=kind, default=None, help=help_,
                           metavar=flag.lstrip("-").replace("-", "_").upper())


def _parse_value(text):
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def overrides_from(args, cls) -> dict:
    """The settings given on the command line: the model's flags, then ``--set`` (which wins)."""
    out = {}
    for flag, (key, _, _) in getattr(cls, "cli", {}).items():
        value = getattr(args, "cli_" + flag.lstrip("-").replace("-", "_"))
        if value is not None:
            for k in (key if isinstance(key, tuple) else (key,)):
                out[k] = value
    if getattr(args, "steps", None) is not None:
        out["steps"] = args.steps
    for kv in args.set:
        if "=" not in kv:
            raise ConfigError(f"--set takes KEY=VALUE, got {kv!r}")
        k, v = kv.split("=", 1)
        out[k.strip()] = _parse_value(v)
    return out


def cmd_train(args) -> int:
    """Train a model into a run folder: config.json, metrics.jsonl, checkpoint.npz, results.json, figures."""
    from minigen.training.loop import train
    from minigen.training.task import task_class
    cls = task_class(args.model)
    settings = overrides_from(args, cls)
    if args.stop_after is not None and args.stop_after < 1:
        raise ConfigError(f"--stop-after must be positive, got {args.stop_after}")
    if args.resume:
        if not args.out:
            raise ConfigError("--resume needs --out RUN: the folder of the run to continue")
        if settings or args.seed:
            given = ", ".join(sorted(settings) + (["seed"] if args.seed else []))
            raise ConfigError(f"--resume continues the run as it was configured; drop the settings given with it "
                              f"({given})")
        config = None
    else:
        config = cls.make_config(args.seed, **settings)
    out = args.out or (f"runs/{args.model}-{config['data']}" if config and "data" in config else f"runs/{args.model}")
    res = train(config, out, resume=args.resume, quiet=args.quiet, stop_after=args.stop_after,
                figures=not args.no_figures)
    if not res.get("interrupted"):
        _print_verdict(args.model, res)
    return 0


def _print_verdict(name: str, res: dict) -> None:
    """For a zoo variant: its criterion applied to this one seed."""
    from minigen.zoo.registry import VARIANTS
    v = VARIANTS.get(name)
    if v is None:
        return
    try:
        measured, passed = v.judge([res])
    except (KeyError, TypeError, ValueError, ZeroDivisionError, IndexError):
        return                       # a judge that needs more seeds than one (or a baseline run)
    print(f"{v.title}: {measured} -> {'meets' if passed else 'misses'} the criterion on this seed "
          f"({v.criterion})")


# ----------------------------------------------------------------------------------------------------
# sample
# ----------------------------------------------------------------------------------------------------

def _sample_args(p):
    p.add_argument("run", help="a run folder made by minigen train")
    p.add_argument("--n", type=int, default=64, help="how many samples (default 64)")
    p.add_argument("--out", required=True,
                   help="FILE.npy (the array), FILE.png (an image grid, a 2-D scatter or piano rolls), FILE.csv "
                        "(table rows) or FILE.mid (a melody's piano rolls as a MIDI file)")
    p.add_argument("--label", type=int, default=None,
                   help="the class to draw, for a conditional model (default: every class in turn)")
    p.add_argument("--seed", type=int, default=0)


def cmd_sample(args) -> int:
    """Draw samples from a trained run and write them (the run's folder is only read)."""
    import numpy as np

    from minigen import backend
    from minigen.training.loop import Run, load_task
    if args.n < 1:
        raise ConfigError(f"--n must be positive, got {args.n}")
    out = Path(args.out)
    if out.suffix not in (".npy", ".png", ".csv", ".mid"):
        raise ConfigError(f"--out must end in .npy, .png, .csv or .mid, got {out.name!r}")
    run = Run.open(args.run)
    if out.resolve().is_relative_to(run.dir.resolve()):
        raise ConfigError(f"--out {out} is inside the run folder {run.dir}; write the samples elsewhere "
                          "(reading a run never changes it)")
    task = load_task(run)
    if args.label is not None:
        if task.labels is None:
            raise ConfigError(f"{task.name} is not conditional: --label does not apply")
        if not 0 <= args.label < task.labels:
            raise ConfigError(f"--label must be in 0..{task.labels - 1} for {task.name}, got {args.label}")
    backend.manual_seed(args.seed)
    s = task.sample(args.n, args.label)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix == ".npy":
        np.save(out, s.data)
    elif out.suffix == ".png":
        _write_png(s, out, task.name)
    elif out.suffix == ".mid":
        if s.kind != "pianoroll":
            raise ConfigError(f"--out .mid writes piano rolls; {task.name} samples {s.kind}: use .npy")
        from minigen.data import music
        out.write_bytes(music.midi_bytes(s.data.argmax(-1).ravel()))
    else:
        if s.kind != "rows":
            raise ConfigError(f"--out .csv writes table rows; {task.name} samples {s.kind}: use .npy")
        header = ",".join(s.columns) if s.columns else ""
        np.savetxt(out, s.data, delimiter=",", header=header, comments="", fmt="%.6g")
    print(f"wrote {len(s.data)} {s.kind} to {out}")
    return 0


def _write_png(s, out, name):
    from minigen.viz import plots
    what = f"{len(s.data)} samples of {name}"
    if s.kind == "images":
        nrow = None
        if s.labels is not None:
            what += " (by class)"
        plots.save_image_grid(s.data, tuple(s.image_shape), out, what, nrow=nrow)
    elif s.kind == "points":
        plots.scatter_2d([(s.data, "samples", "tab:red")], out, what)
    elif s.kind == "pianoroll":
        plots.piano_rolls([(what + ", bar by bar", s.data.argmax(-1))], out)
    else:
        raise ConfigError(f"--out .png draws images and 2-D points; {name} samples {s.kind}: use .npy"
                          + (" or .csv" if s.kind == "rows" else ""))


# ----------------------------------------------------------------------------------------------------
# eval
# ----------------------------------------------------------------------------------------------------

def _eval_args(p):
    p.add_argument("run", help="a run folder made by minigen train")
    p.add_argument("--json", action="store_true", help="print every number as JSON (default: a readable summary)")


def cmd_eval(args) -> int:
    """Recompute a run's evaluation from its checkpoint (the run's folder is only read)."""
    from minigen.training.loop import Run, load_task
    run = Run.open(args.run)
    task = load_task(run)
    res = {**task.evaluate(run), "seed": task.seed}
    if args.json:
        print(json.dumps(_plain(res), indent=2))
        return 0
    print(f"{task.name} ({run.dir}): {task.summary(res)}")
    for k, v in res.items():                  # the scalars, one per line; lists stay in --json
        if isinstance(v, bool) or isinstance(v, (int, str)):
            print(f"  {k:<28} {v}")
        elif isinstance(v, float):
            print(f"  {k:<28} {v:.6g}")
    _print_verdict(task.name, res)
    return 0


def _plain(obj):
    from minigen.training.loop import _jsonable
    return _jsonable(obj)


# ----------------------------------------------------------------------------------------------------
# zoo
# ----------------------------------------------------------------------------------------------------

def _zoo_args(p):
    p.add_argument("variants", nargs="*", help="only these variants (default: all)")
    p.add_argument("--check", action="store_true", help="run the full checks and write docs/zoo.md")
    p.add_argument("--seeds", type=int, default=None, help="seeds per variant (default: each variant's own)")
    p.add_argument("--docs", default="docs/zoo.md", help="where to write the table (default docs/zoo.md)")
    p.add_argument("--runs", default="runs/zoo", help="where the checks' run folders go (default runs/zoo)")
    p.add_argument("--jobs", type=int, default=1,
                   help="runs at a time, each in its own process (default 1; e.g. the number of cores)")
    p.add_argument("--quiet", action="store_true")


def cmd_zoo(args) -> int:
    """List the zoo's variants, or (--check) run their full checks and write the generated table."""
    from minigen.zoo.registry import load_all, variant
    from minigen.zoo.report import run_checks, write_report
    if args.seeds is not None and args.seeds < 1:
        raise ConfigError(f"--seeds must be positive, got {args.seeds}")
    if args.jobs < 1:
        raise ConfigError(f"--jobs must be positive, got {args.jobs}")
    chosen = [variant(n) for n in args.variants] if args.variants else list(load_all().values())
    if not args.check:
        done = {}
        store = Path(args.docs).parent / "zoo" / "results.json"
        if store.exists():
            done = {r["name"]: r for r in json.loads(store.read_text())}
        rows = [(v.name, v.paper, v.data,
                 ("checked: " + ("pass" if done[v.name]["passed"] else "FAIL")) if v.name in done else "ready", v.idea)
                for v in chosen]
        header = ("variant", "paper", "data", "status", "idea")
        widths = [max(len(r[i]) for r in rows + [header]) + 2 for i in range(4)]
        for r in [header] + rows:
            print("".join(f"{c:<{w}}" for c, w in zip(r[:4], widths)) + r[4])
        return 0
    rows = run_checks(chosen, args.seeds, Path(args.runs), quiet=args.quiet, jobs=args.jobs)
    path = write_report(rows, Path(args.docs))
    print(f"wrote {path}")
    return 0 if all(r["passed"] for r in rows) else 1


COMMANDS = {
    "train": (cmd_train, _train_args, "train a model (vae, ae, gan, or a zoo variant)"),
    "sample": (cmd_sample, _sample_args, "sample from a trained run"),
    "eval": (cmd_eval, _eval_args, "evaluate a trained run"),
    "zoo": (cmd_zoo, _zoo_args, "list the GAN zoo, or --check it and write docs/zoo.md"),
}
