"""Data: toy 2-D sets, image sets (8x8 digits, MNIST, Fashion-MNIST) and the DataLoader.

Data sets are generated or read on the host as NumPy arrays; the :class:`DataLoader` moves them to the
active device and serves mini-batches of Tensors.
"""
from minigen.data.digits import digits
from minigen.data.download import DatasetNotFoundError
from minigen.data.idx import IDXError, read_idx, write_idx
from minigen.data.images import ImageDataset
from minigen.data.loader import DataLoader
from minigen.data.mnist import fashion_mnist, mnist
from minigen.data.tabular import TabularDataset, auroc_host, tabular_classification
from minigen.data.timeseries import ANOMALY_KINDS, AnomalySeries, anomaly_series
from minigen.data.toy2d import TOY2D_NAMES, Toy2D, gaussian_mixture, toy2d

__all__ = ["toy2d", "gaussian_mixture", "Toy2D", "TOY2D_NAMES", "digits", "ImageDataset", "mnist",
           "fashion_mnist", "read_idx", "write_idx", "IDXError", "DatasetNotFoundError", "DataLoader",
           "tabular_classification", "TabularDataset", "auroc_host", "anomaly_series", "AnomalySeries",
           "ANOMALY_KINDS"]
