"""The workloads of issue 7 (W1-W3), issue 9 (W4), issue 22 (W5) and issue 21 (W6), and the one place their initial weights and data
come from.

Every implementation loads the arrays made here (NumPy, from the seed), so all of them start from the
same weights and see the same batches.  Only the per-step noise (W1's epsilon, W2's and W4's z) is drawn
inside each implementation by its own RNG, as a real training loop would; tests pass ``noise=`` to
make it identical too.

Parameter layout is PyTorch's: a linear layer ``name`` has ``name.weight`` (out, in) and ``name.bias``
(out,), initialised as ``torch.nn.Linear`` does: U(-1/sqrt(in), 1/sqrt(in)) for both.  W4's parameters
are named as in a ``torch.nn.Sequential`` (``G.3.weight``), with Conv2d weights (out, in, kh, kw),
ConvTranspose2d weights (in, out, kh, kw) and BatchNorm's (weight, bias), initialised as the DCGAN
paper does (see :func:`w4_params`).  W5's LSTM has ``torch.nn.LSTM``'s names, layout (gates i, f, g, o
stacked in that order) and init (everything U(-1/sqrt(H), 1/sqrt(H))), then a Linear ``out``.  W6 is
StyleGAN2's modulated convolution with ``minigen.nn.ModulatedConv2d``'s names and equalised init (see
:func:`w6_params`).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

LR = 1e-3
BETAS = (0.9, 0.999)
ADAM_EPS = 1e-8

WORKLOADS = ("W1", "W2", "W3", "W4", "W5", "W6")
NAMES = {"W1": "vae-mlp", "W2": "gan-2d", "W3": "mlp-big", "W4": "dcgan-28", "W5": "lstm-seq", "W6": "modconv"}
MODCONV_EPS = 1e-8  # demodulation's eps, minigen's and StyleGAN2's default
# (workload, implementation) pairs the harness does not run, and why
EXCLUDED = {("W6", "jax"): "XLA's CPU grouped convolution (and vmap of per-sample ones) takes ~8 s per W6 step "
                           "here, 100x the others: not a measurement of the step"}

# W4 trains as the DCGAN paper (and minigen.zoo.dcgan) does: Adam(2e-4, betas (0.5, 0.999))
ADAM = {"W4": {"lr": 2e-4, "betas": (0.5, 0.999), "eps": ADAM_EPS}}
BN_EPS, BN_MOMENTUM = 1e-5, 0.1  # BatchNorm2d's defaults in minigen and PyTorch


def adam_args(workload: str) -> dict:
    """lr, betas, eps of the workload's Adam optimisers."""
    return dict(ADAM.get(workload, {"lr": LR, "betas": BETAS, "eps": ADAM_EPS}))


# full sizes (issue 7) and tiny ones for gradient checks / quick tests
SIZES = {
    "W1": {"full": {"x": 784, "h": 400, "z": 20, "batch": 128}, "tiny": {"x": 6, "h": 5, "z": 3, "batch": 4}},
    "W2": {"full": {"noise": 2, "h": 128, "batch": 256}, "tiny": {"noise": 2, "h": 5, "batch": 4}},
    "W3": {
        "full": {"dims": (1024, 1024, 1024, 1024), "batch": 512},
        "tiny": {"dims": (4, 5, 6, 3), "batch": 3},
    },
    # the paper's three-layer DCGAN (minigen.zoo.dcgan minus its stride-1 8x8 layer), c = 16, latent 32, 28x28
    "W4": {
        "full": {"image": 28, "ch": 16, "latent": 32, "batch": 64},
        "tiny": {"image": 8, "ch": 2, "latent": 3, "batch": 3},
    },
    # an LSTM (hidden 128) over 30 steps of 8 channels, a Linear read-out at every step, MSE to the input
    # delayed by 3 steps (a delayed copy: the state must carry what it saw)
    "W5": {
        "full": {"input": 8, "hidden": 128, "steps": 30, "delay": 3, "batch": 64},
        "tiny": {"input": 2, "hidden": 3, "steps": 4, "delay": 1, "batch": 2},
    },
    # one StyleGAN2 modulated 3x3 convolution with demodulation (per-sample weights), MSE to a target
    "W6": {
        "full": {"ch": 64, "out": 64, "res": 16, "w_dim": 64, "batch": 32},
        "tiny": {"ch": 2, "out": 3, "res": 4, "w_dim": 3, "batch": 2},
    },
}

N_BATCHES = {"W1": 8, "W2": 16, "W3": 2, "W4": 8, "W5": 8, "W6": 4}  # a fixed pool of batches, cycled step after step


def sizes_of(workload: str, sizes=None) -> dict:
    """``sizes``: None / "full" / "tiny" / a dict overriding entries of the full sizes."""
    if sizes is None or sizes == "full":
        return dict(SIZES[workload]["full"])
    if isinstance(sizes, str):
        return dict(SIZES[workload][sizes])
    return {**SIZES[workload]["full"], **sizes}


@dataclass
class Layer:
    name: str
    fan_in: int
    fan_out: int


def layers(workload: str, sizes=None) -> list[Layer]:
    """The linear layers, in parameter order (also the order the optimisers see them)."""
    s = sizes_of(workload, sizes)
    if workload == "W1":
        return [
            Layer("enc", s["x"], s["h"]),
            Layer("mu", s["h"], s["z"]),
            Layer("logvar", s["h"], s["z"]),
            Layer("dec1", s["z"], s["h"]),
            Layer("dec2", s["h"], s["x"]),
        ]
    if workload == "W2":
        n, h = s["noise"], s["h"]
        return [
            Layer("G0", n, h),
            Layer("G1", h, h),
            Layer("G2", h, 2),
            Layer("D0", 2, h),
            Layer("D1", h, h),
            Layer("D2", h, 1),
        ]
    if workload == "W3":
        d = s["dims"]
        return [Layer(f"L{i}", a, b) for i, (a, b) in enumerate(itertools.pairwise(d))]
    raise ValueError(f"unknown workload {workload!r}; choose from {WORKLOADS}")


def w4_params(sizes=None) -> list[tuple]:
    """W4's parameters as (name, shape, kind), G's then D's, in ``torch.nn.Sequential`` naming.

    G: z -> ConvT(latent, 4c, s0) -> BN -> ReLU -> ConvT(4c, 2c, 4, 2, 1) -> BN -> ReLU
         -> ConvT(2c, 1, 4, 2, 1) + bias -> tanh                    (s0 = image / 4: s0 -> 2 s0 -> 4 s0)
    D: x -> Conv(1, c, 4, 2, 1) + bias -> LeakyReLU(0.2) -> Conv(c, 2c, 4, 2, 1) -> BN -> LeakyReLU(0.2)
         -> Conv(2c, 1, s0) + bias                                  (one logit per image)

    ``kind``: "conv" (weights ~ N(0, 0.02)), "gain" (BatchNorm weight ~ N(1, 0.02)) or "zero" (biases),
    the DCGAN paper's initialisation.  The convolutions followed by BatchNorm have no bias.
    """
    s = sizes_of("W4", sizes)
    c, lat, s0 = s["ch"], s["latent"], s["image"] // 4
    if s["image"] % 4:
        raise ValueError(f"W4: the image side must be a multiple of 4, got {s['image']}")
    return [
        ("G.0.weight", (lat, 4 * c, s0, s0), "conv"),
        ("G.1.weight", (4 * c,), "gain"),
        ("G.1.bias", (4 * c,), "zero"),
        ("G.3.weight", (4 * c, 2 * c, 4, 4), "conv"),
        ("G.4.weight", (2 * c,), "gain"),
        ("G.4.bias", (2 * c,), "zero"),
        ("G.6.weight", (2 * c, 1, 4, 4), "conv"),
        ("G.6.bias", (1,), "zero"),
        ("D.0.weight", (c, 1, 4, 4), "conv"),
        ("D.0.bias", (c,), "zero"),
        ("D.2.weight", (2 * c, c, 4, 4), "conv"),
        ("D.3.weight", (2 * c,), "gain"),
        ("D.3.bias", (2 * c,), "zero"),
        ("D.5.weight", (1, 2 * c, s0, s0), "conv"),
        ("D.5.bias", (1,), "zero"),
    ]


def w5_params(sizes=None) -> list[tuple]:
    """W5's parameters as (name, shape), in ``torch.nn.LSTM`` + ``nn.Linear`` naming and order."""
    s = sizes_of("W5", sizes)
    I, H = s["input"], s["hidden"]
    return [
        ("lstm.weight_ih_l0", (4 * H, I)),
        ("lstm.weight_hh_l0", (4 * H, H)),
        ("lstm.bias_ih_l0", (4 * H,)),
        ("lstm.bias_hh_l0", (4 * H,)),
        ("out.weight", (I, H)),
        ("out.bias", (I,)),
    ]


def w6_params(sizes=None) -> list[tuple]:
    """W6's parameters as (name, shape), ``minigen.nn.ModulatedConv2d``'s names.  Equalised learning rate:
    the stored weights are N(0, 1) and used scaled at run time (:func:`w6_scales`); the affine map's bias
    starts at 1, so the style starts at identity."""
    s = sizes_of("W6", sizes)
    return [("mod.weight", (s["out"], s["ch"], 3, 3)), ("mod.affine.weight", (s["ch"], s["w_dim"])),
            ("mod.affine.bias", (s["ch"],))]


def w6_scales(sizes=None) -> tuple[float, float]:
    """The run-time scales of W6's conv weight (1/sqrt(C 3 3)) and affine weight (1/sqrt(w_dim))."""
    s = sizes_of("W6", sizes)
    return 1.0 / math.sqrt(s["ch"] * 9), 1.0 / math.sqrt(s["w_dim"])


def init_params(workload: str, seed: int = 0, sizes=None, dtype=np.float32) -> dict:
    """name -> array, drawn in a fixed order from ``seed``: PyTorch's nn.Linear init for W1-W3, the
    DCGAN paper's for W4 (:func:`w4_params`)."""
    g = np.random.default_rng([seed, 1])
    out = {}
    if workload == "W4":
        for name, shape, kind in w4_params(sizes):
            if kind == "zero":
                out[name] = np.zeros(shape, dtype)
            else:
                out[name] = g.normal(1.0 if kind == "gain" else 0.0, 0.02, shape).astype(dtype)
        return out
    if workload == "W6":
        for name, shape in w6_params(sizes):
            out[name] = (np.ones(shape) if name.endswith("bias") else g.standard_normal(shape)).astype(dtype)
        return out
    if workload == "W5":
        # torch.nn.LSTM's U(-1/sqrt(H), 1/sqrt(H)) is also nn.Linear's for ``out``, whose fan-in is H
        bound = 1.0 / math.sqrt(sizes_of(workload, sizes)["hidden"])
        for name, shape in w5_params(sizes):
            out[name] = g.uniform(-bound, bound, shape).astype(dtype)
        return out
    for L in layers(workload, sizes):
        bound = 1.0 / math.sqrt(L.fan_in)
        out[f"{L.name}.weight"] = g.uniform(-bound, bound, (L.fan_out, L.fan_in)).astype(dtype)
        out[f"{L.name}.bias"] = g.uniform(-bound, bound, (L.fan_out,)).astype(dtype)
    return out


def ring_of_gaussians(
    g: np.random.Generator, n: int, modes: int = 8, radius: float = 2.0, std: float = 0.02
) -> np.ndarray:
    """n points from ``modes`` Gaussians of std ``std`` evenly spaced on a circle of ``radius``."""
    k = g.integers(0, modes, n)
    ang = 2 * np.pi * k / modes
    centres = radius * np.stack([np.cos(ang), np.sin(ang)], 1)
    return centres + std * g.standard_normal((n, 2))


def blob_images(g: np.random.Generator, n: int, side: int, blobs: int = 3) -> np.ndarray:
    """n images (n, 1, side, side) in [-1, 1]: -1 background with ``blobs`` smooth round spots each
    (random centres and widths), a stand-in for digits that needs no download."""
    t = np.arange(side) + 0.5
    cy, cx = g.uniform(0.2, 0.8, (2, n, blobs, 1, 1)) * side
    sig = g.uniform(0.06, 0.15, (n, blobs, 1, 1)) * side
    d2 = (t[None, None, :, None] - cy) ** 2 + (t[None, None, None, :] - cx) ** 2
    v = np.exp(-d2 / (2 * sig * sig)).sum(1)
    return (2.0 * np.clip(v, 0.0, 1.0) - 1.0)[:, None]


def make_data(workload: str, seed: int = 0, sizes=None, dtype=np.float32) -> list:
    """The pool of batches, cycled by every implementation: step k uses ``batches[k % len(batches)]``.

    W1: binary 'images' (x,), pixels on with a per-pixel probability (a fixed smooth pattern), so the
        VAE has something to model;  W2: (real points,) from the 8-mode ring;
    W3: (inputs, targets), standard normal;  W4: (images,), (batch, 1, side, side) blobs in [-1, 1];
    W5: (x, y), x (batch, steps, input) standard normal, y = x delayed by ``delay`` steps (zeros before);
    W6: (x, w, target), the input maps, the latents and the target maps, all standard normal.
    """
    s = sizes_of(workload, sizes)
    g = np.random.default_rng([seed, 2])
    nb = N_BATCHES[workload]
    if workload == "W1":
        p = 0.5 + 0.45 * np.sin(np.linspace(0, 7 * np.pi, s["x"]))
        return [((g.random((s["batch"], s["x"])) < p).astype(dtype),) for _ in range(nb)]
    if workload == "W2":
        return [(ring_of_gaussians(g, s["batch"]).astype(dtype),) for _ in range(nb)]
    if workload == "W3":
        d = s["dims"]
        return [
            (
                g.standard_normal((s["batch"], d[0])).astype(dtype),
                g.standard_normal((s["batch"], d[-1])).astype(dtype),
            )
            for _ in range(nb)
        ]
    if workload == "W4":
        return [(blob_images(g, s["batch"], s["image"]).astype(dtype),) for _ in range(nb)]
    if workload == "W5":
        out = []
        for _ in range(nb):
            x = g.standard_normal((s["batch"], s["steps"], s["input"])).astype(dtype)
            y = np.zeros_like(x)
            y[:, s["delay"]:] = x[:, : s["steps"] - s["delay"]]
            out.append((x, y))
        return out
    if workload == "W6":
        B, r = s["batch"], s["res"]
        return [(g.standard_normal((B, s["ch"], r, r)).astype(dtype), g.standard_normal((B, s["w_dim"])).astype(dtype),
                 g.standard_normal((B, s["out"], r, r)).astype(dtype)) for _ in range(nb)]
    raise ValueError(f"unknown workload {workload!r}")


def noise_shape(workload: str, sizes=None):
    """Shape of the noise drawn per step (W1: epsilon, W2 and W4: the generator's z), or None.
    W4's z is standard normal (as W2's), not the DCGAN paper's U(-1, 1): the cost is the same."""
    s = sizes_of(workload, sizes)
    if workload == "W1":
        return (s["batch"], s["z"])
    if workload == "W2":
        return (s["batch"], s["noise"])
    if workload == "W4":
        return (s["batch"], s["latent"])
    return None


def fixed_noise(workload: str, seed: int = 0, sizes=None, dtype=np.float32):
    """``noise(k)`` -> the host array for step k: lets tests give every implementation the same noise."""
    shape = noise_shape(workload, sizes)

    def noise(k: int) -> np.ndarray:
        return np.random.default_rng([seed, 3, k]).standard_normal(shape).astype(dtype)

    return noise


# --- FLOPs of the W3 step, for the GEMM limit ---


def w3_gemms(sizes=None, include_first_dx: bool = False) -> list[tuple]:
    """The matrix products of one W3 step as (name, m, k, n, a_transposed, b_transposed).

    Per layer: forward ``x @ W.T`` (m=batch, k=in, n=out), weight gradient ``gy.T @ x`` (out x batch x
    in) and input gradient ``gy @ W`` (batch x out x in).  The first layer's input gradient is not
    needed (the data does not require grad) and no implementation computes it, so a W3 step is
    3 x 3 - 1 = 8 GEMMs; ``include_first_dx`` gives the 9 of the 'forward + both backward GEMMs per
    layer' count.
    """
    s = sizes_of("W3", sizes)
    B, d = s["batch"], s["dims"]
    out = []
    for i, (a, b) in enumerate(itertools.pairwise(d)):
        out.append((f"L{i} fwd x@W.T", B, a, b, False, True))
        out.append((f"L{i} dW gy.T@x", b, B, a, True, False))
        if i > 0 or include_first_dx:
            out.append((f"L{i} dx gy@W", B, b, a, False, False))
    return out


def gemm_flops(gemms) -> float:
    return float(sum(2.0 * m * k * n for _, m, k, n, _, _ in gemms))
