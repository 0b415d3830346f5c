"""JAX: each training step (forward, ``jax.grad``, Adam, and the noise draw) is one ``jax.jit`` function,
with the parameters and optimiser state donated so XLA may update them in place.  Optional: the harness
skips it when jax is not installed.  CPU only (``option`` "cpu").
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from benchmarks import common

_last = [None]


def sync():
    if _last[0] is not None:
        jax.block_until_ready(_last[0])


# --- the models, on a dict of parameters ---


def linear(p, name, x):
    return x @ p[f"{name}.weight"].T + p[f"{name}.bias"]


def mlp3(p, prefix, x):
    h = jax.nn.relu(linear(p, f"{prefix}0", x))
    h = jax.nn.relu(linear(p, f"{prefix}1", h))
    return linear(p, f"{prefix}2", h)


def bce_with_logits(logits, t):
    return jnp.logaddexp(0.0, logits) - logits * t


def vae_loss(p, x, eps):
    h = jax.nn.relu(linear(p, "enc", x))
    mu, lv = linear(p, "mu", h), linear(p, "logvar", h)
    z = mu + jnp.exp(0.5 * lv) * eps
    logits = linear(p, "dec2", jax.nn.relu(linear(p, "dec1", z)))
    kl = 0.5 * (mu * mu + jnp.exp(lv) - lv - 1.0)
    return (bce_with_logits(logits, x).sum() + kl.sum()) / x.shape[0]


def mlp_loss(p, x, y):
    n = len(p) // 2
    a = x
    for i in range(n):
        a = linear(p, f"L{i}", a)
        if i < n - 1:
            a = jax.nn.relu(a)
    return jnp.mean((a - y) ** 2)


def d_loss(pd, real, fake):
    return bce_with_logits(mlp3(pd, "D", real), 1.0).mean() + bce_with_logits(mlp3(pd, "D", fake), 0.0).mean()


def g_loss(pg, pd, z):
    return bce_with_logits(mlp3(pd, "D", mlp3(pg, "G", z)), 1.0).mean()


# --- Adam, as in PyTorch ---


def adam_init(p):
    return {
        "t": jnp.zeros((), jnp.int32),
        "m": {k: jnp.zeros_like(v) for k, v in p.items()},
        "v": {k: jnp.zeros_like(v) for k, v in p.items()},
    }


def adam_update(p, g, st):
    b1, b2 = common.BETAS
    t = st["t"] + 1
    tf = t.astype(jnp.float32)
    bc1, bc2 = 1.0 - b1**tf, jnp.sqrt(1.0 - b2**tf)
    m = {k: b1 * st["m"][k] + (1.0 - b1) * g[k] for k in p}
    v = {k: b2 * st["v"][k] + (1.0 - b2) * g[k] * g[k] for k in p}
    new = {k: p[k] - (common.LR / bc1) * m[k] / (jnp.sqrt(v[k]) / bc2 + common.ADAM_EPS) for k in p}
    return new, {"t": t, "m": m, "v": v}


# --- the jitted steps (noise=None: drawn inside from the key; else passed in) ---


def _vae_step(p, st, x, eps):
    loss, g = jax.value_and_grad(vae_loss)(p, x, eps)
    p, st = adam_update(p, g, st)
    return p, st, loss


def _mlp_step(p, st, x, y):
    loss, g = jax.value_and_grad(mlp_loss)(p, x, y)
    p, st = adam_update(p, g, st)
    return p, st, loss


def _gan_step(pg, pd, sg, sd, real, z):
    fake = jax.lax.stop_gradient(mlp3(pg, "G", z))
    ld, gd = jax.value_and_grad(d_loss)(pd, real, fake)
    pd, sd = adam_update(pd, gd, sd)
    lg, gg = jax.value_and_grad(g_loss)(pg, pd, z)
    pg, sg = adam_update(pg, gg, sg)
    return pg, pd, sg, sd, ld, lg


def _with_key(fn, noise_pos, shape):
    """fn(..., noise at noise_pos, ...) -> fn(..., key) drawing the noise inside and returning the new key."""

    def stepped(*args):
        *args, key = args
        key, sub = jax.random.split(key)
        eps = jax.random.normal(sub, shape, jnp.float32)
        args.insert(noise_pos, eps)
        return (*fn(*args), key)

    return stepped


def make(workload: str, seed: int = 0, noise=None, sizes=None, option=None, dtype=np.float32):
    if option not in (None, "cpu"):
        raise ValueError("the JAX implementation runs on the CPU only")
    cpu = jax.devices("cpu")[0]
    put = lambda a: jax.device_put(jnp.asarray(a, jnp.float32), cpu)
    init = {k: put(v) for k, v in common.init_params(workload, seed, sizes, dtype).items()}
    batches = [tuple(put(a) for a in b) for b in common.make_data(workload, seed, sizes, dtype)]
    shape = common.noise_shape(workload, sizes)
    state = {"key": jax.random.PRNGKey(seed + 100), "k": 0}

    if workload == "W1":
        st = [init, adam_init(init)]
        if noise is None:
            fn = jax.jit(_with_key(_vae_step, 3, shape), donate_argnums=(0, 1))
        else:
            fn = jax.jit(_vae_step, donate_argnums=(0, 1))

        def step():
            (x,) = batches[state["k"] % len(batches)]
            if noise is None:
                st[0], st[1], loss, state["key"] = fn(st[0], st[1], x, state["key"])
            else:
                st[0], st[1], loss = fn(st[0], st[1], x, put(noise(state["k"])))
            state["k"] += 1
            _last[0] = loss
            return loss
    elif workload == "W2":
        pg = {k: v for k, v in init.items() if k.startswith("G")}
        pd = {k: v for k, v in init.items() if k.startswith("D")}
        st = [pg, pd, adam_init(pg), adam_init(pd)]
        if noise is None:
            fn = jax.jit(_with_key(_gan_step, 5, shape), donate_argnums=(0, 1, 2, 3))
        else:
            fn = jax.jit(_gan_step, donate_argnums=(0, 1, 2, 3))

        def step():
            (real,) = batches[state["k"] % len(batches)]
            if noise is None:
                out = fn(*st, real, state["key"])
                state["key"] = out[-1]
            else:
                out = fn(*st, real, put(noise(state["k"])))
            st[:] = out[:4]
            ld, lg = out[4], out[5]
            state["k"] += 1
            _last[0] = lg
            return ld, lg
    elif workload == "W3":
        st = [init, adam_init(init)]
        fn = jax.jit(_mlp_step, donate_argnums=(0, 1))

        def step():
            x, y = batches[state["k"] % len(batches)]
            st[0], st[1], loss = fn(st[0], st[1], x, y)
            state["k"] += 1
            _last[0] = loss
            return loss
    else:
        raise ValueError(f"unknown workload {workload!r}")
    return step


def to_float(loss) -> float:
    return float(loss)
