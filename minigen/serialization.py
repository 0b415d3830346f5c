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
import struct
import zipfile

import numpy as np

from minigen import backend
from minigen.autograd.tensor import Tensor

__all__ = ["save", "load", "CheckpointError", "atomic_write", "FORMAT_VERSION"]

FORMAT_NAME = "minigen-checkpoint"
FORMAT_VERSION = 1
META_KEY = "__meta__"
_SAVEABLE_KINDS = "biufc"   # bool, integers, floats, complex: no objects, strings or records
_MAX_META = 64 << 20        # bytes of JSON metadata a checkpoint may hold
_MAX_HEADER = 1 << 16       # bytes of a member's .npy header
_MAX_DEPTH = 200            # nesting of the saved tree

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


def _check_tree(node, out: list, depth: int = 0) -> list:
    """Validate the metadata's tree as :func:`_encode` writes it (any other shape is a damaged file) and
    collect the array keys it refers to."""
    if depth > _MAX_DEPTH:
        raise ValueError(f"the tree nests deeper than {_MAX_DEPTH} levels")
    if isinstance(node, list):
        for x in node:
            _check_tree(x, out, depth + 1)
    elif isinstance(node, dict):
        special = [k for k in node if k.startswith("$")]
        if special:
            if len(node) != 1:
                raise ValueError(f"a {special[0]!r} entry with other keys beside it")
            kind, value = special[0], node[special[0]]
            if kind == "$array":
                if not isinstance(value, str):
                    raise ValueError(f"an array reference that is not a name: {value!r:.40}")
                out.append(value)
            elif kind == "$tuple":
                if not isinstance(value, list):
                    raise ValueError("a $tuple that is not a list")
                _check_tree(value, out, depth + 1)
            elif kind == "$dict":
                if not isinstance(value, list):
                    raise ValueError("a $dict that is not a list of pairs")
                for pair in value:
                    if (not isinstance(pair, list) or len(pair) != 2
                            or not (pair[0] is None or isinstance(pair[0], (str, int, bool)))):
                        raise ValueError(f"a $dict entry that is not a [key, value] pair: {pair!r:.40}")
                    _check_tree(pair[1], out, depth + 1)
            else:
                raise ValueError(f"an unknown entry {kind!r}")
        else:
            for x in node.values():
                _check_tree(x, out, depth + 1)
    elif not (node is None or isinstance(node, (bool, int, float, str))):
        raise ValueError(f"a value of type {type(node).__name__}")
    return out


def _check_spec(key, spec) -> tuple:
    """(shape, dtype) of an array's metadata, refused unless it is one save() can write."""
    if not isinstance(spec, dict) or not isinstance(spec.get("shape"), list) or not isinstance(spec.get("dtype"), str):
        raise ValueError(f"the metadata of array {key!r} is not {{shape: [...], dtype: '...'}}")
    shape = spec["shape"]
    if not all(isinstance(n, int) and not isinstance(n, bool) and 0 <= n for n in shape) or len(shape) > 32:
        raise ValueError(f"array {key!r} declares an impossible shape {shape!r:.60}")
    dtype = np.dtype(spec["dtype"])                 # TypeError for a name NumPy does not know
    if dtype.hasobject:
        raise CheckpointError(f"member '{key}.npy' holds Python objects (a pickled object array); minigen never "
                              "unpickles, so it refuses to load it")
    if dtype.kind not in _SAVEABLE_KINDS or dtype.fields is not None:
        raise ValueError(f"array {key!r} declares dtype {dtype}, which save() never writes")
    return tuple(shape), dtype


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


def _read_member(zf, name, path, shape=None, dtype=None):
    """One member's array; with ``shape`` / ``dtype`` (the metadata's), the .npy header and the member's
    size must agree with them before anything is allocated."""
    try:
        return _read_npy(zf, name, path, shape, dtype)
    except (zipfile.BadZipFile, EOFError, OSError, struct.error) as e:
        raise CheckpointError(f"{path}: member {name!r} is corrupt or truncated ({e})") from None
    except ValueError as e:
        if isinstance(e, CheckpointError):
            raise
        raise CheckpointError(f"{path}: member {name!r} is not a valid .npy array ({e})") from None


def _read_npy(zf, name, path, shape, dtype):
    info = zf.getinfo(name)
    with zf.open(info) as member:
        version = np.lib.format.read_magic(member)
        if version not in ((1, 0), (2, 0), (3, 0)):
            raise ValueError(f"member {name!r} has .npy format version {version}")
        read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                       else np.lib.format.read_array_header_2_0)
        h_shape, fortran, h_dtype = read_header(member, max_header_size=_MAX_HEADER)
        if h_dtype.hasobject:
            raise CheckpointError(f"{path}: member {name!r} holds Python objects (a pickled object array); "
                                  "minigen never unpickles, so it refuses to load it")
        if shape is not None and (tuple(h_shape) != shape or h_dtype != dtype):
            raise CheckpointError(f"{path}: array {name[:-4]!r} is {h_dtype} of shape {tuple(h_shape)}, but the "
                                  f"metadata says {dtype} of shape {shape}")
        n_bytes = int(np.prod(h_shape, dtype=object)) * h_dtype.itemsize
        if n_bytes != info.file_size - member.tell():
            raise ValueError(f"member {name!r} declares {n_bytes} bytes of data but holds "
                             f"{info.file_size - member.tell()}")
        data = member.read(n_bytes)
        if len(data) != n_bytes:
            raise ValueError(f"member {name!r} is truncated")
        a = np.frombuffer(data, dtype=h_dtype)
        return (a.reshape(h_shape[::-1]).T if fortran else a.reshape(h_shape)).copy()


def load(path, device: bool = True):
    """Read a checkpoint written by :func:`save`.

    Returns the saved structure: dicts, lists, tuples and JSON values as saved, arrays (also those that
    were Tensors) on the active device (``device=True``) or as host NumPy arrays (``device=False``).
    Raises FileNotFoundError for a missing file and :class:`CheckpointError` for anything else wrong: every
    size the file declares is checked against the file itself before memory is allocated for it.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"no checkpoint at {path!r}")
    try:
        return _load(path, device)
    except CheckpointError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError, KeyError, TypeError,
            IndexError, AttributeError, NotImplementedError, OverflowError, RecursionError, MemoryError,
            struct.error) as e:
        raise CheckpointError(f"{path}: not a readable checkpoint: it is truncated, corrupt, or not written "
                              f"by minigen.save ({type(e).__name__}: {str(e)[:200]})") from None


def _load(path: str, device: bool):
    try:
        zf = zipfile.ZipFile(path, "r")
    except zipfile.BadZipFile:
        raise CheckpointError(f"{path}: not a readable checkpoint: it is truncated, corrupt, or not a .npz "
                              f"file ({os.path.getsize(path)} bytes, no zip directory found)") from None
    with zf:
        names = [n for n in zf.namelist() if n.endswith(".npy")]
        if len(names) != len(set(names)):
            raise CheckpointError(f"{path}: the zip directory lists a member twice")
        members = {n[:-4] for n in names}
        if META_KEY not in members:
            raise CheckpointError(f"{path}: no {META_KEY!r} entry: this .npz was not written by "
                                  "minigen.save (or lost its metadata)")
        if zf.getinfo(META_KEY + ".npy").file_size > _MAX_META:
            raise CheckpointError(f"{path}: its metadata is larger than {_MAX_META >> 20} MiB")
        raw = _read_member(zf, META_KEY + ".npy", path)
        try:
            if raw.dtype != np.uint8 or raw.ndim != 1:
                raise ValueError(f"it is a {raw.dtype} array of shape {raw.shape}, not uint8 bytes")
            meta = json.loads(raw.tobytes().decode("utf-8"))
            if not isinstance(meta, dict):
                raise ValueError("it is not a JSON object")
            tree, specs = meta["tree"], meta["arrays"]
            if not isinstance(specs, dict):
                raise ValueError("its 'arrays' entry is not an object")
            keys = _check_tree(tree, [])
            shapes = {key: _check_spec(key, spec) for key, spec in specs.items()}
        except CheckpointError as e:
            raise CheckpointError(f"{path}: {e}") from None
        except (ValueError, KeyError, TypeError, RecursionError) as e:
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
        unknown = sorted(set(keys) - set(specs))
        if unknown:
            raise CheckpointError(f"{path}: the metadata refers to arrays it does not describe: {unknown}")
        unexpected = sorted(members - set(specs) - {META_KEY})
        if unexpected:
            raise CheckpointError(f"{path}: the file holds arrays its metadata does not list: {unexpected}")
        arrays = {key: _read_member(zf, key + ".npy", path, *shapes[key]) for key in specs}
    return _decode(tree, arrays, device)
