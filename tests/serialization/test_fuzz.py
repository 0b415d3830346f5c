"""minigen.load on 1,200 damaged versions of a real checkpoint: flipped bytes, truncations, rewritten
metadata, lying .npy headers.  Each either loads or raises CheckpointError; nothing else escapes (no
TypeError, KeyError, MemoryError, RecursionError), and nothing is allocated from a size the file cannot
back."""
import io
import json
import random
import zipfile

import numpy as np
import pytest

import minigen as mg
from minigen.serialization import CheckpointError, load
from minigen.training.loop import make_task


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    from minigen.zoo import load_all
    v = load_all()["sngan"]          # Modules with buffers, optimisers, schedules, a DataLoader, an RNG state
    task = make_task(v.config(hidden=8, n_train=64, batch_size=32))
    task.step(0)
    path = tmp_path_factory.mktemp("ckpt") / "checkpoint.npz"
    mg.save({"step": 1, "task": task.state_dict(), "rng": mg.backend.rng().get_state(), "config": task.config},
            path)
    return path.read_bytes()


def members(raw: bytes) -> dict:
    with zipfile.ZipFile(io.BytesIO(raw)) as z:
        return {n: z.read(n) for n in z.namelist()}


def zipped(files: dict) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        for name, data in files.items():
            z.writestr(name, data)
    return buf.getvalue()


def npy(a) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, np.asarray(a), allow_pickle=False)
    return buf.getvalue()


def meta_of(files: dict) -> dict:
    return json.loads(np.load(io.BytesIO(files["__meta__.npy"])).tobytes())


WEIRD = [5, -1, 1e300, "x", None, True, [], {}, [1, 2], {"$dict": 5}, {"$array": 5}, {"$array": ["a"]},
         {"$tuple": "x"}, {"$dict": [[1]]}, {"$dict": [[[1], 2]]}, {"$set": []}, {"$array": "nosuch"},
         {"$tuple": [], "extra": 1}, [[[[[[[[[[[]]]]]]]]]]], {"shape": [10 ** 14], "dtype": "<f8"}]
DTYPES = ["<f8", "|O", "<U5", "V8", "foo", "", "<f4", "|b1", "[('a', '<f4')]", "<M8[s]", 3]
SHAPES = [[10 ** 14], [-1], [2.5], "big", [10 ** 8, 10 ** 8], [], [True], [1] * 40, None]


def mutate_meta(meta: dict, rnd: random.Random) -> dict:
    """One random structural edit of the metadata (always JSON)."""
    kind = rnd.randrange(6)
    if kind == 0 and meta["arrays"]:                     # an array's declared shape or dtype
        key = rnd.choice(sorted(meta["arrays"]))
        spec = meta["arrays"][key]
        if rnd.random() < 0.5:
            spec["shape"] = rnd.choice(SHAPES)
        else:
            spec["dtype"] = rnd.choice(DTYPES)
    elif kind == 1:                                      # a node of the tree replaced by something odd
        node, path = meta, ["tree"]
        for _ in range(rnd.randrange(1, 6)):
            child = node[path[-1]] if isinstance(node, (dict, list)) else None
            if isinstance(child, dict) and child:
                node, path = child, path + [rnd.choice(sorted(child, key=str))]
            elif isinstance(child, list) and child:
                node, path = child, path + [rnd.randrange(len(child))]
            else:
                break
        node[path[-1]] = rnd.choice(WEIRD)
    elif kind == 2:                                      # a top-level entry removed or replaced
        key = rnd.choice(["tree", "arrays", "format", "version"])
        if rnd.random() < 0.5:
            meta.pop(key, None)
        else:
            meta[key] = rnd.choice(WEIRD)
    elif kind == 3:                                      # the whole metadata not an object
        return rnd.choice([[], 5, "meta", None])
    elif kind == 4:                                      # deep nesting (written as text: json.dumps refuses it)
        n = rnd.choice([50, 300, 3000, 100_000])
        meta["tree"] = {"x": "DEEP"}
        return json.dumps(meta).replace('"DEEP"', "[" * n + "]" * n)
    else:                                                # an extra or missing array listing
        meta["arrays"][rnd.choice(["ghost", "__meta__", "x/y"])] = rnd.choice(WEIRD)
    return meta


def lying_header(files: dict, rnd: random.Random) -> dict:
    """An array member whose .npy header declares another (often enormous) shape than its data."""
    name = rnd.choice([n for n in files if n != "__meta__.npy"])
    a = np.load(io.BytesIO(files[name]))
    header = {"descr": np.lib.format.dtype_to_descr(a.dtype), "fortran_order": False,
              "shape": rnd.choice([(10 ** 14,), (10 ** 7, 10 ** 7), (a.size + 1,), (0,), ()])}
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, header)
    files[name] = buf.getvalue() + files[name][len(npy(a)) - a.nbytes:]
    return files


def damaged(raw: bytes, i: int) -> bytes:
    rnd = random.Random(i)
    kind = i % 5
    if kind == 0:                                        # flipped bytes
        b = bytearray(raw)
        for _ in range(rnd.randrange(1, 4)):
            b[rnd.randrange(len(b))] ^= rnd.randrange(1, 256)
        return bytes(b)
    if kind == 1:                                        # truncated
        return raw[:rnd.randrange(len(raw))]
    files = members(raw)
    if kind == 4:
        return zipped(lying_header(files, rnd))
    meta = mutate_meta(meta_of(files), rnd)
    text = meta if isinstance(meta, str) else json.dumps(meta)
    files["__meta__.npy"] = npy(np.frombuffer(text.encode(), np.uint8))
    return zipped(files)


def test_every_damaged_checkpoint_loads_or_raises_checkpoint_error(checkpoint, tmp_path):
    outcomes = {"loaded": 0, "refused": 0}
    path = tmp_path / "c.npz"
    for i in range(1200):
        path.write_bytes(damaged(checkpoint, i))
        try:
            load(path, device=False)
            outcomes["loaded"] += 1
        except CheckpointError:
            outcomes["refused"] += 1
        except Exception as e:          # noqa: BLE001  (the point: name the case that escaped)
            pytest.fail(f"case {i} (kind {i % 5}) raised {type(e).__name__}: {e}")
    assert outcomes["refused"] > 1000 and sum(outcomes.values()) == 1200


def test_a_declared_shape_of_1e14_elements_allocates_nothing(checkpoint, tmp_path):
    files = members(checkpoint)
    meta = meta_of(files)
    key = sorted(meta["arrays"])[0]
    meta["arrays"][key]["shape"] = [10 ** 14]
    files["__meta__.npy"] = npy(np.frombuffer(json.dumps(meta).encode(), np.uint8))
    (tmp_path / "big.npz").write_bytes(zipped(files))
    with pytest.raises(CheckpointError, match=r"metadata says .*100000000000000"):
        load(tmp_path / "big.npz")
    (tmp_path / "hdr.npz").write_bytes(zipped(lying_header(members(checkpoint), random.Random(0))))
    with pytest.raises(CheckpointError):
        load(tmp_path / "hdr.npz")


def test_the_dict_entry_of_the_issue(checkpoint, tmp_path):
    files = members(checkpoint)
    meta = meta_of(files)
    meta["tree"]["config"] = {"$dict": 5}
    files["__meta__.npy"] = npy(np.frombuffer(json.dumps(meta).encode(), np.uint8))
    (tmp_path / "d.npz").write_bytes(zipped(files))
    with pytest.raises(CheckpointError, match=r"\$dict that is not a list of pairs"):
        load(tmp_path / "d.npz")
