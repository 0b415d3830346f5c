"""``minigen train vae|ae``: fit a VAE or an autoencoder, then evaluate it and draw its figures.

Defaults are tuned for the embedded digits (8x8, 1,437 training images): a 2-D latent, hidden layers
of 256 and 128 units, Adam 2e-3, batch 64, 300 epochs: well under a minute on 2 CPU cores.
"""
from __future__ import annotations

import argparse
import json
import time

import numpy as np

from minigen import backend
from minigen.autograd.mode import no_grad
from minigen.autograd.tensor import Tensor
from minigen.models.vae import VAE, build
from minigen.optim import Adam
from minigen.training.datasets import TrainData, load_train_data
from minigen.training.loop import Run, train_loop


def add_args(p):
    p.add_argument("--data", default="digits", help="digits (embedded, default), mnist, fashion_mnist, or a 2-D "
                   "toy set: ring8, grid25, moons, circles, spiral, swiss_roll")
    p.add_argument("--data-dir", default=None, help="folder with the MNIST IDX files (for --data mnist)")
    p.add_argument("--latent", type=int, default=2, help="latent dimensions (default 2)")
    p.add_argument("--hidden", default=None, help="hidden sizes, comma separated (default 256,128 for images, 64,64 for 2-D)")
    p.add_argument("--likelihood", choices=["bernoulli", "gaussian"], default=None,
                   help="decoder p(x|z) (default bernoulli for images, gaussian with learned variance for 2-D)")
    p.add_argument("--fixed-variance", type=float, default=None, help="Gaussian decoder with this fixed variance")
    p.add_argument("--epochs", type=int, default=None, help="passes over the training set (default 300; 2-D: 20)")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=None, help="run folder (default runs/<model>-<data>)")
    p.add_argument("--iwae-k", type=int, default=1000, help="importance samples for the test IWAE (default 1000)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out from its checkpoint")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--no-figures", action="store_true")
    p.add_argument("--stop-after", type=int, default=None, help=argparse.SUPPRESS)   # tests: simulate a stop


def make_config(args, kind: str, data: TrainData) -> dict:
    images = data.image_shape is not None
    hidden = tuple(int(h) for h in args.hidden.split(",")) if args.hidden else ((256, 128) if images else (64, 64))
    likelihood = args.likelihood or ("bernoulli" if images else "gaussian")
    model = {"kind": kind, "data_dim": data.dim, "latent_dim": args.latent, "hidden": list(hidden),
             "likelihood": likelihood, "activation": "relu"}
    if kind == "vae":
        model["fixed_variance"] = args.fixed_variance
    epochs = args.epochs or (300 if images else 20)
    return {"model": model, "data": args.data, "data_dir": args.data_dir, "epochs": epochs,
            "image_shape": list(data.image_shape) if data.image_shape else None,
            "batch_size": args.batch_size, "lr": args.lr, "seed": args.seed, "iwae_k": args.iwae_k,
            "backend": backend.get_backend()}


def run(args, kind: str = "vae") -> dict:
    backend.manual_seed(args.seed)
    data = load_train_data(args.data, args.data_dir, seed=args.seed)
    out = args.out or f"runs/{kind}-{args.data}"
    config = (Run(out).config if args.resume and (Run(out).dir / "config.json").exists()
              else make_config(args, kind, data))
    run_ = Run(out, config, resume=args.resume)
    model = build(config["model"])
    opt = Adam(model.parameters(), lr=config["lr"])
    bs, seed = config["batch_size"], config["seed"]
    total = config["epochs"] * data.batches_per_epoch(bs)

    def step_fn(step):
        x = data.batch(step, bs, seed)
        if kind == "vae":
            e = model.elbo(x)
            loss = e.loss()
            metrics = {"loss": loss, "reconstruction": e.reconstruction.mean(), "kl": e.kl.mean()}
        else:
            loss = model.loss(x)
            metrics = {"loss": loss}
        opt.zero_grad()
        loss.backward()
        opt.step()
        return {k: v.item() for k, v in metrics.items()}

    def get_state(step):
        return {"step": step, "config": config, "model": model.state_dict(), "optimizer": opt.state_dict(),
                "rng": backend.rng().get_state()}

    def set_state(state):
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        backend.rng().set_state(state["rng"])

    t0 = time.perf_counter()
    print(f"training {kind} on {data.name} ({len(data.x_train)} examples, {data.dim}-d) for {total} steps "
          f"-> {run_.dir}")
    status = train_loop(run_, step_fn, total, get_state, set_state, resume=args.resume,
                        log_every=max(1, data.batches_per_epoch(bs)), checkpoint_every=max(500, total // 4),
                        quiet=args.quiet, desc=kind, stop_after=args.stop_after)
    if status["interrupted"]:
        return {"interrupted": True, "step": status["step"]}
    model.eval()
    results = evaluate(model, data, config)
    results["train_seconds"] = round(time.perf_counter() - t0, 1)
    if not args.no_figures:
        results["figures"] = figures(model, data, run_)
    with open(run_.dir / "results.json", "w") as f:
        json.dump(results, f, indent=2)
    _print_results(kind, results)
    return results


def evaluate(model, data: TrainData, config: dict) -> dict:
    """Test-set numbers: ELBO (and its terms) and IWAE for a VAE, reconstruction error for an AE, and the
    accuracy of a 5-nearest-neighbour classifier on the latent codes (when there are labels)."""
    x = Tensor(backend.to_device(data.x_test))
    res = {"n_test": len(data.x_test)}
    with no_grad():
        if isinstance(model, VAE):
            backend.manual_seed(config["seed"] + 1)
            e = model.elbo(x, n_samples=10)
            res.update(test_elbo=e.elbo.mean().item(), test_reconstruction=e.reconstruction.mean().item(),
                       test_kl=e.kl.mean().item())
            res["test_iwae"] = float(model.iwae(x, k=config["iwae_k"]).mean().item())
            res["iwae_k"] = config["iwae_k"]
            codes_tr, codes_te = model.encode(Tensor(backend.to_device(data.x_train)))[0], model.encode(x)[0]
        else:
            res["test_reconstruction_error"] = model.reconstruction_error(x).mean().item()
            codes_tr, codes_te = model.encode(Tensor(backend.to_device(data.x_train))), model.encode(x)
    if data.y_train is not None and data.image_shape is not None:
        res["knn_accuracy"] = knn_accuracy(codes_tr.numpy(), data.y_train, codes_te.numpy(), data.y_test, k=5)
    return res


def knn_accuracy(z_train, y_train, z_test, y_test, k: int = 5) -> float:
    """Accuracy of a k-nearest-neighbour vote (Euclidean) of test codes among training codes."""
    d = ((z_test[:, None, :] - z_train[None, :, :]) ** 2).sum(-1)
    nn = np.argsort(d, axis=1)[:, :k]
    votes = y_train[nn]
    pred = np.array([np.bincount(v, minlength=int(y_train.max()) + 1).argmax() for v in votes])
    return float((pred == y_test).mean())


def figures(model, data: TrainData, run_: Run) -> list[str]:
    from minigen.viz import plots
    made = []
    metrics = run_.metrics()
    vae = isinstance(model, VAE)
    keys = [["loss"], ["reconstruction", "kl"]] if vae else [["loss"]]
    made.append(plots.loss_curves(metrics, keys, run_.dir / "loss.png",
                                  title="-ELBO = -(reconstruction - KL)" if vae else "reconstruction loss"))
    x = Tensor(backend.to_device(data.x_test))
    with no_grad():
        codes = (model.encode(x)[0] if vae else model.encode(x)).numpy()
    made.append(plots.latent_scatter(codes, data.y_test, run_.dir / "latent.png"))
    if data.image_shape is not None:
        n = 16
        rec = model.reconstruct(Tensor(backend.to_device(data.x_test[:n]))).numpy()
        pair = np.concatenate([data.x_test[:n], rec])
        made.append(plots.save_image_grid(pair, data.image_shape, run_.dir / "reconstructions.png",
                                          "test inputs (top two rows) and their reconstructions", nrow=8))
        if vae:
            made.append(plots.save_image_grid(model.sample(64).numpy(), data.image_shape, run_.dir / "samples.png",
                                              "samples from the prior, decoded"))
            if model.latent_dim == 2:
                made.append(manifold(model, data.image_shape, run_.dir / "manifold.png"))
    else:
        lim = float(np.abs(data.x_test).max()) * 1.2
        layers = [(data.x_test, "data", "tab:blue")]
        if vae:
            layers.append((model.sample(2500).numpy(), "samples", "tab:red"))
        made.append(plots.scatter_2d(layers, run_.dir / "samples.png", title=f"{data.name}", lim=lim))
    return [str(p) for p in made]


def manifold(model, image_shape, path, n: int = 15):
    """Decode a grid of z at the N(0, 1) quantiles (Kingma & Welling's learned manifold figure)."""
    from scipy.stats import norm

    from minigen.viz import plots
    u = np.linspace(0.5 / n, 1 - 0.5 / n, n)
    zs = norm.ppf(u)
    grid = np.array([[zx, zy] for zy in zs[::-1] for zx in zs], np.float32)
    with no_grad():
        imgs = model.mean_of(model.decode(Tensor(backend.to_device(grid)))).numpy()
    return plots.save_image_grid(imgs, image_shape, path, "decoded latent grid (z at Gaussian quantiles)", nrow=n)


def _print_results(kind, r):
    parts = []
    for key, label in (("test_elbo", "test ELBO"), ("test_iwae", f"test IWAE(k={r.get('iwae_k')})"),
                       ("test_reconstruction", "reconstruction"), ("test_kl", "KL"),
                       ("test_reconstruction_error", "test reconstruction error"), ("knn_accuracy", "5-NN accuracy on codes")):
        if key in r:
            v = r[key]
            parts.append(f"{label}: {v:.2%}" if key == "knn_accuracy" else f"{label}: {v:.3f}" + (" nats" if "test_" in key else ""))
    print("  ".join(parts))
    if "figures" in r:
        print("figures: " + ", ".join(p.split("/")[-1] for p in r["figures"]))


def load_model(run_dir):
    """The model of a finished run, weights restored."""
    r = Run(run_dir)
    state = r.load()
    model = build(state["config"]["model"])
    model.load_state_dict(state["model"])
    model.eval()
    return model, state["config"]

