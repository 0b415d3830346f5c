"""The IDX file format of MNIST and Fashion-MNIST: ``read_idx`` / ``write_idx``.

An IDX file is a 4-byte big-endian magic number ``0x0000TTNN`` (``TT`` the element type, ``NN`` the
number of dimensions), then ``NN`` big-endian uint32 sizes, then the elements, big-endian, row-major.
MNIST images are ``0x00000803`` = 2051 (unsigned bytes, 3 dimensions: n x 28 x 28), labels
``0x00000801`` = 2049 (unsigned bytes, 1 dimension: n).  Files may be gzip-compressed (``.gz``).
"""
from __future__ import annotations

import gzip
import os
import zlib

import numpy as np

__all__ = ["read_idx", "write_idx", "IDXError", "IDX_TYPES"]

# type code -> element dtype (big-endian on disk)
IDX_TYPES = {0x08: np.dtype(">u1"), 0x09: np.dtype(">i1"), 0x0B: np.dtype(">i2"),
             0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}
_CODES = {dt.newbyteorder("="): code for code, dt in IDX_TYPES.items()}


class IDXError(ValueError):
    """An IDX file that is malformed: wrong magic number, truncated, or sizes that do not add up."""


def _is_gzip(path) -> bool:
    with open(path, "rb") as f:
        return f.read(2) == b"\x1f\x8b"


def _read_bytes(path) -> bytes:
    if not _is_gzip(path):
        with open(path, "rb") as f:
            return f.read()
    try:
        with gzip.open(path, "rb") as f:
            return f.read()
    except (EOFError, OSError, zlib.error) as e:
        raise IDXError(f"{path}: truncated or corrupt gzip file ({e})") from None


def read_idx(path, expect_magic: int | None = None) -> np.ndarray:
    """Read an IDX file (plain or gzip) into a NumPy array in native byte order.

    ``expect_magic`` (e.g. 2051 for MNIST images) makes a file of another kind an error.  Raises
    :class:`IDXError` naming the file and the problem: a bad magic number, a truncated header or body,
    or bytes left over after the data the header describes.
    """
    path = os.fspath(path)
    raw = _read_bytes(path)
    if len(raw) < 4:
        raise IDXError(f"{path}: only {len(raw)} bytes, too short for an IDX header (4-byte magic number)")
    magic = int.from_bytes(raw[:4], "big")
    code, ndim = raw[2], raw[3]
    if raw[:2] != b"\0\0" or code not in IDX_TYPES:
        raise IDXError(f"{path}: not an IDX file: magic number {magic} (0x{magic:08x}) must be 0x0000TTNN "
                       f"with a type code TT in {{{', '.join(f'0x{c:02x}' for c in IDX_TYPES)}}}")
    if expect_magic is not None and magic != expect_magic:
        raise IDXError(f"{path}: magic number {magic} (type 0x{code:02x}, {ndim} dimensions), expected "
                       f"{expect_magic} (type 0x{(expect_magic >> 8) & 0xFF:02x}, {expect_magic & 0xFF} "
                       "dimensions): wrong file?")
    if ndim == 0:
        raise IDXError(f"{path}: the header declares 0 dimensions")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise IDXError(f"{path}: truncated header: {ndim} dimensions need {header} bytes, "
                       f"the file has {len(raw)}")
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    dtype = IDX_TYPES[code]
    want, have = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize, len(raw) - header
    if have < want:
        raise IDXError(f"{path}: truncated: the header declares shape {shape} ({want} bytes of data), "
                       f"but only {have} bytes follow it")
    if have > want:
        raise IDXError(f"{path}: {have - want} bytes left over after the {want} bytes of data that the "
                       f"header's shape {shape} describes (corrupt file or wrong header)")
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def write_idx(path, array) -> None:
    """Write ``array`` (uint8, int8, int16, int32, float32 or float64; at least 1-D) as an IDX file,
    gzip-compressed when ``path`` ends in ``.gz``.  The file appears atomically."""
    from minigen.serialization import atomic_write
    a = np.asarray(array)
    code = _CODES.get(a.dtype.newbyteorder("="))
    if code is None:
        kinds = sorted(str(d.newbyteorder("=")) for d in IDX_TYPES.values())
        raise TypeError(f"write_idx: IDX stores {kinds}, not {a.dtype}")
    if a.ndim == 0 or a.ndim > 255 or max(a.shape) >= 2 ** 32:
        raise ValueError(f"write_idx: cannot store an array of shape {a.shape} (1 to 255 dimensions, "
                         "each < 2**32)")
    body = bytes([0, 0, code, a.ndim]) + b"".join(n.to_bytes(4, "big") for n in a.shape)
    body += np.ascontiguousarray(a, dtype=IDX_TYPES[code]).tobytes()
    if os.fspath(path).endswith(".gz"):
        body = gzip.compress(body, mtime=0)
    with atomic_write(path) as f:
        f.write(body)
