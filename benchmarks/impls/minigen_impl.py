"""The workloads written as a minigen user would write them: nn.Linear / nn.MLP modules (W4: nn.Conv2d,
nn.ConvTranspose2d, nn.BatchNorm2d in nn.Sequential; W5: nn.LSTM; W6: nn.ModulatedConv2d), functional losses, ``loss.backward()`` and
``optim.Adam``.

``option`` (the harness's backend choice) is "numpy" (default) or "cupy"; under ``MINIGEN_BACKEND=strict``
the same code runs on the strict device stand-in, since every host array goes through ``mg.to_device``.
"""

from __future__ import annotations

import numpy as np

import minigen as mg
from benchmarks import common
from minigen import backend, nn
from minigen import functional as F


def sync():
    if backend.get_backend() == "cupy":
        import cupy

        cupy.cuda.get_current_stream().synchronize()


def _load(module: nn.Module, arrays: dict, names: list[str]):
    """Copy the shared initial weights into the module's Linear layers (in order)."""
    lins = [m for m in module.modules() if isinstance(m, nn.Linear)]
    assert len(lins) == len(names), (len(lins), names)
    for lin, name in zip(lins, names):
        lin.weight.data = mg.to_device(arrays[f"{name}.weight"])
        lin.bias.data = mg.to_device(arrays[f"{name}.bias"])


def _load_named(module: nn.Module, arrays: dict, prefix: str):
    """Copy the shared initial weights into the module's parameters by name (``prefix`` + its own name)."""
    named = dict(module.named_parameters())
    assert {prefix + n for n in named} == {n for n in arrays if n.startswith(prefix)}, sorted(named)
    for n, prm in named.items():
        prm.data = mg.to_device(arrays[prefix + n])


def dcgan(s: dict, dtype) -> tuple:
    """W4's G and D (``common.w4_params``): the three-layer DCGAN of the paper as plain Sequentials."""
    c, s0 = s["ch"], s["image"] // 4
    G = nn.Sequential(
        nn.ConvTranspose2d(s["latent"], 4 * c, s0, 1, 0, bias=False, dtype=dtype),
        nn.BatchNorm2d(4 * c, dtype=dtype),
        nn.ReLU(),
        nn.ConvTranspose2d(4 * c, 2 * c, 4, 2, 1, bias=False, dtype=dtype),
        nn.BatchNorm2d(2 * c, dtype=dtype),
        nn.ReLU(),
        nn.ConvTranspose2d(2 * c, 1, 4, 2, 1, dtype=dtype),
        nn.Tanh(),
    )
    D = nn.Sequential(
        nn.Conv2d(1, c, 4, 2, 1, dtype=dtype),
        nn.LeakyReLU(0.2),
        nn.Conv2d(c, 2 * c, 4, 2, 1, bias=False, dtype=dtype),
        nn.BatchNorm2d(2 * c, dtype=dtype),
        nn.LeakyReLU(0.2),
        nn.Conv2d(2 * c, 1, s0, dtype=dtype),
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
        h = F.relu(self.enc(x))
        mu, logvar = self.mu(h), self.logvar(h)
        z = mu + F.exp(0.5 * logvar) * eps
        logits = self.dec2(F.relu(self.dec1(z)))
        return logits, mu, logvar


def make(workload: str, seed: int = 0, noise=None, sizes=None, option=None, dtype=np.float32):
    if option not in (None, backend.get_backend()):
        mg.set_backend(option)
    s = common.sizes_of(workload, sizes)
    init = common.init_params(workload, seed, sizes, dtype)
    batches = [tuple(mg.to_device(a) for a in b) for b in common.make_data(workload, seed, sizes, dtype)]
    gen = backend.Generator(seed + 100)  # an int seed: CuPy's generator takes no sequence
    shape = common.noise_shape(workload, sizes)
    k = [0]

    def draw():
        if noise is not None:
            return mg.to_device(noise(k[0]).astype(dtype, copy=False))
        return gen.normal(shape, dtype=dtype)

    if workload == "W1":
        model = VAE(s["x"], s["h"], s["z"])
        _load(model, init, ["enc", "mu", "logvar", "dec1", "dec2"])
        opt = mg.optim.Adam(model.parameters(), lr=common.LR, betas=common.BETAS, eps=common.ADAM_EPS)
        inv_b = 1.0 / s["batch"]

        def step():
            (x,) = batches[k[0] % len(batches)]
            opt.zero_grad()
            logits, mu, logvar = model(x, draw())
            loss = (
                F.binary_cross_entropy_with_logits(logits, x, reduction="sum")
                + F.kl_normal_standard(mu, logvar).sum()
            ) * inv_b
            loss.backward()
            opt.step()
            k[0] += 1
            return loss

        step.modules = [model]
    elif workload == "W2":
        G = nn.MLP([s["noise"], s["h"], s["h"], 2])
        D = nn.MLP([2, s["h"], s["h"], 1])
        _load(G, init, ["G0", "G1", "G2"])
        _load(D, init, ["D0", "D1", "D2"])
        opt_g = mg.optim.Adam(G.parameters(), lr=common.LR, betas=common.BETAS, eps=common.ADAM_EPS)
        opt_d = mg.optim.Adam(D.parameters(), lr=common.LR, betas=common.BETAS, eps=common.ADAM_EPS)
        ones = mg.to_device(np.ones((s["batch"], 1), dtype))
        zeros = mg.to_device(np.zeros((s["batch"], 1), dtype))

        def step():
            (real,) = batches[k[0] % len(batches)]
            fake = G(draw())
            opt_d.zero_grad()
            loss_d = F.binary_cross_entropy_with_logits(D(real), ones) + F.binary_cross_entropy_with_logits(
                D(fake.detach()), zeros
            )
            loss_d.backward()
            opt_d.step()
            opt_g.zero_grad()
            loss_g = F.binary_cross_entropy_with_logits(D(fake), ones)  # non-saturating
            loss_g.backward()
            opt_g.step()
            k[0] += 1
            return loss_d, loss_g

        step.modules = [G, D]
    elif workload == "W3":
        model = nn.MLP(list(s["dims"]))
        _load(model, init, [f"L{i}" for i in range(len(s["dims"]) - 1)])
        opt = mg.optim.Adam(model.parameters(), lr=common.LR, betas=common.BETAS, eps=common.ADAM_EPS)

        def step():
            x, y = batches[k[0] % len(batches)]
            opt.zero_grad()
            loss = F.mse_loss(model(x), y)
            loss.backward()
            opt.step()
            k[0] += 1
            return loss

        step.modules = [model]
    elif workload == "W4":
        G, D = dcgan(s, dtype)
        _load_named(G, init, "G.")
        _load_named(D, init, "D.")
        hp = common.adam_args(workload)
        opt_g = mg.optim.Adam(G.parameters(), **hp)
        opt_d = mg.optim.Adam(D.parameters(), **hp)
        B, latent = s["batch"], s["latent"]
        ones = mg.to_device(np.ones((B, 1), dtype))
        zeros = mg.to_device(np.zeros((B, 1), dtype))
        bce = F.binary_cross_entropy_with_logits

        def disc(x):
            return F.reshape(D(x), (B, 1))

        def step():
            (real,) = batches[k[0] % len(batches)]
            fake = G(F.reshape(draw(), (B, latent, 1, 1)))
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
        lstm = nn.LSTM(s["input"], s["hidden"], batch_first=True, dtype=dtype)
        out = nn.Linear(s["hidden"], s["input"], dtype=dtype)
        _load_named(lstm, init, "lstm.")
        _load_named(out, init, "out.")
        opt = mg.optim.Adam([*lstm.parameters(), *out.parameters()], lr=common.LR, betas=common.BETAS,
                            eps=common.ADAM_EPS)

        def step():
            x, y = batches[k[0] % len(batches)]
            opt.zero_grad()
            h, _ = lstm(x)
            loss = F.mse_loss(out(h), y)
            loss.backward()
            opt.step()
            k[0] += 1
            return loss

        step.modules = [lstm, out]
    elif workload == "W6":
        mod = nn.ModulatedConv2d(s["ch"], s["out"], 3, s["w_dim"], dtype=dtype)
        _load_named(mod, init, "mod.")
        opt = mg.optim.Adam(mod.parameters(), lr=common.LR, betas=common.BETAS, eps=common.ADAM_EPS)

        def step():
            x, w, target = batches[k[0] % len(batches)]
            opt.zero_grad()
            loss = F.mse_loss(mod(x, w), target)
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
