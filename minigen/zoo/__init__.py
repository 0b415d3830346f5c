"""The GAN zoo: one module per variant of the course's table, each a faithful miniature with its
distinguishing idea implemented exactly, its distinctive gradient checked and a measured pass criterion.

``minigen zoo`` lists them, ``minigen train <variant>`` trains one, ``minigen zoo --check`` runs the full
checks and writes ``docs/zoo.md``.  Adding a variant is one file that calls :func:`register`.
"""
from minigen.zoo.registry import VARIANTS, Variant, load_all, register  # noqa: F401
