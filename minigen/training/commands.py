"""The CLI's training commands: ``minigen train MODEL ...``, ``minigen sample RUN``, ``minigen eval RUN``."""
from __future__ import annotations

import json
from pathlib import Path

TRAINERS = {}   # model name -> (add_args, run)


def _register_trainers():
    from minigen.training import vae_task
    TRAINERS["vae"] = (vae_task.add_args, lambda a: vae_task.run(a, "vae"), "variational autoencoder")
    TRAINERS["ae"] = (vae_task.add_args, lambda a: vae_task.run(a, "ae"), "plain autoencoder")
    try:
        from minigen.training import gan_task
    except ImportError:
        return
    TRAINERS["gan"] = (gan_task.add_args, gan_task.run, "GAN on 2-D mixtures or digits")


def _register_zoo():
    from minigen.zoo import load_all
    for name, v in load_all().items():
        TRAINERS.setdefault(name, (_zoo_args, _zoo_runner(v), f"zoo: {v.title} ({v.paper})"))


def _zoo_args(p):
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--steps", type=int, default=None, help="training steps (default: the variant's full run)")
    p.add_argument("--out", default=None, help="run folder (default runs/<variant>)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a setting of the variant's configuration (repeatable)")
    p.add_argument("--quiet", action="store_true")


def _parse_value(text):
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _zoo_runner(v):
    def run(args):
        bad = [kv for kv in args.set if "=" not in kv]
        if bad:
            raise SystemExit(f"--set takes KEY=VALUE, got {bad[0]!r}")
        overrides = dict(kv.split("=", 1) for kv in args.set)
        try:
            config = v.config(steps=args.steps, **{k: _parse_value(x) for k, x in overrides.items()})
        except ValueError as e:        # an unknown setting: say which, and what there is
            raise SystemExit(str(e)) from None
        out = Path(args.out or f"runs/{v.name}")
        res = v.fit(config, seed=args.seed, out=out, quiet=args.quiet)
        measured, passed = v.judge([res])
        print(f"{v.title}: {measured} -> {'meets' if passed else 'misses'} the criterion "
              f"({v.criterion}) on this seed; run folder {out}")
        return res
    return run


def _zoo_cli_args(p):
    p.add_argument("variants", nargs="*", help="only these variants (default: all)")
    p.add_argument("--check", action="store_true", help="run the full checks and write docs/zoo.md")
    p.add_argument("--seeds", type=int, default=None, help="seeds per variant (default: each variant's own)")
    p.add_argument("--docs", default="docs/zoo.md", help="where to write the table (default docs/zoo.md)")
    p.add_argument("--quiet", action="store_true")


def cmd_zoo(args) -> int:
    """List the zoo's variants, or (--check) run their full checks and write the generated table."""
    from minigen.zoo import load_all
    from minigen.zoo.report import run_checks, write_report
    variants = load_all()
    chosen = [variants[n] for n in args.variants] if args.variants else list(variants.values())
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
    rows = run_checks(chosen, args.seeds, Path(args.docs).parent / "zoo", quiet=args.quiet)
    path = write_report(rows, Path(args.docs))
    print(f"wrote {path}")
    return 0 if all(r["passed"] for r in rows) else 1


def _train_args(p):
    _register_trainers()
    _register_zoo()
    sub = p.add_subparsers(dest="model", required=True, metavar="MODEL")
    for name, (add_args, _, help_) in TRAINERS.items():
        add_args(sub.add_parser(name, help=help_))


def cmd_train(args) -> int:
    """Train a model; the run folder gets the checkpoint, metrics.jsonl, results.json and figures."""
    TRAINERS[args.model][1](args)
    return 0


def _sample_args(p):
    p.add_argument("run", help="a run folder made by minigen train")
    p.add_argument("--n", type=int, default=64)
    p.add_argument("--out", required=True, help="FILE.png (a grid or scatter) or FILE.npy (the raw samples)")
    p.add_argument("--seed", type=int, default=0)


def load_run_model(run_dir):
    """Rebuild the model of a run from its checkpoint: (model, config)."""
    from minigen.training.loop import Run
    state = Run(run_dir).load()
    config = state["config"]
    kind = config["model"]["kind"]
    if kind in ("vae", "ae"):
        from minigen.models.vae import build
    else:
        from minigen.training.gan_task import build
    model = build(config["model"])
    model.load_state_dict(state["model"])
    model.eval()
    return model, config


def cmd_sample(args) -> int:
    """Draw samples from a trained run and save them as .npy or .png."""
    import numpy as np

    from minigen import backend
    backend.manual_seed(args.seed)
    model, config = load_run_model(args.run)
    if not hasattr(model, "sample"):
        raise SystemExit(f"{config['model']['kind']} runs cannot be sampled (an autoencoder has no prior)")
    x = model.sample(args.n).numpy()
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix == ".npy":
        np.save(out, x)
    elif out.suffix == ".png":
        from minigen.viz import plots
        shape = config.get("image_shape")
        if shape:
            plots.save_image_grid(x, tuple(shape), out, f"{args.n} samples")
        else:
            plots.scatter_2d([(x, "samples", "tab:red")], out, f"{args.n} samples")
    else:
        raise SystemExit(f"--out must end in .npy or .png, got {out.name}")
    print(f"wrote {len(x)} samples to {out}")
    return 0


def _eval_args(p):
    p.add_argument("run", help="a run folder made by minigen train")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true", help="print every number as JSON (default: a readable summary)")


def cmd_eval(args) -> int:
    """Print a run's evaluation (recomputed from its checkpoint)."""
    from minigen import backend
    backend.manual_seed(args.seed)
    model, config = load_run_model(args.run)
    kind = config["model"]["kind"]
    if kind in ("vae", "ae"):
        from minigen.training.datasets import load_train_data
        from minigen.training.vae_task import evaluate
        data = load_train_data(config["data"], config.get("data_dir"), seed=config["seed"])
        res = evaluate(model, data, config)
    else:
        from minigen.training.gan_task import evaluate
        res = evaluate(model, config)
    if args.json:
        print(json.dumps(res, indent=2))
        return 0
    if kind not in ("vae", "ae"):
        from minigen.training.gan_task import _summary
        print(f"{config['data']}: {_summary(res)} ({res['n']} samples)")
    for k, v in res.items():                  # the scalars, one per line; lists stay in --json
        if isinstance(v, (int, float, str)):
            print(f"  {k:<28} {v:.6g}" if isinstance(v, float) else f"  {k:<28} {v}")
    return 0


COMMANDS = {
    "train": (cmd_train, _train_args, "train a model (vae, ae, gan, ...)"),
    "sample": (cmd_sample, _sample_args, "sample from a trained run"),
    "eval": (cmd_eval, _eval_args, "evaluate a trained run"),
    "zoo": (cmd_zoo, _zoo_cli_args, "list the GAN zoo, or --check it and write docs/zoo.md"),
}
