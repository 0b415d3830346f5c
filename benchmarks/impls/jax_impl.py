"""JAX: each training step (forward, ``jax.grad``, Adam, and the noise draw) is one ``jax.jit`` function,
with the parameters and optimiser state donated so XLA may update them in place.  W4's convolutions are
``lax.conv_general_dilated`` (a transposed convolution: the stride-dilated input with the flipped
kernel); W5's LSTM is a ``lax.scan`` over time; W6's modulated convolution one grouped convolution; W4's BatchNorm running statistics are carried as state and updated as PyTorch's.  Optional: the
harness skips it when jax is not installed.  CPU only (``option`` "cpu").
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


def lstm_loss(p, x, y):
    """W5: PyTorch's LSTM (gates i, f, g, o) by ``lax.scan`` over time, a Linear read-out, MSE; x, y (B, T, I)."""
    Wih, Whh = p["lstm.weight_ih_l0"], p["lstm.weight_hh_l0"]
    H = Whh.shape[1]
    A = jnp.swapaxes(x, 0, 1) @ Wih.T + (p["lstm.bias_ih_l0"] + p["lstm.bias_hh_l0"])  # (T, B, 4H)

    def cell(carry, a):
        h, c = carry
        a = a + h @ Whh.T
        i, f, o = jax.nn.sigmoid(a[:, :H]), jax.nn.sigmoid(a[:, H : 2 * H]), jax.nn.sigmoid(a[:, 3 * H :])
        c = f * c + i * jnp.tanh(a[:, 2 * H : 3 * H])
        h = o * jnp.tanh(c)
        return (h, c), h

    zero = jnp.zeros((x.shape[0], H), x.dtype)
    _, hs = jax.lax.scan(cell, (zero, zero), A)
    return jnp.mean((linear(p, "out", hs) - jnp.swapaxes(y, 0, 1)) ** 2)


def modconv_loss(p, x, w, target):
    """W6: the modulated convolution as one grouped ``conv_general_dilated`` over per-sample weights."""
    N, C, H, W = x.shape
    cw, ca = common.w6_scales({"ch": C, "w_dim": w.shape[1]})
    s = w @ (p["mod.affine.weight"] * ca).T + p["mod.affine.bias"]
    wm = p["mod.weight"][None] * cw * s[:, None, :, None, None]
    wm = wm * jax.lax.rsqrt((wm * wm).sum((2, 3, 4)) + common.MODCONV_EPS)[:, :, None, None, None]
    y = jax.lax.conv_general_dilated(x.reshape(1, N * C, H, W), wm.reshape(-1, C, 3, 3), (1, 1), ((1, 1), (1, 1)),
                                     feature_group_count=N)
    return jnp.mean((y.reshape(target.shape) - target) ** 2)


def d_loss(pd, real, fake):
    return bce_with_logits(mlp3(pd, "D", real), 1.0).mean() + bce_with_logits(mlp3(pd, "D", fake), 0.0).mean()


def g_loss(pg, pd, z):
    return bce_with_logits(mlp3(pd, "D", mlp3(pg, "G", z)), 1.0).mean()


# --- W4: the DCGAN (NCHW, PyTorch's weight layouts) ---

_DN = ("NCHW", "OIHW", "NCHW")


def conv(x, w, s, p):
    """conv2d with w (O, C, k, k)."""
    return jax.lax.conv_general_dilated(x, w, (s, s), [(p, p), (p, p)], dimension_numbers=_DN)


def conv_t(x, w, s, p):
    """PyTorch's conv_transpose2d with w (Cin, Cout, k, k): a unit-stride convolution of the input dilated
    by s, padded by k - 1 - p, with the spatially flipped kernel as (Cout, Cin, k, k)."""
    k = w.shape[2]
    wt = jnp.flip(w, (2, 3)).transpose(1, 0, 2, 3)
    q = k - 1 - p
    return jax.lax.conv_general_dilated(
        x, wt, (1, 1), [(q, q), (q, q)], lhs_dilation=(s, s), dimension_numbers=_DN
    )


def batch_norm(x, gamma, beta):
    """Training-mode BatchNorm over (N, H, W); returns y and the batch (mean, biased var, count)."""
    mean = x.mean((0, 2, 3))
    var = x.var((0, 2, 3))
    inv = jax.lax.rsqrt(var + common.BN_EPS) * gamma
    y = (x - mean[None, :, None, None]) * inv[None, :, None, None] + beta[None, :, None, None]
    return y, (mean, var, x.size // x.shape[1])


def running_update(bufs, stats):
    """PyTorch's running-statistics update (unbiased variance) for each BatchNorm in ``stats``."""
    m = common.BN_MOMENTUM
    out = dict(bufs)
    for name, (mean, var, n) in stats.items():
        rm, rv = bufs[name]
        out[name] = ((1 - m) * rm + m * mean, (1 - m) * rv + m * var * (n / (n - 1)))
    return out


def dcgan_g(p, z):
    h, st1 = batch_norm(conv_t(z[:, :, None, None], p["G.0.weight"], 1, 0), p["G.1.weight"], p["G.1.bias"])
    h, st2 = batch_norm(conv_t(jax.nn.relu(h), p["G.3.weight"], 2, 1), p["G.4.weight"], p["G.4.bias"])
    out = jnp.tanh(conv_t(jax.nn.relu(h), p["G.6.weight"], 2, 1) + p["G.6.bias"][None, :, None, None])
    return out, {"G.1": st1, "G.4": st2}


def dcgan_d(p, x):
    h = jax.nn.leaky_relu(conv(x, p["D.0.weight"], 2, 1) + p["D.0.bias"][None, :, None, None], 0.2)
    h, st = batch_norm(conv(h, p["D.2.weight"], 2, 1), p["D.3.weight"], p["D.3.bias"])
    logits = conv(jax.nn.leaky_relu(h, 0.2), p["D.5.weight"], 1, 0).reshape(-1) + p["D.5.bias"]
    return logits, st


def dcgan_d_loss(pd, real, fake):
    lr, st_r = dcgan_d(pd, real)
    lf, st_f = dcgan_d(pd, fake)
    return bce_with_logits(lr, 1.0).mean() + bce_with_logits(lf, 0.0).mean(), (st_r, st_f)


def dcgan_g_loss(pg, pd, z):
    fake, st_g = dcgan_g(pg, z)
    logits, st_d = dcgan_d(pd, fake)
    return bce_with_logits(logits, 1.0).mean(), (st_g, st_d)


# --- Adam, as in PyTorch ---


def adam_init(p):
    return {
        "t": jnp.zeros((), jnp.int32),
        "m": {k: jnp.zeros_like(v) for k, v in p.items()},
        "v": {k: jnp.zeros_like(v) for k, v in p.items()},
    }


def adam_update(p, g, st, lr=common.LR, betas=common.BETAS, eps=common.ADAM_EPS):
    b1, b2 = betas
    t = st["t"] + 1
    tf = t.astype(jnp.float32)
    bc1, bc2 = 1.0 - b1**tf, jnp.sqrt(1.0 - b2**tf)
    m = {k: b1 * st["m"][k] + (1.0 - b1) * g[k] for k in p}
    v = {k: b2 * st["v"][k] + (1.0 - b2) * g[k] * g[k] for k in p}
    new = {k: p[k] - (lr / bc1) * m[k] / (jnp.sqrt(v[k]) / bc2 + eps) for k in p}
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


def _lstm_step(p, st, x, y):
    loss, g = jax.value_and_grad(lstm_loss)(p, x, y)
    p, st = adam_update(p, g, st)
    return p, st, loss


def _modconv_step(p, st, x, w, target):
    loss, g = jax.value_and_grad(modconv_loss)(p, x, w, target)
    p, st = adam_update(p, g, st)
    return p, st, loss


def _gan_step(pg, pd, sg, sd, real, z):
    fake = jax.lax.stop_gradient(mlp3(pg, "G", z))
    ld, gd = jax.value_and_grad(d_loss)(pd, real, fake)
    pd, sd = adam_update(pd, gd, sd)
    lg, gg = jax.value_and_grad(g_loss)(pg, pd, z)
    pg, sg = adam_update(pg, gg, sg)
    return pg, pd, sg, sd, ld, lg


def _dcgan_step(pg, pd, sg, sd, bufs, real, z):
    """One D step then one G step; G's BatchNorm statistics counted once (its forward in the G step
    recomputes the same batch), D's for each of its three forwards, as in the eager implementations."""
    hp = common.adam_args("W4")
    fake, st_g = dcgan_g(pg, z)
    fake = jax.lax.stop_gradient(fake)
    (ld, (st_r, st_f)), gd = jax.value_and_grad(dcgan_d_loss, has_aux=True)(pd, real, fake)
    pd, sd = adam_update(pd, gd, sd, **hp)
    (lg, (_, st_d)), gg = jax.value_and_grad(dcgan_g_loss, has_aux=True)(pg, pd, z)
    pg, sg = adam_update(pg, gg, sg, **hp)
    bufs = running_update(bufs, st_g)
    for st in (st_r, st_f, st_d):
        bufs = running_update(bufs, {"D.3": st})
    return pg, pd, sg, sd, bufs, ld, lg


def _with_key(fn, noise_pos, shape):
    """fn(..., noise at noise_pos, ...) -> fn(..., key) drawing the noise inside and returning the new key."""

    def stepped(*args):
        *args, key = args
        key, sub = jax.random.split(key)
        eps = jax.random.normal(sub, shape, jnp.float32)
        args.insert(noise_pos, eps)
        return (*fn(*args), key)

    return stepped


def _game_step(step_fn, st: list, batches, noise, shape, state: dict, put):
    """The step closure of a two-player workload (W2, W4): ``step_fn(*st, real, key_or_noise)`` returns the
    new state, then the D and G losses (and the next key when it draws its own noise)."""
    n = len(st)
    donate = tuple(range(n))
    if noise is None:
        fn = jax.jit(_with_key(step_fn, n + 1, shape), donate_argnums=donate)
    else:
        fn = jax.jit(step_fn, donate_argnums=donate)

    def step():
        (real,) = batches[state["k"] % len(batches)]
        if noise is None:
            out = fn(*st, real, state["key"])
            state["key"] = out[-1]
        else:
            out = fn(*st, real, put(noise(state["k"])))
        st[:] = out[:n]
        ld, lg = out[n], out[n + 1]
        state["k"] += 1
        _last[0] = lg
        return ld, lg
    return step


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
        step = _game_step(_gan_step, [pg, pd, adam_init(pg), adam_init(pd)], batches, noise, shape, state, put)
    elif workload == "W4":
        pg = {k: v for k, v in init.items() if k.startswith("G")}
        pd = {k: v for k, v in init.items() if k.startswith("D")}
        bufs = {
            k[: -len(".weight")]: (jnp.zeros_like(v), jnp.ones_like(v))
            for k, v in init.items()
            if k.endswith(".weight") and v.ndim == 1
        }
        st = [pg, pd, adam_init(pg), adam_init(pd), bufs]
        step = _game_step(_dcgan_step, st, batches, noise, shape, state, put)
    elif workload in ("W3", "W5", "W6"):
        st = [init, adam_init(init)]
        fn = jax.jit({"W3": _mlp_step, "W5": _lstm_step, "W6": _modconv_step}[workload], donate_argnums=(0, 1))

        def step():
            batch = batches[state["k"] % len(batches)]
            st[0], st[1], loss = fn(st[0], st[1], *batch)
            state["k"] += 1
            _last[0] = loss
            return loss
    else:
        raise ValueError(f"unknown workload {workload!r}")
    return step


def to_float(loss) -> float:
    return float(loss)
