"""Host memory: keep freed array buffers in the process instead of handing them back to the kernel.

A training step allocates and frees the same few hundred kilobytes to megabytes of temporaries every
step (im2col columns, activations, gradients).  glibc's malloc serves blocks above its mmap threshold
(128 KiB, raised dynamically) with fresh ``mmap`` pages and trims the heap's free top back to the
kernel, so each step pays a page fault per 4 KiB page it touches again.  Faults are dear on a virtual
machine: on the 2-core VM of ``benchmarks/README.md`` the scatter-add of a DCGAN input gradient into a
fresh 1 MiB image took 4.8 ms instead of 0.65 ms, and the W4 step went from 36.7 ms to 24.3 ms with the
settings below.

:func:`tune_host_allocator` sets, through ``mallopt``:

    M_MMAP_THRESHOLD = 32 MiB    blocks below this come from the heap, whose pages are reused
    M_TRIM_THRESHOLD = 256 MiB   free heap above this is returned to the kernel (so at most that is kept)

This is the advice of PyTorch's CPU tuning guide (reuse memory; it suggests jemalloc / tcmalloc) done
with the C library already loaded.  It changes no result, only where buffers come from.  It applies to
glibc only (elsewhere it does nothing) and is skipped when ``MINIGEN_MALLOC=default``.

Importing minigen leaves malloc alone (a library does not change its host process); the ``minigen``
command, a process of its own, opts in for ``train``, ``zoo``, ``eval`` and ``sample``, and a script can
call ``minigen.allocator.tune_host_allocator()`` itself.
"""
from __future__ import annotations

import ctypes
import os

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3     # glibc's <malloc.h> parameter numbers
SETTINGS = {"M_MMAP_THRESHOLD": (M_MMAP_THRESHOLD, 32 << 20), "M_TRIM_THRESHOLD": (M_TRIM_THRESHOLD, 256 << 20)}

state: dict = {"tuned": False, "why": "not attempted"}


def tune_host_allocator() -> dict:
    """Apply :data:`SETTINGS` with glibc's ``mallopt``; returns (and keeps in ``state``) what was done."""
    if os.environ.get("MINIGEN_MALLOC", "").lower() == "default":
        state.update(tuned=False, why="MINIGEN_MALLOC=default")
        return dict(state)
    try:
        # the process's own symbols, which hold the C library's: no library search (a subprocess) at import
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError, TypeError):
        state.update(tuned=False, why="no glibc mallopt on this platform")
        return dict(state)
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    failed = [name for name, (param, value) in SETTINGS.items() if mallopt(param, value) != 1]
    if failed:
        state.update(tuned=False, why="mallopt refused " + ", ".join(failed))
    else:
        state.update(tuned=True, why=", ".join(f"{n} = {v >> 20} MiB" for n, (_, v) in SETTINGS.items()))
    return dict(state)
