"""Convolutions: ``conv1d`` and ``conv2d``; re-exported by ``backprop.nn.functional``."""

from __future__ import annotations

from ..ops.conv import Conv2d
from ..tensor import Tensor
from ._util import check_float

__all__ = ["conv1d", "conv2d"]


def ntuple(value, n: int, name: str, op: str, minimum: int) -> tuple:
    """``value`` (an int or a sequence of ``n`` ints, each >= ``minimum``) as an n-tuple."""
    vals = (value,) * n if isinstance(value, int) and not isinstance(value, bool) else value
    try:
        vals = tuple(vals)
    except TypeError:
        raise TypeError(
            f"{op}: {name} must be an int or a tuple of {n} ints, got {value!r}"
        ) from None
    if len(vals) != n or not all(isinstance(v, int) and not isinstance(v, bool) for v in vals):
        raise TypeError(f"{op}: {name} must be an int or a tuple of {n} ints, got {value!r}")
    if any(v < minimum for v in vals):
        raise ValueError(f"{op}: {name} must be >= {minimum}, got {value!r}")
    return vals


def _padding(padding, kernel, stride, dilation, op: str) -> tuple:
    """Per-axis (before, after) padding; 'same' uses PyTorch's rule (any odd extra goes after)."""
    n = len(kernel)
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * n
        if padding == "same":
            if any(s != 1 for s in stride):
                raise ValueError(
                    f"{op}: padding='same' is not supported for strided convolutions "
                    f"(stride={stride})"
                )
            out = []
            for k, d in zip(kernel, dilation):
                total = d * (k - 1)
                out.append((total // 2, total - total // 2))
            return tuple(out)
        raise ValueError(
            f"{op}: padding must be 'valid', 'same', an int or a tuple, got {padding!r}"
        )
    return tuple((p, p) for p in ntuple(padding, n, "padding", op, 0))


def _conv(op, nd, input, weight, bias, stride, padding, dilation, groups) -> Tensor:
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
        raise ValueError(
            f"{op}: weight must be {nd + 2}-D (out_channels, in_channels/groups, "
            f"{'kH, kW' if nd == 2 else 'kW'}), got shape {weight.shape}"
        )
    if input.ndim not in (nd + 1, nd + 2):
        raise ValueError(
            f"{op}: expected a {nd + 2}-D input (N, C, {'H, W' if nd == 2 else 'L'}) or a "
            f"{nd + 1}-D unbatched one, got shape {input.shape}"
        )
    if isinstance(groups, bool) or not isinstance(groups, int) or groups < 1:
        raise ValueError(f"{op}: groups must be a positive int, got {groups!r}")
    unbatched = input.ndim == nd + 1
    x = input.reshape((1,) + input.shape) if unbatched else input
    O, Cg = weight.shape[:2]
    kernel = weight.shape[2:]
    C = x.shape[1]
    if O % groups:
        raise ValueError(
            f"{op}: out_channels {O} (weight shape {weight.shape}) is not divisible by "
            f"groups={groups}"
        )
    if C != Cg * groups:
        raise ValueError(
            f"{op}: input has {C} channels (shape {input.shape}) but weight of shape "
            f"{weight.shape} with groups={groups} expects {Cg * groups}"
        )
    if bias is not None and bias.shape != (O,):
        raise ValueError(f"{op}: bias shape {bias.shape} does not fit {O} output channels")
    stride = ntuple(stride, nd, "stride", op, 1)
    dilation = ntuple(dilation, nd, "dilation", op, 1)
    pads = _padding(padding, kernel, stride, dilation, op)
    for axis, (n, k, d, (lo, hi)) in enumerate(zip(x.shape[2:], kernel, dilation, pads)):
        if d * (k - 1) + 1 > n + lo + hi:
            raise ValueError(
                f"{op}: kernel of size {k} (dilation {d}, weight shape {weight.shape}) is larger "
                f"than the padded input along spatial axis {axis} ({n} + padding {lo + hi} = "
                f"{n + lo + hi}; input shape {input.shape})"
            )
    if nd == 1:
        stride, dilation = (1,) + stride, (1,) + dilation
        pads = ((0, 0),) + pads
    y = Conv2d.apply(
        x,
        weight,
        bias,
        stride=stride,
        padding=pads[0] + pads[1],
        dilation=dilation,
        groups=groups,
    )
    return y.reshape(y.shape[1:]) if unbatched else y


def conv2d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride=1,
    padding=0,
    dilation=1,
    groups: int = 1,
) -> Tensor:
    """2-D convolution (cross-correlation, as in PyTorch and every deep-learning library).

    ``y[n,o,h,w] = b[o] + sum_{c,i,j} w[o,c,i,j] x[n, c, s*h + d*i - p, s*w + d*j - p]``
    with ``c`` running over the channels of ``o``'s group. Computed by im2col and one matrix
    multiply; the gradients are exact (first order).

    Args:
        input: (N, C_in, H, W), or (C_in, H, W) unbatched.
        weight: (C_out, C_in / groups, kH, kW).
        bias: (C_out,) or None.
        stride: int or (sH, sW).
        padding: int, (pH, pW), ``'valid'`` (no padding) or ``'same'`` (output size = input size;
            stride 1 only; when the total padding ``dilation * (k - 1)`` is odd the extra row or
            column goes at the bottom/right, as PyTorch does). Zero padding.
        dilation: int or (dH, dW): spacing between kernel taps.
        groups: split input and output channels into this many independent convolutions.

    Shape:
        output: (N, C_out, H_out, W_out) with
        ``H_out = floor((H + pad_top + pad_bottom - dH * (kH - 1) - 1) / sH) + 1`` (likewise W).

    Raises:
        ValueError: wrong ranks, channels that do not match the weight or are not divisible by
            groups, a kernel larger than the padded input, non-positive stride or dilation.

    Example:
        >>> x = backprop.randn(8, 3, 32, 32)
        >>> w = backprop.randn(16, 3, 5, 5)
        >>> conv2d(x, w, padding=2).shape
        (8, 16, 32, 32)
    """
    return _conv("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)


def conv1d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride=1,
    padding=0,
    dilation=1,
    groups: int = 1,
) -> Tensor:
    """1-D convolution (cross-correlation), computed as a 2-D one over a unit height.

    Args:
        input: (N, C_in, L), or (C_in, L) unbatched.
        weight: (C_out, C_in / groups, k).
        bias: (C_out,) or None.
        stride, padding, dilation, groups: as in :func:`conv2d`, with ints or 1-tuples.

    Shape:
        output: (N, C_out, L_out), ``L_out = floor((L + 2 * padding - dilation * (k - 1) - 1) /
        stride) + 1``.

    Example:
        >>> conv1d(backprop.randn(4, 2, 10), backprop.randn(6, 2, 3)).shape
        (4, 6, 8)
    """
    return _conv("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)
