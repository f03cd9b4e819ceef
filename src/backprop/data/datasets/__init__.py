"""Ready-made datasets: MNIST, Fashion-MNIST, CIFAR-10, the 8x8 digits and 2-D toy problems."""

from .cifar import CIFAR10
from .digits import Digits
from .mnist import MNIST, FashionMNIST
from .toy import (
    TOY_DATASETS,
    Toy2D,
    make_blobs,
    make_circles,
    make_moons,
    make_spirals,
    make_xor,
)

__all__ = [
    "MNIST",
    "FashionMNIST",
    "CIFAR10",
    "Digits",
    "Toy2D",
    "TOY_DATASETS",
    "make_moons",
    "make_circles",
    "make_spirals",
    "make_xor",
    "make_blobs",
]
