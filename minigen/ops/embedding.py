"""Embedding: rows of a weight table picked by integer indices, getitem underneath:

    embedding(idx, W)   y = W[idx]                gW = gy rows added back into rows idx (repeats add up)

Shapes: idx any shape of integers in [0, num); W (num, dim); y idx.shape + (dim,).
"""
from __future__ import annotations

from minigen.ops.shape import check_range, data_of, getitem, shape_of


def embedding(indices, weight):
    """Rows of ``weight`` (num, dim) picked by integer ``indices`` of any shape -> indices.shape + (dim,)."""
    idx = data_of(indices)
    if not hasattr(idx, "dtype") or idx.dtype.kind not in "iu":
        raise TypeError(f"embedding: indices must be integers, got {getattr(idx, 'dtype', type(idx).__name__)}")
    check_range(idx, shape_of(weight)[0], "embedding", "indices")
    return getitem(weight, idx)
