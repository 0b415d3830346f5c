"""ProGAN: Progressive Growing of GANs for Improved Quality, Stability, and Variation (Karras, Aila, Laine &
Lehtinen, ICLR 2018).

The idea: train at a tiny resolution first and grow both networks by one resolution at a time, each new
block faded in smoothly so the already-trained lower-resolution layers are never shocked:

    G_s(z) = (1 - alpha) up(toRGB_{s-1}(h_{s-1})) + alpha toRGB_s(block_s(h_{s-1}))      alpha: 0 -> 1
    D_s(x) = D_{<s}((1 - alpha) fromRGB_{s-1}(avgpool(x)) + alpha block_s(fromRGB_s(x)))
    real images at resolution s blended the same way: (1 - alpha) up(avgpool(x_s)) + alpha x_s

and three stabilisers, none with learned parameters:

    pixel norm          G's features at each pixel divided by their root mean square, after every conv
    equalised learning  weights ~ N(0, 1) scaled by He's constant sqrt(2 / fan_in) at run time
    minibatch stddev    D's last block sees the batch's mean standard deviation as an extra feature map

trained with WGAN-GP (lambda = 10; the paper takes one critic step per G step) plus a drift penalty
1e-3 E[D(x)^2] that keeps D's output near zero, Adam(1e-3, beta1 = 0, beta2 = 0.99), and samples from an
EMA of G's weights (0.999).
The paper measures sliced Wasserstein distances between 7x7 patches of the Laplacian pyramids of generated
and real images (Appendix D): low at the fine bands means the details look right, at the coarse bands the
shapes.

The miniature grows on the 8x8 digits (pixels scaled to [-1, 1]) 2x2 -> 4x4 -> 8x8:

    G: z (32, pixel-normed) -> EQ-Linear -> 2c x 2 x 2 -> conv3 (block 0, 2x2)
       -> up x2, conv3, conv3 (block 1, 4x4: 2c) -> up x2, conv3, conv3 (block 2, 8x8: c);  LeakyReLU 0.2
       and pixel norm after every conv; toRGB = 1x1 conv (gain 1) at each resolution; linear output
    D: fromRGB (1x1 conv) at each resolution; blocks conv3, conv3, avg-pool 2 (8 -> 4 -> 2);
       at 2x2: minibatch stddev (groups of 4), conv3, EQ-Linear, EQ-Linear -> 1
    c = 16; 1,000 steps of batch 64 in five equal phases: 2x2, fade in 4x4, 4x4, fade in 8x8, 8x8; two critic
    steps per G step (c = 32 made a step ~2.5 times slower: the gradient penalty's double backprop through D's
    convolutions dominates a step)

Two critic steps, not the paper's one: with one (and the paper's Adam(1e-3, 0, 0.99)) the critic lagged the
generator on seed 0 (E D(real) - E D(fake) kept turning negative, the penalty term rose to ~0.8) and G collapsed
at 4x4 to one blob (SWD 0.62 after 1,500 steps, against 0.18 for the DCGAN; no class present); with two the
critic stayed ahead and G's pixel spread tracked the data's (0.50 vs 0.45 after 400 steps), while halving G's
learning rate instead made the critic's lead swing by +-5.  1,000 steps keep the three seeds of the check
within ~15 CPU-minutes on this machine.

Measured (``minigen zoo --check progan``, 3 seeds, one BLAS thread, ~3.5 CPU-minutes of training per seed
with the DCGAN beside it): FAIL.  SWD (bands 8/4/2) per seed, ProGAN vs DCGAN: 0.193 (0.172/0.114/0.292) vs
0.139 (0.039/0.076/0.303); 0.181 (0.170/0.149/0.223) vs 0.113 (0.037/0.053/0.250); 0.763 vs 0.091.  Seeds 0
and 1 grew varied but noisy digits: their coarse band is as good as the DCGAN's (or better), the fine band 4x
worse, and only 2% of the samples are confidently read as a digit (so no class reaches 2.5%); seed 2
collapsed at 4x4 to one grey blob even with two critic steps.  Held-out digits score 0.045, the class means
0.31, one class 0.34, uniform noise 1.01, the untrained G 1.18 (360 samples).  Not tried for lack of time:
longer runs (the 8x8 stage had 200 steps), Adam reset at each growth, a lower learning rate with more steps.

It drops the paper's resolutions (4x4 to 1024x1024) and widths (512 channels), its growth schedule by
images shown, the resetting of Adam at each growth, and MS-SSIM.  The sliced Wasserstein distance keeps the
paper's recipe at the digits' scale (:func:`minigen.metrics.pyramid_swd`: bands 8x8, 4x4 and 2x2, 3x3
neighbourhoods, 512 projections, descriptors normalised by the real set's statistics), measured on 1,000
samples of G's EMA against the 1,437 training digits; the DCGAN of the zoo (its architecture and settings,
c = 64) is trained beside it for the same number of steps, on the same batches, and measured the same way.
"""
from __future__ import annotations

from minigen import backend
from minigen import functional as F
from minigen.autograd.mode import no_grad
from minigen.autograd.tensor import Tensor
from minigen.backend import xp
from minigen.data import DataLoader
from minigen.metrics import copy_fraction, pyramid_swd
from minigen.models.gan import GAN
from minigen.nn import Conv2d, Linear, Module, ModuleList
from minigen.optim import Adam
from minigen.training.task import ConfigError, Samples
from minigen.zoo.common import DigitsGANTask, DigitsTask
from minigen.zoo.criteria import mean_std
from minigen.zoo.dcgan import dcgan
from minigen.zoo.gradcheck_cases import to_double
from minigen.zoo.registry import Variant, register
from minigen.zoo.wgan import critic_loss, generator_loss
from minigen.zoo.wgan_gp import gradient_penalty, interpolates

SLOPE = 0.2


def _act(x):
    return F.leaky_relu(x, SLOPE)


def _widths(ch: int, n_stages: int) -> list[int]:
    """Channels per stage (resolution 2, 4, 8, ...): 2c at the coarse ones, c at the finest (the paper
    halves the width as the resolution grows)."""
    return [2 * ch] * (n_stages - 1) + [ch]


class ProGenerator(Module):
    """G_s(z) -> (N, 1, R, R) with R = 2^(s+1) at stage s, faded by ``alpha`` (attributes ``stage``, ``alpha``,
    set by :meth:`grow`): block 0 maps the pixel-normed z to 2 x 2, each later block doubles the resolution."""

    def __init__(self, latent_dim: int = 32, ch: int = 32, n_stages: int = 3, pixel_norm: bool = True):
        super().__init__()
        w = _widths(ch, n_stages)
        self.latent_dim, self.n_stages, self.widths, self.pn = latent_dim, n_stages, w, bool(pixel_norm)
        self.dense = Linear(latent_dim, w[0] * 4, equalized=True)
        self.conv0 = Conv2d(w[0], w[0], 3, padding=1, equalized=True)
        self.blocks = ModuleList([ModuleList([Conv2d(w[i - 1], w[i], 3, padding=1, equalized=True),
                                              Conv2d(w[i], w[i], 3, padding=1, equalized=True)])
                                  for i in range(1, n_stages)])
        self.to_rgb = ModuleList([Conv2d(w[i], 1, 1, equalized=True, gain=1.0) for i in range(n_stages)])
        self.stage, self.alpha = n_stages - 1, 1.0

    def grow(self, stage: int, alpha: float) -> None:
        if not (0 <= stage < self.n_stages and 0.0 <= alpha <= 1.0):
            raise ValueError(f"ProGAN: stage must be in [0, {self.n_stages}) and alpha in [0, 1], got {stage}, {alpha}")
        self.stage, self.alpha = int(stage), float(alpha)

    def _norm(self, x):
        return F.pixel_norm(x) if self.pn else x

    def forward(self, z):
        s, a = self.stage, self.alpha
        h = self.dense(self._norm(z))
        h = self._norm(_act(F.reshape(h, (z.shape[0], self.widths[0], 2, 2))))
        h = self._norm(_act(self.conv0(h)))
        prev = h
        for conv1, conv2 in list(self.blocks)[:s]:
            prev = h
            h = F.upsample(h, 2)
            h = self._norm(_act(conv1(h)))
            h = self._norm(_act(conv2(h)))
        out = self.to_rgb[s](h)
        if s > 0 and a < 1.0:              # the fade-in: at alpha = 0 exactly the previous stage, upsampled
            out = (1.0 - a) * F.upsample(self.to_rgb[s - 1](prev), 2) + a * out
        return out


class ProDiscriminator(Module):
    """D_s(x) for x (N, 1, R, R) at stage s (attributes ``stage``, ``alpha``), mirroring the generator: fromRGB
    at the input's resolution, blocks halving it down to 2 x 2, the new block faded in, then the minibatch
    stddev, a conv and two equalised linear layers to one output."""

    def __init__(self, ch: int = 32, n_stages: int = 3, group_size: int = 4):
        super().__init__()
        w = _widths(ch, n_stages)
        self.n_stages, self.widths, self.group_size = n_stages, w, int(group_size)
        self.from_rgb = ModuleList([Conv2d(1, w[i], 1, equalized=True) for i in range(n_stages)])
        self.blocks = ModuleList([ModuleList([Conv2d(w[i], w[i], 3, padding=1, equalized=True),
                                              Conv2d(w[i], w[i - 1], 3, padding=1, equalized=True)])
                                  for i in range(1, n_stages)])
        self.conv = Conv2d(w[0] + 1, w[0], 3, padding=1, equalized=True)
        self.dense = Linear(w[0] * 4, w[0], equalized=True)
        self.out = Linear(w[0], 1, equalized=True, gain=1.0)
        self.stage, self.alpha = n_stages - 1, 1.0

    grow = ProGenerator.grow

    def _block(self, i, h):
        conv1, conv2 = self.blocks[i - 1]
        return F.avg_pool2d(_act(conv2(_act(conv1(h)))), 2)

    def forward(self, x):
        s, a = self.stage, self.alpha
        R = 2 ** (s + 1)
        if tuple(x.shape[1:]) != (1, R, R):
            raise ValueError(f"ProGAN D at stage {s} takes (N, 1, {R}, {R}) images, got {tuple(x.shape)}")
        h = _act(self.from_rgb[s](x))
        if s > 0:
            h = self._block(s, h)
            if a < 1.0:                    # the fade-in: at alpha = 0 exactly the previous stage on avgpool(x)
                h = (1.0 - a) * _act(self.from_rgb[s - 1](F.avg_pool2d(x, 2))) + a * h
        for i in range(s - 1, 0, -1):
            h = self._block(i, h)
        h = _act(self.conv(F.minibatch_stddev(h, self.group_size)))
        h = _act(self.dense(F.reshape(h, (h.shape[0], -1))))
        return self.out(h)


class ProGANGame(GAN):
    """WGAN-GP (lambda ||grad D(x^)|| - 1)^2 on interpolates) plus the drift term eps_drift E[D(x)^2]."""

    def __init__(self, G, D, gp_lambda: float = 10.0, drift: float = 1e-3, **kw):
        super().__init__(G, D, **kw)
        self.gp_lambda, self.drift = float(gp_lambda), float(drift)

    def d_loss(self, real, fake, eps=None):
        if eps is None:
            eps = backend.rng().uniform((real.shape[0], 1, 1, 1), dtype=real.dtype)
        real_out = self.critic(real)
        loss = critic_loss(real_out, self.critic(fake))
        loss = loss + self.gp_lambda * gradient_penalty(self.critic, interpolates(real, fake, eps))
        return loss + self.drift * F.mean(real_out * real_out)

    def g_loss(self, fake, real=None):
        return generator_loss(self.critic(fake))

    def grow(self, stage: int, alpha: float) -> None:
        """Set the stage and fade of G, D and G's EMA."""
        for net in (self.generator, self.discriminator) + ((self.ema.module,) if hasattr(self, "ema") else ()):
            net.grow(stage, alpha)


def schedule(step: int, n_stages: int, steps: int) -> tuple[int, float]:
    """(stage, alpha) at a step of ``steps``, cut into 2 n_stages - 1 equal phases (the last one takes the
    remainder): stage 0, then for each later stage a fade with alpha rising linearly from 0 (its first step)
    towards 1, and a stable phase at alpha = 1."""
    stable = fade = steps // (2 * n_stages - 1)
    if step < stable:
        return 0, 1.0
    t = step - stable
    for s in range(1, n_stages):
        if t < fade:
            return s, t / fade
        t -= fade
        if t < stable:
            return s, 1.0
        t -= stable
    return n_stages - 1, 1.0


def blend_real(x, stage: int, alpha: float, n_stages: int):
    """Real images (N, 1, R_max, R_max) at the stage's resolution, faded as G's output is:
    (1 - alpha) up(avgpool(x_s)) + alpha x_s with x_s the images averaged down to 2^(stage+1)."""
    for _ in range(n_stages - 1 - stage):
        x = F.avg_pool2d(x, 2)
    if stage > 0 and alpha < 1.0:
        x = (1.0 - alpha) * F.upsample(F.avg_pool2d(x, 2), 2) + alpha * x
    return x


def progan(c: dict) -> ProGANGame:
    G = ProGenerator(c["latent_dim"], c["ch"], c["n_stages"], c["pixel_norm"])
    D = ProDiscriminator(c["ch"], c["n_stages"], c["mbstd_group"])
    return ProGANGame(G, D, gp_lambda=c["gp_lambda"], drift=c["drift"], latent_dim=c["latent_dim"], ema=c["ema"],
                      ema_warmup=True, n_critic=c["n_critic"])


class ProGANTask(DigitsGANTask):
    """ProGAN grown 2 -> 4 -> 8 on the digits, and the zoo's DCGAN trained beside it on the same batches for
    the same number of steps (``baseline_ch`` channels): both are measured by the same SWD."""

    defaults = {**DigitsTask.defaults, "steps": 1000, "batch_size": 64, "latent_dim": 32, "ch": 16, "n_stages": 3,
 "lr_g": 1e-3, "lr_d": 1e-3, "betas": [0.0, 0.99],
                "gp_lambda": 10.0, "drift": 1e-3, "n_critic": 2, "ema": 0.999, "pixel_norm": True, "mbstd_group": 4,
                "baseline_ch": 64, "n_samples": 1000, "swd_projections": 512}
    signed = True
    conditional = False

    @classmethod
    def check_config(cls, config):
        super().check_config(config)
        c = config
        if 2 ** c["n_stages"] != 8:
            raise ConfigError(f"{cls.name}: the digits (8x8) grow 2 -> 4 -> 8, so n_stages must be 3")
        if c["steps"] < 2 * c["n_stages"] - 1:
            raise ConfigError(f"{cls.name}: steps must be at least {2 * c['n_stages'] - 1} (one per phase)")

    def __init__(self, config):
        super().__init__(config)
        c = config
        self.baseline = dcgan(c["latent_dim"], c["baseline_ch"], 8)
        self.opt_base_g = Adam(self.baseline.generator.parameters(), lr=2e-4, betas=(0.5, 0.999))
        self.opt_base_d = Adam(self.baseline.discriminator.parameters(), lr=2e-4, betas=(0.5, 0.999))
        x, y = self.images(self.data.x_train), backend.to_device(self.data.y_train)
        self.baseline_loader = DataLoader((x, y), batch_size=c["batch_size"], shuffle=True, drop_last=True,
                                          seed=self.seed)          # the same batches as ProGAN's
        self.z_fixed = self.gan.sample_latent(10, backend.Generator(self.seed + 99))

    def make_gan(self):
        return progan(self.config)

    def growth(self, step: int) -> tuple[int, float]:
        c = self.config
        return schedule(step, c["n_stages"], c["steps"])

    def step(self, step):
        stage, alpha = self.growth(step)
        self.gan.grow(stage, alpha)
        c = self.config

        def real():
            return blend_real(self.loader.next()[0], stage, alpha, c["n_stages"])
        out = self.gan.train_step(real, self.opt_d, self.opt_g, step)
        base = self.baseline.train_step(lambda: self.baseline_loader.next()[0], self.opt_base_d, self.opt_base_g,
                                        step)
        last = step + 1 == self.total_steps
        if self.run is not None and (last or self.growth(step + 1)[0] != stage):      # the end of a stage
            self.save_stage_snapshot(step + 1)
        return {**out, "dcgan_d_loss": base["d_loss"], "dcgan_g_loss": base["g_loss"], "stage": stage,
                "alpha": alpha}

    def save_stage_snapshot(self, step: int) -> None:
        """G's EMA on 10 fixed latents at the end of a stage (after ``step`` steps), upsampled to 8x8."""
        with no_grad():
            x = self.gan.sampler(self.z_fixed).data
        self.run.save_snapshot(step, self.rows(_to_full(x)))

    # --- sampling and measuring (the final stage, alpha = 1) ---
    def generate(self, n: int, generator=None):
        """n samples of G's EMA at full resolution, as rows (n, 64) in [0, 1]."""
        c = self.config
        self.gan.grow(c["n_stages"] - 1, 1.0)
        g = generator or backend.rng()
        z = self.gan.sample_latent(n, g)
        with no_grad():
            return self.rows(self.gan.sampler(z).data)

    def generate_baseline(self, n: int, generator=None):
        G = self.baseline.generator
        G.eval()
        try:
            with no_grad():
                return self.rows(G(self.baseline.sample_latent(n, generator or backend.rng())).data)
        finally:
            G.train()

    def measure(self, samples) -> dict:
        """Generated digits ``samples`` (n, 64) in [0, 1]: the Laplacian-pyramid SWD to the training digits,
        the reference classifier's class shares (of all samples: a class is present when >= 2.5% of the
        samples are confidently classified as it), and near-copies of training digits."""
        from minigen.models.classifier import judge
        d, c = self.data, self.config
        swd = pyramid_swd(samples, d.x_train, self.image_shape, n_projections=c["swd_projections"])
        j = judge(samples)
        share = [k / j["n"] for k in j["class_counts"]]
        return {"swd": swd["swd"], "swd_levels": swd["levels"], "confident": j["confident"],
                "class_shares": [round(s, 4) for s in share], "min_class_share": min(share),
                **copy_fraction(samples, d.x_train, d.x_test)}

    def evaluate(self, run):
        n = self.config["n_samples"]
        res = self.measure(self.generate(n, backend.Generator(1)))
        res["dcgan"] = self.measure(self.generate_baseline(n, backend.Generator(1)))
        return res

    def summary(self, r):
        return (f"SWD {r['swd']:.4f} (DCGAN, same steps: {r['dcgan']['swd']:.4f}), rarest class "
                f"{r['min_class_share']:.1%} of samples, {r['copies']:.1%} near-copies")

    def sample(self, n, label=None):
        return Samples(backend.to_host(self.generate(n)), "images", image_shape=self.image_shape)

    def figures(self, run, results):
        from minigen.zoo.dcgan import save_figure
        shown = run.snapshots()
        grown = backend.to_host(xp.concatenate([backend.to_device(s) for _, s in shown], 0)) if shown else []
        ours = backend.to_host(self.generate(100, backend.Generator(2)))
        base = backend.to_host(self.generate_baseline(100, backend.Generator(2)))
        rows = ", ".join(f"{2 ** (self.growth(s - 1)[0] + 1)}x{2 ** (self.growth(s - 1)[0] + 1)} after {s} steps"
                         for s, _ in shown)
        return [save_figure(run.dir / "figure.png",
                            [(f"fixed z through the growth (rows: {rows})", grown, 10),
                             (f"ProGAN (EMA), SWD {results['swd']:.4f}", ours, 10),
                             (f"DCGAN, same steps, SWD {results['dcgan']['swd']:.4f}", base, 10)],
                            f"ProGAN on digits 2->4->8, seed {self.seed}: {self.summary(results)}", self.image_shape)]


def _to_full(x, size: int = 8):
    """(N, 1, R, R) -> (N, 1, size, size) by nearest upsampling (for showing low-resolution stages)."""
    f = size // x.shape[2]
    return F.upsample(x, f) if f > 1 else x


MIN_SHARE, MAX_COPIES = 0.025, 0.05


def ok(r) -> bool:
    return r["swd"] <= r["dcgan"]["swd"] and r["min_class_share"] >= MIN_SHARE and r["copies"] <= MAX_COPIES


def judge(results):
    """On every seed: ProGAN's Laplacian-pyramid SWD to the training digits <= that of the DCGAN trained beside
    it for the same steps, every class present (>= 2.5% of the samples confidently classified as it: a
    quarter of a fair share) and <= 5% near-copies of training digits."""
    swd, swd_s = mean_std(r["swd"] for r in results)
    base, base_s = mean_std(r["dcgan"]["swd"] for r in results)
    lower = sum(r["swd"] <= r["dcgan"]["swd"] for r in results)
    rare = min(r["min_class_share"] for r in results)
    copies = max(r["copies"] for r in results)
    good = sum(ok(r) for r in results)
    per_seed = ", ".join(f"{r['swd']:.4f}/{r['dcgan']['swd']:.4f}" for r in results)
    text = (f"SWD {swd:.4f} ± {swd_s:.4f} vs DCGAN (same steps) {base:.4f} ± {base_s:.4f}, lower on {lower}/"
            f"{len(results)} seeds (per seed: {per_seed}); "
            f"rarest class {rare:.1%} of samples; near-copies <= {copies:.1%}; {good}/{len(results)} seeds pass")
    return text, good == len(results)


def gradcheck_case():
    """ProGAN's whole game in the middle of a fade (stage 1, alpha 0.3), float64: D's WGAN-GP loss with the
    drift term (a gradient inside: second order) through the minibatch stddev, EQLR convs and the faded
    fromRGB, plus G's loss through pixel norm, the faded toRGB and D.  Nets of two stages (2x2, 4x4) and
    width 1, so that every parameter is in use and the finite differences stay few."""
    backend.manual_seed(0)
    c = ProGANTask.make_config(0)
    G, D = ProGenerator(2, 1, 2, True), ProDiscriminator(1, 2, 4)
    gan = to_double(ProGANGame(G, D, gp_lambda=c["gp_lambda"], drift=c["drift"], latent_dim=2))
    gan.grow(1, 0.3)
    g = backend.Generator(1)
    real = Tensor(g.uniform((4, 1, 4, 4), -1.0, 1.0, dtype=xp.float64))
    fake = Tensor(g.uniform((4, 1, 4, 4), -1.0, 1.0, dtype=xp.float64))
    z = Tensor(g.normal((4, 2), dtype=xp.float64))
    eps = g.uniform((4, 1, 1, 1), dtype=xp.float64)
    params = list(gan.discriminator.parameters()) + list(gan.generator.parameters())

    def fn(*ps):
        return gan.d_loss(real, fake, eps) + gan.g_loss(gan.generate(z))
    return fn, params, True


VARIANT = register(Variant(
    name="progan", title="ProGAN", paper="Karras et al. 2018",
    idea="grow G and D 2x2 -> 4x4 -> 8x8, each new block faded in (alpha 0 -> 1); pixel norm, equalised learning "
         "rate, minibatch stddev; WGAN-GP + drift",
    data="digits 8x8",
    criterion="on every seed: Laplacian-pyramid sliced Wasserstein distance (the paper's metric; bands 8, 4, 2, "
              "3x3 patches) to the training digits <= that of the zoo's DCGAN trained beside it for the same steps; "
              "every class present (>= 2.5% of samples confidently classified as it); <= 5% near-copies",
    task=ProGANTask, judge=judge, gradcheck_case=gradcheck_case,
    fast={"steps": 10, "ch": 4, "baseline_ch": 4, "n_samples": 100,
          "swd_projections": 32},
    seeds=3))

