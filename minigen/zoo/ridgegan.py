"""RidgeGAN: urban growth and road-network density from generated settlement maps (Thottolil, Kumar &
Chakraborty, Scientific Reports 2023; repo ``Rahisha-Thottolil/RidgeGAN``).

The idea: a GAN ("CityGAN", a DCGAN) learns binary built-up maps of small towns; landscape metrics of a map
summarise its pattern, and a kernel ridge regression fitted on real towns maps those metrics to the density
of the road network (which the maps do not show), so a generated town gets a predicted road density:

    G: z -> built-up map (DCGAN)            m(map) = (CA, NP, LPI)            (the regression keeps these three)
    CA  = built-up share of the map, in %    NP = number of built-up patches (8-connected)
    LPI = largest patch area / map area, in %
    KRR:  f(m) = sum_i alpha_i k(m, m_i),  alpha = (K + lambda I)^-1 (y - y_mean),  k(a, b) = exp(-gamma |a - b|^2)
          on standardised metrics, plus y_mean

The miniature keeps the DCGAN (:func:`minigen.zoo.dcgan.dcgan`: transposed convs with BatchNorm and ReLU,
tanh out; strided convs, LeakyReLU 0.2; Adam(2e-4, 0.5); z ~ U(-1, 1)) on 32x32 procedural settlement maps
(:func:`minigen.data.procedural.settlements`: 1-6 ragged blobs and a few hamlets, with a street grid inside the
built-up area and links between towns giving a known road density), the three metrics and the regression.
Stated choices: the maps are binarised at G's output 0 (the middle of tanh's range); the RBF bandwidth is
the median heuristic (gamma = 1 / median squared distance) and lambda is picked from a grid on a fifth of the
fitting towns held out; the target is centred (a town unlike any real one is predicted the mean density).
It drops the paper's 256 px World Settlement Footprint maps, its 503 Indian cities, the metrics CLUMPY,
AI and NLSI, and the "defined score".

Measured per seed on 1,000 generated and 1,000 held-out real maps: the two-sample Kolmogorov-Smirnov
statistic of each metric (generated vs real), the share of generated maps whose predicted density lies
inside the real towns' range, the share of near-copies of training maps, and the regression's R^2 on the
held-out real towns (the same number on every seed: it does not involve G).  ``minigen zoo --check ridgegan``
(1,500 steps, ~215 CPU s per seed on one core), seeds 0 / 1 / 2: KS CA 0.107 / 0.089 / 0.120, NP 0.156 / 0.075 /
0.061, LPI 0.145 / 0.122 / 0.145; predicted densities in the real range 99.3 / 99.7 / 99.8%; near-copies 0.5 /
0.1 / 0.2%; R^2 0.979 (lambda 0.01): all three pass, and seed 0 again at 2 threads.
"""
from __future__ import annotations

from minigen import backend
from minigen.autograd.mode import no_grad
from minigen.autograd.tensor import Tensor
from minigen.backend import xp
from minigen.data import DataLoader
from minigen.metrics import copy_fraction
from minigen.training.task import Samples, Task
from minigen.zoo.criteria import mean_std
from minigen.zoo.dcgan import dcgan
from minigen.zoo.gradcheck_cases import to_double
from minigen.zoo.registry import Variant, register
from minigen.optim import Adam

METRICS = ("CA", "NP", "LPI")
MAX_KS, MIN_R2, MIN_IN_RANGE, MAX_COPIES = 0.2, 0.8, 0.99, 0.05
LAMBDAS = (1e-3, 1e-2, 1e-1, 1.0)
DEFAULTS = {"steps": 1500, "batch_size": 64, "latent_dim": 64, "ch": 16, "lr_g": 2e-4, "lr_d": 2e-4,
            "betas": [0.5, 0.999], "size": 32, "n_train": 2000, "n_test": 1000, "n_samples": 1000, "data_seed": 0}


# ---- the landscape metrics and the regression ---------------------------------------------------------

def landscape_metrics(maps):
    """(n, H, W) maps (built-up where > 0.5) -> (n, 3) device array: CA (% built-up), NP (8-connected built-up
    patches), LPI (largest patch, % of the map); :func:`minigen.data.procedural.landscape_metrics` on the host."""
    from minigen.data.procedural import landscape_metrics as on_host
    return backend.to_device(on_host(backend.to_host(maps)))


class KernelRidge:
    """f(m) = y_mean + sum_i alpha_i exp(-gamma |m - m_i|^2) on metrics standardised by the fitting set's
    mean and std; gamma by the median heuristic, lambda from ``LAMBDAS`` on a held-out fifth."""

    def fit(self, m, y, seed: int = 0):
        self.mu, self.sd = m.mean(0), m.std(0) + 1e-8
        z = (m - self.mu) / self.sd
        d2 = _sqdist(z, z)
        self.gamma = 1.0 / float(xp.median(d2[d2 > 0]))
        order = backend.Generator(seed).permutation(m.shape[0])
        cut = m.shape[0] // 5
        val, fit = order[:cut], order[cut:]
        scores = [(r2(y[val], self._solve(z[fit], y[fit], lam).predict(m[val])), lam) for lam in LAMBDAS]
        self.lam = max(scores)[1]
        return self._solve(z, y, self.lam)

    def _solve(self, z, y, lam):
        self.z, self.y_mean = z, float(y.mean())
        K = xp.exp(-self.gamma * _sqdist(z, z))
        self.alpha = xp.linalg.solve(K + lam * xp.eye(z.shape[0], dtype=K.dtype), y - self.y_mean)
        return self

    def predict(self, m):
        z = (m - self.mu) / self.sd
        return self.y_mean + xp.exp(-self.gamma * _sqdist(z, self.z)) @ self.alpha


def _sqdist(a, b):
    return xp.maximum((a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * a @ b.T, 0.0)


def r2(y, pred) -> float:
    """The coefficient of determination 1 - SS_res / SS_tot."""
    return float(1.0 - ((y - pred) ** 2).sum() / ((y - y.mean()) ** 2).sum())


def ks_statistic(a, b) -> float:
    """The two-sample Kolmogorov-Smirnov statistic sup_t |F_a(t) - F_b(t)| (ties handled: both empirical
    distribution functions are evaluated at every observed value)."""
    a, b = xp.sort(a), xp.sort(b)
    t = xp.concatenate([a, b])
    fa = xp.searchsorted(a, t, side="right") / a.shape[0]
    fb = xp.searchsorted(b, t, side="right") / b.shape[0]
    return float(xp.abs(fa - fb).max())


# ---- the task -----------------------------------------------------------------------------------------------

class RidgeGANTask(Task):
    """The DCGAN on settlement maps (pixels 0 / 1 scaled to -1 / 1), and the regression fitted on the real
    towns' metrics."""

    defaults = dict(DEFAULTS)

    def __init__(self, config):
        from minigen.data.procedural import settlements
        super().__init__(config)
        c = config
        S = c["size"]
        maps, density = settlements(c["n_train"] + c["n_test"], S, seed=c["data_seed"])
        maps, density = backend.to_device(maps), backend.to_device(density.astype("float64"))
        n = c["n_train"]
        self.train_maps, self.test_maps = maps[:n], maps[n:]
        self.train_density, self.test_density = density[:n], density[n:]
        self.gan = dcgan(c["latent_dim"], c["ch"], S, "uniform")
        self.opt_g = Adam(self.gan.generator.parameters(), lr=c["lr_g"], betas=tuple(c["betas"]))
        self.opt_d = Adam(self.gan.discriminator.parameters(), lr=c["lr_d"], betas=tuple(c["betas"]))
        self.loader = DataLoader(2.0 * self.train_maps[:, None] - 1.0, c["batch_size"], shuffle=True,
                                 drop_last=True, seed=self.seed)

    def step(self, step):
        return self.gan.train_step(self.loader.next, self.opt_d, self.opt_g, step)

    def generate(self, n: int, generator=None, batch: int = 500):
        """n maps (n, S, S) in {0, 1} from G in eval mode (BatchNorm's running statistics), binarised at 0."""
        z = self.gan.sample_latent(n, generator)
        self.gan.eval()
        try:
            with no_grad():
                x = xp.concatenate([self.gan.sampler(z[i:i + batch]).data for i in range(0, n, batch)], 0)
        finally:
            self.gan.train()
        return (x[:, 0] > 0).astype(xp.float32)

    def regression(self):
        if getattr(self, "_krr", None) is None:
            self._krr = KernelRidge().fit(landscape_metrics(self.train_maps), self.train_density, seed=0)
        return self._krr

    def measure(self, maps) -> dict:
        """Generated maps (n, S, S) in {0, 1} against the held-out real towns."""
        krr, S = self.regression(), self.config["size"]
        real_m, gen_m = landscape_metrics(self.test_maps), landscape_metrics(maps)
        pred = krr.predict(gen_m)
        lo, hi = float(self.train_density.min()), float(self.train_density.max())
        out = {f"ks_{k}": ks_statistic(gen_m[:, i], real_m[:, i]) for i, k in enumerate(METRICS)}
        out.update({f"mean_{k}": float(gen_m[:, i].mean()) for i, k in enumerate(METRICS)})
        out.update({f"real_mean_{k}": float(real_m[:, i].mean()) for i, k in enumerate(METRICS)})
        out.update({
            "r2": r2(self.test_density, krr.predict(real_m)), "lambda": krr.lam,
            "in_range": float(((pred >= lo) & (pred <= hi)).mean()), "real_range": [lo, hi],
            "predicted_density_mean": float(pred.mean()), "real_density_mean": float(self.test_density.mean()),
            **copy_fraction(maps.reshape(-1, S * S), self.train_maps.reshape(-1, S * S),
                            self.test_maps.reshape(-1, S * S))})
        return out

    def evaluate(self, run):
        return self.measure(self.generate(self.config["n_samples"], backend.Generator(1)))

    def summary(self, r):
        ks = ", ".join(f"{k} {r[f'ks_{k}']:.3f}" for k in METRICS)
        return (f"KS {ks}; predicted road density in the real range for {r['in_range']:.1%}; KRR R^2 "
                f"{r['r2']:.3f} on real towns; {r['copies']:.1%} near-copies")

    def sample(self, n, label=None):
        S = self.config["size"]
        return Samples(backend.to_host(self.generate(n).reshape(n, S * S)), "images", image_shape=(S, S))

    def figures(self, run, results):
        return [_figure(self, results, run.dir / "figure.png")]


def _figure(task, results, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    gen = task.generate(16, backend.Generator(2))
    real = task.test_maps[:16]
    krr = task.regression()
    gm, rm = landscape_metrics(task.generate(task.config["n_samples"], backend.Generator(1))), landscape_metrics(task.test_maps)
    fig = plt.figure(figsize=(14, 6.5))
    for k, (maps, name) in enumerate(((real, "real"), (gen, "generated"))):
        pred = backend.to_host(krr.predict(landscape_metrics(maps)))
        for i in range(8):
            ax = fig.add_subplot(3, 8, 8 * k + i + 1)
            ax.imshow(backend.to_host(maps[i]), cmap="Greys", vmin=0, vmax=1)
            ax.set_title(f"{name}: KRR density {pred[i]:.2f}", fontsize=6)
            ax.axis("off")
    gm, rm = backend.to_host(gm), backend.to_host(rm)
    for i, k in enumerate(METRICS):
        ax = fig.add_subplot(3, 4, 9 + i)
        lo, hi = min(gm[:, i].min(), rm[:, i].min()), max(gm[:, i].max(), rm[:, i].max()) + 1e-9
        bins = [lo + (hi - lo) * k / 24 for k in range(25)]
        ax.hist(rm[:, i], bins, alpha=0.5, density=True, label="real")
        ax.hist(gm[:, i], bins, alpha=0.5, density=True, label="generated")
        ax.set_title(f"{k}: KS {results[f'ks_{k}']:.3f}", fontsize=8)
        ax.legend(fontsize=6)
    ax = fig.add_subplot(3, 4, 12)
    ax.scatter(backend.to_host(task.test_density), backend.to_host(krr.predict(landscape_metrics(task.test_maps))), s=2)
    ax.set_xlabel("true road density", fontsize=7)
    ax.set_ylabel("KRR prediction", fontsize=7)
    ax.set_title(f"held-out real towns: R^2 {results['r2']:.3f}", fontsize=8)
    fig.suptitle(f"RidgeGAN, seed {task.seed}: {task.summary(results)}", fontsize=9)
    fig.tight_layout(rect=(0, 0, 1, 0.95))
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path


def judge(results):
    """On every seed: KS < 0.2 for each of CA, NP, LPI (generated vs held-out real towns), >= 99% of generated
    towns with a predicted road density inside the real range, <= 5% near-copies of training maps, and the
    regression's R^2 >= 0.8 on held-out real towns."""
    def ok(r):
        return (all(r[f"ks_{k}"] < MAX_KS for k in METRICS) and r["in_range"] >= MIN_IN_RANGE
                and r["copies"] <= MAX_COPIES and r["r2"] >= MIN_R2)
    good = sum(ok(r) for r in results)
    ks = ", ".join(f"{k} {max(r[f'ks_{k}'] for r in results):.3f}" for k in METRICS)
    rng, _ = mean_std(r["in_range"] for r in results)
    text = (f"KS (worst seed) {ks}; predicted road density in the real range for {rng:.1%} (mean); near-copies "
            f"<= {max(r['copies'] for r in results):.1%}; KRR R^2 {results[0]['r2']:.3f} on held-out real towns; "
            f"{good}/{len(results)} seeds pass")
    return text, good == len(results)


def gradcheck_case():
    """Both players' losses through the DCGAN at the maps' geometry (float64, 16x16, one channel per block)."""
    backend.manual_seed(0)
    gan = to_double(dcgan(3, 1, 16))
    g = backend.Generator(1)
    real = Tensor(g.uniform((4, 1, 16, 16), -1.0, 1.0, dtype=xp.float64))
    fake = Tensor(g.uniform((4, 1, 16, 16), -1.0, 1.0, dtype=xp.float64))
    z = Tensor(g.uniform((4, 3), -1.0, 1.0, dtype=xp.float64))
    params = list(gan.discriminator.parameters()) + list(gan.generator.parameters())

    def fn(*ps):
        return gan.d_loss(real, fake) + gan.g_loss(gan.generate(z))
    return fn, params, False


VARIANT = register(Variant(
    name="ridgegan", title="RidgeGAN", paper="Thottolil, Kumar & Chakraborty 2023",
    idea="a DCGAN (CityGAN) generates built-up maps; landscape metrics (CA, NP, LPI) feed a kernel ridge "
         "regression fitted on real towns that predicts each generated town's road-network density",
    data="F6 procedural settlements 32x32 (1-6 ragged towns and hamlets, a street grid and links giving a known "
         "road density); 2,000 to train, 1,000 held out",
    criterion=f"on every seed: KS < {MAX_KS} for each of CA, NP, LPI (1,000 generated vs 1,000 held-out real "
              f"towns), >= {MIN_IN_RANGE:.0%} of generated towns predicted inside the real density range, "
              f"<= {MAX_COPIES:.0%} near-copies of training maps, KRR R^2 >= {MIN_R2} on held-out real towns",
    task=RidgeGANTask, judge=judge, gradcheck_case=gradcheck_case,
    fast={"steps": 10, "ch": 4, "latent_dim": 8, "n_train": 200, "n_test": 100, "n_samples": 100}, seeds=3))
