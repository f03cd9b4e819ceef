"""Data: datasets, loaders, transforms, downloads (``torch.utils.data`` and torchvision's datasets).

>>> from backprop.data import DataLoader, MNIST, transforms as T
>>> train = MNIST(train=True, download=True, transform=T.Normalize([0.1307], [0.3081]))
>>> for images, labels in DataLoader(train, batch_size=64, shuffle=True):
...     ...  # images: (64, 1, 28, 28) float32 Tensor, labels: (64,) int64 Tensor
"""

from . import datasets, transforms
from .dataset import (
    ConcatDataset,
    Dataset,
    Subset,
    TensorDataset,
    dataset_labels,
    random_split,
    stratified_indices,
    stratified_split,
    train_val_split,
)
from .datasets import (
    CIFAR10,
    MNIST,
    Digits,
    FashionMNIST,
    Toy2D,
    make_blobs,
    make_circles,
    make_moons,
    make_spirals,
    make_xor,
)
from .download import DownloadError, check_integrity, default_root, download_url
from .idx import read_idx
from .loader import DataLoader, default_collate, default_convert
from .sampler import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)

__all__ = [
    "Dataset",
    "TensorDataset",
    "Subset",
    "ConcatDataset",
    "random_split",
    "stratified_split",
    "stratified_indices",
    "train_val_split",
    "dataset_labels",
    "DataLoader",
    "Sampler",
    "SequentialSampler",
    "RandomSampler",
    "SubsetRandomSampler",
    "WeightedRandomSampler",
    "BatchSampler",
    "default_collate",
    "default_convert",
    "datasets",
    "transforms",
    "MNIST",
    "FashionMNIST",
    "CIFAR10",
    "Digits",
    "Toy2D",
    "make_moons",
    "make_circles",
    "make_spirals",
    "make_xor",
    "make_blobs",
    "DownloadError",
    "default_root",
    "download_url",
    "check_integrity",
    "read_idx",
]
