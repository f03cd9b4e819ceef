"""Scatter-style writes: scatter, scatter_add, scatter_reduce, index_add/copy/fill, masked_select,
masked_scatter, take. ``index`` (an int64 array) and ``dim`` are settings; ``src`` has the shape of
``index`` (the public functions slice a larger one down, as PyTorch reads only that part)."""

from __future__ import annotations

from ..autograd.function import Function
from . import register_op
from ._util import unbroadcast


def _grid(xp, index, dim):
    """The full index tuple that addresses ``out[i][index[i][j]]`` along ``dim``."""
    grid = list(xp.indices(index.shape, sparse=True))
    grid[dim] = index
    return tuple(grid)


def _along(xp, a, index, dim):
    """The index tuple addressing entries ``index`` (1-D) along ``dim`` of ``a``."""
    return (slice(None),) * dim + (index,)


@register_op("scatter")
class Scatter(Function):
    """y = x with y[..index..] = src along dim;  gx = gy zeroed there, gsrc = gy[..index..]."""

    @staticmethod
    def forward(ctx, x, src, *, index, dim):
        xp = ctx.xp
        grid = _grid(xp, index, dim)
        y = x.copy()
        y[grid] = src
        ctx.grid = grid
        return y

    @staticmethod
    def backward(ctx, gy):
        gx = gsrc = None
        if ctx.needs_input_grad[0]:
            gx = gy.copy()
            gx[ctx.grid] = 0
        if ctx.needs_input_grad[1]:
            gsrc = gy[ctx.grid]
        return gx, gsrc


@register_op("scatter_add")
class ScatterAdd(Function):
    """y = x with src added at ..index.. along dim (repeats accumulate);  gx = gy, gsrc = gy[..]."""

    @staticmethod
    def forward(ctx, x, src, *, index, dim):
        xp = ctx.xp
        grid = _grid(xp, index, dim)
        y = x.copy()
        xp.add.at(y, grid, src)
        ctx.grid = grid
        return y

    @staticmethod
    def backward(ctx, gy):
        return gy, gy[ctx.grid] if ctx.needs_input_grad[1] else None


def scatter_reduce_array(xp, x, src, grid, reduce, include_self):
    """The forward of PyTorch's scatter_reduce on arrays (``grid`` from :func:`_grid`)."""
    y = x.copy()
    kind = x.dtype.kind
    if not include_self:
        if reduce in ("sum", "mean"):
            start = 0
        elif reduce == "prod":
            start = 1
        elif kind == "f":
            start = -xp.inf if reduce == "amax" else xp.inf
        else:
            info = xp.iinfo(x.dtype) if kind in "iu" else None
            start = (info.min if reduce == "amax" else info.max) if info else reduce == "amin"
        y[grid] = start
    if reduce in ("sum", "mean"):
        xp.add.at(y, grid, src)
    elif reduce == "prod":
        xp.multiply.at(y, grid, src)
    elif reduce == "amax":
        xp.maximum.at(y, grid, src)
    else:
        xp.minimum.at(y, grid, src)
    if reduce == "mean":
        n = xp.full(x.shape, 1 if include_self else 0, dtype=xp.int64)
        xp.add.at(n, grid, 1)
        n = xp.maximum(n, 1)
        y = y / n.astype(x.dtype) if kind == "f" else (y // n).astype(x.dtype)
    return y


@register_op("scatter_reduce")
class ScatterReduce(Function):
    """y = x with src reduced into ..index.. along dim (sum, prod, mean, amax, amin; x's own value
    joins when ``include_self``);  the gradients are PyTorch's scatter_reduce_backward: exact
    products around zeros, amax/amin shared evenly among the ties."""

    @staticmethod
    def forward(ctx, x, src, *, index, dim, reduce, include_self):
        xp = ctx.xp
        grid = _grid(xp, index, dim)
        y = scatter_reduce_array(xp, x, src, grid, reduce, include_self)
        if any(ctx.needs_input_grad):
            ctx.save_for_backward(x, src, y)
            ctx.meta = (grid, reduce, include_self)
        return y

    @staticmethod
    def backward(ctx, gy):
        xp = ctx.xp
        x, src, y = ctx.saved_tensors
        grid, reduce, include_self = ctx.meta
        dt = gy.dtype
        with xp.errstate(divide="ignore", invalid="ignore"):
            if reduce == "sum":
                gx, gsrc = gy, gy[grid]
            elif reduce == "prod":
                one = dt.type(1)
                masked_x = xp.where(x == 0, one, x)
                gx = gy * scatter_reduce_array(xp, masked_x, src, grid, reduce, include_self)
                gx = gx / masked_x
                src_zero = src == 0
                zeros_at = xp.zeros(x.shape, dtype=dt)
                xp.add.at(zeros_at, grid, src_zero.astype(dt))
                single = src_zero & (zeros_at[grid] == 1)
                masked_src = xp.where(single, one, src)
                r_single = scatter_reduce_array(xp, x, masked_src, grid, reduce, include_self)
                gsrc = xp.where(
                    single, (gy * r_single)[grid], (gy * y)[grid] / xp.where(src_zero, one, src)
                )
            elif reduce == "mean":
                n = xp.full(x.shape, 1 if include_self else 0, dtype=dt)
                xp.add.at(n, grid, dt.type(1))
                n = xp.where(n == 0, dt.type(1), n)
                gx = gy / n
                gsrc = gy[grid] / n[grid]
            else:  # amax, amin
                value = y[grid]
                x_hit = (x == y).astype(dt)
                src_hit = (src == value).astype(dt)
                count = x_hit.copy()
                xp.add.at(count, grid, src_hit)
                share = gy / count
                gx = x_hit * share
                gsrc = src_hit * share[grid]
        if not include_self:
            gx = gx.copy()
            gx[grid] = 0
        return gx, gsrc


@register_op("index_add")
class IndexAdd(Function):
    """y = x with alpha * src added at entries ``index`` along dim;  gx = gy,
    gsrc = alpha * gy[index]."""

    @staticmethod
    def forward(ctx, x, src, *, index, dim, alpha=1):
        xp = ctx.xp
        at = _along(xp, x, index, dim)
        y = x.copy()
        xp.add.at(y, at, src if alpha == 1 else src * x.dtype.type(alpha))
        ctx.meta = (at, alpha)
        return y

    @staticmethod
    def backward(ctx, gy):
        at, alpha = ctx.meta
        gsrc = None
        if ctx.needs_input_grad[1]:
            gsrc = gy[at] if alpha == 1 else gy[at] * gy.dtype.type(alpha)
        return gy, gsrc


@register_op("index_copy")
class IndexCopy(Function):
    """y = x with the entries ``index`` along dim replaced by src;  gx = gy zeroed there,
    gsrc = gy[index]."""

    @staticmethod
    def forward(ctx, x, src, *, index, dim):
        at = _along(ctx.xp, x, index, dim)
        y = x.copy()
        y[at] = src
        ctx.at = at
        return y

    @staticmethod
    def backward(ctx, gy):
        gx = gsrc = None
        if ctx.needs_input_grad[0]:
            gx = gy.copy()
            gx[ctx.at] = 0
        if ctx.needs_input_grad[1]:
            gsrc = gy[ctx.at]
        return gx, gsrc


@register_op("index_fill")
class IndexFill(Function):
    """y = x with the entries ``index`` along dim set to value (a number, or a 0-d array input);
    gx = gy zeroed there, gvalue = the sum of gy over the filled entries."""

    @staticmethod
    def forward(ctx, x, *value, index, dim, fill=None):
        xp = ctx.xp
        at = _along(xp, x, xp.unique(index), dim)
        y = x.copy()
        y[at] = value[0] if value else fill
        ctx.at = at
        return y

    @staticmethod
    def backward(ctx, gy):
        gx = gy.copy()
        gx[ctx.at] = 0
        if len(ctx.needs_input_grad) == 1:
            return gx
        gv = gy[ctx.at].sum() if ctx.needs_input_grad[1] else None
        return gx, gv


@register_op("masked_select")
class MaskedSelect(Function):
    """y = x[mask] (1-D; x and mask broadcast together);  gx = gy placed back, summed over
    broadcasting."""

    @staticmethod
    def forward(ctx, x, *, mask):
        xp = ctx.xp
        shape = xp.broadcast_shapes(x.shape, mask.shape)
        mask = xp.broadcast_to(mask, shape)
        ctx.meta = (x.shape, mask)
        return xp.broadcast_to(x, shape)[mask]

    @staticmethod
    def backward(ctx, gy):
        shape, mask = ctx.meta
        g = ctx.xp.zeros(mask.shape, dtype=gy.dtype)
        g[mask] = gy
        return unbroadcast(g, shape)


@register_op("masked_scatter")
class MaskedScatter(Function):
    """y = x with the places where mask is true filled, in order, from src's first elements;
    gx = gy zeroed there, gsrc = gy[mask] padded with zeros to src's shape."""

    @staticmethod
    def forward(ctx, x, src, *, mask):
        xp = ctx.xp
        shape = xp.broadcast_shapes(x.shape, mask.shape)
        mask = xp.broadcast_to(mask, shape)
        y = xp.broadcast_to(x, shape).copy()
        k = int(mask.sum())
        y[mask] = src.reshape(-1)[:k]
        ctx.meta = (x.shape, src.shape, mask, k)
        return y

    @staticmethod
    def backward(ctx, gy):
        xp = ctx.xp
        shape, src_shape, mask, k = ctx.meta
        gx = gsrc = None
        if ctx.needs_input_grad[0]:
            gx = unbroadcast(xp.where(mask, gy.dtype.type(0), gy), shape)
        if ctx.needs_input_grad[1]:
            gsrc = xp.zeros(src_shape, dtype=gy.dtype)
            gsrc.reshape(-1)[:k] = gy[mask]
        return gx, gsrc


@register_op("take")
class Take(Function):
    """y = x.flatten()[index] (of index's shape);  gx = gy scatter-added back."""

    @staticmethod
    def forward(ctx, x, *, index):
        ctx.meta = (x.shape, index)
        return x.reshape(-1)[index]

    @staticmethod
    def backward(ctx, gy):
        xp = ctx.xp
        shape, index = ctx.meta
        gx = xp.zeros(shape, dtype=gy.dtype)
        xp.add.at(gx.reshape(-1), index, gy)
        return gx
