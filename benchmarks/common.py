"""The workloads of issue 7, and the one place their initial weights and data come from.

Every implementation loads the arrays made here (NumPy, from the seed), so all of them start from the
same weights and see the same batches.  Only the per-step noise (W1's epsilon, W2's latent z) is drawn
inside each implementation by its own RNG, as a real training loop would; tests pass ``noise=`` to
make it identical too.

Parameter layout is PyTorch's: a linear layer ``name`` has ``name.weight`` (out, in) and ``name.bias``
(out,), initialised as ``torch.nn.Linear`` does: U(-1/sqrt(in), 1/sqrt(in)) for both.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

LR = 1e-3
BETAS = (0.9, 0.999)
ADAM_EPS = 1e-8

WORKLOADS = ("W1", "W2", "W3")
NAMES = {"W1": "vae-mlp", "W2": "gan-2d", "W3": "mlp-big"}

# full sizes (issue 7) and tiny ones for gradient checks / quick tests
SIZES = {
    "W1": {"full": {"x": 784, "h": 400, "z": 20, "batch": 128}, "tiny": {"x": 6, "h": 5, "z": 3, "batch": 4}},
    "W2": {"full": {"noise": 2, "h": 128, "batch": 256}, "tiny": {"noise": 2, "h": 5, "batch": 4}},
    "W3": {
        "full": {"dims": (1024, 1024, 1024, 1024), "batch": 512},
        "tiny": {"dims": (4, 5, 6, 3), "batch": 3},
    },
}

N_BATCHES = {"W1": 8, "W2": 16, "W3": 2}  # a fixed pool of batches, cycled step after step


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


def init_params(workload: str, seed: int = 0, sizes=None, dtype=np.float32) -> dict:
    """name -> array, PyTorch's nn.Linear init, drawn in a fixed order from ``seed``."""
    g = np.random.default_rng([seed, 1])
    out = {}
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


def make_data(workload: str, seed: int = 0, sizes=None, dtype=np.float32) -> list:
    """The pool of batches, cycled by every implementation: step k uses ``batches[k % len(batches)]``.

    W1: binary 'images' (x,), pixels on with a per-pixel probability (a fixed smooth pattern), so the
        VAE has something to model;  W2: (real points,) from the 8-mode ring;
    W3: (inputs, targets), standard normal.
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
    raise ValueError(f"unknown workload {workload!r}")


def noise_shape(workload: str, sizes=None):
    """Shape of the noise drawn per step (W1: epsilon, W2: the generator's z), or None."""
    s = sizes_of(workload, sizes)
    if workload == "W1":
        return (s["batch"], s["z"])
    if workload == "W2":
        return (s["batch"], s["noise"])
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
