"""Layers and models in PyTorch's shape: ``minigen.nn.Module``, ``Linear``, ``MLP``, ..."""
from minigen.nn import init  # noqa: F401
from minigen.nn.activation import LeakyReLU, ReLU, Sigmoid, Softplus, Tanh, get_activation  # noqa: F401
from minigen.nn.container import ModuleList, Sequential  # noqa: F401
from minigen.nn.layers import Dropout, Flatten, Identity, Linear  # noqa: F401
from minigen.nn.mlp import MLP  # noqa: F401
from minigen.nn.module import Module, Parameter  # noqa: F401
from minigen.nn.normalization import BatchNorm1d, LayerNorm  # noqa: F401
