"""3-D pooling and max unpooling layers: ``MaxPool3d``, ``AvgPool3d``, ``MaxUnpool1d/2d/3d``."""

from __future__ import annotations

from ..functional.conv import ntuple
from ..functional.pool3d import _max_unpool, avg_pool_nd, max_pool_nd
from ..tensor import Tensor
from .module import Module

__all__ = ["MaxPool3d", "AvgPool3d", "MaxUnpool1d", "MaxUnpool2d", "MaxUnpool3d"]


class MaxPool3d(Module):
    """3-D max pooling: ``max_pool3d(x, kernel_size, stride, padding, dilation, ceil_mode,
    return_indices)`` (see :func:`backprop.nn.functional.max_pool3d`).

    Example:
        >>> nn.MaxPool3d(2)(backprop.randn(1, 2, 4, 4, 4)).shape
        (1, 2, 2, 2, 2)
    """

    def __init__(
        self,
        kernel_size,
        stride=None,
        padding=0,
        dilation=1,
        return_indices: bool = False,
        ceil_mode: bool = False,
    ) -> None:
        super().__init__()
        op = type(self).__name__
        ntuple(kernel_size, 3, "kernel_size", op, 1)
        if stride is not None:
            ntuple(stride, 3, "stride", op, 1)
        ntuple(padding, 3, "padding", op, 0)
        ntuple(dilation, 3, "dilation", op, 1)
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def forward(self, input: Tensor):
        return max_pool_nd(
            "MaxPool3d", 3, input, self.kernel_size, self.stride, self.padding, self.dilation,
            self.ceil_mode, self.return_indices,
        )  # fmt: skip

    def extra_repr(self) -> str:
        return (
            f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
            f"dilation={self.dilation}, ceil_mode={self.ceil_mode}"
        )


class AvgPool3d(Module):
    """3-D average pooling: ``avg_pool3d(x, kernel_size, stride, padding, ceil_mode,
    count_include_pad, divisor_override)`` (see :func:`backprop.nn.functional.avg_pool3d`)."""

    def __init__(
        self,
        kernel_size,
        stride=None,
        padding=0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
        divisor_override: int | None = None,
    ) -> None:
        super().__init__()
        op = type(self).__name__
        ntuple(kernel_size, 3, "kernel_size", op, 1)
        if stride is not None:
            ntuple(stride, 3, "stride", op, 1)
        ntuple(padding, 3, "padding", op, 0)
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.ceil_mode = padding, ceil_mode
        self.count_include_pad, self.divisor_override = count_include_pad, divisor_override

    def forward(self, input: Tensor) -> Tensor:
        return avg_pool_nd(
            "AvgPool3d", 3, input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
            self.count_include_pad, self.divisor_override,
        )  # fmt: skip

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class _MaxUnpoolNd(Module):
    _nd = 2

    def __init__(self, kernel_size, stride=None, padding=0) -> None:
        super().__init__()
        op, nd = type(self).__name__, self._nd
        self.kernel_size = ntuple(kernel_size, nd, "kernel_size", op, 1)
        self.stride = self.kernel_size if stride is None else ntuple(stride, nd, "stride", op, 1)
        self.padding = ntuple(padding, nd, "padding", op, 0)

    def forward(self, input: Tensor, indices: Tensor, output_size=None) -> Tensor:
        return _max_unpool(
            type(self).__name__, self._nd, input, indices, self.kernel_size, self.stride,
            self.padding, output_size,
        )  # fmt: skip

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxUnpool2d(_MaxUnpoolNd):
    """The partial inverse of ``MaxPool2d``: ``forward(input, indices, output_size=None)``
    writes each value at its index into a zero output (see
    :func:`backprop.nn.functional.max_unpool2d`).

    Example:
        >>> pool, unpool = nn.MaxPool2d(2, return_indices=True), nn.MaxUnpool2d(2)
        >>> y, i = pool(backprop.randn(1, 1, 4, 4))
        >>> unpool(y, i).shape
        (1, 1, 4, 4)
    """

    _nd = 2


class MaxUnpool1d(_MaxUnpoolNd):
    """1-D :class:`MaxUnpool2d` over (N, C, L) or (C, L)."""

    _nd = 1


class MaxUnpool3d(_MaxUnpoolNd):
    """3-D :class:`MaxUnpool2d` over (N, C, D, H, W) or (C, D, H, W)."""

    _nd = 3
