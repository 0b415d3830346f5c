"""The figures of a ``minigen train gan`` run: both players' losses, the metrics over training, samples
over training on the true modes, D's decision surface, the final samples (or digit grids)."""
from __future__ import annotations

import numpy as np

from minigen import backend
from minigen.autograd.mode import no_grad
from minigen.autograd.tensor import Tensor
from minigen.models.gan import GAN


def pick(items: list, k: int) -> list:
    if len(items) <= k:
        return items
    idx = np.unique(np.linspace(0, len(items) - 1, k).round().astype(int))
    return [items[i] for i in idx]


def discriminator_grid(model: GAN, lim: float, n: int = 160):
    """P(real) = sigmoid(D(x)) on an n x n grid over [-lim, lim]^2 (a packed D sees x repeated pack times)."""
    xs = np.linspace(-lim, lim, n, dtype=np.float32)
    gx, gy = np.meshgrid(xs, xs)
    pts = np.stack([gx.ravel(), gy.ravel()], 1)
    if model.pack > 1:
        pts = np.repeat(pts, model.pack, axis=0)
    with no_grad():
        logit = model.critic(Tensor(backend.to_device(pts))).numpy()[:, 0]
    prob = 1.0 / (1.0 + np.exp(-np.clip(logit, -60, 60)))
    return xs, prob.reshape(n, n)


def draw(task, run) -> list:
    from minigen.training.gan_task import data_kind
    from minigen.viz import plots
    made, data, model = [], task.data, task.gan
    lines = run.metrics()
    train = [m for m in lines if not m.get("eval")]
    evals = [m for m in lines if m.get("eval")]
    made.append(plots.loss_curves(train, [["d_loss", "g_loss"]], run.dir / "losses.png",
                                  title=f"both players' losses ({task.config['loss']} G loss)"))
    snaps = run.snapshots()
    kind = data_kind(data.name)
    steps = [m["step"] for m in evals]
    if kind == "mixture":
        made.append(plots.loss_curves(evals, [["modes"], ["high_quality"], ["reverse_kl"]],
                                      run.dir / "metrics.png", title="mode coverage over training (2,500 samples)"))
        made.append(plots.mode_histogram(steps, [m["counts"] for m in evals], run.dir / "modes.png",
                                         title="high-quality samples per mode over training"))
    elif kind == "curve":
        made.append(plots.loss_curves(evals, [["sliced_wasserstein"]], run.dir / "metrics.png",
                                      title="sliced Wasserstein distance to the test points"))
    elif data.name == "digits":
        made.append(plots.loss_curves(evals, [["confident"], ["classes_covered"], ["class_reverse_kl"]],
                                      run.dir / "metrics.png", title="the reference classifier's verdict"))
        made.append(plots.mode_histogram(steps, [m["counts"] for m in evals], run.dir / "classes.png",
                                         title="confidently classified samples per class over training",
                                         ylabel="class"))
    g = backend.Generator(task.seed + 1)
    if not data.is_image:
        lim = float(np.abs(data.x_test).max()) * 1.25
        real, shown = data.x_test, pick(snaps, 8)
        stats = None
        if kind == "mixture":
            em = {m["step"]: m for m in evals}
            stats = [f"{em[s]['modes']}/{em[s]['n_modes']} modes, {em[s]['high_quality']:.0%} HQ" if s in em else ""
                     for s, _ in shown]
        made.append(plots.sample_snapshots(shown, run.dir / "snapshots.png", real=real, means=data.means,
                                           std=data.std, lim=lim, title=f"GAN samples over training on {data.name}",
                                           stats=stats))
        fake = model.sample(1000, g).numpy()
        xs, prob = discriminator_grid(model, lim)
        made.append(plots.decision_surface(xs, xs, prob, run.dir / "discriminator.png", real=real[:1000],
                                           fake=fake, means=data.means,
                                           title="D(x) = P(real) at the end, with real and generated points"))
        layers = [(real, "data", "tab:blue"), (model.sample(2500, g).numpy(), "samples", "tab:red")]
        made.append(plots.scatter_2d(layers, run.dir / "samples.png", title=f"{data.name}: {len(real)} test points "
                                     "and 2,500 samples", lim=lim))
    else:
        shape = tuple(data.image_shape)
        made.append(plots.save_image_grid(model.sample(64, g).numpy(), shape, run.dir / "samples.png", "64 samples"))
        shown = pick(snaps, 8)
        if shown:
            rows = np.concatenate([s[:16] for _, s in shown])
            made.append(plots.save_image_grid(rows, shape, run.dir / "snapshots.png",
                                              "samples over training (one row per step: "
                                              + ", ".join(str(s) for s, _ in shown) + ")", nrow=16))
        if evals and "counts" in evals[-1]:
            made.append(plots.bar_histogram(evals[-1]["counts"], run.dir / "class_histogram.png",
                                            title="classes of the confidently classified samples (last evaluation)"))
    return made
