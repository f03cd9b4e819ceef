"""`Flatten` and `Unflatten`: reshape between convolutional maps and feature vectors."""

from __future__ import annotations

from ..functional.shape import flatten, unflatten
from ..tensor import Tensor
from .module import Module

__all__ = ["Flatten", "Unflatten"]


class Flatten(Module):
    """Merge dims ``start_dim..end_dim`` into one (by default all but the batch dim).

    Shape:
        (N, C, H, W) -> (N, C * H * W) with the defaults.

    Example:
        >>> nn.Flatten()(backprop.zeros(64, 50, 4, 4)).shape
        (64, 800)
    """

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, input: Tensor) -> Tensor:
        return flatten(input, self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Split dim ``dim`` into ``unflattened_size`` (the inverse of :class:`Flatten`).

    Shape:
        (N, 784) -> (N, 1, 28, 28) with ``Unflatten(1, (1, 28, 28))``.
    """

    def __init__(self, dim: int, unflattened_size):
        super().__init__()
        sizes = tuple(unflattened_size)
        if not sizes or any(not isinstance(s, int) or (s < 0 and s != -1) for s in sizes):
            raise ValueError(f"Unflatten: unflattened_size must be a tuple of ints, got {sizes!r}")
        self.dim, self.unflattened_size = dim, sizes

    def forward(self, input: Tensor) -> Tensor:
        return unflatten(input, self.dim, self.unflattened_size)

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
