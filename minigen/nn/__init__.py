"""Layers and models in PyTorch's shape: ``minigen.nn.Module``, ``Linear``, ``MLP``, ..."""
from minigen.nn import init  # noqa: F401
from minigen.nn.activation import LeakyReLU, ReLU, Sigmoid, Softplus, Tanh, get_activation  # noqa: F401
from minigen.nn.container import ModuleList, Sequential  # noqa: F401
from minigen.nn.layers import Dropout, Flatten, Identity, Linear  # noqa: F401
from minigen.nn.mlp import MLP  # noqa: F401
from minigen.nn.module import Module, Parameter  # noqa: F401
from minigen.nn.normalization import BatchNorm1d, BatchNorm2d, InstanceNorm2d, LayerNorm  # noqa: F401
from minigen.nn.conv import Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d, Resize, Unflatten, Upsample  # noqa: F401
from minigen.nn.rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell  # noqa: F401
from minigen.nn.embedding import Embedding  # noqa: F401
from minigen.nn.ema import EMA  # noqa: F401
from minigen.nn.conditional_bn import ConditionalBatchNorm2d  # noqa: F401
from minigen.nn.style import MinibatchStdDev, ModulatedConv2d, NoiseInjection, PixelNorm  # noqa: F401
from minigen.nn import utils  # noqa: F401
