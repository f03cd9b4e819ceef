"""Pooling layers: max, average and adaptive average, 1-D and 2-D (PyTorch's arguments)."""

from __future__ import annotations

from ..functional.conv import ntuple
from ..functional.pooling import _adaptive, _avg_pool, _max_pool
from ..tensor import Tensor
from .module import Module

__all__ = [
    "MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d", "AdaptiveAvgPool1d", "AdaptiveAvgPool2d",
    "AdaptiveMaxPool1d", "AdaptiveMaxPool2d",
]  # fmt: skip


def _check_window(layer: Module, kernel_size, stride, padding, dilation=1) -> None:
    """Refuse bad window settings when the layer is built, not at its first forward."""
    op, nd = type(layer).__name__, layer._nd
    ntuple(kernel_size, nd, "kernel_size", op, 1)
    if stride is not None:
        ntuple(stride, nd, "stride", op, 1)
    ntuple(padding, nd, "padding", op, 0)
    ntuple(dilation, nd, "dilation", op, 1)


class _MaxPoolNd(Module):
    _nd = 2

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
        _check_window(self, kernel_size, stride, padding, dilation)
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.dilation = dilation
        self.return_indices = return_indices
        self.ceil_mode = ceil_mode

    def forward(self, input: Tensor):
        return _max_pool(
            type(self).__name__, self._nd, input, self.kernel_size, self.stride, self.padding,
            self.dilation, self.ceil_mode, self.return_indices,
        )  # fmt: skip

    def extra_repr(self) -> str:
        return (
            f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
            f"dilation={self.dilation}, ceil_mode={self.ceil_mode}"
        )


class MaxPool2d(_MaxPoolNd):
    """2-D max pooling (see :func:`backprop.nn.functional.max_pool2d`): the gradient goes to one
    element per window, the first maximum in window order on ties, as in PyTorch.

    Args:
        kernel_size: int or (kH, kW).
        stride: defaults to ``kernel_size``.
        padding: -inf padding on both sides (at most half the kernel size).
        dilation: spacing between window elements.
        return_indices: also return each maximum's flat index into H*W.
        ceil_mode: round the output size up.

    Shape:
        (N, C, H, W) or (C, H, W) -> (N, C, H_out, W_out).

    Example:
        >>> nn.MaxPool2d(2)(backprop.randn(64, 20, 28, 28)).shape
        (64, 20, 14, 14)
    """

    _nd = 2


class MaxPool1d(_MaxPoolNd):
    """1-D max pooling over (N, C, L) or (C, L); arguments as :class:`MaxPool2d`."""

    _nd = 1


class _AvgPoolNd(Module):
    _nd = 2

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
        _check_window(self, kernel_size, stride, padding)
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad
        self.divisor_override = divisor_override

    def forward(self, input: Tensor) -> Tensor:
        return _avg_pool(
            type(self).__name__, self._nd, input, self.kernel_size, self.stride, self.padding,
            self.ceil_mode, self.count_include_pad, self.divisor_override,
        )  # fmt: skip

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool2d(_AvgPoolNd):
    """2-D average pooling (see :func:`backprop.nn.functional.avg_pool2d`).

    Args:
        kernel_size: int or (kH, kW).
        stride: defaults to ``kernel_size``.
        padding: zero padding on both sides (at most half the kernel).
        ceil_mode: round the output size up.
        count_include_pad: count padded cells in the divisor.
        divisor_override: divide every window sum by this instead.

    Shape:
        (N, C, H, W) or (C, H, W) -> (N, C, H_out, W_out).

    Example:
        >>> nn.AvgPool2d(2)(backprop.randn(2, 3, 8, 8)).shape
        (2, 3, 4, 4)
    """

    _nd = 2


class AvgPool1d(_AvgPoolNd):
    """1-D average pooling over (N, C, L) or (C, L); arguments as :class:`AvgPool2d` (PyTorch's
    AvgPool1d has no ``divisor_override``; it is accepted here)."""

    _nd = 1


class _AdaptiveAvgPoolNd(Module):
    _nd = 2

    def __init__(self, output_size) -> None:
        super().__init__()
        sizes = output_size if isinstance(output_size, (tuple, list)) else (output_size,) * self._nd
        if len(sizes) != self._nd or not all(
            s is None or (isinstance(s, int) and not isinstance(s, bool) and s >= 1) for s in sizes
        ):
            raise ValueError(
                f"{type(self).__name__}: output_size must be positive ints (or None), one or a "
                f"tuple of {self._nd}, got {output_size!r}"
            )
        self.output_size = output_size

    def forward(self, input: Tensor) -> Tensor:
        return _adaptive(type(self).__name__, self._nd, input, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveAvgPool2d(_AdaptiveAvgPoolNd):
    """Average pooling to a fixed (OH, OW) whatever the input size, with PyTorch's windows
    (see :func:`backprop.nn.functional.adaptive_avg_pool2d`); ``(1, 1)`` is global average pooling.

    Shape:
        (N, C, H, W) or (C, H, W) -> (N, C, OH, OW).

    Example:
        >>> nn.AdaptiveAvgPool2d((1, 1))(backprop.randn(2, 3, 7, 7)).shape
        (2, 3, 1, 1)
    """

    _nd = 2


class AdaptiveAvgPool1d(_AdaptiveAvgPoolNd):
    """Adaptive average pooling over (N, C, L) or (C, L) to length ``output_size``."""

    _nd = 1


class _AdaptiveMaxPoolNd(_AdaptiveAvgPoolNd):
    def __init__(self, output_size, return_indices: bool = False) -> None:
        super().__init__(output_size)
        self.return_indices = bool(return_indices)

    def forward(self, input: Tensor):
        return _adaptive(
            type(self).__name__, self._nd, input, self.output_size, "max", self.return_indices
        )


class AdaptiveMaxPool2d(_AdaptiveMaxPoolNd):
    """Max pooling to a fixed (OH, OW) whatever the input size (PyTorch's windows, see
    :func:`backprop.nn.functional.adaptive_max_pool2d`).

    Shape:
        (N, C, H, W) or (C, H, W) -> (N, C, OH, OW).
    """

    _nd = 2


class AdaptiveMaxPool1d(_AdaptiveMaxPoolNd):
    """Adaptive max pooling over (N, C, L) or (C, L) to length ``output_size``."""

    _nd = 1
