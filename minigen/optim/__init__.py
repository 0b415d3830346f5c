"""Optimizers in PyTorch's shape: ``minigen.optim.Adam(model.parameters(), lr=1e-3)``."""
from minigen.optim import lr_scheduler  # noqa: F401
from minigen.optim.adam import Adam, AdamW  # noqa: F401
from minigen.optim.clip import clip_grad_norm_  # noqa: F401
from minigen.optim.optimizer import Optimizer  # noqa: F401
from minigen.optim.rmsprop import RMSprop  # noqa: F401
from minigen.optim.sgd import SGD  # noqa: F401
