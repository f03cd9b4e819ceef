"""Indexing, gathering, masking. Backward scatters the gradient back, adding on repeated indices."""

from __future__ import annotations

from ..autograd.function import Function
from . import register_op


def is_basic_index(index) -> bool:
    """True for ints, slices, None and Ellipsis only: such an index never repeats an element."""
    items = index if isinstance(index, tuple) else (index,)
    return all(
        (isinstance(i, (int, slice)) and not isinstance(i, bool)) or i is None or i is Ellipsis
        for i in items
    )


@register_op("getitem")
class GetItem(Function):
    """y = x[first][index];  gx = zeros with gy added at index of gx[first] (a view: ``first``
    is a basic index or None); repeated indices accumulate."""

    @staticmethod
    def forward(ctx, x, *, index, first=None):
        ctx.meta = (x.shape, x.dtype, index, first)
        return (x if first is None else x[first])[index]

    @staticmethod
    def backward(ctx, gy):
        xp = ctx.xp
        shape, dtype, index, first = ctx.meta
        gx = xp.zeros(shape, dtype=dtype)
        region = gx if first is None else gx[first]
        if is_basic_index(index):
            region[index] = gy
        else:
            xp.add.at(region, index, gy)
        return gx


@register_op("gather")
class Gather(Function):
    """y[i][j] = x[i][index[i][j]] along dim (take_along_axis);  gx = gy scatter-added back."""

    @staticmethod
    def forward(ctx, x, index, *, dim):
        ctx.save_for_backward(index)  # (an input: the in-place check sees it)
        ctx.meta = (x.shape, x.dtype, dim)
        return ctx.xp.take_along_axis(x, index, axis=dim)

    @staticmethod
    def backward(ctx, gy):
        xp = ctx.xp
        shape, dtype, dim = ctx.meta
        (index,) = ctx.saved_tensors
        gx = xp.zeros(shape, dtype=dtype)
        grid = list(xp.indices(index.shape, sparse=True))
        grid[dim] = index
        xp.add.at(gx, tuple(grid), gy)
        return gx, None


@register_op("index_select")
class IndexSelect(Function):
    """y = x.take(index, axis=dim);  gx = gy scatter-added back along dim."""

    @staticmethod
    def forward(ctx, x, index, *, dim):
        ctx.save_for_backward(index)
        ctx.meta = (x.shape, x.dtype, dim)
        return x.take(index, axis=dim)

    @staticmethod
    def backward(ctx, gy):
        xp = ctx.xp
        shape, dtype, dim = ctx.meta
        (index,) = ctx.saved_tensors
        gx = xp.zeros(shape, dtype=dtype)
        xp.add.at(xp.moveaxis(gx, dim, 0), index, xp.moveaxis(gy, dim, 0))
        return gx, None


@register_op("masked_fill")
class MaskedFill(Function):
    """y = value where mask else x;  gx = gy where not mask."""

    @staticmethod
    def forward(ctx, x, mask, *, value):
        ctx.save_for_backward(mask)
        return ctx.xp.where(mask, x.dtype.type(value), x)

    @staticmethod
    def backward(ctx, gy):
        (mask,) = ctx.saved_tensors
        return ctx.xp.where(mask, gy.dtype.type(0), gy), None
