"""The array backend: one switch between NumPy (CPU), CuPy (CUDA) and a strict stand-in for a GPU.

Everything in minigen computes through ``xp``, the active array module::

    from minigen.backend import xp
    y = xp.exp(x)

``xp`` is one object whose contents are swapped by :func:`set_backend`, so a module that imported it
keeps seeing the active backend.  The backend is chosen by ``minigen.set_backend(name)`` or by the
environment variable ``MINIGEN_BACKEND`` (``numpy`` | ``cupy`` | ``strict``; default ``numpy``).

``strict`` is a CPU stand-in for a CUDA device, computed by NumPy but as strict as CuPy about where data
lives: its arrays are a separate type (:class:`StrictArray`) and data moves only through
:func:`to_device` and :func:`to_host`.  Code that passes the test suite under ``strict`` does not mix
host and device arrays, so it runs on CuPy.  It refuses what CuPy refuses, and one case more (a host
array assigned at an array index); each row is tested in ``tests/backend/test_strict.py``, and ``a`` is
a device array::

    refused                          example                              why
    implicit conversion to NumPy     np.asarray(a), np.array(a), a given  CuPy refuses it: a hidden copy from
                                     to a NumPy-only routine              the device (and a wait for it)
    arithmetic with a host array     a + np.ones(3), np.ones(3) * a,      CuPy refuses it: its kernels read
                                     xp.add.at(a, i, np.ones(2))          device memory only
    array functions of host arrays   xp.concatenate([a, np.ones(3)])      CuPy refuses it, as arithmetic
    assigning a host array           a[0:2] = np.ones(2),                 CuPy copies it for an array index
                                     a[i] = np.ones(2)                    but refuses it for a slice: moved
                                                                          first, it works with either
    NumPy's buffer interfaces        memoryview(a),                       CuPy has none: they would hand
                                     a.__array_interface__                NumPy the device's memory
    an array as a Python index       range(a), [1, 2][a], xp.zeros(a)     CuPy arrays have no __index__: an
                                                                          index needs the value on the host
    names CuPy does not have         a.resize, a.ctypes, xp.geomspace,    strict forwards only the names of
                                     a.flags.writeable                    CuPy 14 (minigen/cupy_names.py)
    NumPy's RNG state                rng().get_state()["bit_generator"]   CuPy's Generator has no state API;
                                                                          the engine RNG keys its streams

Accepted, as CuPy accepts them: host integer and boolean arrays (and lists) as indices, ``a[i]``,
``a[i] = v``, ``xp.add.at(a, i, v)``, ``xp.take(a, i)`` and ``a.take(i)`` (CuPy copies the index to the
device); Python and NumPy scalars as operands; ``xp.asarray(host)``, the explicit copy, and
``xp.asarray([a, b])`` of device arrays.

Strict also counts synchronisations, the moments CuPy makes the host wait for the device:
``float(a)``, ``int(a)``, ``bool(a)``, ``a.item()``, ``a.get()`` / ``to_host(a)``, ``a.tolist()``,
``repr(a)``, indexing with a boolean mask and ``xp.nonzero`` / ``xp.unique`` & co. (their result's size
depends on the data).  ``with count_syncs() as n: ...`` then ``n.count``: a training step should need at
most one (the loop's read of its metrics).

The engine RNG (:class:`Generator`) draws with CuPy's methods only and has no hidden state to save: a
stream is a pure function of the seed and a key (``rng().reseed(step)`` restarts it), which is how a
resumed run draws exactly what an uninterrupted one would, on every backend.
"""
from __future__ import annotations

import contextlib
import os
import types

import numpy as np
from numpy.lib.mixins import NDArrayOperatorsMixin

__all__ = ["xp", "set_backend", "get_backend", "to_device", "to_host", "is_array", "manual_seed",
           "rng", "StrictArray", "default_float", "array_types", "scalar_to_array", "count_syncs", "Generator"]

# ----------------------------------------------------------------------------------------------------
# The strict device stand-in
# ----------------------------------------------------------------------------------------------------

_HINT = "move data explicitly with minigen.to_device(...) or minigen.to_host(...) / Tensor.numpy()"


class _Syncs:
    """How many times a device array was read back by the host (strict only)."""
    count = 0


_SYNCS = _Syncs()


@contextlib.contextmanager
def count_syncs():
    """``with count_syncs() as n: ...``; ``n.count`` is the number of device->host synchronisations the
    strict backend saw inside (always 0 on the other backends, which do not count)."""
    start = _SYNCS.count
    counter = types.SimpleNamespace(count=0)
    try:
        yield counter
    finally:
        counter.count = _SYNCS.count - start


def _sync():
    _SYNCS.count += 1


class _Flags:
    """CuPy's ``ndarray.flags``: C and F contiguity and whether the array owns its memory, nothing else."""

    __slots__ = ("c_contiguous", "f_contiguous", "owndata")

    def __init__(self, a: np.ndarray):
        self.c_contiguous, self.f_contiguous = a.flags.c_contiguous, a.flags.f_contiguous
        self.owndata = a.flags.owndata

    def __getitem__(self, key):
        return getattr(self, {"C_CONTIGUOUS": "c_contiguous", "F_CONTIGUOUS": "f_contiguous",
                              "OWNDATA": "owndata"}[key])


def _mix_error(where: str, other) -> TypeError:
    return TypeError(f"{where}: cannot mix a device array (strict backend) with a host "
                     f"{type(other).__module__}.{type(other).__name__}; {_HINT}")


def _unwrap(obj, where: str):
    """StrictArray -> its NumPy buffer, recursively through lists/tuples; a host ndarray is refused."""
    t = type(obj)
    if t is StrictArray:
        return obj._a
    if t is tuple or t is list:
        return t(_unwrap(o, where) for o in obj)
    if isinstance(obj, np.ndarray):
        raise _mix_error(where, obj)
    return obj


def _index(idx):
    """An index for the buffer: device arrays unwrapped, host integer/boolean arrays and lists passed on
    (CuPy copies them to the device; NumPy raises its IndexError for other dtypes)."""
    t = type(idx)
    if t is StrictArray:
        return idx._a
    if t is tuple or t is list:
        return t(_index(i) for i in idx)
    return idx


def _unwrap_args(indexed: bool, args: tuple, where: str) -> tuple:
    """Arguments unwrapped for NumPy; when ``indexed``, the second one is an index (see _index)."""
    if indexed and len(args) > 1:
        return (_unwrap(args[0], where), _index(args[1])) + _unwrap(args[2:], where)
    return _unwrap(args, where)


def _wrap(obj):
    """NumPy results -> StrictArray (numpy scalars too: CuPy returns 0-d device arrays)."""
    if isinstance(obj, np.ndarray):
        return StrictArray(obj)
    if isinstance(obj, np.generic) and not isinstance(obj, (np.str_, np.bytes_)):
        return StrictArray(np.asarray(obj))
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):   # named results: SVDResult, EighResult, ...
        return type(obj)(*(_wrap(o) for o in obj))
    if type(obj) is tuple or type(obj) is list:
        return type(obj)(_wrap(o) for o in obj)
    return obj


class StrictArray(NDArrayOperatorsMixin):
    """An array on the pretend device: NumPy underneath, CuPy's rules on the outside."""

    __slots__ = ("_a",)

    def __init__(self, a: np.ndarray):
        self._a = a

    # --- the NumPy protocols: compute on the buffer, refuse host arrays ---
    def __array__(self, dtype=None, copy=None):
        raise TypeError("Implicit conversion of a strict-backend device array to a NumPy array is not "
                        f"allowed; {_HINT}")

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        where = f"{ufunc.__name__}" + ("" if method == "__call__" else f".{method}")
        args = _unwrap_args(method == "at", inputs, where)      # ufunc.at(a, indices, b): as a[indices]
        out = kwargs.get("out")
        if out is not None:
            kwargs["out"] = _unwrap(out, where)
        res = getattr(ufunc, method)(*args, **kwargs)
        if out is not None:
            return out[0] if len(out) == 1 else out
        return _wrap(res)

    def __array_function__(self, func, types, args, kwargs):
        where = func.__name__
        if where in _SYNCING or (where == "where" and len(args) + len(kwargs) == 1):
            _sync()                      # the result's size depends on the data
        out = kwargs.get("out")
        res = func(*_unwrap_args(func is np.take, args, where),     # take(a, indices): as a[indices]
                   **{k: _unwrap(v, where) for k, v in kwargs.items()})
        return out if out is not None else _wrap(res)

    # --- the ndarray surface that CuPy also offers ---
    shape = property(lambda self: self._a.shape)
    dtype = property(lambda self: self._a.dtype)
    ndim = property(lambda self: self._a.ndim)
    size = property(lambda self: self._a.size)
    nbytes = property(lambda self: self._a.nbytes)
    itemsize = property(lambda self: self._a.itemsize)
    strides = property(lambda self: self._a.strides)
    flags = property(lambda self: _Flags(self._a))
    T = property(lambda self: StrictArray(self._a.T))
    base = property(lambda self: None if self._a.base is None else StrictArray(self._a.base))

    def __getattr__(self, name):
        if name.startswith("__"):   # no __array_interface__ & co.: they would hand NumPy the buffer
            raise AttributeError(name)
        if name not in _NDARRAY:
            raise AttributeError(f"{name!r}: CuPy arrays have no such attribute (NumPy's ndarray has; the strict "
                                 "backend offers what CuPy 14 offers)")
        # array methods (sum, reshape, astype, ...) run on the buffer; results come back wrapped
        attr = getattr(self._a, name)
        if not callable(attr):
            return _wrap(attr)

        def method(*args, **kwargs):
            where = f"ndarray.{name}"
            if name == "take" and args:      # a.take(indices): as a[indices]
                args = (_index(args[0]),) + _unwrap(args[1:], where)
            else:
                args = _unwrap(args, where)
            return _wrap(attr(*args, **{k: _unwrap(v, where) for k, v in kwargs.items()}))
        return method

    def __getitem__(self, idx):
        i = _index(idx)
        if _is_mask(i):
            _sync()                      # a boolean mask: the result's size depends on the data
        return _wrap(self._a[i])

    def __setitem__(self, idx, value):
        self._a[_index(idx)] = _unwrap(value, "item assignment")

    def __len__(self):
        return len(self._a)

    def __iter__(self):
        return (_wrap(v) for v in self._a)

    def __bool__(self):
        _sync()
        return bool(self._a)

    def __float__(self):
        _sync()
        return float(self._a)

    def __int__(self):
        _sync()
        return int(self._a)

    def __complex__(self):
        _sync()
        return complex(self._a)

    def __repr__(self):
        _sync()
        return "strict_" + repr(self._a)

    def __copy__(self):
        return StrictArray(self._a.copy())

    def __deepcopy__(self, memo):
        return StrictArray(self._a.copy())

    def get(self) -> np.ndarray:
        """Copy to a host NumPy array (CuPy's spelling of the explicit transfer)."""
        _sync()
        return self._a.copy()

    def item(self):
        _sync()
        return self._a.item()

    def tolist(self):
        _sync()
        return self._a.tolist()


def _is_mask(i) -> bool:
    if isinstance(i, tuple):
        return any(_is_mask(j) for j in i)
    return getattr(i, "dtype", None) == np.bool_ or (isinstance(i, list) and i and isinstance(i[0], bool))


_SYNCING = {"nonzero", "flatnonzero", "argwhere", "unique", "compress", "extract", "count_nonzero_"}


def _strict_creator(fn):
    def create(*args, **kwargs):
        return _wrap(fn(*args, **kwargs))
    create.__name__ = fn.__name__
    create.__doc__ = fn.__doc__
    return create


def _strict_asarray(a, dtype=None, order=None, copy=None):
    # cupy.asarray(host_array) is an explicit host->device copy; so is this; a list of device arrays stays there
    if type(a) is StrictArray:
        return a if dtype is None or a.dtype == dtype else StrictArray(a._a.astype(dtype))
    if isinstance(a, (list, tuple)) and any(type(v) is StrictArray for v in a):
        return StrictArray(np.array([v._a if type(v) is StrictArray else v for v in a], dtype=dtype, order=order))
    return StrictArray(np.array(a, dtype=dtype, order=order, copy=True))


def _submodule(module, names) -> types.SimpleNamespace:
    """``module``'s functions that CuPy also has (they dispatch through ``__array_function__``)."""
    return types.SimpleNamespace(**{n: getattr(module, n) for n in names if hasattr(module, n)})


def _strict_namespace() -> dict:
    from minigen import cupy_names
    ns = {n: v for n, v in vars(np).items() if n in cupy_names.NAMESPACE}
    ns["fft"] = _submodule(np.fft, cupy_names.FFT)
    ns["linalg"] = _submodule(np.linalg, cupy_names.LINALG)
    ns.pop("random", None)                  # NumPy's would make host arrays: the engine RNG is rng()
    # creation routines take no array argument, so NumPy cannot dispatch them: wrap their results
    for name in ("zeros", "ones", "empty", "full", "arange", "linspace", "logspace", "eye",
                 "identity", "tri", "indices", "frombuffer", "fromiter"):
        ns[name] = _strict_creator(getattr(np, name))
    ns["asarray"] = ns["array"] = ns["asanyarray"] = _strict_asarray
    ns["ascontiguousarray"] = lambda a, dtype=None: _wrap(np.ascontiguousarray(_unwrap(a, "ascontiguousarray"), dtype=dtype))
    ns["asnumpy"] = to_host
    ns["ndarray"] = StrictArray
    ns["__name__"] = "minigen.strict"
    return ns


def _ndarray_names() -> frozenset:
    from minigen import cupy_names
    return cupy_names.NDARRAY


# ----------------------------------------------------------------------------------------------------
# Random numbers: one engine generator per backend
# ----------------------------------------------------------------------------------------------------

class Generator:
    """The engine RNG.  ``minigen.manual_seed(s)`` reseeds it; arrays come out on the active device.

    A thin wrapper over ``numpy.random.Generator`` (or ``cupy.random.Generator``) that draws with CuPy's
    methods only (standard_normal, random, integers) and takes a ``dtype``, so float32 work stays float32.
    It keeps no state a checkpoint would need: ``reseed(*key)`` restarts the stream from the seed and the
    key (a ``numpy.random.SeedSequence``), and the training loop calls ``reseed(step)`` before every step,
    so every step's draws are a function of (seed, step) on every backend, CuPy's included (whose
    Generator cannot save its state).
    """

    def __init__(self, seed=None, kind=None):
        self.kind = kind or _state.name
        self.seed(seed)

    def seed(self, seed=None):
        self._seed = seed
        self._entropy = int(seed) if seed is not None else int(np.random.SeedSequence().entropy % 2 ** 63)
        self.reseed()

    def reseed(self, *key):
        """Restart the stream at ``key`` (integers): the same seed and key give the same draws."""
        self._key = tuple(int(k) for k in key)
        words = np.random.SeedSequence(self._entropy, spawn_key=self._key).generate_state(2, dtype=np.uint32)
        self._g = self._make((int(words[0]) << 32) | int(words[1]))

    def _make(self, seed):
        if self.kind == "cupy":
            import cupy
            return cupy.random.default_rng(seed)
        return np.random.default_rng(seed)

    def _out(self, a):
        return StrictArray(a) if self.kind == "strict" else a

    def normal(self, size=None, loc=0.0, scale=1.0, dtype=None):
        dtype = dtype or default_float()
        a = self._g.standard_normal(size=size, dtype=dtype)
        if scale != 1.0:
            a *= scale
        if loc != 0.0:
            a += loc
        return self._out(a)

    def uniform(self, size=None, low=0.0, high=1.0, dtype=None):
        dtype = dtype or default_float()
        a = self._g.random(size=size, dtype=dtype)
        if (low, high) != (0.0, 1.0):
            a *= high - low       # in place: stays an array of dtype (a 0-d one included)
            a += low
        return self._out(a)

    def integers(self, low, high=None, size=None, dtype="int64"):
        return self._out(self._g.integers(low, high, size=size, dtype=dtype))

    def permutation(self, n):
        """A random permutation of 0..n-1: the order of n uniform keys (CuPy's Generator has no permutation)."""
        return self.uniform(n, dtype=np.float64).argsort()

    def gumbel(self, size=None, dtype=None):
        u = self.uniform(size, dtype=dtype or default_float())
        tiny = float(np.finfo(u.dtype).tiny)
        return -xp.log(-xp.log(xp.clip(u, tiny, 1.0)))

    def get_state(self) -> dict:
        """The stream's seed and key (JSON): ``set_state`` restarts that stream from its beginning."""
        return {"kind": self.kind, "seed": self._entropy, "key": list(self._key)}

    def set_state(self, state: dict):
        if set(state) - {"kind", "seed", "key"} or "seed" not in state:
            raise ValueError("Generator.set_state: expected {'seed', 'key'} (from get_state)")
        self._seed = self._entropy = int(state["seed"])
        self.reseed(*state.get("key", ()))


def _jsonable(obj):
    if isinstance(obj, dict):
        return {k: _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (np.integer,)):
        return int(obj)
    return obj


# ----------------------------------------------------------------------------------------------------
# The switch
# ----------------------------------------------------------------------------------------------------

xp = types.SimpleNamespace()   # filled by set_backend; the same object for the life of the process
_NDARRAY: frozenset = frozenset()   # the ndarray attributes strict forwards (CuPy's)


class _State:
    name = "numpy"
    array_types: tuple = (np.ndarray,)
    rng: Generator = None


_state = _State()


def _load_cupy():
    try:
        import cupy
    except ImportError as e:
        raise RuntimeError("backend 'cupy' needs CuPy, which is not installed: "
                           "pip install 'minigen[cuda]' (or cupy-cuda12x matching your CUDA)") from e
    major = int(cupy.__version__.split(".")[0])
    if major < 14:                # v13 keeps value-based promotion: results would differ from the CPU's
        raise RuntimeError(f"backend 'cupy' needs CuPy >= 14 (NumPy 2 promotion rules, as on the CPU); this is "
                           f"CuPy {cupy.__version__}: pip install 'minigen[cuda]'")
    try:
        n = cupy.cuda.runtime.getDeviceCount()
    except Exception as e:  # cupy raises its own CUDARuntimeError type
        raise RuntimeError(f"backend 'cupy': CuPy is installed but no CUDA device is usable ({e}); "
                           "use set_backend('numpy'), or 'strict' to test device code on the CPU") from e
    if n == 0:
        raise RuntimeError("backend 'cupy': CuPy is installed but no CUDA device was found; "
                           "use set_backend('numpy'), or 'strict' to test device code on the CPU")
    try:                          # a first kernel: compiling it needs NVRTC, which the toolkit extra brings
        float((cupy.arange(4, dtype=cupy.float32) * 2).sum())
    except Exception as e:  # noqa: BLE001  (cupy raises its own error types)
        raise RuntimeError(f"backend 'cupy': CuPy could not run a kernel ({type(e).__name__}: {e}); install the "
                           "CUDA toolkit libraries it needs: pip install 'minigen[cuda]' "
                           "(cupy-cuda12x[ctk])") from e
    return cupy


def set_backend(name: str) -> None:
    """Switch the active array module: ``"numpy"``, ``"cupy"`` or ``"strict"``.

    Tensors created before the switch keep their arrays; mixing them with new ones on another device
    raises TypeError (move them with ``to_device``).
    """
    name = name.lower()
    if name == "numpy":
        ns, types_ = dict(vars(np)), (np.ndarray,)
        ns["fft"], ns["linalg"] = np.fft, np.linalg        # lazily loaded submodules: not in vars(np) yet
    elif name == "strict":
        global _NDARRAY
        ns, types_, _NDARRAY = _strict_namespace(), (StrictArray,), _ndarray_names()
    elif name == "cupy":
        cupy = _load_cupy()
        ns, types_ = dict(vars(cupy)), (cupy.ndarray,)
    else:
        raise ValueError(f"unknown backend {name!r}: choose 'numpy', 'cupy' or 'strict'")
    xp.__dict__.clear()
    xp.__dict__.update(ns)
    seed = _state.rng._seed if _state.rng is not None else None
    _state.name, _state.array_types = name, types_
    _state.rng = Generator(seed, kind=name)      # a manual_seed made before the switch still holds


def get_backend() -> str:
    """The active backend's name."""
    return _state.name


def array_types() -> tuple:
    return _state.array_types


def is_array(a) -> bool:
    """True for an array of the active backend (not a Tensor, not a host array on a device backend)."""
    return isinstance(a, _state.array_types)


def default_float():
    return np.float32


def is_host_array(a) -> bool:
    """A NumPy array (host memory), whatever the active backend."""
    return isinstance(a, np.ndarray)


def rng() -> Generator:
    """The engine's random generator for the active backend."""
    return _state.rng


def manual_seed(seed: int) -> Generator:
    """Seed the engine RNG: same seed, same backend => the same numbers."""
    _state.rng.seed(int(seed))
    return _state.rng


def scalar_to_array(a):
    """A NumPy scalar or Python number -> a 0-d array of the active backend; anything else as it is.

    NumPy returns scalars for 0-d results (``np.float64``, not a 0-d ``ndarray``); CuPy and strict return
    0-d arrays.  A host ``ndarray`` is not converted here: on a device backend that is a bug to report.
    """
    return xp.asarray(a) if isinstance(a, _SCALARS) else a


_SCALARS = (np.generic, int, float, complex)


def to_device(a, dtype=None):
    """Host (NumPy, list, scalar) -> an array of the active backend.  Arrays already there pass through."""
    if isinstance(a, _state.array_types):
        return a if dtype is None or a.dtype == dtype else a.astype(dtype)
    if hasattr(a, "get") and not isinstance(a, (dict, np.ndarray)):   # another device's array
        a = a.get()
    return xp.asarray(a, dtype=dtype)


def to_host(a) -> np.ndarray:
    """Any backend's array (or a scalar) -> a NumPy array on the host; an explicit copy from a device (a
    synchronisation: the host waits for the device)."""
    if isinstance(a, np.ndarray):
        return a
    if hasattr(a, "get"):          # StrictArray and cupy.ndarray
        return a.get()
    return np.asarray(a)


set_backend(os.environ.get("MINIGEN_BACKEND", "numpy"))
