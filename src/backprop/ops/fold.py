"""Sliding windows: ``Tensor.unfold`` (a strided view) and ``F.unfold`` / ``F.fold`` (im2col and
its adjoint col2im, the convolution's own routines from ``_convnd``).

F.unfold is the convolution's im2col without the matrix multiply: (N, C, H, W) ->
(N, C*KH*KW, L) with L = OH*OW windows, rows in (c, kh, kw) order as PyTorch's; F.fold sums
such columns back into an image (overlapping windows add up), so each is the other's backward.
"""

from __future__ import annotations

from math import prod

from ..autograd.function import Function
from . import register_op
from ._convnd import col2im, im2col, padded, to_nc


def _strided_view(xp, x, shape, strides):
    """A view of ``x``'s memory with ``strides`` (in elements) whose ``base`` is the array that
    owns the memory, as for any NumPy view, so that the engine sees a view of ``x`` (shared
    version counter; in-place writes reach ``x``). Read-only if ``x`` is."""
    root = x if x.base is None else x.base
    item = x.itemsize
    byte_strides = tuple(s * item for s in strides)
    try:
        offset = x.__array_interface__["data"][0] - root.__array_interface__["data"][0]
        y = xp.ndarray(shape, x.dtype, buffer=root, offset=offset, strides=byte_strides)
    except (AttributeError, TypeError, ValueError):
        # The owner exposes no plain buffer (a strided view of a view): a copy, not a view.
        return xp.lib.stride_tricks.as_strided(x, shape, byte_strides).copy()
    if not x.flags.writeable:
        y.flags.writeable = False
    return y


@register_op("unfold")
class Unfold(Function):
    """y = x's windows of ``size`` every ``step`` along ``dim``, as a view: ``dim`` becomes the
    window count L = (n - size) // step + 1 and a last dim of ``size`` is added;
    gx = the windows' gradients added back into place (they overlap when step < size)."""

    @staticmethod
    def forward(ctx, x, *, dim, size, step):
        n = x.shape[dim]
        L = (n - size) // step + 1
        s = [st // x.itemsize for st in x.strides]
        shape = x.shape[:dim] + (L,) + x.shape[dim + 1 :] + (size,)
        strides = s[:dim] + [s[dim] * step] + s[dim + 1 :] + [s[dim]]
        ctx.meta = (x.shape, dim, size, step, L)
        return _strided_view(ctx.xp, x, shape, strides)

    @staticmethod
    def backward(ctx, gy):
        xp = ctx.xp
        shape, dim, size, step, L = ctx.meta
        gx = xp.zeros(shape, dtype=gy.dtype)
        gx_d = xp.moveaxis(gx, dim, 0)  # (n, ...): a view, written through
        g = xp.moveaxis(gy, (dim, gy.ndim - 1), (0, 1))  # (L, size, ...)
        # One strided slice-add per window offset, or per window: whichever loop is shorter.
        if size <= L:
            for k in range(size):
                gx_d[k : k + step * (L - 1) + 1 : step] += g[:, k]
        else:
            for i in range(L):
                gx_d[i * step : i * step + size] += g[i]
        return gx


def _unfold_nchw(xp, x, K, dil, pads, st, O):
    """x (N, C, H, W) -> (N, C*KH*KW, OH*OW): the windows as columns (a fresh array)."""
    N, C = x.shape[:2]
    cols = im2col(xp, padded(xp, x, pads), K, O, st, dil)  # (C*KH*KW, OH*OW*N)
    y = cols.reshape(C * prod(K), prod(O), N).transpose(2, 0, 1)
    # im2col returns a view of its input for 1x1 windows; this result must own its memory.
    return xp.ascontiguousarray(y) if xp.may_share_memory(y, x) else y


def _fold_nchw(xp, cols, out_hw, K, dil, pads, st, O):
    """cols (N, C*KH*KW, L) -> (N, C, H, W): each column added into its window (the adjoint of
    :func:`_unfold_nchw`)."""
    N, CK, L = cols.shape
    C = CK // prod(K)
    g = xp.ascontiguousarray(cols.transpose(1, 2, 0)).reshape(CK, L * N)
    pshape = (C,) + tuple(n + lo + hi for n, (lo, hi) in zip(out_hw, pads)) + (N,)
    img = col2im(xp, g, pshape, K, O, st, dil)  # (C, Hp, Wp, N)
    inner = (slice(None),) + tuple(slice(lo, lo + n) for n, (lo, _) in zip(out_hw, pads))
    return to_nc(img[inner], len(K))


@register_op("im2col")
class Im2col(Function):
    """F.unfold: y (N, C*KH*KW, L) = the (dilated, strided) windows of the zero-padded x
    (N, C, H, W);  gx = fold(gy) (col2im: overlapping windows add up)."""

    @staticmethod
    def forward(ctx, x, *, kernel, dilation, padding, stride, out):
        ctx.meta = (x.shape[2:], kernel, dilation, padding, stride, out)
        return _unfold_nchw(ctx.xp, x, kernel, dilation, padding, stride, out)

    @staticmethod
    def backward(ctx, gy):
        hw, K, dil, pads, st, O = ctx.meta
        return _fold_nchw(ctx.xp, gy, hw, K, dil, pads, st, O)


@register_op("col2im")
class Col2im(Function):
    """F.fold: y (N, C, H, W) = the sum of every column of x (N, C*KH*KW, L) put back into its
    window;  gx = unfold(gy) (im2col)."""

    @staticmethod
    def forward(ctx, x, *, output_size, kernel, dilation, padding, stride, out):
        ctx.meta = (kernel, dilation, padding, stride, out)
        return _fold_nchw(ctx.xp, x, output_size, kernel, dilation, padding, stride, out)

    @staticmethod
    def backward(ctx, gy):
        K, dil, pads, st, O = ctx.meta
        return _unfold_nchw(ctx.xp, gy, K, dil, pads, st, O)
