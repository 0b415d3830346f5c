"""Checkpoints: ``save(state, path)`` / ``load(path)`` for nested dicts of arrays and JSON values.

``state`` is any nesting of dicts, lists and tuples whose leaves are arrays (NumPy, CuPy, strict),
Tensors, or JSON values (None, bool, int, float, str; NumPy scalars become Python numbers)::

    minigen.save({"model": model.state_dict(), "optim": opt.state_dict(), "step": 1200,
                  "config": {"z_dim": 16}, "rng": minigen.backend.rng().get_state()}, "ckpt.npz")
    state = minigen.load("ckpt.npz")          # arrays on the active device

The file is ONE ordinary ``.npz`` (a zip of ``.npy`` members, readable by ``numpy.load``):

* every array leaf is a member named by its path, e.g. ``model/enc.0.weight.npy``, saved from a host
  copy, so a checkpoint does not depend on the device it was written from;
* ``__meta__.npy`` is a uint8 array holding UTF-8 JSON: ``{"format", "version", "tree", "arrays"}``,
  where ``tree`` is the state with each array replaced by ``{"$array": key}`` (tuples become
  ``{"$tuple": [...]}``, dicts with non-string keys ``{"$dict": [[key, value], ...]}``) and ``arrays`` maps
  each key to its shape and dtype, checked on load.

Writing is atomic: the file is written beside its destination, fsync'ed, then renamed over it, so a
crash leaves either the old checkpoint or the new one, never half of one.  Loading never unpickles
(``allow_pickle=False``); a truncated, corrupt or tampered file raises :class:`CheckpointError`.

Tensors come back as plain arrays (their data; ``requires_grad`` is not saved): load them into a model
with ``Module.load_state_dict``.
"""
from __future__ import annotations

import contextlib
import json
import os
import secrets
import zipfile

import numpy as np

from minigen import backend
from minigen.autograd.tensor import Tensor

__all__ = ["save", "load", "CheckpointError", "atomic_write", "FORMAT_VERSION"]

FORMAT_NAME = "minigen-checkpoint"
FORMAT_VERSION = 1
META_KEY = "__meta__"
_SAVEABLE_KINDS = "biufc"   # bool, integers, floats, complex: no objects, strings or records

_write_array = np.lib.format.write_array   # module-level so a test can simulate a failure mid-write
_fsync = os.fsync


class CheckpointError(ValueError):
    """A checkpoint file that cannot be read back as written: truncated, corrupt, or not minigen's."""


# ----------------------------------------------------------------------------------------------------
# Atomic writes
# ----------------------------------------------------------------------------------------------------

@contextlib.contextmanager
def atomic_write(path):
    """Open a temporary file beside ``path`` for binary writing; on success fsync it and rename it over
    ``path``.  If the block raises, ``path`` is untouched and the temporary file is removed."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(folder, f".{os.path.basename(path)}.{secrets.token_hex(4)}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    fd = os.open(tmp, flags, 0o666)                      # the umask applies, as for a plain open()
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            _fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError, AttributeError):   # make the rename itself durable (POSIX)
        dfd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)


# ----------------------------------------------------------------------------------------------------
# The tree <-> JSON + arrays
# ----------------------------------------------------------------------------------------------------

def _is_any_array(v) -> bool:
    return (isinstance(v, (np.ndarray, backend.StrictArray))
            or (type(v).__module__.split(".")[0] == "cupy" and hasattr(v, "shape")))


def _where(path) -> str:
    return "state" + "".join(f"[{p!r}]" for p in path)


def _encode(v, path, arrays):
    """The JSON form of ``v``; arrays go to ``arrays`` (key -> host ndarray)."""
    if isinstance(v, Tensor):
        v = v.data
    if _is_any_array(v):
        a = np.asarray(backend.to_host(v), order="C")     # (ascontiguousarray would make 0-d arrays 1-d)
        if a.dtype.kind not in _SAVEABLE_KINDS:
            raise TypeError(f"cannot save {_where(path)}: arrays of dtype {a.dtype} are not supported "
                            "(only bool, integer, float and complex arrays)")
        base = key = "/".join(str(p) for p in path) or "array"
        n = 1
        while key == META_KEY or key in arrays:              # {"a/b": x, "a": {"b": y}} -> "a/b", "a/b#1"
            key, n = f"{base}#{n}", n + 1
        arrays[key] = a
        return {"$array": key}
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    if isinstance(v, np.generic) and v.dtype.kind in _SAVEABLE_KINDS:
        return v.item()
    if isinstance(v, dict):
        if all(isinstance(k, str) and not k.startswith("$") for k in v):
            return {k: _encode(x, path + (k,), arrays) for k, x in v.items()}
        bad = [k for k in v if not isinstance(k, (str, int, bool)) and k is not None]
        if bad:
            raise TypeError(f"cannot save {_where(path)}: dict keys must be str or int, not "
                            f"{type(bad[0]).__name__} ({bad[0]!r})")
        return {"$dict": [[k, _encode(x, path + (k,), arrays)] for k, x in v.items()]}
    if isinstance(v, list):
        return [_encode(x, path + (i,), arrays) for i, x in enumerate(v)]
    if isinstance(v, tuple):
        return {"$tuple": [_encode(x, path + (i,), arrays) for i, x in enumerate(v)]}
    raise TypeError(f"cannot save {_where(path)}: a {type(v).__module__}.{type(v).__name__} is neither an "
                    "array, a Tensor, a dict/list/tuple nor a JSON value (None, bool, int, float, str)")


def _decode(node, arrays, device):
    if isinstance(node, list):
        return [_decode(x, arrays, device) for x in node]
    if isinstance(node, dict):
        if len(node) == 1 and "$array" in node:
            a = arrays[node["$array"]]
            return backend.to_device(a) if device else a
        if len(node) == 1 and "$tuple" in node:
            return tuple(_decode(x, arrays, device) for x in node["$tuple"])
        if len(node) == 1 and "$dict" in node:
            return {k: _decode(x, arrays, device) for k, x in node["$dict"]}
        return {k: _decode(x, arrays, device) for k, x in node.items()}
    return node


def _array_keys(node, out):
    if isinstance(node, list):
        for x in node:
            _array_keys(x, out)
    elif isinstance(node, dict):
        if len(node) == 1 and "$array" in node:
            out.append(node["$array"])
        elif len(node) == 1 and "$dict" in node:
            for _, x in node["$dict"]:
                _array_keys(x, out)
        else:
            for x in node.values():
                _array_keys(x, out)
    return out


# ----------------------------------------------------------------------------------------------------
# save / load
# ----------------------------------------------------------------------------------------------------

def save(state, path) -> None:
    """Write ``state`` (a nested dict of arrays/Tensors on any backend and JSON values) to ``path`` as one
    ``.npz`` file, atomically.  Raises TypeError, naming the entry, for a value it cannot store."""
    arrays: dict[str, np.ndarray] = {}
    tree = _encode(state, (), arrays)          # everything is checked before the file is touched
    meta = {"format": FORMAT_NAME, "version": FORMAT_VERSION, "tree": tree,
            "arrays": {k: {"shape": list(a.shape), "dtype": a.dtype.str} for k, a in arrays.items()}}
    meta_bytes = np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8)
    with atomic_write(path) as f, zipfile.ZipFile(f, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
        for key, a in [(META_KEY, meta_bytes), *arrays.items()]:
            with zf.open(key + ".npy", "w", force_zip64=True) as member:
                _write_array(member, a, allow_pickle=False)


def _read_member(zf, name, path):
    try:
        with zf.open(name) as member:
            return np.lib.format.read_array(member, allow_pickle=False)
    except ValueError as e:
        if "allow_pickle" in str(e) or "Object arrays" in str(e):
            raise CheckpointError(f"{path}: member {name!r} holds Python objects (a pickled object array); "
                                  "minigen never unpickles, so it refuses to load it") from None
        raise CheckpointError(f"{path}: member {name!r} is not a valid .npy array ({e})") from None
    except (zipfile.BadZipFile, EOFError, OSError) as e:
        raise CheckpointError(f"{path}: member {name!r} is corrupt or truncated ({e})") from None


def load(path, device: bool = True):
    """Read a checkpoint written by :func:`save`.

    Returns the saved structure: dicts, lists, tuples and JSON values as saved, arrays (also those that
    were Tensors) on the active device (``device=True``) or as host NumPy arrays (``device=False``).
    Raises FileNotFoundError for a missing file and :class:`CheckpointError` for anything else wrong.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"no checkpoint at {path!r}")
    try:
        zf = zipfile.ZipFile(path, "r")
    except zipfile.BadZipFile:
        raise CheckpointError(f"{path}: not a readable checkpoint: it is truncated, corrupt, or not a .npz "
                              f"file ({os.path.getsize(path)} bytes, no zip directory found)") from None
    with zf:
        members = {n[:-4] for n in zf.namelist() if n.endswith(".npy")}
        if META_KEY not in members:
            raise CheckpointError(f"{path}: no {META_KEY!r} entry: this .npz was not written by "
                                  "minigen.save (or lost its metadata)")
        raw = _read_member(zf, META_KEY + ".npy", path)
        try:
            if raw.dtype != np.uint8 or raw.ndim != 1:
                raise ValueError(f"it is a {raw.dtype} array of shape {raw.shape}, not uint8 bytes")
            meta = json.loads(raw.tobytes().decode("utf-8"))
            tree, specs = meta["tree"], meta["arrays"]
        except (ValueError, KeyError, TypeError) as e:
            raise CheckpointError(f"{path}: the {META_KEY!r} entry is not valid checkpoint metadata "
                                  f"({e})") from None
        if meta.get("format") != FORMAT_NAME:
            raise CheckpointError(f"{path}: metadata format is {meta.get('format')!r}, "
                                  f"expected {FORMAT_NAME!r}")
        if not isinstance(meta.get("version"), int) or meta["version"] > FORMAT_VERSION:
            raise CheckpointError(f"{path}: checkpoint format version {meta.get('version')!r}; this minigen "
                                  f"reads versions up to {FORMAT_VERSION} (written by a newer minigen?)")
        missing = sorted(set(specs) - members)
        if missing:
            raise CheckpointError(f"{path}: arrays listed in the metadata are missing from the file: "
                                  f"{missing}")
        unknown = sorted(set(_array_keys(tree, [])) - set(specs))
        if unknown:
            raise CheckpointError(f"{path}: the metadata refers to arrays it does not describe: {unknown}")
        unexpected = sorted(members - set(specs) - {META_KEY})
        if unexpected:
            raise CheckpointError(f"{path}: the file holds arrays its metadata does not list: {unexpected}")
        arrays = {}
        for key, spec in specs.items():
            a = _read_member(zf, key + ".npy", path)
            try:
                shape, dtype = tuple(spec["shape"]), np.dtype(spec["dtype"])
            except (KeyError, TypeError, ValueError) as e:
                raise CheckpointError(f"{path}: the metadata of array {key!r} is malformed ({e})") from None
            if a.shape != shape or a.dtype != dtype:
                raise CheckpointError(f"{path}: array {key!r} is {a.dtype} of shape {a.shape}, but the "
                                      f"metadata says {dtype} of shape {shape}")
            arrays[key] = a
    return _decode(tree, arrays, device)
