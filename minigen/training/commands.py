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


def _train_args(p):
    _register_trainers()
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
    print(json.dumps(res, indent=2))
    return 0


COMMANDS = {
    "train": (cmd_train, _train_args, "train a model (vae, ae, gan, ...)"),
    "sample": (cmd_sample, _sample_args, "sample from a trained run"),
    "eval": (cmd_eval, _eval_args, "evaluate a trained run"),
}
