"""``Distribution``: the interface every distribution object shares, and the small helpers they use.

Shapes follow PyTorch::

    sample_shape + batch_shape + event_shape

``batch_shape`` indexes independent distributions with different parameters, ``event_shape`` is the
shape of one draw (``()`` for a scalar Normal, ``(d,)`` for a d-dimensional MultivariateNormal), and
``log_prob(x)`` returns one number per event: shape ``sample_shape + batch_shape``.

``rsample`` draws with the reparameterization trick (gradients flow to the parameters);
``sample`` draws without recording anything.
"""
from __future__ import annotations

from minigen import backend
from minigen.autograd.mode import no_grad
from minigen.autograd.tensor import Tensor
from minigen.backend import xp


class Distribution:
    """Base class.  Subclasses set ``batch_shape`` / ``event_shape`` and implement what they support."""

    has_rsample = False

    def __init__(self, batch_shape=(), event_shape=()):
        self.batch_shape = tuple(batch_shape)
        self.event_shape = tuple(event_shape)

    # --- drawing ---
    def rsample(self, sample_shape=(), generator=None) -> Tensor:
        """A reparameterized draw, shape ``sample_shape + batch_shape + event_shape``."""
        raise NotImplementedError(f"{type(self).__name__} has no reparameterized sampler (rsample); "
                                  "use sample() or a score-function estimator")

    def sample(self, sample_shape=(), generator=None) -> Tensor:
        """A draw with no gradient, shape ``sample_shape + batch_shape + event_shape``."""
        with no_grad():
            return self.rsample(sample_shape, generator).detach()

    # --- densities and summaries ---
    def log_prob(self, value) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__}.log_prob")

    def entropy(self) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__}.entropy")

    @property
    def mean(self) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__}.mean")

    @property
    def variance(self) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__}.variance")

    @property
    def stddev(self) -> Tensor:
        return self.variance.sqrt()

    def _extended_shape(self, sample_shape=()) -> tuple:
        return as_shape(sample_shape) + self.batch_shape + self.event_shape

    def __repr__(self):
        return (f"{type(self).__name__}(batch_shape={self.batch_shape}, "
                f"event_shape={self.event_shape})")


# ----------------------------------------------------------------------------------------------------
# helpers shared by the distribution files
# ----------------------------------------------------------------------------------------------------

def as_shape(shape) -> tuple:
    """An int or a sequence of ints -> a tuple (``5`` -> ``(5,)``)."""
    if isinstance(shape, int):
        return (shape,)
    return tuple(int(s) for s in shape)


def broadcast_shapes(*shapes) -> tuple:
    """NumPy's broadcasting rule on shapes alone (right-aligned; 1 stretches)."""
    nd = max((len(s) for s in shapes), default=0)
    out = []
    for i in range(nd):
        sizes = {s[len(s) - nd + i] for s in shapes if len(s) - nd + i >= 0} - {1}
        if len(sizes) > 1:
            raise ValueError(f"shapes {shapes} do not broadcast together")
        out.append(sizes.pop() if sizes else 1)
    return tuple(out)


def as_params(*xs):
    """Parameters as Tensors of one float dtype.

    Tensors pass through untouched (so gradients reach them); arrays, lists and numbers become
    constant Tensors of the common float dtype of the array-like inputs (float32 when all are Python
    numbers, so a float64 loc keeps a float ``scale`` in float64 too).
    """
    dtypes = [x.dtype for x in xs if hasattr(x, "dtype") and x.dtype.kind == "f"]
    dtype = xp.result_type(*dtypes) if dtypes else backend.default_float()
    return tuple(x if isinstance(x, Tensor) else Tensor(x, dtype=dtype) for x in xs)


def generator_or_default(generator):
    """An explicit ``Generator`` or the engine RNG (seeded by ``minigen.manual_seed``)."""
    return generator if generator is not None else backend.rng()


def all_true(mask) -> bool:
    """``mask.all()`` as a Python bool (one device sync)."""
    return bool(mask.all())


def check_simplex(p, who: str, axis=-1, atol=None):
    """Raise a ValueError naming what is wrong with probability vectors ``p`` (raw array) along ``axis``:
    NaN/inf, a negative entry, or a sum away from 1 (by more than ``atol``; default scales with float
    epsilon and the number of entries).  ``axis=None`` treats the whole array as one distribution."""
    if not all_true(xp.isfinite(p)):
        raise ValueError(f"{who} contain NaN or inf")
    if not all_true(p >= 0):
        raise ValueError(f"{who} must be non-negative (smallest entry {float(p.min()):.4g})")
    total = p.sum(axis=axis)
    if atol is None:
        k = p.size if axis is None else p.shape[axis]
        atol = max(1e-6, 100 * float(xp.finfo(p.dtype).eps) * k)
    worst = float(xp.abs(total - 1.0).max())
    if worst > atol:
        where = "in total" if axis is None else f"along axis {axis}"
        raise ValueError(f"{who} must sum to 1 {where} (sum is off by {worst:.3g})")
