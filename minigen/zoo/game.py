"""The two-player game on the 2-D toy mixtures that most zoo variants share.

A variant subclasses :class:`Game` and overrides only what makes it different: the losses
(``d_loss(real, fake)``, ``g_loss(fake)``), the networks (``make_discriminator``), the optimizers, or a
hook after the critic's step (weight clipping).  :func:`toy_fit` turns a Game class into the variant's
``fit``: it trains on fresh mixture samples, measures mode coverage on 2,500 samples and draws the figure.

One step of the game (Goodfellow et al. 2014, Algorithm 1):

    repeat n_critic times:  D <- D - lr_D grad_D d_loss(x, G(z).detach())
    once:                   G <- G - lr_G grad_G g_loss(G(z))          (through D; D does not move)
"""
from __future__ import annotations

import json
import time
from pathlib import Path

from minigen import backend
from minigen import losses
from minigen.autograd.mode import no_grad
from minigen.autograd.tensor import Tensor
from minigen.metrics import mode_coverage
from minigen.nn import MLP
from minigen.optim import SGD, Adam, RMSprop

TOY_DEFAULTS = {"data": "ring8", "steps": 3000, "batch_size": 256, "latent_dim": 2, "hidden": 128, "depth": 2,
                "lr_g": 1e-3, "lr_d": 1e-3, "betas": (0.5, 0.999), "optimizer": "adam", "n_critic": 1,
                "activation": "relu", "lr_decay": 1.0, "decay_start": 0.5}
# lr_decay: both learning rates fall linearly from their value to lr_decay times it over the last
# (1 - decay_start) of the run (1.0: constant learning rates)


def lr_factor(cfg: dict, step: int) -> float:
    """The learning-rate multiplier at ``step`` (0-based): 1 until ``decay_start`` of the run, then linear
    to ``lr_decay`` at the last step."""
    start = cfg["decay_start"] * cfg["steps"]
    if cfg["lr_decay"] == 1.0 or step < start:
        return 1.0
    frac = (step - start) / max(1.0, cfg["steps"] - 1 - start)
    return 1.0 + (cfg["lr_decay"] - 1.0) * min(1.0, frac)


class Game:
    """G: latent -> hidden^depth -> 2 and D: 2 -> hidden^depth -> 1 (a logit or a critic value)."""

    def __init__(self, config: dict):
        self.cfg = {**TOY_DEFAULTS, **config}
        self.G = self.make_generator()
        self.D = self.make_discriminator()
        self.opt_g = self.make_optimizer(self.G.parameters(), self.cfg["lr_g"])
        self.opt_d = self.make_optimizer(self.D.parameters(), self.cfg["lr_d"])

    # --- what variants change ---
    def make_generator(self):
        c = self.cfg
        return MLP([c["latent_dim"]] + [c["hidden"]] * c["depth"] + [2], activation=c["activation"])

    def make_discriminator(self):
        c = self.cfg
        return MLP([2] + [c["hidden"]] * c["depth"] + [1], activation=c["activation"])

    def make_optimizer(self, params, lr):
        kind = self.cfg["optimizer"]
        if kind == "adam":
            return Adam(params, lr=lr, betas=self.cfg["betas"])
        if kind == "rmsprop":
            return RMSprop(params, lr=lr)
        if kind == "sgd":
            return SGD(params, lr=lr)
        raise ValueError(f"unknown optimizer {kind!r}")

    def d_loss(self, real: Tensor, fake: Tensor) -> Tensor:
        """The discriminator's loss; ``fake`` is already detached from G."""
        return losses.discriminator_loss(self.D(real), self.D(fake))

    def g_loss(self, fake: Tensor) -> Tensor:
        return losses.generator_loss_nonsaturating(self.D(fake))

    def after_d_step(self) -> None:
        """Runs after every critic update (e.g. WGAN's weight clipping)."""

    def set_lr_factor(self, factor: float) -> None:
        """Scale both players' learning rates to ``factor`` times their initial values (the decay)."""
        for opt in (self.opt_g, self.opt_d):
            for group in opt.param_groups:
                group["lr"] = group.setdefault("initial_lr", group["lr"]) * factor

    # --- the step ---
    def latent(self, n: int) -> Tensor:
        return Tensor(backend.rng().normal((n, self.cfg["latent_dim"])))

    def d_step(self, real: Tensor) -> float:
        fake = self.G(self.latent(real.shape[0])).detach()
        loss = self.d_loss(real, fake)
        self.opt_d.zero_grad()
        loss.backward()
        self.opt_d.step()
        self.after_d_step()
        return loss.item()

    def g_step(self, n: int) -> float:
        loss = self.g_loss(self.G(self.latent(n)))
        self.opt_g.zero_grad()
        loss.backward()
        self.opt_g.step()
        return loss.item()

    def train_step(self, next_real) -> dict:
        for _ in range(self.cfg["n_critic"]):
            real = next_real()
            d = self.d_step(real)
        return {"d_loss": d, "g_loss": self.g_step(real.shape[0])}

    def sample(self, n: int):
        """n generated points as a host array (n, 2)."""
        with no_grad():
            return self.G(self.latent(n)).numpy()


class Mixture:
    """Fresh samples of a toy 2-D set: a large pool drawn once, batches picked by the engine RNG."""

    def __init__(self, name: str, seed: int, pool: int = 100_000):
        from minigen.data import toy2d
        self.toy = toy2d(name, pool, seed=seed)
        self.x = backend.to_device(self.toy.x)

    def batch(self, n: int) -> Tensor:
        idx = backend.rng().integers(0, self.x.shape[0], size=(n,))
        return Tensor(self.x[idx])


def toy_fit(game_cls, figure_title: str | None = None):
    """The ``fit`` of a variant that plays :class:`Game` on a 2-D mixture: trains ``config["steps"]`` steps,
    then returns mode coverage on 2,500 samples (plus whatever ``game.extra_metrics()`` adds)."""

    def fit(config: dict, seed: int = 0, out=None, quiet: bool = True) -> dict:
        backend.manual_seed(seed)
        cfg = {**TOY_DEFAULTS, **config}
        data = Mixture(cfg["data"], seed)
        game = game_cls(cfg)
        t0 = time.perf_counter()
        history = []
        from tqdm import tqdm
        for step in tqdm(range(cfg["steps"]), disable=quiet, desc=game_cls.__name__):
            if cfg["lr_decay"] != 1.0:
                game.set_lr_factor(lr_factor(cfg, step))
            m = game.train_step(lambda: data.batch(cfg["batch_size"]))
            if (step + 1) % max(1, cfg["steps"] // 20) == 0:
                history.append({"step": step + 1, **m, **(game.progress() if hasattr(game, "progress") else {})})
        samples = game.sample(2500)
        cov = mode_coverage(samples, data.toy.means, data.toy.std)
        res = {"seed": seed, "modes": cov.modes, "n_modes": cov.n_modes, "high_quality": cov.high_quality,
               "reverse_kl": cov.reverse_kl, "seconds": round(time.perf_counter() - t0, 1), "history": history}
        if hasattr(game, "extra_metrics"):
            res.update(game.extra_metrics(data, samples, history))
        if out is not None:
            out = Path(out)
            out.mkdir(parents=True, exist_ok=True)
            toy_figure(samples, data.toy, out / "figure.png",
                       f"{figure_title or game_cls.__name__} on {cfg['data']}, seed {seed}: "
                       f"{cov.modes}/{cov.n_modes} modes, {cov.high_quality:.1%} high quality")
            (out / "results.json").write_text(json.dumps(res, indent=2))
        return res
    return fit


def toy_figure(samples, toy, path, title: str):
    from minigen.viz import plots
    lim = float(abs(toy.x).max()) * 1.25
    layers = [(toy.x[:2500], "data", "tab:blue"), (samples, "samples", "tab:red")]
    if toy.means is not None:
        layers.append((toy.means, "modes", "black"))
    return plots.scatter_2d(layers, path, title=title, lim=lim)
