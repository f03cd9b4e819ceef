"""Transposed convolutions (``conv_transpose1d/2d/3d``) and ``conv3d``; re-exported by
``backprop.nn.functional``."""

from __future__ import annotations

from ..ops.conv3d import Conv3d
from ..ops.conv_transpose import ConvTranspose
from ..tensor import Tensor
from ._util import check_float
from .conv import _padding, ntuple

__all__ = ["conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d"]

_AXES = {1: "L", 2: "H, W", 3: "D, H, W"}


def _check(op, nd, input, weight, bias, groups, wdesc):
    for name, t in (("input", input), ("weight", weight)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: {name} must be a Tensor, got {type(t).__name__}")
    if bias is not None and not isinstance(bias, Tensor):
        raise TypeError(f"{op}: bias must be a Tensor or None, got {type(bias).__name__}")
    check_float(input, op)
    if input.dtype != weight.dtype or (bias is not None and bias.dtype != input.dtype):
        raise TypeError(
            f"{op}: input dtype {input.dtype}, weight dtype {weight.dtype}"
            + (f" and bias dtype {bias.dtype}" if bias is not None else "")
            + " must match"
        )
    if weight.ndim != nd + 2:
        raise ValueError(f"{op}: weight must be {nd + 2}-D {wdesc}, got shape {weight.shape}")
    if input.ndim not in (nd + 1, nd + 2):
        raise ValueError(
            f"{op}: expected a {nd + 2}-D input (N, C, {_AXES[nd]}) or a {nd + 1}-D unbatched "
            f"one, got shape {input.shape}"
        )
    if isinstance(groups, bool) or not isinstance(groups, int) or groups < 1:
        raise ValueError(f"{op}: groups must be a positive int, got {groups!r}")
    unbatched = input.ndim == nd + 1
    return (input.reshape((1,) + input.shape) if unbatched else input), unbatched


def _conv_transpose(op, nd, input, weight, bias, stride, padding, output_padding, groups, dil):
    x, unbatched = _check(
        op, nd, input, weight, bias, groups, "(in_channels, out_channels/groups, *kernel)"
    )
    Cin = weight.shape[0]
    if x.shape[1] != Cin:
        raise ValueError(
            f"{op}: input has {x.shape[1]} channels (shape {input.shape}) but weight of shape "
            f"{weight.shape} expects {Cin}"
        )
    if Cin % groups:
        raise ValueError(f"{op}: in_channels {Cin} is not divisible by groups={groups}")
    Cout = weight.shape[1] * groups
    if bias is not None and bias.shape != (Cout,):
        raise ValueError(f"{op}: bias shape {bias.shape} does not fit {Cout} output channels")
    stride = ntuple(stride, nd, "stride", op, 1)
    padding = ntuple(padding, nd, "padding", op, 0)
    output_padding = ntuple(output_padding, nd, "output_padding", op, 0)
    dil = ntuple(dil, nd, "dilation", op, 1)
    for op_, s, d in zip(output_padding, stride, dil):
        if op_ >= max(s, d):
            raise ValueError(
                f"{op}: output_padding {output_padding} must be smaller than either stride "
                f"{stride} or dilation {dil}"
            )
    for axis, (n, k, s, d, p, o) in enumerate(
        zip(x.shape[2:], weight.shape[2:], stride, dil, padding, output_padding)
    ):
        size = (n - 1) * s - 2 * p + d * (k - 1) + o + 1
        if size < 0 or n < 1:
            raise ValueError(
                f"{op}: input of shape {input.shape} with weight {weight.shape} gives an output "
                f"of size {size} along spatial axis {axis}"
            )
    y = ConvTranspose.apply(
        x,
        weight,
        bias,
        stride=stride,
        padding=padding,
        output_padding=output_padding,
        dilation=dil,
        groups=groups,
    )
    return y.reshape(y.shape[1:]) if unbatched else y


def conv_transpose2d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride=1,
    padding=0,
    output_padding=0,
    groups: int = 1,
    dilation=1,
) -> Tensor:
    """2-D transposed convolution (the gradient of :func:`conv2d` with respect to its input;
    sometimes called a fractionally strided convolution or "deconvolution").

    Args:
        input: (N, C_in, H, W) or (C_in, H, W).
        weight: (C_in, C_out / groups, kH, kW) (note: in_channels first, unlike conv2d).
        bias: (C_out,) or None.
        stride: int or (sH, sW): the spacing of the input cells on the output grid.
        padding: int or (pH, pW): ``dilation * (k - 1) - padding`` zero cells are (implicitly)
            added on both sides, i.e. ``padding`` cells are cropped from each side of the output.
        output_padding: extra cells on the bottom/right of the output (to pick between the
            input sizes that a strided conv2d maps to the same size); below stride or dilation.
        groups: split input and output channels into this many independent groups.
        dilation: spacing between kernel taps.

    Shape:
        output: (N, C_out, H_out, W_out),
        ``H_out = (H - 1) * sH - 2 * pH + dH * (kH - 1) + output_padding + 1`` (likewise W).

    Example:
        >>> conv_transpose2d(backprop.randn(1, 4, 5, 5), backprop.randn(4, 2, 3, 3), stride=2).shape
        (1, 2, 11, 11)
    """
    return _conv_transpose(
        "conv_transpose2d", 2, input, weight, bias, stride, padding, output_padding, groups,
        dilation,
    )  # fmt: skip


def conv_transpose1d(
    input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1
) -> Tensor:
    """1-D transposed convolution over (N, C_in, L) or (C_in, L); weight (C_in, C_out/groups, k);
    arguments as in :func:`conv_transpose2d` with ints or 1-tuples."""
    return _conv_transpose(
        "conv_transpose1d", 1, input, weight, bias, stride, padding, output_padding, groups,
        dilation,
    )  # fmt: skip


def conv_transpose3d(
    input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1
) -> Tensor:
    """3-D transposed convolution over (N, C_in, D, H, W) or (C_in, D, H, W); weight
    (C_in, C_out/groups, kD, kH, kW); arguments as in :func:`conv_transpose2d` with 3-tuples."""
    return _conv_transpose(
        "conv_transpose3d", 3, input, weight, bias, stride, padding, output_padding, groups,
        dilation,
    )  # fmt: skip


def _conv3d(op, input, weight, bias, stride, padding, dilation, groups) -> Tensor:
    nd = 3
    x, unbatched = _check(
        op, nd, input, weight, bias, groups, "(out_channels, in_channels/groups, kD, kH, kW)"
    )
    O, Cg = weight.shape[:2]
    if O % groups:
        raise ValueError(
            f"{op}: out_channels {O} (weight shape {weight.shape}) is not divisible by "
            f"groups={groups}"
        )
    if x.shape[1] != Cg * groups:
        raise ValueError(
            f"{op}: input has {x.shape[1]} channels (shape {input.shape}) but weight of shape "
            f"{weight.shape} with groups={groups} expects {Cg * groups}"
        )
    if bias is not None and bias.shape != (O,):
        raise ValueError(f"{op}: bias shape {bias.shape} does not fit {O} output channels")
    kernel = weight.shape[2:]
    stride = ntuple(stride, nd, "stride", op, 1)
    dilation = ntuple(dilation, nd, "dilation", op, 1)
    pads = _padding(padding, kernel, stride, dilation, op)
    for axis, (n, k, d, (lo, hi)) in enumerate(zip(x.shape[2:], kernel, dilation, pads)):
        if d * (k - 1) + 1 > n + lo + hi:
            raise ValueError(
                f"{op}: kernel of size {k} (dilation {d}, weight shape {weight.shape}) is larger "
                f"than the padded input along spatial axis {axis} ({n} + padding {lo + hi}; "
                f"input shape {input.shape})"
            )
    y = Conv3d.apply(x, weight, bias, stride=stride, padding=pads, dilation=dilation, groups=groups)
    return y.reshape(y.shape[1:]) if unbatched else y


def conv3d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride=1,
    padding=0,
    dilation=1,
    groups: int = 1,
) -> Tensor:
    """3-D convolution (cross-correlation, as PyTorch).

    Args:
        input: (N, C_in, D, H, W) or (C_in, D, H, W).
        weight: (C_out, C_in / groups, kD, kH, kW).
        bias: (C_out,) or None.
        stride, dilation: int or 3-tuple.
        padding: int, 3-tuple, ``'valid'`` or ``'same'`` (stride 1; an odd total padding puts
            the extra cell after), zero padding.
        groups: split the channels into independent groups.

    Shape:
        output: (N, C_out, D_out, H_out, W_out),
        ``D_out = floor((D + 2p - d (k - 1) - 1) / s) + 1`` (likewise H, W).

    Example:
        >>> conv3d(backprop.randn(2, 3, 6, 6, 6), backprop.randn(4, 3, 3, 3, 3)).shape
        (2, 4, 4, 4, 4)
    """
    return _conv3d("conv3d", input, weight, bias, stride, padding, dilation, groups)
