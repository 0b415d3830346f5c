"""MidiNet: A Convolutional GAN for Symbolic-domain Music Generation (Yang, Chou & Yang, ISMIR 2017).

The idea: generate a melody one bar at a time as a piano-roll image x in {0, 1}^(16 x P) (16 sixteenth-note
steps by P pitches) with a conditional DCGAN, and give G two kinds of condition:

    1-D condition   the bar's chord c (12 root pitch classes + a minor flag = 13 numbers), concatenated to z
                    and, broadcast over time, to every intermediate layer of G (and D)
    2-D condition   the previous bar x_prev, encoded by a *conditioner* CNN whose feature maps are concatenated
                    into G's transposed-conv layers at the matching resolution, so every layer of G sees it

    G(z, c, x_prev) = softmax_pitch(convT_(1,P)([h_16, c, C_16])),  h_2t = relu(BN(convT_(2,1)([h_t, c, C_t])))
    C_16 = lrelu(conv_(1,P)(x_prev)),  C_t/2 = lrelu(conv_(2,1), stride 2 (C_t))          (the conditioner)

D is a convnet with one logit; the paper stabilises the game with feature matching and one-sided label
smoothing:

    L_D = -E[0.9 log D(x) + 0.1 log(1 - D(x))] - E[log(1 - D(G(z)))]         (real target 0.9)
    L_G = -E[log D(G(z))] + l1 ||E x - E G(z)||^2 + l2 ||E f1(x) - E f1(G(z))||^2

with f1 D's first-layer features and the means over the batch (the real and fake halves of a step share
their conditions).  A generated bar is made monophonic by argmax over pitches at each step.

The miniature (F5 data, :mod:`minigen.data.music`: procedural melodies in C major over two octaves, P = 24,
a chord per bar from one of eight four-chord progressions; 3,500 training and 840 held-out (previous bar,
chord, bar) examples), with gc = dc = 16, cc = 8, batch 64, 1,200 steps, Adam(2e-4, 0.5, 0.999),
l1 = l2 = 0.1:

    conditioner  x_prev (1, 16, 24) -conv (1,24)-> (cc, 16, 1) -conv (2,1) s2-> (cc, 8, 1) -> (cc, 4, 1)
                 -> (cc, 2, 1), LeakyReLU 0.2 (the paper's time-only kernels)
    G            [z (32), c, flatten(C_2)] -> Linear -> (gc, 2, 1), BN, ReLU; three ConvT (2,1) s2 to (gc, 16, 1),
                 each input [h, C_t, C_16[last step] broadcast] + W_l c, BN, ReLU; ConvT (1,24) over
                 [h_16, C_16, C_16[last]] + W c (per pitch) -> (1, 16, 24) logits -> softmax over pitches
    D            the two-bar roll [x_prev; x] (1, 32, 24) -> conv (2,24) + W c -> (dc, 31, 1), LeakyReLU (f1,
                 the matched features) -> three conv (4,1) s2 p1 (+ W_l c) to (2dc, 3, 1), LeakyReLU
                 -> [flatten, c] -> Linear -> 1 logit

Stated choices (not the paper's):

* The chord enters a layer as a learned term W_l c added to its pre-activation (:class:`ChordTerm`): what
  concatenating c as 13 constant maps does exactly for a kernel spanning the input's width (G's last layer,
  D's first), and up to kernel taps and zero padding for the time kernels -- without convolving 13
  constant maps (a step took 0.21 s of CPU with the concatenation, 0.14 s without, at gc = dc = 32).
* D sees the previous bar (stacked before the bar in time) and its first kernel reads pairs of adjacent
  steps.  The paper's D sees (x, c) only; then no loss term rewards G for continuing from x_prev.
  ``d_sees_prev`` turns it off.
* G's output is one-hot in value, the argmax of its softmax, with the softmax's gradient (straight
  through: x = p + (onehot(argmax p) - p) with the bracket a constant).  With the softmax itself (the
  paper has a sigmoid per cell) D told soft fakes from one-hot real bars at once (D loss 0.33), and G
  collapsed onto one held note per bar (79% copies of training bars, 1.2 distinct pitches per bar, chord
  tones 52-58% after 400-1,200 steps); straight through: 87-99% chord tones after 200-800 steps.
* The conditioner's coarsest maps also enter G's first (linear) layer, and its last-step features (where
  the previous bar's last note is) are broadcast to every layer: with only matching-resolution maps, G's
  first steps see the previous bar's first steps.  Neither made G continue the line (below).
* D has no batch norm (the paper's has); real and fake batches go through D separately anyway.
* No user study: the judge is the melody's measures on 840 held-out (previous bar, chord) pairs.

Tuning (about 25 minutes, seed 0): chord tones and key are met within a few hundred steps once the output
is straight through; the mean jump is not.  It stayed at 6.6-7.8 semitones after 300-1,200 steps with D
reading single steps, pairs of steps, and with the last-step broadcast -- the unconditioned baseline's
level (6.1-8.6) -- while D's loss fell to 0.5-0.8 (D tells the jumps, G does not follow).  Not tried for
lack of time: more steps, two G updates per D update (the authors' code), a larger conditioner.

Measured (``minigen zoo --check midinet``, 1,200 steps, ~100 s of CPU per seed on one core; seeds 0 / 1 / 2):
chord tones 80.6% / 86.2% / 84.7%, in key 100% / 100% / 100%, mean jump 7.40 / 6.12 / 6.35 semitones
(without the conditioner 6.95 / 7.43 / 6.89; real bars 2.5), copies 0.0% / 0.0% / 1.5%, 4.1+ distinct pitches
per bar: FAIL on the jump on every seed (the conditioner is not used: the bars follow the chord, not the
line).  Feature-matching ablation, pitch-histogram L1 to the held-out data at (l1, l2) x 0 / x1 / x10:
0.949 / 0.786 / 0.668, 0.842 / 0.794 / 0.596, 1.026 / 0.807 / 0.831 -- raising the weights from 0 lowered
the distance on 3/3 seeds, from x1 to x10 on 2/3.

Measured alongside, in every run (same seed, same batches):

* the unconditioned baseline: the same G without the conditioner (the 2-D condition removed; chord and z
  kept), trained against the same kind of D; its mean jump says what ignoring the previous bar costs;
* the feature-matching ablation: the same model trained with (l1, l2) = 0 and = ``fm_scale`` times the
  default, and the L1 distance of each one's pitch histogram to the held-out data's.

Measures (argmax per step): chord-tone rate (random notes ~25%), in-key rate (~58%), mean jump from the
previous bar's last note to the first note (~7.8 semitones for random notes, 6.9 for real bars paired with
the wrong previous bar), distinct pitches per bar, and the share of generated bars identical to a training
bar (real held-out bars: 2.5%).
"""
from __future__ import annotations

from functools import lru_cache


from minigen import backend
from minigen import functional as F
from minigen.autograd.mode import no_grad
from minigen.autograd.tensor import Tensor
from minigen.backend import xp
from minigen.data import DataLoader
from minigen.data import music
from minigen.models.gan import GAN, ConditionalGAN
from minigen.nn import BatchNorm1d, BatchNorm2d, Conv2d, ConvTranspose2d, Linear, Module, ModuleList
from minigen.optim import Adam
from minigen.training.task import Samples, Task
from minigen.zoo.criteria import mean_std
from minigen.zoo.dcgan import dcgan_init_
from minigen.zoo.gradcheck_cases import to_double
from minigen.zoo.registry import Variant, register

P, T, NC = music.N_PITCHES, music.N_STEPS, music.N_CHORD


@lru_cache(maxsize=2)
def _melodies(seed: int = 0) -> music.Melodies:
    return music.melodies(seed=seed)


# ----------------------------------------------------------------------------------------------------
# The nets
# ----------------------------------------------------------------------------------------------------

class ChordTerm(Module):
    """The 1-D condition entering a layer: c (N, 13) -> W c reshaped to (N, C, 1, W) and added to the layer's
    pre-activation (N, C, H, W).  Concatenating c as 13 constant maps to the input of a convolution whose
    kernel spans the input's width adds exactly such a term (per output channel and column, the same at
    every time step), without convolving 13 constant maps; with width-1 time kernels this is the
    concatenation up to which kernel tap (and zero padding) each output row reads."""

    def __init__(self, channels: int, width: int = 1):
        super().__init__()
        self.channels, self.width = channels, width
        self.proj = Linear(NC, channels * width, bias=False)

    def forward(self, h, chord):
        return h + F.reshape(self.proj(chord), (chord.shape[0], self.channels, 1, self.width))


class Conditioner(Module):
    """x_prev (N, 1, 16, 24) -> feature maps at time resolutions 16, 8, 4, 2 (each (N, cc, t, 1))."""

    def __init__(self, cc: int):
        super().__init__()
        self.first = Conv2d(1, cc, (1, P))
        self.down = ModuleList([Conv2d(cc, cc, (2, 1), (2, 1)) for _ in range(3)])

    def forward(self, prev):
        maps = [F.leaky_relu(self.first(prev), 0.2)]
        for conv in self.down:
            maps.append(F.leaky_relu(conv(maps[-1]), 0.2))
        return maps                                                    # [C_16, C_8, C_4, C_2]


class Generator(Module):
    """G(z, (x_prev, c)) -> (N, 1, 16, 24), a softmax over pitches at each step.  ``use_prev=False`` drops
    the conditioner (the unconditioned baseline: G sees z and the chord only)."""

    def __init__(self, latent_dim: int = 32, gc: int = 32, cc: int = 16, use_prev: bool = True, hard: bool = True):
        super().__init__()
        self.latent_dim, self.gc, self.use_prev, self.hard = latent_dim, gc, use_prev, hard
        k = cc if use_prev else 0
        if use_prev:
            self.conditioner = Conditioner(cc)
        self.fc = Linear(latent_dim + NC + 2 * k, gc * 2)
        self.bn0 = BatchNorm1d(gc * 2)
        self.up = ModuleList([ConvTranspose2d(gc + 2 * k, gc, (2, 1), (2, 1), bias=False) for _ in range(3)])
        self.chords = ModuleList([ChordTerm(gc) for _ in range(3)])
        self.bns = ModuleList([BatchNorm2d(gc) for _ in range(3)])
        self.out = ConvTranspose2d(gc + 2 * k, 1, (1, P))
        self.out_chord = ChordTerm(1, P)                  # the chord's own weight on each of the 24 pitches

    def logits(self, z, cond):
        prev, chord = cond
        n = z.shape[0]
        maps = self.conditioner(prev)[::-1] if self.use_prev else [None] * 4     # [C_2, C_4, C_8, C_16]
        last = maps[3][:, :, T - 1:, :] if self.use_prev else None                # (N, cc, 1, 1): the last step
        flat = [z, chord] + ([F.reshape(maps[0], (n, -1))] if self.use_prev else [])
        h = F.relu(self.bn0(self.fc(F.concatenate(flat, axis=1))))
        h = F.reshape(h, (n, self.gc, 2, 1))
        for i, (conv, ct, bn) in enumerate(zip(self.up, self.chords, self.bns)):
            h = F.relu(bn(ct(conv(self._join(h, maps[i], last)), chord)))
        return self.out_chord(self.out(self._join(h, maps[3], last)), chord)

    @staticmethod
    def _join(h, cmap, last):
        """[h, the conditioner's map at h's resolution, its last-step features broadcast over time]."""
        if cmap is None:
            return h
        n, k, t, _ = h.shape[0], last.shape[1], h.shape[2], None
        return F.concatenate([h, cmap, F.broadcast_to(last, (n, k, t, 1))], axis=1)

    def forward(self, z, cond):
        p = F.softmax(self.logits(z, cond), axis=-1)
        if not self.hard:
            return p
        a = p.data
        hard = (a == a.max(axis=-1, keepdims=True)).astype(a.dtype)       # one-hot argmax (ties: rare)
        return p + Tensor(hard - a)                                          # value: hard; gradient: dp


class Discriminator(Module):
    """D(x, (x_prev, c)) -> a logit (N, 1); ``features`` is f1, the first layer's activation (N, dc, t, 1)."""

    def __init__(self, dc: int = 32, sees_prev: bool = True):
        super().__init__()
        self.sees_prev = sees_prev
        t = (2 * T if sees_prev else T) - 1
        self.first = Conv2d(1, dc, (2, P))                # each unit reads a pair of adjacent steps
        for _ in range(3):
            t = (t + 2 - 4) // 2 + 1
        self.first_chord = ChordTerm(dc)
        self.convs = ModuleList([Conv2d(dc, 2 * dc, (4, 1), (2, 1), (1, 0)),
                                 Conv2d(2 * dc, 2 * dc, (4, 1), (2, 1), (1, 0)),
                                 Conv2d(2 * dc, 2 * dc, (4, 1), (2, 1), (1, 0))])
        self.chords = ModuleList([ChordTerm(2 * dc) for _ in range(3)])
        self.head = Linear(2 * dc * t + NC, 1)

    def features(self, x, cond):
        prev, chord = cond
        roll = F.concatenate([prev, x], axis=2) if self.sees_prev else x
        return F.leaky_relu(self.first_chord(self.first(roll), chord), 0.2)

    def forward(self, x, cond, features=None):
        h = self.features(x, cond) if features is None else features
        chord = cond[1]
        for conv, ct in zip(self.convs, self.chords):
            h = F.leaky_relu(ct(conv(h), chord), 0.2)
        return self.head(F.concatenate([F.reshape(h, (h.shape[0], -1)), chord], axis=1))


class MidiNetGAN(ConditionalGAN):
    """The conditional GAN of MidiNet: a batch is ``(x, (x_prev, chord))``; the fakes of a step are asked for
    the real batch's conditions; D's loss has one-sided label smoothing (real target ``smooth``) and G's
    adds feature matching on the batch means of x (``fm_x`` = l1) and of D's first layer (``fm_f`` = l2)."""

    def __init__(self, generator, discriminator, latent_dim: int, fm_x: float = 0.1, fm_f: float = 0.1,
                 smooth: float = 0.9):
        super().__init__(generator, discriminator, NC, latent_dim=latent_dim, reuse_fake=True)
        self.fm_x, self.fm_f, self.smooth = float(fm_x), float(fm_f), float(smooth)

    def sample_latent(self, n, generator=None, labels=None):
        if labels is None:
            raise ValueError("MidiNet: a bar is generated for given conditions (previous bars, chords)")
        return GAN.sample_latent(self, n, generator), labels

    def latent_for(self, real):
        return self.sample_latent(real[0].shape[0], None, real[1])

    def d_loss(self, real, fake):
        lr, lf = self.critic(real), self.critic(fake)
        s = self.smooth
        return F.mean(s * F.softplus(-lr) + (1.0 - s) * F.softplus(lr)) + F.mean(F.softplus(lf))

    def g_loss(self, fake, real=None):
        x, cond = fake
        D = self.discriminator
        f_fake = D.features(x, cond)
        loss = F.mean(F.softplus(-D(x, cond, features=f_fake)))
        if real is not None and (self.fm_x or self.fm_f):
            xr, cond_r = real
            if self.fm_x:
                d = F.mean(x, axis=0) - F.mean(xr, axis=0)
                loss = loss + self.fm_x * F.sum(d * d)
            if self.fm_f:
                d = F.mean(f_fake, axis=0) - F.mean(D.features(xr, cond_r), axis=0)
                loss = loss + self.fm_f * F.sum(d * d)
        return loss


def midinet(c: dict, use_prev: bool = True, scale: float = 1.0) -> MidiNetGAN:
    G = dcgan_init_(Generator(c["latent_dim"], c["gc"], c["cc"], use_prev, c["straight_through"]))
    D = dcgan_init_(Discriminator(c["dc"], c["d_sees_prev"]))
    return MidiNetGAN(G, D, c["latent_dim"], scale * c["fm_x"], scale * c["fm_f"], c["smooth"])


# ----------------------------------------------------------------------------------------------------
# The task
# ----------------------------------------------------------------------------------------------------

# the models of a run: the variant and what it is compared with (same seed, same batches)
MODELS = {"midinet": (True, 1.0), "no_prev": (False, 1.0), "fm0": (True, 0.0), "fm_high": (True, None)}


class MidiNetTask(Task):
    defaults = {"steps": 1200, "batch_size": 64, "latent_dim": 32, "gc": 16, "cc": 8, "dc": 16,
                "lr_g": 2e-4, "lr_d": 2e-4, "betas": [0.5, 0.999], "fm_x": 0.1, "fm_f": 0.1, "fm_scale": 10.0,
                "smooth": 0.9, "d_sees_prev": True, "straight_through": True, "song_bars": 8}
    log_every = 50

    def __init__(self, config):
        super().__init__(config)
        c = config
        self.data = _melodies(0)
        d = self.data
        self.gans = {k: midinet(c, use_prev, c["fm_scale"] if scale is None else scale)
                     for k, (use_prev, scale) in MODELS.items()}
        self.opts_g = {k: Adam(g.generator.parameters(), lr=c["lr_g"], betas=tuple(c["betas"]))
                       for k, g in self.gans.items()}
        self.opts_d = {k: Adam(g.discriminator.parameters(), lr=c["lr_d"], betas=tuple(c["betas"]))
                       for k, g in self.gans.items()}
        self.loader = DataLoader((music.rolls(d.bar_train), music.rolls(d.prev_train),
                                  music.chord_vectors(d.chord_train)), batch_size=c["batch_size"], shuffle=True,
                                 drop_last=True, seed=self.seed)

    @property
    def gan(self):
        return self.gans["midinet"]

    def step(self, step):
        x, prev, chord = self.loader.next()
        batch = (x, (prev, chord))
        out = {}
        for k, g in self.gans.items():
            r = g.train_step(batch, self.opts_d[k], self.opts_g[k], step)
            pre = "" if k == "midinet" else f"{k}_"
            out[f"{pre}d_loss"], out[f"{pre}g_loss"] = r["d_loss"], r["g_loss"]
        return out

    # --- generating ---
    def generate(self, prev, chord, key: str = "midinet", generator=None):
        """Pitch indices (N, 16) (device array) of G's bars for previous bars ``prev`` (N, 16) and chords
        ``chord`` (N, 2) (host int arrays), G in eval mode (BN's running statistics)."""
        gan = self.gans[key]
        cond = (Tensor(backend.to_device(music.rolls(prev))), Tensor(backend.to_device(music.chord_vectors(chord))))
        gan.eval()
        try:
            with no_grad():
                x, _ = gan.generate(gan.sample_latent(len(prev), generator, cond))
            return xp.argmax(x.data[:, 0], axis=-1)
        finally:
            gan.train()

    def song(self, first_bar, chords, key: str = "midinet", generator=None):
        """Bars generated one after another, each conditioned on the one before (the first on ``first_bar``)
        and on its chord: (len(chords), 16) host pitch indices."""
        bars, prev = [], [first_bar]
        for ch in chords:
            prev = backend.to_host(self.generate(prev, [ch], key, generator))
            bars.append(prev[0])
        return music.bars_array(bars)

    def measure(self, bars, prev=None, chords=None) -> dict:
        """The measures of bars (N, 16) (host pitch indices) generated for the held-out conditions."""
        d = self.data
        prev = d.prev_test if prev is None else prev
        chords = d.chord_test if chords is None else chords
        return {**music.melody_measures(bars, prev, chords), "copies": music.copy_share(bars, d.bar_train),
                "hist_distance": music.histogram_distance(bars, d.bar_test)}

    def evaluate(self, run):
        d = self.data
        out = {}
        for k in self.gans:
            bars = backend.to_host(self.generate(d.prev_test, d.chord_test, k, backend.Generator(1)))
            out[k] = self.measure(bars)
        c = self.config
        res = {**out.pop("midinet"), "no_prev": out["no_prev"], "real": self.measure(d.bar_test)}
        res["fm_ablation"] = {"scale": [0.0, 1.0, c["fm_scale"]], "fm_x": c["fm_x"], "fm_f": c["fm_f"],
                              "hist_distance": [out["fm0"]["hist_distance"], res["hist_distance"],
                                                out["fm_high"]["hist_distance"]],
                              "chord_tones": [out["fm0"]["chord_tones"], res["chord_tones"],
                                              out["fm_high"]["chord_tones"]]}
        return res

    def summary(self, r):
        a = r["fm_ablation"]["hist_distance"]
        return (f"chord tones {r['chord_tones']:.1%}, in key {r['in_key']:.1%}, mean jump {r['mean_jump']:.2f} "
                f"(no conditioner: {r['no_prev']['mean_jump']:.2f}), {r['copies']:.1%} copies; pitch-histogram "
                f"L1 at FM x0 / x1 / x{r['fm_ablation']['scale'][2]:g}: {a[0]:.3f} / {a[1]:.3f} / {a[2]:.3f}")

    def sample(self, n, label=None):
        """``n`` bars of one melody, generated bar by bar from the first bar of a held-out song over its
        chord progression (one-hot rolls (n, 16, 24)); ``minigen sample`` writes them as .npy, a piano-roll
        .png or a .mid file."""
        d = self.data
        song = d.songs_test[int(backend.rng().integers(0, len(d.songs_test)))]
        chords = [song[1 + i % (len(song) - 1)][1] for i in range(n)]
        bars = self.song(song[0][0], chords)
        return Samples(music.rolls(bars)[:, 0], "pianoroll", image_shape=(T, P))

    def figures(self, run, results):
        from minigen.viz import plots
        d = self.data
        k = self.config["song_bars"]
        rows = []
        for i in range(3):
            s = d.songs_test[i]
            chords = [b[1] for b in s[1:k]]
            names = " ".join(music.chord_name(*b[1]) for b in s[:k])
            rows.append((f"held-out song {i} (real): {names}", music.bars_array([b[0] for b in s[:k]])))
            rows.append(("MidiNet, bar by bar from its first bar",
                         music.bars_array([s[0][0], *self.song(s[0][0], chords, generator=backend.Generator(100 + i))])))
            rows.append(("the same G without the conditioner",
                         music.bars_array([s[0][0], *self.song(s[0][0], chords, "no_prev", backend.Generator(100 + i))])))
        title = f"MidiNet on F5 melodies, seed {self.seed}: {self.summary(results)}"
        return [plots.piano_rolls(rows, run.dir / "figure.png", title, lowest=music.LOWEST_NOTE)]


# ----------------------------------------------------------------------------------------------------
# The judge and the gradient check
# ----------------------------------------------------------------------------------------------------

MIN_CHORD, MIN_KEY, MAX_JUMP, MAX_COPIES, MIN_DISTINCT = 0.80, 0.95, 4.0, 0.10, 2.0


def ok(r) -> bool:
    return (r["chord_tones"] >= MIN_CHORD and r["in_key"] >= MIN_KEY and r["mean_jump"] <= MAX_JUMP
            and r["copies"] <= MAX_COPIES and r["distinct"] >= MIN_DISTINCT)


def judge(results):
    """On every seed, the bars generated for the 840 held-out (previous bar, chord) pairs: >= 80% chord-tone
    steps, >= 95% in key, mean jump from the previous bar's last note <= 4 semitones, <= 10% of the bars
    identical to a training bar (real held-out bars: 2.5%) and >= 2 distinct pitches per bar (the data: 4.1).
    The baseline without the conditioner and the feature-matching ablation are reported, not judged."""
    def ms(key, sub=None):
        return mean_std((r[sub] if sub else r)[key] for r in results)
    ct, cts = ms("chord_tones")
    ik, iks = ms("in_key")
    j, js = ms("mean_jump")
    bj, bjs = ms("mean_jump", "no_prev")
    worst = (min(r["chord_tones"] for r in results), min(r["in_key"] for r in results),
             max(r["mean_jump"] for r in results))
    copies = max(r["copies"] for r in results)
    dist = [r["fm_ablation"]["hist_distance"] for r in results]
    means = [mean_std(x[i] for x in dist)[0] for i in range(3)]
    lower = sum(x[1] < x[0] for x in dist)
    lower_hi = sum(x[2] < x[1] for x in dist)
    good = sum(ok(r) for r in results)
    scale = results[0]["fm_ablation"]["scale"][2]
    text = (f"chord tones {ct:.1%} ± {cts:.1%} (worst {worst[0]:.1%}), in key {ik:.1%} ± {iks:.1%} (worst "
            f"{worst[1]:.1%}), mean jump {j:.2f} ± {js:.2f} semitones (worst {worst[2]:.2f}; without the "
            f"conditioner {bj:.2f} ± {bjs:.2f}), copies of training bars <= {copies:.1%}, "
            f"{min(r['distinct'] for r in results):.1f}+ distinct pitches per bar; pitch-histogram L1 to the data "
            f"at feature matching x0 / x1 / x{scale:g}: {means[0]:.3f} / {means[1]:.3f} / {means[2]:.3f} (x1 below "
            f"x0 on {lower}/{len(results)} seeds, x{scale:g} below x1 on {lower_hi}/{len(results)}); "
            f"{good}/{len(results)} seeds pass")
    return text, good == len(results)


def gradcheck_case():
    """Both players' MidiNet losses (smoothed D loss + G's adversarial and feature-matching terms) as a
    function of all parameters (conditioner, G, D) in float64, small nets: the previous bar enters G through
    the conditioner's maps, the chord through every layer.  G's output is the softmax itself here: the
    straight-through one-hot is by design not differentiable in its value (its backward is the softmax's)."""
    backend.manual_seed(0)
    c = MidiNetTask.make_config(0, gc=3, cc=2, dc=2, latent_dim=3, fm_x=0.7, fm_f=0.3, straight_through=False)
    gan = midinet(c)
    for bn in (gan.generator.bn0, *gan.generator.bns):
        bn.eps = 1e-3                                      # keep batch norm well conditioned at n = 4
    to_double(gan)
    g = backend.Generator(1)
    for p in gan.parameters():          # away from DCGAN's tiny init and zero biases: no pre-activation sits
        p.data = 0.5 * g.normal(p.shape, dtype=xp.float64)       # on a LeakyReLU kink
    n = 4
    roll = lambda: Tensor(backend.to_device(music.rolls(backend.to_host(g.integers(0, P, size=(n, T))))
                                            .astype("float64")))
    chords = Tensor(backend.to_device(music.chord_vectors([[2 * i, i % 2] for i in range(n)]).astype("float64")))
    real, prev = roll(), roll()
    fake = Tensor(g.uniform((n, 1, T, P), dtype=xp.float64))     # a constant: finite differences miss a detach
    z = Tensor(g.normal((n, 3), dtype=xp.float64))
    cond = (prev, chords)
    params = list(gan.discriminator.parameters()) + list(gan.generator.parameters())

    def fn(*ps):
        return gan.d_loss((real, cond), (fake, cond)) + gan.g_loss(gan.generate((z, cond)), (real, cond))
    return fn, params, False


VARIANT = register(Variant(
    name="midinet", title="MidiNet", paper="Yang, Chou & Yang 2017",
    idea="a conv GAN over one-bar piano rolls; a conditioner CNN feeds the previous bar into every G layer (2-D "
         "condition), the chord enters z and every layer (1-D condition); feature matching on the data mean and "
         "D's first layer; one-sided label smoothing",
    data="F5: procedural C-major melodies, 16 steps x 24 pitches, a chord per bar (3,500 train / 840 held-out bars)",
    criterion="on every seed, argmax bars for the held-out (previous bar, chord) pairs: >= 80% chord tones (random "
              "25%), >= 95% in key, mean jump from the previous bar's last note <= 4 semitones, <= 10% identical "
              "to a training bar, >= 2 distinct pitches per bar; baseline without the conditioner and the "
              "feature-matching ablation reported",
    task=MidiNetTask, judge=judge, gradcheck_case=gradcheck_case,
    fast={"steps": 20, "gc": 8, "cc": 4, "dc": 8}, seeds=3))
