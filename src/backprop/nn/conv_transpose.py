"""Transposed convolution layers ``ConvTranspose1d/2d/3d`` and ``Conv3d`` (PyTorch's arguments,
names and initialisation)."""

from __future__ import annotations

import math

import numpy as np

from ..functional.conv import _padding, ntuple
from ..functional.conv_transpose import _conv3d, _conv_transpose
from ..tensor import Tensor
from . import init
from ._util import factory_dtype
from .conv import _ConvNd, _mode_pad
from .module import Module
from .parameter import Parameter

__all__ = ["ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d", "Conv3d"]


class _ConvTransposeNd(Module):
    _nd = 2

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size,
        stride=1,
        padding=0,
        output_padding=0,
        groups: int = 1,
        bias: bool = True,
        dilation=1,
        padding_mode: str = "zeros",
        dtype=None,
    ) -> None:
        super().__init__()
        op, nd = type(self).__name__, self._nd
        for name, v in (("in_channels", in_channels), ("out_channels", out_channels)):
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{op}: {name} must be a positive int, got {v!r}")
        if isinstance(groups, bool) or not isinstance(groups, int) or groups < 1:
            raise ValueError(f"{op}: groups must be a positive int, got {groups!r}")
        if in_channels % groups or out_channels % groups:
            raise ValueError(
                f"{op}: in_channels {in_channels} and out_channels {out_channels} must be "
                f"divisible by groups={groups}"
            )
        if padding_mode != "zeros":
            raise ValueError(f"{op}: only 'zeros' padding mode is supported, got {padding_mode!r}")
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = ntuple(kernel_size, nd, "kernel_size", op, 1)
        self.stride = ntuple(stride, nd, "stride", op, 1)
        self.padding = ntuple(padding, nd, "padding", op, 0)
        self.output_padding = ntuple(output_padding, nd, "output_padding", op, 0)
        self.dilation = ntuple(dilation, nd, "dilation", op, 1)
        self.padding_mode = padding_mode
        dtype = factory_dtype(dtype, op)
        shape = (in_channels, out_channels // groups) + self.kernel_size
        self.weight = Parameter(np.empty(shape, dtype=dtype))
        self.bias = Parameter(np.empty(out_channels, dtype=dtype)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's default: kaiming_uniform(a=sqrt(5)) on the weight, whose fan_in is
        ``out_channels / groups * prod(kernel_size)`` (its dim 1 times the kernel), and bias
        ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.weight.shape[1] * math.prod(self.kernel_size)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0.0
            init.uniform_(self.bias, -bound, bound)

    def _output_padding(self, input: Tensor, output_size) -> tuple:
        """The output_padding that gives ``output_size`` (PyTorch's rule), or the layer's own."""
        if output_size is None:
            return self.output_padding
        op, nd = type(self).__name__, self._nd
        size = tuple(int(s) for s in output_size)[-nd:]
        if len(size) != nd:
            raise ValueError(f"{op}: output_size {output_size} must have {nd} spatial entries")
        out = []
        for a in range(nd):
            n = input.shape[input.ndim - nd + a]
            k, s, p, d = self.kernel_size[a], self.stride[a], self.padding[a], self.dilation[a]
            lo = (n - 1) * s - 2 * p + d * (k - 1) + 1
            if not lo <= size[a] < lo + s:
                raise ValueError(
                    f"{op}: requested an output size of {size}, but valid sizes along spatial "
                    f"dim {a} range from {lo} to {lo + s - 1} (for an input of {input.shape})"
                )
            out.append(size[a] - lo)
        return tuple(out)

    def forward(self, input: Tensor, output_size=None) -> Tensor:
        op = type(self).__name__
        return _conv_transpose(
            op, self._nd, input, self.weight, self.bias, self.stride, self.padding,
            self._output_padding(input, output_size), self.groups, self.dilation,
        )  # fmt: skip

    def extra_repr(self) -> str:
        s = (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}"
        )
        if self.padding != (0,) * self._nd:
            s += f", padding={self.padding}"
        if self.output_padding != (0,) * self._nd:
            s += f", output_padding={self.output_padding}"
        if self.dilation != (1,) * self._nd:
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        return s


class ConvTranspose2d(_ConvTransposeNd):
    """2-D transposed convolution layer: ``y = conv_transpose2d(x, weight, bias)`` (see
    :func:`backprop.nn.functional.conv_transpose2d`).

    Args:
        in_channels, out_channels: channel counts (both divisible by ``groups``).
        kernel_size, stride, padding, output_padding, groups, dilation: as in
            :func:`~backprop.nn.functional.conv_transpose2d`.
        bias: learn an additive per-channel bias.
        padding_mode: ``'zeros'`` only (as PyTorch).
        dtype: parameter dtype (float32 by default).

    Attributes:
        weight: (in_channels, out_channels / groups, kH, kW).
        bias: (out_channels,) or None.

    ``forward(input, output_size=None)``: ``output_size`` picks the output_padding that gives
    that size (a strided conv maps several input sizes to one output size).

    Example:
        >>> nn.ConvTranspose2d(4, 2, 3, stride=2)(backprop.randn(1, 4, 5, 5)).shape
        (1, 2, 11, 11)
    """

    _nd = 2


class ConvTranspose1d(_ConvTransposeNd):
    """1-D transposed convolution layer over (N, C_in, L) or (C_in, L); arguments as
    :class:`ConvTranspose2d` with ints or 1-tuples."""

    _nd = 1


class ConvTranspose3d(_ConvTransposeNd):
    """3-D transposed convolution layer over (N, C_in, D, H, W) or (C_in, D, H, W); arguments as
    :class:`ConvTranspose2d` with ints or 3-tuples."""

    _nd = 3


class Conv3d(_ConvNd):
    """3-D convolution layer: ``y = conv3d(x, weight, bias)`` (see
    :func:`backprop.nn.functional.conv3d`); arguments as :class:`~backprop.nn.Conv2d` with
    3-tuples, ``padding_mode`` included. ``weight``: (out_channels, in_channels / groups, kD, kH,
    kW).

    Example:
        >>> nn.Conv3d(2, 4, 3, padding=1)(backprop.randn(1, 2, 5, 5, 5)).shape
        (1, 4, 5, 5, 5)
    """

    _nd = 3
    _op = "Conv3d"

    def forward(self, input: Tensor) -> Tensor:
        op = self._op
        padding = self.padding
        if self.padding_mode != "zeros":
            if not isinstance(input, Tensor):
                raise TypeError(f"{op}: input must be a Tensor, got {type(input).__name__}")
            pads = _padding(padding, self.kernel_size, self.stride, self.dilation, op)
            input = _mode_pad(input, pads, self.padding_mode, op)
            padding = 0
        return _conv3d(
            op, input, self.weight, self.bias, self.stride, padding, self.dilation, self.groups
        )
