"""Reused host buffers for the large temporaries of a training step (im2col columns, conv products).

Every step of a convolutional model makes the same megabyte-sized arrays and drops them again.  Fresh
ones cost page faults (glibc maps big blocks anew and trims its heap: ~8,000 faults per DCGAN step
here, a third of its time), so the conv ops take their buffers from here: a buffer of the wanted shape
and dtype that nothing references any more is handed out again.  "Nothing references it" is read from
CPython's reference count: every view of a buffer holds a reference to it, so a buffer whose count is
back to the cache's own is free, exactly.

Only NumPy arrays are cached (CuPy has its own memory pool; strict stands in for a device).  At most
``PER_SHAPE`` buffers per (shape, dtype) and ``LIMIT_BYTES`` in all are kept; past that, plain new arrays.
"""
from __future__ import annotations

import math
import sys

from minigen import backend
from minigen.backend import xp

PER_SHAPE = 32
LIMIT_BYTES = 512 << 20
SMALL = 1 << 14              # elements: smaller arrays are cheap from malloc, and not worth a lookup

_cache: dict = {}            # (shape, dtype) -> [arrays]
_held = [0]                  # bytes cached


def _refs(bufs: list, i: int) -> int:
    return sys.getrefcount(bufs[i])


def _calibrate() -> int:
    # the count of an object that only the cache's list holds, read along the same code path as in empty()
    bufs = [bytearray(1)]
    return _refs(bufs, 0)


FREE = _calibrate()


def empty(shape, dtype):
    """An uninitialised array of ``shape`` and ``dtype``: a cached one nobody uses, or a new one."""
    if backend.get_backend() != "numpy" or math.prod(shape) < SMALL:
        return xp.empty(shape, dtype=dtype)
    key = (tuple(shape), xp.dtype(dtype))
    bufs = _cache.get(key)
    if bufs is None:
        bufs = _cache[key] = []
    for i in range(len(bufs)):
        if _refs(bufs, i) <= FREE:
            return bufs[i]
    a = xp.empty(shape, dtype=dtype)
    if len(bufs) < PER_SHAPE and _held[0] + a.nbytes <= LIMIT_BYTES:
        bufs.append(a)
        _held[0] += a.nbytes
    return a


def zeros(shape, dtype):
    a = empty(shape, dtype)
    a.fill(0)
    return a


def clear() -> None:
    """Drop every cached buffer (those still in use stay alive with their users)."""
    _cache.clear()
    _held[0] = 0
