"""``Unfold`` (im2col) and ``Fold`` (col2im): sliding windows of images as columns and back."""

from __future__ import annotations

from ..functional import fold as _F
from ..tensor import Tensor
from .module import Module

__all__ = ["Unfold", "Fold"]


class Unfold(Module):
    """Every sliding window of a batch of images, as columns (see ``F.unfold``).

    Args:
        kernel_size, dilation, padding (zeros), stride: ints or pairs.

    Shape: (N, C, H, W) -> (N, C * KH * KW, L), or (C, H, W) -> (C * KH * KW, L).

    Example:
        >>> nn.Unfold(kernel_size=2)(backprop.randn(1, 3, 4, 4)).shape
        (1, 12, 9)
    """

    def __init__(self, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.kernel_size, self.dilation = kernel_size, dilation
        self.padding, self.stride = padding, stride
        _F._settings(kernel_size, dilation, padding, stride, "Unfold")  # refuse bad settings now

    def forward(self, input: Tensor) -> Tensor:
        return _F.unfold(input, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self) -> str:
        return (
            f"kernel_size={self.kernel_size}, dilation={self.dilation}, padding={self.padding}, "
            f"stride={self.stride}"
        )


class Fold(Module):
    """Sums columns of windows back into images (see ``F.fold``), the adjoint of ``Unfold``.

    Args:
        output_size: (H, W) of the images (an int for both).
        kernel_size, dilation, padding, stride: as for ``Unfold``.

    Shape: (N, C * KH * KW, L) -> (N, C, H, W), or (C * KH * KW, L) -> (C, H, W).
    """

    def __init__(self, output_size, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.output_size, self.kernel_size = output_size, kernel_size
        self.dilation, self.padding, self.stride = dilation, padding, stride
        _F._settings(kernel_size, dilation, padding, stride, "Fold")

    def forward(self, input: Tensor) -> Tensor:
        return _F.fold(
            input, self.output_size, self.kernel_size, self.dilation, self.padding, self.stride
        )

    def extra_repr(self) -> str:
        return (
            f"output_size={self.output_size}, kernel_size={self.kernel_size}, "
            f"dilation={self.dilation}, padding={self.padding}, stride={self.stride}"
        )
