"""Pooling: max, average and adaptive average, 1-D and 2-D (re-exported by ``nn.functional``)."""

from __future__ import annotations

import numpy as np

from ..backend import backend_of
from ..ops import pooling as P
from ..tensor import Tensor
from ._util import check_float
from .conv import ntuple

__all__ = [
    "max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d", "adaptive_avg_pool1d",
    "adaptive_avg_pool2d", "adaptive_max_pool1d", "adaptive_max_pool2d",
]  # fmt: skip


def _input(input, nd: int, op: str):
    """(tensor as a batched (N, C, *spatial) input, whether it was unbatched)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(input).__name__}")
    check_float(input, op)
    if input.ndim not in (nd + 1, nd + 2):
        raise ValueError(
            f"{op}: expected a {nd + 2}-D input (N, C, {'H, W' if nd == 2 else 'L'}) or a "
            f"{nd + 1}-D unbatched one, got shape {input.shape}"
        )
    if input.ndim == nd + 1:
        return input.reshape((1,) + input.shape), True
    return input, False


def _out_size(op, axis, n, k, s, p, d, ceil_mode, shape):
    """PyTorch's pooling output length; ceil_mode drops a last window that starts in the right
    padding. Returns (length, extra cells needed after the right padding)."""
    num = n + 2 * p - d * (k - 1) - 1
    out = (num + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (out - 1) * s >= n + p:
        out -= 1
    # Like PyTorch, only an empty output is an error: in ceil mode a single window may be larger
    # than the padded input (num < 0), and covers what there is.
    if out < 1:
        raise ValueError(
            f"{op}: kernel of size {k} (dilation {d}) is larger than the padded input along "
            f"spatial axis {axis} ({n} + 2 * padding {p}; input shape {shape})"
        )
    extra = max(0, (out - 1) * s + d * (k - 1) + 1 - (n + 2 * p))
    return out, extra


def _settings(op, nd, x, kernel_size, stride, padding, dilation, ceil_mode):
    kernel = ntuple(kernel_size, nd, "kernel_size", op, 1)
    empty = stride is None or (isinstance(stride, (tuple, list)) and not stride)
    stride = kernel if empty else ntuple(stride, nd, "stride", op, 1)
    pad = ntuple(padding, nd, "padding", op, 0)
    dil = ntuple(dilation, nd, "dilation", op, 1)
    for k, p in zip(kernel, pad):
        if p > k // 2:  # PyTorch's limit, for max and average pooling alike (dilation aside)
            raise ValueError(
                f"{op}: padding {padding!r} should be at most half of the kernel size "
                f"{kernel_size!r}"
            )
    extra = tuple(
        _out_size(op, a, n, k, s, p, d, ceil_mode, x.shape)[1]
        for a, (n, k, s, p, d) in enumerate(zip(x.shape[2:], kernel, stride, pad, dil))
    )
    if nd == 1:  # the unit height of the 2-D op
        kernel, stride, dil = (1,) + kernel, (1,) + stride, (1,) + dil
        pad, extra = (0,) + pad, (0,) + extra
    return kernel, stride, pad, dil, extra


def _integer(input) -> bool:
    return isinstance(input, Tensor) and input.data.dtype.kind in "iu"


def _max_pool(op, nd, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices):
    if _integer(input) and (nd == 2 or return_indices):
        # Integer max pooling (no gradient), as torch allows it: 2-D always, 1-D with indices.
        from .pool3d import max_pool_nd

        return max_pool_nd(
            op, nd, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices
        )
    x, unbatched = _input(input, nd, op)
    kernel, stride, pad, dil, extra = _settings(
        op, nd, x, kernel_size, stride, padding, dilation, ceil_mode
    )
    y = P.MaxPool2d.apply(
        x, kernel_size=kernel, stride=stride, padding=pad, dilation=dil, extra=extra
    )
    if unbatched:
        y = y.reshape(y.shape[1:])
    if not return_indices:
        return y
    xp = backend_of([x.data]).xp
    idx = P.max_indices(
        xp, x.data, kernel_size=kernel, stride=stride, padding=pad, dilation=dil, extra=extra
    )
    return y, Tensor(idx.reshape(y.shape))


def max_pool2d(
    input: Tensor,
    kernel_size,
    stride=None,
    padding=0,
    dilation=1,
    ceil_mode: bool = False,
    return_indices: bool = False,
):
    """2-D max pooling.

    The gradient flows to one element per window: the maximum, and on ties the first in window
    order (row by row), as PyTorch's CPU kernel does.

    Args:
        input: (N, C, H, W) or (C, H, W).
        kernel_size: int or (kH, kW).
        stride: int or (sH, sW); defaults to ``kernel_size``.
        padding: implicit -inf padding on both sides, at most half the kernel size.
        dilation: spacing between window elements.
        ceil_mode: round the output size up (a last partial window is kept if it starts inside
            the input or the left padding).
        return_indices: also return the flat index (into H*W) of each window's maximum.

    Shape:
        output: (N, C, H_out, W_out),
        ``H_out = floor_or_ceil((H + 2p - d (k - 1) - 1) / s) + 1``.

    Example:
        >>> max_pool2d(backprop.randn(2, 3, 8, 8), 2).shape
        (2, 3, 4, 4)
    """
    return _max_pool(
        "max_pool2d", 2, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices
    )


def max_pool1d(
    input: Tensor,
    kernel_size,
    stride=None,
    padding=0,
    dilation=1,
    ceil_mode: bool = False,
    return_indices: bool = False,
):
    """1-D max pooling over (N, C, L) or (C, L); arguments as in :func:`max_pool2d`."""
    return _max_pool(
        "max_pool1d", 1, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices
    )


def _avg_pool(op, nd, input, kernel_size, stride, padding, ceil_mode, count_include_pad, div):
    if _integer(input) and input.data.dtype == np.int64:
        # int64 average pooling truncates, as torch's (its only integer dtype for it)
        from .pool3d import avg_pool_nd

        return avg_pool_nd(
            op, nd, input, kernel_size, stride, padding, ceil_mode, count_include_pad, div
        )
    x, unbatched = _input(input, nd, op)
    if div is not None and (isinstance(div, bool) or not isinstance(div, int) or div == 0):
        raise ValueError(f"{op}: divisor_override must be a non-zero int, got {div!r}")
    kernel, stride, pad, _, extra = _settings(op, nd, x, kernel_size, stride, padding, 1, ceil_mode)
    y = P.AvgPool2d.apply(
        x,
        kernel_size=kernel,
        stride=stride,
        padding=pad,
        extra=extra,
        count_include_pad=bool(count_include_pad),
        divisor_override=div,
    )
    return y.reshape(y.shape[1:]) if unbatched else y


def avg_pool2d(
    input: Tensor,
    kernel_size,
    stride=None,
    padding=0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> Tensor:
    """2-D average pooling.

    Args:
        input: (N, C, H, W) or (C, H, W).
        kernel_size: int or (kH, kW).
        stride: int or (sH, sW); defaults to ``kernel_size``.
        padding: implicit zero padding on both sides, at most half the kernel size.
        ceil_mode: round the output size up, as in :func:`max_pool2d`.
        count_include_pad: divide by the window size including padded cells (but not cells that
            ceil_mode adds past the padding), else by the number of input cells in the window.
        divisor_override: divide every window sum by this instead.

    Shape:
        output: (N, C, H_out, W_out), ``H_out = floor_or_ceil((H + 2p - k) / s) + 1``.

    Example:
        >>> avg_pool2d(backprop.randn(2, 3, 8, 8), 2).shape
        (2, 3, 4, 4)
    """
    return _avg_pool(
        "avg_pool2d", 2, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
        divisor_override,
    )  # fmt: skip


def avg_pool1d(
    input: Tensor,
    kernel_size,
    stride=None,
    padding=0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
) -> Tensor:
    """1-D average pooling over (N, C, L) or (C, L); arguments as in :func:`avg_pool2d`."""
    return _avg_pool(
        "avg_pool1d", 1, input, kernel_size, stride, padding, ceil_mode, count_include_pad, None
    )


def _adaptive(op, nd, input, output_size, kind="avg", return_indices=False):
    x, unbatched = _input(input, nd, op)
    if output_size is None or isinstance(output_size, int):
        output_size = (output_size,) * nd
    sizes = tuple(output_size)
    if len(sizes) != nd:
        raise ValueError(f"{op}: output_size must have {nd} entries, got {output_size!r}")
    sizes = tuple(n if s is None else s for s, n in zip(sizes, x.shape[2:]))
    if not all(isinstance(s, int) and not isinstance(s, bool) and s >= 1 for s in sizes):
        raise ValueError(f"{op}: output_size must be positive ints (or None), got {output_size!r}")
    if any(n < 1 for n in x.shape[2:]):
        raise ValueError(f"{op}: input of shape {input.shape} has an empty spatial axis")
    if nd == 1:
        sizes = (1,) + sizes
    if kind == "avg":
        y = P.AdaptiveAvgPool2d.apply(x, output_size=sizes)
        return y.reshape(y.shape[1:]) if unbatched else y
    y = P.AdaptiveMaxPool2d.apply(x, output_size=sizes)
    if unbatched:
        y = y.reshape(y.shape[1:])
    if not return_indices:
        return y
    x4 = x.data[:, :, None, :] if nd == 1 else x.data
    idx = P.adaptive_max_indices(np, x4, *sizes)
    idx = idx[:, :, 0, :] if nd == 1 else idx
    return y, Tensor._make(idx[0] if unbatched else idx, False, None)


def adaptive_avg_pool2d(input: Tensor, output_size) -> Tensor:
    """Average pooling to a fixed output size, whatever the input size.

    Output cell ``i`` averages input rows ``floor(i * H / OH)`` to ``ceil((i + 1) * H / OH) - 1``
    (PyTorch's windows; they overlap when OH does not divide H), likewise for columns.

    Args:
        input: (N, C, H, W) or (C, H, W).
        output_size: int or (OH, OW); None in a slot keeps the input's size there.

    Example:
        >>> adaptive_avg_pool2d(backprop.randn(2, 3, 7, 9), (2, 4)).shape
        (2, 3, 2, 4)
    """
    return _adaptive("adaptive_avg_pool2d", 2, input, output_size)


def adaptive_avg_pool1d(input: Tensor, output_size) -> Tensor:
    """Adaptive average pooling over (N, C, L) or (C, L) to length ``output_size``."""
    return _adaptive("adaptive_avg_pool1d", 1, input, output_size)


def adaptive_max_pool2d(input: Tensor, output_size, return_indices: bool = False):
    """Max pooling to a fixed output size over PyTorch's adaptive windows (see
    :func:`adaptive_avg_pool2d`); the gradient goes to each window's first maximum.

    Args:
        input: (N, C, H, W) or (C, H, W).
        output_size: int or (OH, OW); None in a slot keeps the input's size there.
        return_indices: also return the flat (H * W) index of each maximum (int64).
    """
    return _adaptive("adaptive_max_pool2d", 2, input, output_size, "max", return_indices)


def adaptive_max_pool1d(input: Tensor, output_size, return_indices: bool = False):
    """Adaptive max pooling over (N, C, L) or (C, L) to length ``output_size``."""
    return _adaptive("adaptive_max_pool1d", 1, input, output_size, "max", return_indices)
