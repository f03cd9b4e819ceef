"""3-D pooling and max unpooling: ``max_pool3d``, ``avg_pool3d``, ``max_unpool1d/2d/3d``;
re-exported by ``backprop.nn.functional``.

:func:`max_pool_nd` and :func:`avg_pool_nd` serve any number of spatial dims and integer inputs
(PyTorch pools integers: max pooling for every integer dtype, average pooling for int64), so the
1-D and 2-D functions can hand integer tensors to them.
"""

from __future__ import annotations

import numpy as np

from ..backend import backend_of
from ..ops import pool3d as P
from ..tensor import Tensor
from .conv import ntuple
from .pooling import _out_size

__all__ = ["max_pool3d", "avg_pool3d", "max_unpool1d", "max_unpool2d", "max_unpool3d"]

_AXES = {1: "L", 2: "H, W", 3: "D, H, W"}


def _input(input, nd, op, ints):
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(input).__name__}")
    kind = input.data.dtype.kind
    if kind != "f" and not (kind in "iu" and input.data.dtype in ints):
        raise TypeError(f"{op}: not implemented for dtype {input.data.dtype}")
    if input.ndim not in (nd + 1, nd + 2):
        raise ValueError(
            f"{op}: expected a {nd + 2}-D input (N, C, {_AXES[nd]}) or a {nd + 1}-D unbatched "
            f"one, got shape {input.shape}"
        )
    if input.ndim == nd + 1:
        return input.reshape((1,) + input.shape), True
    return input, False


def _settings(op, nd, x, kernel_size, stride, padding, dilation, ceil_mode):
    kernel = ntuple(kernel_size, nd, "kernel_size", op, 1)
    empty = stride is None or (isinstance(stride, (tuple, list)) and not stride)
    stride = kernel if empty else ntuple(stride, nd, "stride", op, 1)
    pad = ntuple(padding, nd, "padding", op, 0)
    dil = ntuple(dilation, nd, "dilation", op, 1)
    for k, p in zip(kernel, pad):
        if p > k // 2:
            raise ValueError(
                f"{op}: padding {padding!r} should be at most half of the kernel size "
                f"{kernel_size!r}"
            )
    extra = tuple(
        _out_size(op, a, n, k, s, p, d, ceil_mode, x.shape)[1]
        for a, (n, k, s, p, d) in enumerate(zip(x.shape[2:], kernel, stride, pad, dil))
    )
    return kernel, stride, pad, dil, extra


_ANY_INT = tuple(np.dtype(t) for t in (np.int8, np.int16, np.int32, np.int64, np.uint8))


def max_pool_nd(op, nd, input, kernel_size, stride=None, padding=0, dilation=1,
                ceil_mode=False, return_indices=False):  # fmt: skip
    """Max pooling over ``nd`` spatial dims (floats, or any integer dtype without gradient)."""
    x, unbatched = _input(input, nd, op, _ANY_INT)
    kernel, stride, pad, dil, extra = _settings(
        op, nd, x, kernel_size, stride, padding, dilation, ceil_mode
    )
    y = P.MaxPool3d.apply(
        x, kernel_size=kernel, stride=stride, padding=pad, dilation=dil, extra=extra
    )
    if unbatched:
        y = y.reshape(y.shape[1:])
    if not return_indices:
        return y
    xp = backend_of([x.data]).xp
    idx = P.max_indices(xp, x.data, kernel, stride, pad, dil, extra)
    return y, Tensor._make(idx.reshape(y.shape), False, None)


def avg_pool_nd(op, nd, input, kernel_size, stride=None, padding=0, ceil_mode=False,
                count_include_pad=True, divisor_override=None):  # fmt: skip
    """Average pooling over ``nd`` spatial dims (floats, or int64 with truncating division)."""
    x, unbatched = _input(input, nd, op, (np.dtype(np.int64),))
    div = divisor_override
    if div is not None and (isinstance(div, bool) or not isinstance(div, int) or div == 0):
        raise ValueError(f"{op}: divisor_override must be a non-zero int, got {div!r}")
    kernel, stride, pad, _, extra = _settings(op, nd, x, kernel_size, stride, padding, 1, ceil_mode)
    y = P.AvgPool3d.apply(
        x,
        kernel_size=kernel,
        stride=stride,
        padding=pad,
        extra=extra,
        count_include_pad=bool(count_include_pad),
        divisor_override=div,
    )
    return y.reshape(y.shape[1:]) if unbatched else y


def max_pool3d(
    input: Tensor,
    kernel_size,
    stride=None,
    padding=0,
    dilation=1,
    ceil_mode: bool = False,
    return_indices: bool = False,
):
    """3-D max pooling over (N, C, D, H, W) or (C, D, H, W).

    The gradient goes to each window's first maximum in window order (depth, then row, then
    column), as PyTorch's CPU kernel. Integer inputs are pooled too (without gradient).

    Args:
        kernel_size: int or (kD, kH, kW).
        stride: int or 3-tuple; defaults to ``kernel_size``.
        padding: implicit -inf padding on both sides, at most half the kernel size.
        dilation: spacing between window elements.
        ceil_mode: round the output size up (a last window must start inside the input or the
            left padding).
        return_indices: also return each maximum's flat index into D*H*W (int64), as
            :func:`max_unpool3d` takes it.

    Shape:
        output: (N, C, D_out, H_out, W_out), ``D_out = floor_or_ceil((D + 2p - d (k - 1) - 1) /
        s) + 1`` (likewise H, W).

    Example:
        >>> max_pool3d(backprop.randn(1, 2, 4, 4, 4), 2).shape
        (1, 2, 2, 2, 2)
    """
    return max_pool_nd(
        "max_pool3d", 3, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices
    )


def avg_pool3d(
    input: Tensor,
    kernel_size,
    stride=None,
    padding=0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> Tensor:
    """3-D average pooling over (N, C, D, H, W) or (C, D, H, W); arguments as
    :func:`~backprop.nn.functional.avg_pool2d` with 3-tuples. int64 inputs are averaged with
    truncating integer division, as PyTorch does.

    Example:
        >>> avg_pool3d(backprop.randn(1, 2, 4, 4, 4), 2).shape
        (1, 2, 2, 2, 2)
    """
    return avg_pool_nd(
        "avg_pool3d", 3, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
        divisor_override,
    )  # fmt: skip


def _max_unpool(op, nd, input, indices, kernel_size, stride, padding, output_size):
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(input).__name__}")
    idx = indices.data if isinstance(indices, Tensor) else np.asarray(indices)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"{op}: indices must be integers, got dtype {idx.dtype}")
    if idx.shape != input.shape:
        raise ValueError(
            f"{op}: indices of shape {idx.shape} do not match the input's {input.shape}"
        )
    x, unbatched = _input(input, nd, op, _ANY_INT)
    idx = idx.reshape(x.shape)
    kernel = ntuple(kernel_size, nd, "kernel_size", op, 1)
    stride = kernel if stride is None else ntuple(stride, nd, "stride", op, 1)
    pad = ntuple(padding, nd, "padding", op, 0)
    default = tuple((n - 1) * s - 2 * p + k for n, s, p, k in zip(x.shape[2:], stride, pad, kernel))
    if output_size is None:
        out = default
    else:
        out = tuple(int(v) for v in output_size)
        if len(out) == nd + 2 or (len(out) == nd + 1 and unbatched):
            out = out[-nd:]
        if len(out) != nd:
            raise ValueError(f"{op}: output_size {tuple(output_size)} must have {nd} entries")
        for o, d, s in zip(out, default, stride):
            if not d - s < o < d + s:
                raise ValueError(
                    f"{op}: output_size {out} must lie strictly within the default size "
                    f"{default} plus or minus the stride {stride}"
                )
    total = int(np.prod(out))
    if idx.size and (idx.min() < 0 or idx.max() >= total):
        bad = idx[(idx < 0) | (idx >= total)].reshape(-1)[0]
        raise IndexError(f"{op}: index {int(bad)} is out of range for an output of size {out}")
    y = P.MaxUnpool.apply(x, idx.astype(np.int64, copy=False), out_spatial=out)
    return y.reshape(y.shape[1:]) if unbatched else y


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None) -> Tensor:
    """The partial inverse of :func:`max_pool2d`: each value of ``input`` is written at its
    ``indices`` entry (a flat H*W index, as ``max_pool2d(return_indices=True)`` gives) of a zero
    output; the gradient reads back at those indices.

    Args:
        input: (N, C, H, W) or (C, H, W); indices: the same shape, integers.
        kernel_size, stride, padding: the pooling's (stride defaults to kernel_size).
        output_size: the output's (H, W) (or full shape); default ``(H - 1) * s - 2p + k``.
    """
    return _max_unpool("max_unpool2d", 2, input, indices, kernel_size, stride, padding, output_size)


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None) -> Tensor:
    """1-D :func:`max_unpool2d` over (N, C, L) or (C, L)."""
    return _max_unpool("max_unpool1d", 1, input, indices, kernel_size, stride, padding, output_size)


def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None) -> Tensor:
    """3-D :func:`max_unpool2d` over (N, C, D, H, W) or (C, D, H, W) (flat D*H*W indices)."""
    return _max_unpool("max_unpool3d", 3, input, indices, kernel_size, stride, padding, output_size)
