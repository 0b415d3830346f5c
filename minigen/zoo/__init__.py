"""The GAN zoo: one module per variant of the course's table, each a faithful miniature with its
distinguishing idea implemented exactly, its distinctive gradient checked and a measured pass criterion.

Every variant is a :class:`~minigen.training.task.Task` trained by the one training loop, so ``minigen
train <variant>``, ``minigen sample RUN``, ``minigen eval RUN`` and ``--resume`` work on each.
``minigen zoo`` lists them, ``minigen zoo --check`` runs the full checks and writes ``docs/zoo.md``.
Adding a variant is one file that defines its task and calls :func:`register`.
"""
from minigen.zoo.registry import VARIANTS, Variant, load_all, register, variant  # noqa: F401
