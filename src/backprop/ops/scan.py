"""Cumulative ops along one axis (``dim``, a non-negative int): cumsum, cumprod, cummax/cummin
(their values; the indices are computed without gradient), logcumsumexp."""

from __future__ import annotations

from ..autograd.function import Function
from . import register_op


def reverse_cumsum(xp, g, dim):
    """``out[i] = sum_{j >= i} g[j]`` along ``dim``."""
    return xp.flip(xp.cumsum(xp.flip(g, dim), axis=dim), dim)


@register_op("cumsum")
class CumSum(Function):
    """y_i = sum_{j <= i} x_j;  gx_i = sum_{j >= i} gy_j."""

    @staticmethod
    def forward(ctx, x, *, dim):
        ctx.dim = dim
        return ctx.xp.cumsum(x, axis=dim, dtype=x.dtype)

    @staticmethod
    def backward(ctx, gy):
        return reverse_cumsum(ctx.xp, gy, ctx.dim)


@register_op("cumprod")
class CumProd(Function):
    """y_i = prod_{j <= i} x_j;  gx_i = sum_{j >= i} gy_j y_j / x_i, computed exactly around zeros
    as PyTorch's cumprod_backward: before the first zero of a slice the quotient, at the first
    zero the product of the others, after it 0."""

    @staticmethod
    def forward(ctx, x, *, dim):
        y = ctx.xp.cumprod(x, axis=dim, dtype=x.dtype)
        ctx.save_for_backward(x, y)
        ctx.dim = dim
        return y

    @staticmethod
    def backward(ctx, gy):
        xp = ctx.xp
        x, y = ctx.saved_tensors
        dim = ctx.dim
        if x.size <= 1:
            return gy
        zero, one = x.dtype.type(0), x.dtype.type(1)
        is_zero = x == 0
        seen = xp.cumsum(is_zero, axis=dim)  # zeros up to and including i
        before = seen == 0
        with xp.errstate(divide="ignore", invalid="ignore"):
            gx = xp.where(before, reverse_cumsum(xp, xp.where(before, gy * y, zero), dim) / x, zero)
        if not is_zero.any():
            return gx
        # At the first zero z: prod_{i < z} x_i * sum_{z <= j < z2} gy_j prod_{z < i <= j} x_i.
        span = seen == 1
        first = span & is_zero
        between = span & ~is_zero
        prefix = xp.where(before, x, one).prod(axis=dim, keepdims=True)
        inner = xp.cumprod(xp.where(between, x, one), axis=dim)
        total = xp.where(span, gy * inner, zero).sum(axis=dim, keepdims=True) * prefix
        return xp.where(first, total, gx)


@register_op("cummax")
class CumMax(Function):
    """y_i = max_{j <= i} x_j (NaN propagates);  gy_i goes to the index y_i was taken from (the
    latest of ties, as PyTorch's), summed there."""

    @staticmethod
    def forward(ctx, x, *, dim):
        return _cum_extreme(ctx, x, dim, True)

    @staticmethod
    def backward(ctx, gy):
        return _cum_extreme_backward(ctx, gy)


@register_op("cummin")
class CumMin(Function):
    """y_i = min_{j <= i} x_j;  the gradient as :class:`CumMax`'s."""

    @staticmethod
    def forward(ctx, x, *, dim):
        return _cum_extreme(ctx, x, dim, False)

    @staticmethod
    def backward(ctx, gy):
        return _cum_extreme_backward(ctx, gy)


def cum_extreme_indices(xp, x, y, dim, largest: bool):
    """PyTorch's cummax/cummin indices: position i takes over when x_i is NaN, or when no NaN came
    before and x_i >= (cummax) or <= (cummin) the running value."""
    n = x.shape[dim]
    if n == 0:
        return xp.zeros(x.shape, dtype=xp.int64)
    prev = xp.concatenate([xp.take(y, [0], axis=dim), xp.take(y, range(n - 1), axis=dim)], dim)
    with xp.errstate(invalid="ignore"):
        better = x >= prev if largest else x <= prev
    take = xp.isnan(x) | (~xp.isnan(prev) & better) if x.dtype.kind == "f" else better
    pos = xp.arange(n).reshape((n,) + (1,) * (x.ndim - dim - 1))
    return xp.maximum.accumulate(xp.where(take, pos, 0), axis=dim).astype(xp.int64)


def _cum_extreme(ctx, x, dim, largest):
    xp = ctx.xp
    y = (xp.maximum if largest else xp.minimum).accumulate(x, axis=dim)
    if any(ctx.needs_input_grad):
        ctx.meta = (cum_extreme_indices(xp, x, y, dim, largest), dim, x.shape, x.dtype)
    return y


def _cum_extreme_backward(ctx, gy):
    xp = ctx.xp
    idx, dim, shape, dtype = ctx.meta
    gx = xp.zeros(shape, dtype=dtype)
    grid = list(xp.indices(shape, sparse=True))
    grid[dim] = idx
    xp.add.at(gx, tuple(grid), gy)
    return gx


@register_op("logcumsumexp")
class LogCumSumExp(Function):
    """y_i = log sum_{j <= i} exp(x_j);  gx_j = exp(x_j) sum_{i >= j} gy_i exp(-y_i), computed in
    log space for the positive and the negative parts of gy, as PyTorch's."""

    @staticmethod
    def forward(ctx, x, *, dim):
        y = ctx.xp.logaddexp.accumulate(x, axis=dim)
        ctx.save_for_backward(x, y)
        ctx.dim = dim
        return y

    @staticmethod
    def backward(ctx, gy):
        xp = ctx.xp
        x, y = ctx.saved_tensors
        dim = ctx.dim
        if gy.ndim == 0 or gy.size == 0:
            return gy
        lowest = xp.finfo(gy.dtype).min
        with xp.errstate(divide="ignore", invalid="ignore", over="ignore"):
            log_abs = xp.log(xp.abs(gy))
            parts = []
            for mask in (gy > 0, gy < 0):
                lg = xp.where(mask, log_abs, lowest) - y
                rev = xp.flip(xp.logaddexp.accumulate(xp.flip(lg, dim), axis=dim), dim)
                parts.append(xp.exp(rev + x))
            return parts[0] - parts[1]
