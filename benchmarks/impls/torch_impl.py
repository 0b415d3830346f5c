"""PyTorch eager, written the usual way (nn.Module, F.*, loss.backward(), torch.optim.Adam with its
defaults).  Optional: the harness skips it when torch is not installed.  ``option``: "cpu" or "cuda".
"""

from __future__ import annotations

import itertools

import numpy as np
import torch
import torch.nn.functional as TF
from torch import nn

from benchmarks import common

_device = ["cpu"]


def sync():
    if _device[0] == "cuda":
        torch.cuda.synchronize()


def _mlp(sizes):
    layers = []
    for i, (a, b) in enumerate(itertools.pairwise(sizes)):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def _load(module, arrays, names, device):
    lins = [m for m in module.modules() if isinstance(m, nn.Linear)]
    assert len(lins) == len(names)
    with torch.no_grad():
        for lin, name in zip(lins, names):
            lin.weight.copy_(torch.from_numpy(arrays[f"{name}.weight"]))
            lin.bias.copy_(torch.from_numpy(arrays[f"{name}.bias"]))
    module.to(device)


def _load_named(module, arrays, prefix, device):
    """Copy the shared initial weights into the module's parameters by name (``prefix`` + its own name)."""
    named = dict(module.named_parameters())
    assert {prefix + n for n in named} == {n for n in arrays if n.startswith(prefix)}, sorted(named)
    with torch.no_grad():
        for n, prm in named.items():
            prm.copy_(torch.from_numpy(arrays[prefix + n]))
    module.to(device)


class ModulatedConv2d(nn.Module):
    """W6: StyleGAN2's modulated 3x3 convolution with demodulation, written as StyleGAN2-ADA's PyTorch code
    does (per-sample weights, one grouped convolution); equalised scales applied at run time."""

    def __init__(self, ch, out, w_dim):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(out, ch, 3, 3))
        self.affine = nn.Linear(w_dim, ch)
        self.cw, self.ca = common.w6_scales({"ch": ch, "w_dim": w_dim})

    def forward(self, x, w):
        N, C, H, W = x.shape
        s = TF.linear(w, self.affine.weight * self.ca, self.affine.bias)
        wm = self.weight[None] * self.cw * s[:, None, :, None, None]
        wm = wm * (wm.square().sum([2, 3, 4]) + common.MODCONV_EPS).rsqrt()[:, :, None, None, None]
        y = TF.conv2d(x.reshape(1, N * C, H, W), wm.reshape(-1, C, 3, 3), padding=1, groups=N)
        return y.reshape(N, -1, H, W)


def dcgan(s: dict):
    """W4's G and D (``common.w4_params``): the three-layer DCGAN of the paper as plain Sequentials."""
    c, s0 = s["ch"], s["image"] // 4
    G = nn.Sequential(
        nn.ConvTranspose2d(s["latent"], 4 * c, s0, 1, 0, bias=False),
        nn.BatchNorm2d(4 * c),
        nn.ReLU(),
        nn.ConvTranspose2d(4 * c, 2 * c, 4, 2, 1, bias=False),
        nn.BatchNorm2d(2 * c),
        nn.ReLU(),
        nn.ConvTranspose2d(2 * c, 1, 4, 2, 1),
        nn.Tanh(),
    )
    D = nn.Sequential(
        nn.Conv2d(1, c, 4, 2, 1),
        nn.LeakyReLU(0.2),
        nn.Conv2d(c, 2 * c, 4, 2, 1, bias=False),
        nn.BatchNorm2d(2 * c),
        nn.LeakyReLU(0.2),
        nn.Conv2d(2 * c, 1, s0),
    )
    return G, D


class VAE(nn.Module):
    def __init__(self, x, h, z):
        super().__init__()
        self.enc = nn.Linear(x, h)
        self.mu = nn.Linear(h, z)
        self.logvar = nn.Linear(h, z)
        self.dec1 = nn.Linear(z, h)
        self.dec2 = nn.Linear(h, x)

    def forward(self, x, eps):
        h = TF.relu(self.enc(x))
        mu, logvar = self.mu(h), self.logvar(h)
        z = mu + torch.exp(0.5 * logvar) * eps
        return self.dec2(TF.relu(self.dec1(z))), mu, logvar


def make(workload: str, seed: int = 0, noise=None, sizes=None, option=None, dtype=np.float32):
    device = option or "cpu"
    _device[0] = device
    tdtype = torch.float32 if dtype == np.float32 else torch.float64
    torch.set_default_dtype(tdtype)
    s = common.sizes_of(workload, sizes)
    init = common.init_params(workload, seed, sizes, dtype)
    batches = [
        tuple(torch.from_numpy(a).to(device) for a in b)
        for b in common.make_data(workload, seed, sizes, dtype)
    ]
    gen = torch.Generator(device=device)
    gen.manual_seed(seed + 100)
    shape = common.noise_shape(workload, sizes)
    k = [0]

    def draw():
        if noise is not None:
            return torch.from_numpy(noise(k[0]).astype(dtype, copy=False)).to(device)
        return torch.randn(shape, generator=gen, device=device, dtype=tdtype)

    def adam(params):
        return torch.optim.Adam(params, lr=common.LR, betas=common.BETAS, eps=common.ADAM_EPS)

    if workload == "W1":
        model = VAE(s["x"], s["h"], s["z"])
        _load(model, init, ["enc", "mu", "logvar", "dec1", "dec2"], device)
        opt = adam(model.parameters())
        inv_b = 1.0 / s["batch"]

        def step():
            (x,) = batches[k[0] % len(batches)]
            opt.zero_grad()
            logits, mu, logvar = model(x, draw())
            bce = TF.binary_cross_entropy_with_logits(logits, x, reduction="sum")
            kl = 0.5 * (mu * mu + logvar.exp() - logvar - 1.0).sum()
            loss = (bce + kl) * inv_b
            loss.backward()
            opt.step()
            k[0] += 1
            return loss
    elif workload == "W2":
        G = _mlp([s["noise"], s["h"], s["h"], 2])
        D = _mlp([2, s["h"], s["h"], 1])
        _load(G, init, ["G0", "G1", "G2"], device)
        _load(D, init, ["D0", "D1", "D2"], device)
        opt_g, opt_d = adam(G.parameters()), adam(D.parameters())
        ones = torch.ones((s["batch"], 1), device=device, dtype=tdtype)
        zeros = torch.zeros((s["batch"], 1), device=device, dtype=tdtype)

        def step():
            (real,) = batches[k[0] % len(batches)]
            fake = G(draw())
            opt_d.zero_grad()
            loss_d = TF.binary_cross_entropy_with_logits(D(real), ones) + TF.binary_cross_entropy_with_logits(
                D(fake.detach()), zeros
            )
            loss_d.backward()
            opt_d.step()
            opt_g.zero_grad()
            loss_g = TF.binary_cross_entropy_with_logits(D(fake), ones)
            loss_g.backward()
            opt_g.step()
            k[0] += 1
            return loss_d, loss_g
    elif workload == "W3":
        model = _mlp(list(s["dims"]))
        _load(model, init, [f"L{i}" for i in range(len(s["dims"]) - 1)], device)
        opt = adam(model.parameters())

        def step():
            x, y = batches[k[0] % len(batches)]
            opt.zero_grad()
            loss = TF.mse_loss(model(x), y)
            loss.backward()
            opt.step()
            k[0] += 1
            return loss
    elif workload == "W4":
        G, D = dcgan(s)
        _load_named(G, init, "G.", device)
        _load_named(D, init, "D.", device)
        opt_g = torch.optim.Adam(G.parameters(), **common.adam_args(workload))
        opt_d = torch.optim.Adam(D.parameters(), **common.adam_args(workload))
        B, latent = s["batch"], s["latent"]
        ones = torch.ones((B, 1), device=device, dtype=tdtype)
        zeros = torch.zeros((B, 1), device=device, dtype=tdtype)
        bce = TF.binary_cross_entropy_with_logits

        def disc(x):
            return D(x).reshape(B, 1)

        def step():
            (real,) = batches[k[0] % len(batches)]
            fake = G(draw().reshape(B, latent, 1, 1))
            opt_d.zero_grad()
            loss_d = bce(disc(real), ones) + bce(disc(fake.detach()), zeros)
            loss_d.backward()
            opt_d.step()
            opt_g.zero_grad()
            loss_g = bce(disc(fake), ones)  # non-saturating
            loss_g.backward()
            opt_g.step()
            k[0] += 1
            return loss_d, loss_g

        step.modules = [G, D]
    elif workload == "W5":
        lstm = nn.LSTM(s["input"], s["hidden"], batch_first=True)
        out = nn.Linear(s["hidden"], s["input"])
        _load_named(lstm, init, "lstm.", device)
        _load_named(out, init, "out.", device)
        opt = adam([*lstm.parameters(), *out.parameters()])

        def step():
            x, y = batches[k[0] % len(batches)]
            opt.zero_grad()
            h, _ = lstm(x)
            loss = TF.mse_loss(out(h), y)
            loss.backward()
            opt.step()
            k[0] += 1
            return loss

        step.modules = [lstm, out]
    elif workload == "W6":
        mod = ModulatedConv2d(s["ch"], s["out"], s["w_dim"])
        _load_named(mod, init, "mod.", device)
        opt = adam(mod.parameters())

        def step():
            x, w, target = batches[k[0] % len(batches)]
            opt.zero_grad()
            loss = TF.mse_loss(mod(x, w), target)
            loss.backward()
            opt.step()
            k[0] += 1
            return loss

        step.modules = [mod]
    else:
        raise ValueError(f"unknown workload {workload!r}")
    return step


def to_float(loss) -> float:
    return float(loss.item())
