"""The benchmark harness (issues 7 and 9): the hand-written NumPy reference is gradient-checked in
float64, every implementation computes the same losses from the same init / data / noise, and the harness
runs end to end.  PyTorch and JAX are optional: their tests are skipped when they are not installed.
"""

import json
import os

import numpy as np
import pytest

from benchmarks import common
from benchmarks.impls import numpy_impl as N

# ----------------------------------------------------------------------------------------------------
# the hand-written backward, against central finite differences in float64
# ----------------------------------------------------------------------------------------------------


def _fd_check(loss_of, params: dict, grads: dict, names, eps=1e-6, rtol=1e-5, atol=1e-8):
    """Compare grads[name] with central differences of loss_of() over every entry of params[name]."""
    checked = 0
    for name in names:
        p, g = params[name], grads[name]
        assert g.shape == p.shape and g.dtype == np.float64, name
        num = np.empty_like(p)
        flat, nflat = p.reshape(-1), num.reshape(-1)
        for i in range(flat.size):
            old = flat[i]
            flat[i] = old + eps
            up = loss_of()
            flat[i] = old - eps
            down = loss_of()
            flat[i] = old
            nflat[i] = (up - down) / (2 * eps)
        np.testing.assert_allclose(g, num, rtol=rtol, atol=atol, err_msg=name)
        checked += flat.size
    return checked


def _tiny(workload, seed=0):
    p = common.init_params(workload, seed, "tiny", np.float64)
    data = common.make_data(workload, seed, "tiny", np.float64)
    noise = common.fixed_noise(workload, seed, "tiny", np.float64) if common.noise_shape(workload) else None
    return p, data, noise


def test_gradcheck_w1_vae():
    p, data, noise = _tiny("W1")
    (x,), eps = data[0], noise(0)
    _, g = N.vae_loss_grad(p, x, eps)
    assert set(g) == set(p)
    assert _fd_check(lambda: N.vae_loss_grad(p, x, eps, need_grad=False)[0], p, g, list(p)) > 100


def test_gradcheck_w2_discriminator():
    p, data, noise = _tiny("W2")
    (real,) = data[0]
    fake, _ = N.mlp3_forward(p, "G", noise(0))
    _, g = N.gan_d_loss_grad(p, real, fake)
    names = [k for k in p if k.startswith("D")]
    assert set(g) == set(names)
    _fd_check(lambda: N.gan_d_loss_grad(p, real, fake)[0], p, g, names)


def test_gradcheck_w2_generator():
    p, _data, noise = _tiny("W2")
    z = noise(0)

    def loss_of():
        fake, cache = N.mlp3_forward(p, "G", z)
        return N.gan_g_loss_grad(p, fake, cache)[0]

    fake, cache = N.mlp3_forward(p, "G", z)
    _, g = N.gan_g_loss_grad(p, fake, cache)
    names = [k for k in p if k.startswith("G")]
    assert set(g) == set(names)
    _fd_check(loss_of, p, g, names)


def test_gradcheck_w3_mlp():
    p, data, _ = _tiny("W3")
    x, y = data[0]
    _, g = N.mlp_loss_grad(p, x, y)
    assert set(g) == set(p)
    _fd_check(lambda: N.mlp_loss_grad(p, x, y, need_grad=False)[0], p, g, list(p))


def test_gradcheck_w5_lstm():
    p, data, _ = _tiny("W5")
    x, y = (np.ascontiguousarray(a.transpose(1, 0, 2)) for a in data[0])  # time-major, as the step runs it
    _, g = N.lstm_loss_grad(p, x, y)
    assert set(g) == set(p)
    assert _fd_check(lambda: N.lstm_loss_grad(p, x, y, need_grad=False)[0], p, g, list(p)) > 50


def test_gradcheck_w6_modulated_conv():
    p, data, _ = _tiny("W6")
    x, w, target = data[0]
    _, g = N.modconv_loss_grad(p, x, w, target)
    assert set(g) == set(p)
    _fd_check(lambda: N.modconv_loss_grad(p, x, w, target, need_grad=False)[0], p, g, list(p))


def _w4_tiny(seed=0):
    """W4 at tiny sizes in float64: params, BatchNorm buffers, a real batch (channel-major) and z."""
    p, data, noise = _tiny("W4", seed)
    return p, N.dcgan_buffers(p), data[0][0].transpose(1, 0, 2, 3), noise(0)


def _fd_check_sampled(loss_of, params, grads, names, per_tensor=12, seed=0):
    """_fd_check on at most ``per_tensor`` random entries of each tensor (W4's tensors are bigger)."""
    g = np.random.default_rng(seed)
    for name in names:
        p, gr = params[name], grads[name]
        assert gr.shape == p.shape and gr.dtype == np.float64, name
        idx = g.choice(p.size, min(per_tensor, p.size), replace=False)
        num = []
        for i in idx:
            old = p.flat[i]
            p.flat[i] = old + 1e-6
            up = loss_of()
            p.flat[i] = old - 1e-6
            down = loss_of()
            p.flat[i] = old
            num.append((up - down) / 2e-6)
        np.testing.assert_allclose(gr.flat[idx], num, rtol=1e-5, atol=1e-9, err_msg=name)


def test_gradcheck_w4_discriminator():
    p, bufs, real, z = _w4_tiny()
    fake, _ = N.dcgan_g_forward(p, bufs, z)
    _, g = N.dcgan_d_loss_grad(p, bufs, real, fake)
    names = [k for k in p if k.startswith("D")]
    assert set(g) == set(names)
    _fd_check_sampled(lambda: N.dcgan_d_loss_grad(p, bufs, real, fake)[0], p, g, names)


def test_gradcheck_w4_generator():
    p, bufs, _real, z = _w4_tiny()

    def loss_of():
        fake, cache = N.dcgan_g_forward(p, bufs, z)
        return N.dcgan_g_loss_grad(p, bufs, fake, cache)[0]

    fake, cache = N.dcgan_g_forward(p, bufs, z)
    _, g = N.dcgan_g_loss_grad(p, bufs, fake, cache)
    names = [k for k in p if k.startswith("G")]
    assert set(g) == set(names)
    _fd_check_sampled(loss_of, p, g, names)


def test_w4_conv_helpers_are_adjoint():
    """<conv(x), y> = <x, col2im(w^T y)> and conv_t is conv's input adjoint, for the strides W4 uses."""
    g = np.random.default_rng(0)
    for C, O, H, k, s, pad in [(2, 3, 8, 4, 2, 1), (3, 2, 4, 4, 1, 0), (4, 1, 5, 5, 1, 0)]:
        x = g.standard_normal((C, 2, H, H))
        w = g.standard_normal((O, C, k, k))
        y, cols = N.conv(x, w, s, pad)
        gy = g.standard_normal(y.shape)
        dx, _ = N.conv_grads(gy, cols, w, x.shape, s, pad)
        assert np.vdot(y, gy) == pytest.approx(np.vdot(x, dx), rel=1e-12)
        t = N.conv_t(gy, w, s, pad)  # w (O, C, k, k) read as conv_t's (in, out, k, k)
        assert t.shape == x.shape and np.allclose(t, dx, rtol=1e-12, atol=1e-12)


def test_numpy_adam_matches_the_formula():
    g = np.random.default_rng(0)
    p0 = g.standard_normal(5)
    grads = [g.standard_normal(5) for _ in range(3)]
    params = {"w": p0.copy()}
    opt = N.Adam(params, lr=0.1)
    m = v = np.zeros(5)
    p = p0.copy()
    for t, gr in enumerate(grads, 1):
        opt.step({"w": gr})
        m = 0.9 * m + 0.1 * gr
        v = 0.999 * v + 0.001 * gr * gr
        p = p - 0.1 * (m / (1 - 0.9**t)) / (np.sqrt(v / (1 - 0.999**t)) + 1e-8)
    np.testing.assert_allclose(params["w"], p, rtol=1e-12)


def test_reference_keeps_float32():
    for w in common.WORKLOADS:
        step = N.make(w, sizes="tiny")
        out = step()
        for v in out if isinstance(out, tuple) else (out,):
            assert np.asarray(v).dtype == np.float32, w
        assert all(a.dtype == np.float32 for a in step.params.values()), w


# ----------------------------------------------------------------------------------------------------
# every implementation: the same losses from the same init, data and noise
# ----------------------------------------------------------------------------------------------------


def _losses(mod, workload, steps=3, sizes=None, dtype=np.float32):
    noise = common.fixed_noise(workload, 0, sizes, dtype) if common.noise_shape(workload) else None
    step = mod.make(workload, seed=0, noise=noise, sizes=sizes, dtype=dtype)
    out = []
    for _ in range(steps):
        v = step()
        out.append([mod.to_float(x) for x in v] if isinstance(v, tuple) else [mod.to_float(v)])
    return np.array(out), step


@pytest.fixture(scope="module")
def reference_losses():
    return {w: _losses(N, w)[0] for w in common.WORKLOADS}


def _compare(got, ref):
    # step 0: same weights, data and noise -> the same loss up to float32 rounding of the sums;
    # after two Adam steps: the trajectories still agree (backward and optimizer agree too)
    np.testing.assert_allclose(got[0], ref[0], rtol=2e-6)
    np.testing.assert_allclose(got[1:], ref[1:], rtol=1e-4)


@pytest.mark.parametrize("workload", common.WORKLOADS)
def test_minigen_matches_reference(workload, reference_losses):
    import minigen as mg
    from benchmarks.impls import minigen_impl as M

    backend = mg.get_backend()
    try:
        got, step = _losses(M, workload, sizes=None)
        assert mg.get_backend() == backend  # under strict the impl runs on strict
        _compare(got, reference_losses[workload])
        # float32 work stays float32: parameters, gradients and the Adam state
        for module in step.modules:
            for p in module.parameters():
                assert p.dtype == np.float32 and p.grad is not None and p.grad.dtype == np.float32
    finally:
        mg.set_backend(backend)


@pytest.mark.parametrize("workload", common.WORKLOADS)
def test_torch_matches_reference(workload, reference_losses):
    pytest.importorskip("torch")
    from benchmarks.impls import torch_impl as T

    _compare(_losses(T, workload)[0], reference_losses[workload])


@pytest.mark.parametrize("workload", common.WORKLOADS)
def test_jax_matches_reference(workload, reference_losses):
    pytest.importorskip("jax")
    if (workload, "jax") in common.EXCLUDED:
        pytest.skip(common.EXCLUDED[workload, "jax"])
    from benchmarks.impls import jax_impl as J

    _compare(_losses(J, workload)[0], reference_losses[workload])


# W4 at tiny sizes in float64: the losses of 4 steps and the trained weights agree to rounding, which
# checks every gradient (Adam's update of a parameter depends on its gradient's sign and size history).
# JAX runs in float32 only (x64 is a process-wide switch): the full-size float32 comparison above covers it.


def _named_weights(step, to_host=None) -> dict:
    """name -> host array of the trained parameters, in the common naming ("G.3.weight");
    ``to_host(parameter)`` for a framework's modules (``step.modules`` = [G, D])."""
    if hasattr(step, "params"):
        return dict(step.params)
    return {
        prefix + n: to_host(prm)
        for prefix, module in zip(("G.", "D."), step.modules)
        for n, prm in module.named_parameters()
    }


@pytest.fixture(scope="module")
def w4_tiny_reference():
    losses, step = _losses(N, "W4", steps=4, sizes="tiny", dtype=np.float64)
    return losses, _named_weights(step)


def _compare_w4_tiny(mod, ref, to_host):
    losses, step = _losses(mod, "W4", steps=4, sizes="tiny", dtype=np.float64)
    np.testing.assert_allclose(losses, ref[0], rtol=1e-10)
    got, want = _named_weights(step, to_host), ref[1]
    assert set(got) == set(want)
    init = common.init_params("W4", 0, "tiny", np.float64)
    for k in want:
        assert got[k].dtype == np.float64, k
        assert not np.array_equal(want[k], init[k]), k  # every parameter trained
        np.testing.assert_allclose(got[k], want[k], rtol=1e-9, atol=1e-12, err_msg=k)


def test_w4_tiny_minigen_matches_reference(w4_tiny_reference):
    import minigen as mg
    from benchmarks.impls import minigen_impl as M

    backend = mg.get_backend()
    try:
        _compare_w4_tiny(M, w4_tiny_reference, lambda prm: mg.to_host(prm.data))
        assert mg.get_backend() == backend
    finally:
        mg.set_backend(backend)


def test_w4_tiny_torch_matches_reference(w4_tiny_reference):
    pytest.importorskip("torch")
    from benchmarks.impls import torch_impl as T

    _compare_w4_tiny(T, w4_tiny_reference, lambda prm: prm.detach().cpu().numpy())


def test_same_init_and_data_every_time():
    for w in common.WORKLOADS:
        a, b = common.init_params(w, 3), common.init_params(w, 3)
        assert all(np.array_equal(a[k], b[k]) for k in a)
        assert not np.array_equal(common.init_params(w, 4)[next(iter(a))], a[next(iter(a))])
        da, db = common.make_data(w, 3), common.make_data(w, 3)
        assert all(np.array_equal(x, y) for bx, by in zip(da, db) for x, y in zip(bx, by))


def test_w3_flops():
    assert common.gemm_flops(common.w3_gemms()) == 8 * 2 * 512 * 1024 * 1024
    assert common.gemm_flops(common.w3_gemms(include_first_dx=True)) == 9 * 2 * 512 * 1024 * 1024


# ----------------------------------------------------------------------------------------------------
# the harness end to end (2 steps per implementation, fresh processes)
# ----------------------------------------------------------------------------------------------------


def test_harness_smoke(tmp_path):
    from benchmarks import report, run

    readme = tmp_path / "README.md"
    readme.write_text(
        "# Benchmarks\n\nintro\n\n<!-- results:start -->\nold\n<!-- results:end -->\n\nfooter\n"
    )
    out = tmp_path / "results.json"
    data = run.main(
        [
            "--impls",
            "numpy,minigen",
            "--steps",
            "2",
            "--warmup",
            "1",
            "--repeats",
            "1",
            "--mem-steps",
            "4",
            "--mem-workloads",
            "W2",
            "--retries",
            "0",
            "--max-wait",
            "0",
            "--out",
            str(out),
            "--readme",
            str(readme),
        ]
    )
    saved = json.loads(out.read_text())
    (name, setting), = saved["settings"].items()      # OPENBLAS_CORETYPE unset: one setting
    assert setting["workloads"].keys() == set(common.WORKLOADS)
    for w, e in setting["workloads"].items():
        assert set(e["impls"]) == {"numpy", "minigen"}, w
        for impl, st in e["impls"].items():
            assert "errors" not in st, (w, impl, st.get("errors"))
            assert st["n"] == 2 and st["median_ms"] > 0 and st["peak_rss_mb"] > 0
        assert e["impls"]["numpy"]["ratio"] == pytest.approx(1.0)
    assert setting["gemm"]["limit_ms"] > 0 and setting["gemm"]["flops8"] == 8 * 2 * 512 * 1024**2
    assert setting["gemm"]["lib"] == "numpy" and set(setting["gemms"]) == {"numpy"}
    assert setting["workloads"]["W3"]["impls"]["minigen"]["ratio_to_gemm_limit"] > 0
    assert [m["workload"] for m in saved["memory"]] == ["W2"]
    assert all("error" not in m for m in saved["memory"])
    assert setting["machine"]["numpy"] == np.__version__
    assert saved["meta"]["malloc"] == {"tuned": False, "why": "glibc's defaults"}
    names = [t["target"] for t in setting["targets"]]
    assert any("GEMM limit" in n for n in names) and sum("peak RSS" in n for n in names) == len(common.WORKLOADS)
    assert any("JAX" in n for n in names) and any("PyTorch" in n for n in names)
    text = readme.read_text()
    assert text.startswith("# Benchmarks\n\nintro") and text.rstrip().endswith("footer")
    assert "old" not in text and "| W3 mlp-big |" in text and "GEMM limit" in text
    assert text.count(report.START) == 1 and text.count(report.END) == 1
    assert data["settings"][name]["workloads"]["W2"]["impls"]["minigen"]["median_ms"] > 0
    # the README is regenerated from the JSON alone
    report.main(["--json", str(out), "--readme", str(readme)])
    assert readme.read_text() == text


def test_profile_splits_the_conv_ops_and_restores_them():
    import minigen as mg
    from benchmarks import profile
    from minigen.ops import conv

    def patched():
        return (conv._im2col, conv._col2im, mg.backend.xp.matmul, conv.Conv2d.forward, conv.Conv2dWeightGrad.forward)

    backend = mg.get_backend()
    originals = patched()
    try:
        out = profile.profile("W4", steps=1, warmup=0, seed=0, cprofile=0, backend=backend)
    finally:
        mg.set_backend(backend)
    assert patched() == originals
    if backend == "numpy":  # the split needs NumPy arrays
        cats = out["categories"]
        for key in ("conv im2col", "conv GEMM", "conv glue"):
            assert sum(v for k, v in cats.items() if k.startswith(key)) > 0, (key, cats)
        labels = out["labels"]
        for op in ("Conv2d", "Conv2dInputGrad", "Conv2dWeightGrad (in backward)"):
            assert labels.get(f"conv: GEMM (matmul) [{op}]", 0) > 0, (op, sorted(labels))


def test_profile_counts_linear_products_as_linear_gemms(tmp_path):
    """Linear calls xp.matmul too: outside a conv op its products are GEMM ops, not conv GEMMs; a saved
    profile lands in the README's generated table with its shares."""
    import argparse

    import minigen as mg
    from benchmarks import profile, report

    backend = mg.get_backend()
    try:
        out = profile.profile("W2", steps=1, warmup=0, seed=0, cprofile=0, backend=backend)
    finally:
        mg.set_backend(backend)
    cats = out["categories"]
    assert not any(k.startswith("conv") for k in cats), sorted(cats)
    assert sum(v for k, v in cats.items() if k.startswith("GEMM ops")) > 0
    readme = tmp_path / "README.md"
    readme.write_text(f"# b\n\n{report.PSTART}\nold\n{report.PEND}\ntail\n")
    args = argparse.Namespace(json=str(tmp_path / "p.json"), threads=2, backend=backend, steps=1)
    orig = report.write_profiles
    report.write_profiles = lambda data: orig(data, readme)
    try:
        profile.save("after", {"W2": out}, args)
    finally:
        report.write_profiles = orig
    text = readme.read_text()
    assert "old" not in text and text.endswith("tail\n")
    row = next(line for line in text.splitlines() if line.startswith("| W2 | after |"))
    assert f"{out['plain_ms']:.2f}" in row


def test_unknown_names_are_refused():
    from benchmarks import run

    with pytest.raises(SystemExit):
        run.main(["--workloads", "W9", "--no-readme"])


def test_blas_settings_change_only_the_measuring_processes(monkeypatch):
    from benchmarks import run

    monkeypatch.setenv("OPENBLAS_CORETYPE", "Haswell")
    monkeypatch.setattr(run, "BLAS", ["own"])
    assert "OPENBLAS_CORETYPE" not in run.worker_env(2)
    monkeypatch.setattr(run, "BLAS", ["machine"])
    assert run.worker_env(2)["OPENBLAS_CORETYPE"] == "Haswell"
    assert os.environ["OPENBLAS_CORETYPE"] == "Haswell"       # this process's environment is left alone
