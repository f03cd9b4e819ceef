"""Convolution layers: ``Conv1d`` and ``Conv2d`` (PyTorch's arguments, names and initialisation)."""

from __future__ import annotations

import math

import numpy as np

from ..functional.conv import _conv, _padding, ntuple
from ..functional.indexing import index_select
from ..tensor import Tensor
from . import init
from ._util import factory_dtype
from .module import Module
from .parameter import Parameter

__all__ = ["Conv1d", "Conv2d"]


_MODES = ("zeros", "reflect", "replicate", "circular")


def _pad_indices(n: int, lo: int, hi: int, mode: str, op: str):
    """Source index of every position of an axis of length n padded by (lo, hi) in ``mode``."""
    i = np.arange(-lo, n + hi)
    if mode == "circular":
        if lo > n or hi > n:
            raise ValueError(f"{op}: circular padding ({lo}, {hi}) exceeds the input size {n}")
        return i % n
    if mode == "reflect":
        if lo >= n or hi >= n:
            raise ValueError(
                f"{op}: reflect padding ({lo}, {hi}) must be smaller than the input size {n}"
            )
        i = np.abs(i)
        return np.where(i >= n, 2 * (n - 1) - i, i)
    return np.clip(i, 0, n - 1)  # replicate


def _mode_pad(x: Tensor, pads, mode: str, op: str) -> Tensor:
    """Pad the trailing spatial axes of x by ``pads`` ((lo, hi) per axis) in a non-zero mode."""
    nd = len(pads)
    for k, (lo, hi) in enumerate(pads):
        if lo or hi:
            axis = x.ndim - nd + k
            x = index_select(x, axis, _pad_indices(x.shape[axis], lo, hi, mode, op))
    return x


class _ConvNd(Module):
    _nd = 2
    _op = "Conv2d"

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size,
        stride=1,
        padding=0,
        dilation=1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        dtype=None,
    ) -> None:
        super().__init__()
        op, nd = self._op, self._nd
        for name, v in (("in_channels", in_channels), ("out_channels", out_channels)):
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{op}: {name} must be a positive int, got {v!r}")
        if isinstance(groups, bool) or not isinstance(groups, int) or groups < 1:
            raise ValueError(f"{op}: groups must be a positive int, got {groups!r}")
        if in_channels % groups:
            raise ValueError(f"{op}: in_channels {in_channels} is not divisible by groups={groups}")
        if out_channels % groups:
            raise ValueError(
                f"{op}: out_channels {out_channels} is not divisible by groups={groups}"
            )
        if padding_mode not in _MODES:
            raise ValueError(f"{op}: padding_mode must be one of {_MODES}, got {padding_mode!r}")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = ntuple(kernel_size, nd, "kernel_size", op, 1)
        self.stride = ntuple(stride, nd, "stride", op, 1)
        self.dilation = ntuple(dilation, nd, "dilation", op, 1)
        # Validates 'same' with a stride, bad strings and negative values now, not at forward.
        _padding(padding, self.kernel_size, self.stride, self.dilation, op)
        self.padding = (
            padding if isinstance(padding, str) else ntuple(padding, nd, "padding", op, 0)
        )
        self.groups = groups
        self.padding_mode = padding_mode
        dtype = factory_dtype(dtype, op)  # a float dtype, else TypeError naming the layer
        shape = (out_channels, in_channels // groups) + self.kernel_size
        self.weight = Parameter(np.empty(shape, dtype=dtype))
        self.bias = Parameter(np.empty(out_channels, dtype=dtype)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's default: weight ~ kaiming_uniform(a=sqrt(5)), i.e. U(-1/sqrt(fan_in),
        1/sqrt(fan_in)), and bias ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)), where
        fan_in = in_channels / groups * prod(kernel_size)."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.weight.shape[1] * math.prod(self.kernel_size)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0.0
            init.uniform_(self.bias, -bound, bound)

    def _conv_forward(self, input: Tensor) -> Tensor:
        op, nd = self._op, self._nd
        padding = self.padding
        if self.padding_mode != "zeros":
            if not isinstance(input, Tensor):
                raise TypeError(f"{op}: input must be a Tensor, got {type(input).__name__}")
            pads = _padding(padding, self.kernel_size, self.stride, self.dilation, op)
            input = _mode_pad(input, pads, self.padding_mode, op)
            padding = 0
        # _conv: the functional form's checks, with errors that name this layer.
        return _conv(
            op, nd, input, self.weight, self.bias, self.stride, padding, self.dilation, self.groups
        )

    def extra_repr(self) -> str:
        s = (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}"
        )
        if self.padding != (0,) * self._nd:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * self._nd:
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class Conv2d(_ConvNd):
    """2-D convolution layer: ``y = conv2d(x, weight, bias)`` (see
    :func:`backprop.nn.functional.conv2d` for the formula and the padding rules).

    Args:
        in_channels, out_channels: channel counts (both divisible by ``groups``).
        kernel_size: int or (kH, kW).
        stride, padding, dilation, groups: as in :func:`~backprop.nn.functional.conv2d`
            (``padding`` may be ``'same'`` or ``'valid'``).
        bias: learn an additive per-channel bias.
        padding_mode: ``'zeros'``, ``'reflect'``, ``'replicate'`` or ``'circular'`` (the
            last three pad with copies of the input, then convolve without padding).
        dtype: parameter dtype (float32 by default).

    Attributes:
        weight: (out_channels, in_channels / groups, kH, kW).
        bias: (out_channels,) or None.

    Shape:
        input (N, C_in, H, W) or (C_in, H, W) -> output (N, C_out, H_out, W_out).

    Example:
        >>> conv = nn.Conv2d(1, 20, 5)
        >>> conv(backprop.randn(64, 1, 28, 28)).shape
        (64, 20, 24, 24)
    """

    _nd = 2
    _op = "Conv2d"

    def forward(self, input: Tensor) -> Tensor:
        return self._conv_forward(input)


class Conv1d(_ConvNd):
    """1-D convolution layer over (N, C_in, L) or (C_in, L); arguments as :class:`Conv2d` with
    ints or 1-tuples. ``weight``: (out_channels, in_channels / groups, k).

    Example:
        >>> nn.Conv1d(2, 6, 3)(backprop.randn(4, 2, 10)).shape
        (4, 6, 8)
    """

    _nd = 1
    _op = "Conv1d"

    def forward(self, input: Tensor) -> Tensor:
        return self._conv_forward(input)
