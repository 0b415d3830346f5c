"""Intra-op threads for elementwise work on large host arrays, as PyTorch's ``set_num_threads``.

NumPy releases the GIL inside its ufunc loops, so an update such as Adam's runs on T cores when its arrays
are cut into T contiguous chunks, each updated by its own thread (every element's arithmetic is unchanged,
so the result is bit for bit the single-threaded one).  Only host (NumPy) arrays of at least ``GRAIN``
elements per chunk are split; on CuPy the device does the parallel work.

The default thread count is ``$OMP_NUM_THREADS`` when set (as PyTorch reads it), else the CPUs this
process may use.  The pool starts on first use; importing minigen starts no thread.
"""
from __future__ import annotations

import os

from minigen import backend

GRAIN = 1 << 16                 # elements per chunk below which a thread costs more than it saves

_state: dict = {"threads": None, "pool": None}


def get_num_threads() -> int:
    if _state["threads"] is None:
        env = os.environ.get("OMP_NUM_THREADS", "")
        if env.isdigit() and int(env) > 0:
            _state["threads"] = int(env)
        else:
            _state["threads"] = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (
                os.cpu_count() or 1)
    return _state["threads"]


def set_num_threads(n: int) -> None:
    """Threads for minigen's own elementwise work (BLAS has its own: threadpoolctl sets those)."""
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ValueError(f"set_num_threads: a positive int is needed, got {n!r}")
    if n != _state["threads"] and _state["pool"] is not None:
        _state["pool"].shutdown(wait=True)
        _state["pool"] = None
    _state["threads"] = n


def _pool(n: int):
    if _state["pool"] is None:
        from concurrent.futures import ThreadPoolExecutor
        _state["pool"] = ThreadPoolExecutor(max_workers=n - 1, thread_name_prefix="minigen")
    return _state["pool"]


def chunked(fn, *arrays) -> None:
    """``fn(*arrays)`` for an elementwise, in-place ``fn``, on contiguous chunks in parallel where that pays.

    ``arrays``: C-contiguous arrays of one size (views of them are what ``fn`` receives).
    """
    size = arrays[0].size
    n = min(get_num_threads(), size // GRAIN)
    if n <= 1 or backend.get_backend() != "numpy" or not all(a.flags.c_contiguous for a in arrays):
        fn(*arrays)
        return
    flat = [a.reshape(-1) for a in arrays]
    cuts = [size * i // n for i in range(n + 1)]
    pool = _pool(n)
    jobs = [pool.submit(fn, *(a[cuts[i]:cuts[i + 1]] for a in flat)) for i in range(1, n)]
    fn(*(a[:cuts[1]] for a in flat))          # the caller's thread takes the first chunk
    for j in jobs:
        j.result()
