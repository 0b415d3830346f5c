"""``minigen.nn.utils``: helpers that change how a layer's parameters are used (PyTorch's ``torch.nn.utils``)."""
from minigen.nn.spectral_norm import remove_spectral_norm, spectral_norm, spectral_sigma  # noqa: F401

__all__ = ["spectral_norm", "remove_spectral_norm", "spectral_sigma"]
