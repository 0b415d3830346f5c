"""minigen's benchmark harness (issue 7): ``python -m benchmarks.run``; see benchmarks/README.md.

Nothing here is part of the ``minigen`` package: PyTorch and JAX are optional comparison points and
never dependencies of the engine.
"""
