"""The discriminator becomes too strong -> the generator's gradient vanishes (under the minimax loss).

Goodfellow et al. (2014) note that early in training, when G is poor, D rejects its samples with high
confidence and log(1 - D(G(z))) saturates; they suggest maximising log D(G(z)) instead.  Measured here:

    G   a fixed generator whose samples are slightly off the data (ring8): G at its random initialisation,
        a small blob inside the ring; never updated
    D   trained more and more against it (Adam), so it becomes near-perfect
    at checkpoints of D's training, on a fixed batch of latents:
        D's accuracy, mean D(G(z)),
        || grad_theta_G  E[log(1 - D(G(z)))] ||    minimax (saturating): dl = -D(G(z))     -> 0
        || grad_theta_G -E[log D(G(z))] ||         non-saturating:       dl = -(1 - D(G(z))) -> -1

Per sample, the two losses differ only in the factor that multiplies grad_theta_G l(G(z)) (l is D's
logit): D(G(z)) for the minimax loss and 1 - D(G(z)) for the non-saturating one, so as D(G(z)) -> 0 the
first vanishes and the second does not.

Run:  python demos/gan_vanishing_gradients.py [--d-steps 2000] [--seed 0] [--out runs/demos/gan_vanishing_gradients]
Writes gradient_norms.png (log scale vs D's training), discriminator.png and backprop.html (the minimax
loss's backward pass against the final D, op by op: open it in a browser), prints the table.
"""
# %% [markdown]
# # The discriminator gets too strong: the generator's gradient vanishes
#
# The course lists **non-convergence and instability** among GAN training's challenges: when the discriminator
# becomes too strong it tells real from fake easily, and the generator gets near-zero gradients. With
# $l = $ D's logit and $D = \sigma(l)$, the minimax generator loss $\log(1 - D(G(z))) = -\mathrm{softplus}(l)$ has
#
# $$\frac{\partial}{\partial l} \log(1 - \sigma(l)) = -\sigma(l) \to 0 \quad\text{as } D(G(z)) \to 0,$$
#
# while the non-saturating loss $-\log D(G(z))$ has derivative $-(1 - \sigma(l)) \to -1$. Here D is trained
# against a fixed G and both gradients are measured; the page `backprop.html` then steps through the minimax
# loss's backward pass against the final D, where Softplus's rule $y' = \sigma(x)$ shrinks every gradient after it.

# %%
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent if "__file__" in globals() else Path.cwd()   # a notebook: its folder
sys.path.insert(0, str(HERE.parent))   # run from a checkout without installing

import numpy as np  # noqa: E402

import minigen as mg  # noqa: E402
from minigen import backend, losses  # noqa: E402
from minigen.autograd.tensor import Tensor  # noqa: E402
from minigen.data import toy2d  # noqa: E402
from minigen.models import mlp_gan  # noqa: E402
from minigen.optim import Adam  # noqa: E402


# %% [markdown]
# Checkpoints (log-spaced) and the norm of G's gradient, computed with `minigen.grad`.

# %%
OFFSET = (0.0, 0.0)


def checkpoints(total: int) -> list[int]:
    """0, then roughly log-spaced D step counts up to ``total``."""
    pts = {0, total}
    v = 1
    while v < total:
        pts.add(v)
        pts.add(min(total, 3 * v))
        v *= 10
    return sorted(pts)


def grad_norm(loss, params) -> float:
    gs = mg.grad(loss, params)
    return float(np.sqrt(sum(float((g.data ** 2).sum()) for g in gs)))


# %% [markdown]
# ## Run (`python demos/gan_vanishing_gradients.py`), then open `runs/demos/gan_vanishing_gradients/backprop.html`

# %%
def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--d-steps", type=int, default=2000, help="D's training steps against the fixed G")
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--lr", type=float, default=2e-3, help="D's Adam learning rate")
    p.add_argument("--hidden", type=int, default=64)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--page-batch", type=int, default=64, help="latents in the backward page's batch")
    p.add_argument("--out", default="runs/demos/gan_vanishing_gradients")
    a = p.parse_args(argv)
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    mg.manual_seed(a.seed)

    data = toy2d("ring8", 20000, seed=a.seed)
    x_all = backend.to_device(data.x)
    gan = mlp_gan(data_dim=2, latent_dim=2, hidden=a.hidden, depth=2)
    G, D = gan.generator, gan.discriminator
    # "slightly off": G at its random initialisation, a blob of spread ~0.1 around OFFSET, inside the
    # ring (radius 1): what an early generator looks like, near the data but matching none of it
    last = list(G.parameters())[-1]
    last.data += backend.to_device(np.array(OFFSET, np.float32))
    G_params = list(G.parameters())
    opt = Adam(D.parameters(), lr=a.lr, betas=(0.5, 0.999))
    g = backend.Generator(a.seed + 1)
    z_fixed = Tensor(g.normal((2048, 2)))
    x_fixed = Tensor(x_all[g.integers(0, x_all.shape[0], size=(2048,))])

    marks = checkpoints(a.d_steps)
    rows = []
    for step in range(a.d_steps + 1):
        if step in marks:
            fake_logits = D(G(z_fixed))
            mm = grad_norm(losses.generator_loss_minimax(fake_logits), G_params)
            fake_logits = D(G(z_fixed))
            ns = grad_norm(losses.generator_loss_nonsaturating(fake_logits), G_params)
            with mg.no_grad():
                pf = mg.to_host(mg.F.sigmoid(D(G(z_fixed))).data)[:, 0]
                pr = mg.to_host(mg.F.sigmoid(D(x_fixed)).data)[:, 0]
            acc = 0.5 * ((pr > 0.5).mean() + (pf < 0.5).mean())
            rows.append({"d_steps": step, "accuracy": float(acc), "D_fake": float(pf.mean()),
                         "D_real": float(pr.mean()), "grad_minimax": mm, "grad_nonsaturating": ns})
        if step == a.d_steps:
            break
        idx = backend.rng().integers(0, x_all.shape[0], size=(a.batch_size,))
        d = gan.d_loss(Tensor(x_all[idx]), gan.sample(a.batch_size))
        opt.zero_grad()
        d.backward()
        opt.step()

    print(f"{'D steps':>8} {'D accuracy':>11} {'mean D(G(z))':>13} {'|grad| minimax':>15} {'|grad| non-sat.':>16}")
    for r in rows:
        print(f"{r['d_steps']:>8} {r['accuracy']:>11.3f} {r['D_fake']:>13.3e} {r['grad_minimax']:>15.3e} "
              f"{r['grad_nonsaturating']:>16.3e}")
    first, lastr = rows[0], rows[-1]
    peak_mm = max(r["grad_minimax"] for r in rows)
    peak_ns = max(r["grad_nonsaturating"] for r in rows)
    res = {"rows": rows,
           "minimax_drop": peak_mm / max(lastr["grad_minimax"], 1e-300),          # peak / final
           "nonsaturating_drop": peak_ns / max(lastr["grad_nonsaturating"], 1e-300),
           "nonsaturating_gain": lastr["grad_nonsaturating"] / first["grad_nonsaturating"],   # final / start
           "final_accuracy": lastr["accuracy"], "final_D_fake": lastr["D_fake"]}
    print(f"as D went from accuracy {first['accuracy']:.2f} to {lastr['accuracy']:.3f} (mean D(G(z)) "
          f"{lastr['D_fake']:.1e}), the minimax gradient fell {res['minimax_drop']:.0f}-fold from its peak; "
          f"the non-saturating one ends {res['nonsaturating_gain']:.0f}x above its start "
          f"({res['nonsaturating_drop']:.2f}x below its peak)")

    from minigen.viz import plots
    xs = [max(r["d_steps"], 0.5) for r in rows]      # log x axis: step 0 drawn at 0.5
    res["figures"] = [str(plots.series_plot(
        xs, {"minimax  E[log(1 - D(G(z)))]": [r["grad_minimax"] for r in rows],
             "non-saturating  -E[log D(G(z))]": [r["grad_nonsaturating"] for r in rows]},
        out / "gradient_norms.png", xlabel="discriminator training steps against a fixed G (0 drawn at 0.5)",
        ylabel="|| grad of G's loss wrt G's weights ||", logy=True, logx=True,
        title="a stronger D starves the minimax generator of gradient",
        twin={"D accuracy": [r["accuracy"] for r in rows]}, twin_label="D accuracy"))]
    from minigen.training.gan_figures import discriminator_grid
    lim = 1.8
    gan.pack = 1
    xs_, prob = discriminator_grid(gan, lim)
    with mg.no_grad():
        fake = G(z_fixed).numpy()[:1000]
    res["figures"].append(str(plots.decision_surface(
        xs_, xs_, prob, out / "discriminator.png", real=data.x[:1000], fake=fake, means=data.means,
        title=f"D after {a.d_steps} steps: accuracy {lastr['accuracy']:.3f}")))
    # the minimax loss's backward against the strong D, op by op: softplus' derivative sigmoid(l) is ~0
    for prefix, net in (("G", G), ("D", D)):
        for k, prm in net.named_parameters():
            prm.name = f"{prefix}.{k}"
            prm.grad = None                       # D's last training step: not this loss's gradient
    z_page = Tensor(z_fixed.data[:a.page_batch])
    z_page.name = "z"
    fake = G(z_page)
    fake.name = "G(z)"
    logits = D(fake)
    logits.name = "D logit"
    page_loss = losses.generator_loss_minimax(logits)
    page_loss.name = "G loss (minimax)"
    res["page"] = str(mg.viz.backward_page(
        page_loss, out / "backprop.html",
        title=f"minimax G loss after {a.d_steps} D steps: where the gradient vanishes"))
    res["seconds"] = round(time.perf_counter() - t0, 1)
    (out / "results.json").write_text(json.dumps(res, indent=2))
    print(f"figures in {out} ({res['seconds']} s)")
    return res


# %%
if __name__ == "__main__":
    main(None if "__file__" in globals() else [])   # a notebook kernel's argv is not ours: the defaults
