"""minigen.save / minigen.load: one atomic .npz, no pickle, device-independent."""
import json
import os
import zipfile

import numpy as np
import pytest

import minigen as mg
from minigen import backend
from minigen import serialization as ser
from minigen.serialization import CheckpointError, load, save

from helpers import host

UNPICKLED = []


class Bomb:
    """Records it was unpickled: a loader that unpickles would run this."""

    def __reduce__(self):
        return (UNPICKLED.append, ("unpickled!",))


@pytest.fixture
def use_backend():
    original = mg.get_backend()
    yield mg.set_backend
    mg.set_backend(original)


def _state():
    g = backend.Generator(123)
    g.normal((3,))                                        # advance it, so the state is not the seed's
    return {
        "model": {"enc.0.weight": mg.tensor(np.arange(6, dtype=np.float32).reshape(2, 3), requires_grad=True),
                  "enc.0.bias": mg.to_device(np.array([0.5, -1.5], dtype=np.float32)),
                  "bn.count": np.array(7, dtype=np.int64)},
        "optim": {"state": {0: {"m": np.ones((2, 3), np.float64), "step": np.int64(4)}},
                  "param_groups": [{"lr": 1e-3, "betas": (0.9, 0.999), "params": [0, 1]}]},
        "step": 1200, "loss": float("nan"), "done": False, "note": None,
        "config": {"z_dim": 16, "layers": [64, 64], "name": "vae", "$odd": 1},
        "mask": np.array([True, False]),
        "rng": g.get_state(),
    }


def test_round_trip(tmp_path):
    path = tmp_path / "ckpt.npz"
    state = _state()
    save(state, path)
    out = load(path)
    w = out["model"]["enc.0.weight"]
    assert backend.is_array(w) and not isinstance(w, mg.Tensor)                 # Tensors come back as arrays
    assert host(w).tolist() == [[0, 1, 2], [3, 4, 5]] and w.dtype == np.float32
    assert host(out["model"]["enc.0.bias"]).tolist() == [0.5, -1.5]
    assert host(out["model"]["bn.count"]).shape == () and int(host(out["model"]["bn.count"])) == 7
    assert list(out["optim"]["state"]) == [0]                                   # int keys stay ints
    assert host(out["optim"]["state"][0]["m"]).dtype == np.float64 and out["optim"]["state"][0]["step"] == 4
    assert out["optim"]["param_groups"][0]["betas"] == (0.9, 0.999)             # tuples stay tuples
    assert out["step"] == 1200 and np.isnan(out["loss"]) and out["done"] is False and out["note"] is None
    assert out["config"] == {"z_dim": 16, "layers": [64, 64], "name": "vae", "$odd": 1}
    assert host(out["mask"]).dtype == np.bool_ and host(out["mask"]).tolist() == [True, False]


def test_rng_state_survives(tmp_path):
    """The engine RNG's state is its stream's seed and key: saved and restored, the stream restarts."""
    g = backend.Generator(7)
    g.reseed(5)
    save({"rng": g.get_state()}, tmp_path / "r.npz")
    want = host(g.normal((4,)))
    h = backend.Generator(0)
    h.set_state(load(tmp_path / "r.npz")["rng"])
    assert np.array_equal(host(h.normal((4,))), want)


def test_load_to_host_or_device(tmp_path):
    save({"w": mg.tensor([1.0, 2.0])}, tmp_path / "c.npz")
    assert type(load(tmp_path / "c.npz", device=False)["w"]) is np.ndarray
    assert backend.is_array(load(tmp_path / "c.npz")["w"])


def test_file_is_a_plain_npz_with_meta(tmp_path):
    save(_state(), tmp_path / "c.npz")
    with np.load(tmp_path / "c.npz", allow_pickle=False) as z:
        assert "model/enc.0.weight" in z.files and "__meta__" in z.files
        assert z["model/enc.0.weight"].shape == (2, 3)
        meta = json.loads(z["__meta__"].tobytes())
    assert meta["format"] == "minigen-checkpoint" and meta["version"] == ser.FORMAT_VERSION
    assert meta["arrays"]["model/enc.0.weight"] == {"shape": [2, 3], "dtype": "<f4"}


def test_colliding_paths_stay_apart(tmp_path):
    save({"a/b": np.zeros(1), "a": {"b": np.ones(1)}, "__meta__": np.full(1, 2.0)}, tmp_path / "c.npz")
    out = load(tmp_path / "c.npz", device=False)
    assert out["a/b"].tolist() == [0.0] and out["a"]["b"].tolist() == [1.0]
    assert out["__meta__"].tolist() == [2.0]


def test_unsaveable_values_are_named_and_nothing_is_written(tmp_path):
    with pytest.raises(TypeError, match=r"state\['config'\]\['fn'\].*function"):
        save({"config": {"fn": len}}, tmp_path / "c.npz")
    with pytest.raises(TypeError, match="dtype object"):
        save({"x": np.array([{}], dtype=object)}, tmp_path / "c.npz")
    assert os.listdir(tmp_path) == []


def _fail_midway(calls):
    real = ser._write_array

    def write(f, a, **kw):
        calls.append(a.shape)
        if len(calls) == 3:
            f.write(b"\0" * 100)
            raise OSError("No space left on device")
        real(f, a, **kw)
    return write


def test_a_failed_save_leaves_the_old_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.npz"
    save({"step": 1, "w": np.zeros(3)}, path)
    before = path.read_bytes()
    calls = []
    monkeypatch.setattr(ser, "_write_array", _fail_midway(calls))
    with pytest.raises(OSError, match="No space left"):
        save({"step": 2, "w": np.ones(3), "v": np.ones(4), "u": np.ones(5)}, path)
    assert len(calls) == 3                                     # it really failed mid-write
    assert path.read_bytes() == before and load(path)["step"] == 1
    assert os.listdir(tmp_path) == ["ckpt.npz"]                # the partial temporary file is gone
    monkeypatch.setattr(ser, "_write_array", np.lib.format.write_array)

    def no_sync(fd):
        raise OSError("I/O error")
    monkeypatch.setattr(ser, "_fsync", no_sync)
    with pytest.raises(OSError, match="I/O error"):
        save({"step": 3}, path)
    assert load(path)["step"] == 1 and os.listdir(tmp_path) == ["ckpt.npz"]


def test_save_replaces_an_existing_file(tmp_path):
    path = tmp_path / "ckpt.npz"
    save({"step": 1}, path)
    save({"step": 2}, str(path))
    assert load(path)["step"] == 2


def test_truncated_and_corrupt_files(tmp_path):
    path = tmp_path / "ckpt.npz"
    save({"w": np.arange(1000, dtype=np.float64)}, path)
    raw = path.read_bytes()
    (tmp_path / "half.npz").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(CheckpointError, match=r"half.npz: not a readable checkpoint: it is truncated"):
        load(tmp_path / "half.npz")
    (tmp_path / "junk.npz").write_bytes(b"hello, not a zip")
    with pytest.raises(CheckpointError, match="not a readable checkpoint"):
        load(tmp_path / "junk.npz")
    i = raw.index(np.arange(1000, dtype=np.float64)[500:].tobytes()[:16])
    flipped = raw[:i] + bytes([raw[i] ^ 0xFF]) + raw[i + 1:]     # one byte of array data
    (tmp_path / "flip.npz").write_bytes(flipped)
    with pytest.raises(CheckpointError, match=r"member 'w.npy' is corrupt .*CRC"):
        load(tmp_path / "flip.npz")
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        load(tmp_path / "missing.npz")


def test_missing_meta_is_refused(tmp_path):
    np.savez(tmp_path / "plain.npz", w=np.zeros(3))
    with pytest.raises(CheckpointError, match="no '__meta__' entry"):
        load(tmp_path / "plain.npz")


def _rewrite(path, meta_edit=None, extra=None):
    """Copy a checkpoint with its metadata edited and/or extra members added."""
    with np.load(path, allow_pickle=False) as z:
        members = {k: z[k] for k in z.files}
    meta = json.loads(members.pop("__meta__").tobytes())
    if meta_edit:
        meta_edit(meta)
    members["__meta__"] = np.frombuffer(json.dumps(meta).encode(), np.uint8)
    members.update(extra or {})
    out = path.with_name("edited.npz")
    np.savez(out, **members)
    return out


def test_shape_dtype_and_listing_mismatches(tmp_path):
    path = tmp_path / "c.npz"
    save({"w": np.zeros((2, 3), np.float32)}, path)
    bad = _rewrite(path, lambda m: m["arrays"]["w"].update(shape=[3, 2]))
    with pytest.raises(CheckpointError, match=r"array 'w' is float32 of shape \(2, 3\), but the metadata "
                                              r"says float32 of shape \(3, 2\)"):
        load(bad)
    bad = _rewrite(path, lambda m: m["arrays"]["w"].update(dtype="<f8"))
    with pytest.raises(CheckpointError, match="metadata says float64"):
        load(bad)
    bad = _rewrite(path, lambda m: m["arrays"].update(v={"shape": [1], "dtype": "<f4"}))
    with pytest.raises(CheckpointError, match=r"missing from the file: \['v'\]"):
        load(bad)
    bad = _rewrite(path, extra={"stowaway": np.zeros(1)})
    with pytest.raises(CheckpointError, match=r"does not list: \['stowaway'\]"):
        load(bad)
    bad = _rewrite(path, lambda m: m.update(version=ser.FORMAT_VERSION + 1))
    with pytest.raises(CheckpointError, match="newer minigen"):
        load(bad)
    np.savez(tmp_path / "garbled.npz", __meta__=np.frombuffer(b"{not json", np.uint8))
    with pytest.raises(CheckpointError, match="not valid checkpoint metadata"):
        load(tmp_path / "garbled.npz")


def test_object_arrays_are_never_unpickled(tmp_path):
    path = tmp_path / "c.npz"
    save({"w": np.zeros(2)}, path)
    UNPICKLED.clear()
    evil = _rewrite(path, lambda m: m["arrays"].update(x={"shape": [1], "dtype": "|O"}),
                    extra={"x": np.array([Bomb()], dtype=object)})
    with pytest.raises(CheckpointError, match=r"'x.npy' holds Python objects .* never unpickles"):
        load(evil)
    assert UNPICKLED == []
    with zipfile.ZipFile(evil) as z:                               # the pickle really is in the file
        assert b"append" in z.read("x.npy")


@pytest.mark.parametrize("first,second", [("strict", "numpy"), ("numpy", "strict")])
def test_cross_backend(tmp_path, use_backend, first, second):
    use_backend(first)
    w = mg.tensor(np.arange(4, dtype=np.float32))
    save({"w": w, "b": mg.to_device(np.ones(2))}, tmp_path / "c.npz")
    use_backend(second)
    out = load(tmp_path / "c.npz")
    assert isinstance(out["w"], backend.array_types()) and backend.is_array(out["b"])
    assert isinstance(out["w"], backend.StrictArray) == (second == "strict")
    assert mg.to_host(out["w"]).tolist() == [0, 1, 2, 3]
    assert (mg.tensor(out["w"]) * 2).numpy().tolist() == [0, 2, 4, 6]         # usable on the new device
