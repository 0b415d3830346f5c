"""Embedding: a lookup table of learned vectors, row i for index i."""
from __future__ import annotations

from minigen import backend
from minigen import functional as F
from minigen.nn import init
from minigen.nn.module import Module, Parameter


class Embedding(Module):
    """indices (any shape) -> indices.shape + (embedding_dim,); weights ~ N(0, 1) as in PyTorch."""

    def __init__(self, num_embeddings: int, embedding_dim: int, dtype=None):
        super().__init__()
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.weight = Parameter(backend.xp.zeros((num_embeddings, embedding_dim), dtype=dtype or backend.default_float()))
        init.normal_(self.weight)

    def forward(self, indices):
        return F.embedding(indices, self.weight)

    def extra_repr(self):
        return f"{self.num_embeddings}, {self.embedding_dim}"
