"""Embedding: rows of a weight table picked by integer indices, getitem underneath:

    embedding(idx, W)   y = W[idx]                gW = gy rows added back into rows idx (repeats add up)

Shapes: idx any shape of integers in [0, num); W (num, dim); y idx.shape + (dim,).
"""
from __future__ import annotations

from minigen.ops.shape import data_of, getitem, shape_of


def embedding(indices, weight):
    """Rows of ``weight`` (num, dim) picked by integer ``indices`` of any shape -> indices.shape + (dim,)."""
    idx = data_of(indices)
    if not hasattr(idx, "dtype") or idx.dtype.kind not in "iu":
        raise TypeError(f"embedding: indices must be integers, got {getattr(idx, 'dtype', type(idx).__name__)}")
    n = shape_of(weight)[0]
    if idx.size and (int(idx.min()) < 0 or int(idx.max()) >= n):
        raise ValueError(f"embedding: indices must be in [0, {n}), got [{int(idx.min())}, {int(idx.max())}]")
    return getitem(weight, idx)
