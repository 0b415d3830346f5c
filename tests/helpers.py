"""Small helpers shared by the tests."""
from pathlib import Path

import numpy as np

import minigen as mg

# the MNIST test files beside the checkout, when the machine has them (a user's clone does not)
SHARED_MNIST = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mnist"


def t64(a, requires_grad=True):
    """A float64 tensor on the active device (for gradient checks)."""
    return mg.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


def host(t):
    """Any tensor or array as a host NumPy array (explicit on device backends)."""
    return t.numpy() if isinstance(t, mg.Tensor) else mg.to_host(t)
