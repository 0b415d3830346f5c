"""One module per implementation; each exposes ``make(workload, seed=0, noise=None, sizes=None)``
returning a ``step()`` callable (one training step, returning the loss(es) as the library's own
objects) and ``sync()`` (wait for queued device work; a no-op on the CPU).

``IMPLS`` maps the harness's implementation names to ``(module, backend/device option)``.
"""

IMPLS = {
    "numpy": ("benchmarks.impls.numpy_impl", None),  # the hand-written reference
    "minigen": ("benchmarks.impls.minigen_impl", "numpy"),
    "torch": ("benchmarks.impls.torch_impl", "cpu"),
    "jax": ("benchmarks.impls.jax_impl", "cpu"),
    "minigen-cupy": ("benchmarks.impls.minigen_impl", "cupy"),
    "torch-cuda": ("benchmarks.impls.torch_impl", "cuda"),
}

REFERENCE = "numpy"
