"""The differentiable ops, one family per file; :mod:`minigen.functional` gathers them."""
