"""The backend switch, the strict device stand-in and the engine RNG."""
import subprocess
import sys

import numpy as np
import pytest

import minigen as mg
from minigen import backend
from minigen.backend import StrictArray, xp


def test_unknown_backend_is_named():
    with pytest.raises(ValueError, match="'numpy', 'cupy' or 'strict'"):
        mg.set_backend("tpu")


def test_cupy_without_cupy_or_gpu_says_how_to_fix():
    try:
        import cupy  # noqa: F401
        cupy.cuda.runtime.getDeviceCount()
        pytest.skip("a CUDA device is present")
    except Exception:
        pass
    prev = mg.get_backend()
    with pytest.raises(RuntimeError, match="cupy") as err:
        mg.set_backend("cupy")
    assert "pip install" in str(err.value) or "no CUDA device" in str(err.value)
    assert mg.get_backend() == prev


def test_strict_arrays_refuse_implicit_conversion(strict):
    a = xp.ones(3)
    assert isinstance(a, StrictArray)
    with pytest.raises(TypeError, match="Implicit conversion"):
        np.asarray(a)
    with pytest.raises(TypeError):
        np.array(a)
    with pytest.raises(TypeError, match="cannot mix"):
        a + np.ones(3)
    with pytest.raises(TypeError, match="cannot mix"):
        np.ones(3) * a
    with pytest.raises(TypeError, match="cannot mix"):
        xp.concatenate([a, np.ones(3)])


def test_strict_arithmetic_and_explicit_transfers(strict):
    a = mg.to_device(np.arange(6.0).reshape(2, 3))
    b = xp.exp(a).sum(axis=0)
    assert isinstance(b, StrictArray) and b.shape == (3,)
    host = mg.to_host(b)
    assert type(host) is np.ndarray
    np.testing.assert_allclose(host, np.exp(np.arange(6.0).reshape(2, 3)).sum(0))
    assert isinstance(a.sum(), StrictArray)          # reductions stay on the device, as in CuPy
    a[0, 0] = 5.0
    assert float(a[0, 0]) == 5.0


def test_strict_tensors_mixing_with_host_arrays_names_both(strict):
    t = mg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(TypeError, match=r"device array.*numpy.ndarray"):
        t * np.array([1.0, 2.0], np.float32)
    assert type(t.numpy()) is np.ndarray


def test_manual_seed_is_reproducible():
    mg.manual_seed(123)
    a = mg.to_host(backend.rng().normal((5,)))
    mg.manual_seed(123)
    b = mg.to_host(backend.rng().normal((5,)))
    np.testing.assert_array_equal(a, b)
    assert a.dtype == np.float32


def test_rng_state_round_trip():
    g = backend.rng()
    state = g.get_state()
    a = mg.to_host(g.uniform((4,)))
    g.set_state(state)
    np.testing.assert_array_equal(a, mg.to_host(g.uniform((4,))))


def test_rng_streams_are_keyed_by_seed_and_key():
    """reseed(k) restarts stream k wherever the generator stood: how a resumed run repeats a step's draws
    (CuPy's Generator has no state to save, so the engine keeps none)."""
    g = backend.Generator(3)
    g.reseed(10)
    a = mg.to_host(g.normal((3,)))
    g.normal((50,))
    g.reseed(11)
    b = mg.to_host(g.normal((3,)))
    g.reseed(10)
    np.testing.assert_array_equal(mg.to_host(g.normal((3,))), a)
    assert not np.array_equal(a, b)
    h = backend.Generator(4)
    h.reseed(10)
    assert not np.array_equal(mg.to_host(h.normal((3,))), a)
    assert set(g.get_state()) == {"kind", "seed", "key"}          # no NumPy bit-generator state


def test_env_var_selects_backend():
    code = "import minigen as mg; print(mg.get_backend())"
    out = subprocess.run([sys.executable, "-c", code], env={**__import__("os").environ,
                         "MINIGEN_BACKEND": "strict"}, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "strict"


def test_core_modules_do_not_import_numpy_for_math():
    """Only the backend (and host-side helpers for files, pictures and the CLI) may import NumPy: viz works
    on host copies of what it draws."""
    import pathlib
    import re
    root = pathlib.Path(mg.__file__).parent
    allowed = re.compile(r"(backend|/data/|/viz/|cli|serialization|training/)")
    offenders = []
    for f in root.rglob("*.py"):
        rel = f.relative_to(root).as_posix()
        if allowed.search("/" + rel):
            continue
        if re.search(r"^\s*(import numpy|from numpy)", f.read_text(), re.M):
            offenders.append(rel)
    assert not offenders, f"import numpy in core modules (use minigen.backend.xp): {offenders}"


def test_cupy_older_than_14_is_refused_with_what_to_install(monkeypatch):
    import sys
    import types
    fake = types.ModuleType("cupy")
    fake.__version__ = "13.6.0"
    monkeypatch.setitem(sys.modules, "cupy", fake)
    with pytest.raises(RuntimeError, match=r"CuPy >= 14.*13\.6\.0.*minigen\[cuda\]"):
        mg.set_backend("cupy")
    assert mg.get_backend() != "cupy"
