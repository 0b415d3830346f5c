"""minigen: a from-scratch generative-modelling engine whose every gradient is written by hand and
checked against finite differences.

    import minigen as mg
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    x.grad            # tensor([2., 4.])
"""
from minigen.backend import get_backend, manual_seed, set_backend, to_device, to_host  # noqa: F401
from minigen.autograd import (Function, Tensor, detect_anomaly, enable_grad, grad, is_grad_enabled,  # noqa: F401
                              no_grad, set_grad_enabled, tensor, trace_backward)
from minigen.autograd import (arange, full, ones, ones_like, rand, randint, randn, zeros,  # noqa: F401
                              zeros_like)
from minigen import functional  # noqa: F401
from minigen import functional as F  # noqa: F401
from minigen import nn, optim  # noqa: F401
from minigen.serialization import CheckpointError, load, save  # noqa: F401
from minigen.threads import get_num_threads, set_num_threads  # noqa: F401
from minigen.gradcheck import gradcheck, gradgradcheck, GradcheckError  # noqa: F401

__version__ = "0.1.0"

# subpackages loaded on first use (mg.data.digits(), mg.zoo.load_all(), ...): importing minigen stays quick
_LAZY = ("data", "distributions", "losses", "metrics", "models", "privacy", "training", "viz", "zoo")


def __getattr__(name):
    if name in _LAZY:
        import importlib
        module = importlib.import_module(f"minigen.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module 'minigen' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
