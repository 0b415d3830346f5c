"""The fused CuPy kernels: their CUDA bodies compile (with NVRTC, when it is installed: no GPU needed), they
agree with the NumPy formulas they replace (when the suite runs on CuPy), and NumPy and strict never use them."""
import re

import numpy as np
import pytest

import minigen as mg
from minigen import functional as F
from minigen import kernels, optim

from helpers import host


def _nvrtc():
    try:
        from cupy_backends.cuda.libs import nvrtc
        nvrtc.getVersion()
    except Exception:  # noqa: BLE001  (not installed, or the library is missing: both mean skip)
        pytest.skip("NVRTC is not installed (pip install 'cupy-cuda12x[ctk]')")
    return nvrtc


def _source(k: kernels.Kernel, ctype: str) -> str:
    """The kernel as CuPy lays it out: inputs read into consts, outputs bound by reference, then the body."""
    def params(spec):
        return [re.fullmatch(r"T (\w+)", p.strip()).group(1) for p in spec.split(",")]
    ins, outs = params(k.params_in), params(k.params_out)
    args = ", ".join([f"const T* _raw_{n}" for n in ins] + [f"T* _raw_{n}" for n in outs] + ["int _n"])
    bind = " ".join([f"const T {n} = _raw_{n}[i];" for n in ins] + [f"T &{n} = _raw_{n}[i];" for n in outs])
    return (f"typedef {ctype} T;\nextern \"C\" __global__ void {k.name}({args}) {{\n"
            f"  int i = blockIdx.x * blockDim.x + threadIdx.x;\n  if (i < _n) {{ {bind}\n    {k.body}\n  }}\n}}\n")


@pytest.mark.parametrize("ctype", ["float", "double"])
@pytest.mark.parametrize("name", sorted(kernels.ALL))
def test_each_kernel_body_compiles(name, ctype):
    nvrtc = _nvrtc()
    prog = nvrtc.createProgram(_source(kernels.ALL[name], ctype), f"{name}.cu", [], [])
    try:
        nvrtc.compileProgram(prog, ["--gpu-architecture=compute_70", "-std=c++14"])
    except Exception as e:  # noqa: BLE001
        pytest.fail(f"{name} ({ctype}) does not compile: {e}\n{nvrtc.getProgramLog(prog)}")


def test_numpy_and_strict_never_take_the_fused_path():
    if mg.get_backend() == "cupy":
        pytest.skip("on CuPy the kernels are the path")
    assert not any(k.on for k in kernels.ALL.values())


@pytest.fixture
def unfused(monkeypatch):
    """Run a block with the kernels switched off: the NumPy formulas, on the same device."""
    def off():
        monkeypatch.setattr(kernels.Kernel, "on", property(lambda self: False))
    return off


def _adam_steps(p0, g, steps=3):
    p = mg.tensor(p0, requires_grad=True)
    opt = optim.Adam([p], lr=1e-2, weight_decay=0.1)
    for _ in range(steps):
        p.grad = mg.tensor(g)
        opt.step()
    return host(p)


def test_fused_kernels_match_the_formulas_they_replace(unfused):
    if mg.get_backend() != "cupy":
        pytest.skip("runs when the suite runs on CuPy (MINIGEN_BACKEND=cupy)")
    rs = np.random.default_rng(0)
    x = mg.tensor(rs.normal(0.0, 30.0, 1000).astype(np.float32))
    p0, g = rs.normal(size=50).astype(np.float32), rs.normal(size=50).astype(np.float32)
    ops = {"sigmoid": F.sigmoid, "softplus": F.softplus, "log_sigmoid": F.log_sigmoid,
           "leaky_relu": lambda t: F.leaky_relu(t, 0.2)}
    fused = {k: host(f(x)) for k, f in ops.items()}
    fused_adam = _adam_steps(p0, g)
    unfused()
    for k, f in ops.items():
        np.testing.assert_allclose(fused[k], host(f(x)), rtol=1e-6, atol=1e-7, err_msg=k)
    np.testing.assert_allclose(fused_adam, _adam_steps(p0, g), rtol=1e-6, atol=1e-7)
