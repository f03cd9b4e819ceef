"""``Tensor.unfold``: the windows of one dim, as a view (``F.unfold``, im2col, is
:mod:`backprop.functional.fold`)."""

from __future__ import annotations

from ..ops.fold import Unfold
from ..tensor import Tensor
from ._util import one_dim

__all__ = ["unfold"]


def unfold(input: Tensor, dimension: int, size: int, step: int) -> Tensor:
    """Every window of ``size`` elements, ``step`` apart, along ``dimension``, as a strided view
    of ``input`` (PyTorch's ``Tensor.unfold``: ``x.unfold(dimension, size, step)``).

    Shape: ``dimension`` (of size n) becomes the window count (n - size) // step + 1, and a last
    dim of ``size`` is added: ``(5, 4).unfold(0, 2, 1) -> (4, 4, 2)``. A 0-d input is one
    element long. The windows share memory with ``input`` (writes through them reach it; where
    they overlap a write is refused, as in PyTorch); the gradient adds each window's back.

    Example:
        >>> backprop.arange(6.0).unfold(0, 3, 2)
        tensor([[0., 1., 2.],
                [2., 3., 4.]])
    """
    op = "unfold"
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(input).__name__}")
    for name, v in (("size", size), ("step", step)):
        if isinstance(v, bool) or not isinstance(v, int):
            raise TypeError(f"{op}: {name} must be an int, got {type(v).__name__} {v!r}")
    d = one_dim(dimension, input.ndim, op)
    x = input.reshape(1) if input.ndim == 0 else input
    n = x.shape[d]
    if step <= 0:
        raise ValueError(f"{op}: step is {step} but must be > 0")
    if not 0 <= size <= n:
        raise ValueError(
            f"{op}: size {size} does not fit dimension {dimension} of size {n} "
            f"(shape {input.shape})"
        )
    y = Unfold.apply(x, dim=d, size=size, step=step)
    return y.reshape((size,)) if input.ndim == 0 else y
