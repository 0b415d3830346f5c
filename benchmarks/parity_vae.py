"""Parity: the same VAE recipe trained by minigen and by PyTorch gives the same test ELBO and IWAE.

Same architecture (64 -> 256 -> 128 -> (mu, logvar) -> 128 -> 256 -> 64 Bernoulli logits), the same
initial weights (copied from minigen's model into PyTorch's), the same batches in the same order, Adam
2e-3, batch 64; only the noise eps differs (each framework draws its own).  A gap larger than the
seed-to-seed spread would be a bug in one of them.

    python -m benchmarks.parity_vae --latent 2 16 --epochs 300
"""
from __future__ import annotations

import argparse
import json
import math
import time


import minigen as mg
from minigen.models import VAE
from minigen.data import DataLoader, catalog


def batches(data, epochs, seed):
    """The same mini-batches for both engines: the DataLoader's shuffled epochs of 64 (last partial one
    dropped), as host arrays."""
    loader = DataLoader(data.x_train, batch_size=64, shuffle=True, drop_last=True, seed=seed)
    return [mg.to_host(loader.next().data) for _ in range(epochs * len(loader))]


def train_minigen(data, latent, epochs, seed):
    mg.manual_seed(seed)
    model = VAE(64, latent, hidden=(256, 128))
    init = {k: mg.to_host(v).copy() for k, v in model.state_dict().items()}
    opt = mg.optim.Adam(model.parameters(), lr=2e-3)
    for x in batches(data, epochs, seed):
        loss = model.elbo(mg.tensor(mg.to_device(x))).loss()
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    x = mg.tensor(mg.to_device(data.x_test))
    with mg.no_grad():
        elbo = model.elbo(x, n_samples=10).elbo.mean().item()
        iwae = model.iwae(x, k=1000).mean().item()
    return init, elbo, iwae


def train_torch(data, latent, epochs, seed, init):
    import torch
    from torch import nn
    torch.manual_seed(seed)
    torch.set_num_threads(2)

    class TorchVAE(nn.Module):
        def __init__(self):
            super().__init__()
            self.enc = nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU())
            self.mu, self.logvar = nn.Linear(128, latent), nn.Linear(128, latent)
            self.dec = nn.Sequential(nn.Linear(latent, 128), nn.ReLU(), nn.Linear(128, 256), nn.ReLU(),
                                     nn.Linear(256, 64))

        def terms(self, x, k=1):
            h = self.enc(x)
            mu, logvar = self.mu(h), self.logvar(h)
            eps = torch.randn((k,) + mu.shape)
            z = mu + torch.exp(0.5 * logvar) * eps
            logits = self.dec(z)
            log_px = -nn.functional.binary_cross_entropy_with_logits(logits, x.expand_as(logits),
                                                                     reduction="none").sum(-1)
            return mu, logvar, z, eps, log_px

        def elbo(self, x, k=1):
            mu, logvar, _, _, log_px = self.terms(x, k)
            kl = 0.5 * (mu ** 2 + logvar.exp() - 1 - logvar).sum(-1)
            return log_px.mean(0) - kl

        def iwae(self, x, k):
            mu, logvar, z, eps, log_px = self.terms(x, k)
            log_pz = -0.5 * (z ** 2 + math.log(2 * math.pi)).sum(-1)
            log_qz = -0.5 * (eps ** 2 + logvar + math.log(2 * math.pi)).sum(-1)
            return torch.logsumexp(log_px + log_pz - log_qz, 0) - math.log(k)

    m = TorchVAE()
    names = {"enc.0": "encoder.0", "enc.2": "encoder.2", "mu": "fc_mu", "logvar": "fc_logvar",
             "dec.0": "decoder.0", "dec.2": "decoder.2", "dec.4": "decoder.4"}
    with torch.no_grad():
        for tname, p in m.named_parameters():
            layer, kind = tname.rsplit(".", 1)
            p.copy_(torch.from_numpy(init[f"{names[layer]}.{kind}"]))
    opt = torch.optim.Adam(m.parameters(), lr=2e-3)
    for xb in batches(data, epochs, seed):
        x = torch.from_numpy(xb)
        loss = -m.elbo(x).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    x = torch.from_numpy(data.x_test)
    with torch.no_grad():
        return m.elbo(x, 10).mean().item(), m.iwae(x, 1000).mean().item()


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--latent", type=int, nargs="+", default=[2, 16])
    p.add_argument("--epochs", type=int, default=300)
    p.add_argument("--seeds", type=int, default=2)
    p.add_argument("--out", default="benchmarks/parity_vae.json")
    args = p.parse_args(argv)
    data = catalog.load("digits")
    rows = []
    for latent in args.latent:
        for seed in range(args.seeds):
            t0 = time.perf_counter()
            init, e_mg, i_mg = train_minigen(data, latent, args.epochs, seed)
            t1 = time.perf_counter()
            e_t, i_t = train_torch(data, latent, args.epochs, seed, init)
            t2 = time.perf_counter()
            rows.append({"latent": latent, "seed": seed, "minigen_elbo": e_mg, "minigen_iwae": i_mg,
                         "torch_elbo": e_t, "torch_iwae": i_t, "minigen_s": round(t1 - t0, 1),
                         "torch_s": round(t2 - t1, 1)})
            r = rows[-1]
            print(f"latent {latent} seed {seed}: minigen ELBO {e_mg:.3f} IWAE {i_mg:.3f} ({r['minigen_s']} s) | "
                  f"torch ELBO {e_t:.3f} IWAE {i_t:.3f} ({r['torch_s']} s)")
    with open(args.out, "w") as f:
        json.dump(rows, f, indent=1)
    return rows


if __name__ == "__main__":
    main()
