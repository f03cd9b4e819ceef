"""Reductions over one or several axes. ``axis`` is a tuple of non-negative ints, or None for all.

Gradients are reshaped with ``expand_reduced`` so that they broadcast back against the input.
"""

from __future__ import annotations

from ..autograd.function import Function
from . import register_op
from ._util import expand_reduced
from .elementwise import torch_sign


def _count(shape, axis):
    n = 1
    for i, s in enumerate(shape):
        if axis is None or i in axis:
            n *= s
    return n


@register_op("sum")
class Sum(Function):
    """y = sum(x, axis);  gx = broadcast(gy)."""

    @staticmethod
    def forward(ctx, x, *, axis=None, keepdim=False):
        ctx.meta = (x.shape, x.dtype, axis, keepdim)
        # In x's dtype: NumPy would sum small integers in int64 (the caller chose the dtype).
        # float16 accumulates in float32, as PyTorch's CPU sum does (NumPy's would stay in
        # float16: 2,048 + 1 is 2,048 there), and the result is float16 again.
        if x.dtype.kind == "f" and x.dtype.itemsize == 2:
            return x.sum(axis=axis, keepdims=keepdim, dtype="float32").astype(x.dtype)
        return x.sum(axis=axis, keepdims=keepdim, dtype=None if x.dtype.kind == "f" else x.dtype)

    @staticmethod
    def backward(ctx, gy):
        shape, dtype, axis, keepdim = ctx.meta
        return ctx.xp.broadcast_to(expand_reduced(gy, shape, axis, keepdim), shape)


@register_op("mean")
class Mean(Function):
    """y = mean(x, axis);  gx = broadcast(gy) / n."""

    @staticmethod
    def forward(ctx, x, *, axis=None, keepdim=False):
        ctx.meta = (x.shape, axis, keepdim)
        return x.mean(axis=axis, keepdims=keepdim)

    @staticmethod
    def backward(ctx, gy):
        shape, axis, keepdim = ctx.meta
        g = expand_reduced(gy, shape, axis, keepdim) / gy.dtype.type(_count(shape, axis))
        return ctx.xp.broadcast_to(g, shape)


@register_op("amax")
class Amax(Function):
    """y = max(x, axis);  the gradient is shared evenly among tied maxima, as PyTorch's amax:
    gx = gy / count * (x == y), so a NaN maximum makes its slice's gradient NaN. With
    ``full=True`` (axis None only) it is PyTorch's ``x.max()`` instead: the gradient is selected
    (0 elsewhere even for an inf gy) and a NaN maximum sends it to the NaNs."""

    @staticmethod
    def forward(ctx, x, *, axis=None, keepdim=False, full=False):
        y = x.max(axis=axis, keepdims=keepdim)
        ctx.save_for_backward(x, y)
        ctx.meta = (axis, keepdim, full)
        return y

    @staticmethod
    def backward(ctx, gy):
        return _even_backward(ctx, gy)


@register_op("amin")
class Amin(Function):
    """y = min(x, axis);  the gradient is shared evenly among tied minima (see :class:`Amax`)."""

    @staticmethod
    def forward(ctx, x, *, axis=None, keepdim=False, full=False):
        y = x.min(axis=axis, keepdims=keepdim)
        ctx.save_for_backward(x, y)
        ctx.meta = (axis, keepdim, full)
        return y

    @staticmethod
    def backward(ctx, gy):
        return _even_backward(ctx, gy)


def _even_backward(ctx, gy):
    xp = ctx.xp
    x, y = ctx.saved_tensors
    axis, keepdim, full = ctx.meta
    if full and axis is None:
        # PyTorch's evenly_distribute_backward: masked_fill with gy / count.
        hit = xp.isnan(x) if xp.isnan(y) else x == y
        share = gy.reshape(()) / gy.dtype.type(hit.sum())
        return xp.where(hit, share, gy.dtype.type(0))
    hit = x == expand_reduced(y, x.shape, axis, keepdim)
    count = hit.sum(axis=axis, keepdims=True).astype(gy.dtype)
    with xp.errstate(divide="ignore", invalid="ignore"):
        # PyTorch's scale_grad_by_count multiplies by the mask (inf * 0 = NaN included).
        return expand_reduced(gy, x.shape, axis, keepdim) / count * hit


@register_op("max_dim")
class MaxDim(Function):
    """values of max(x, dim) (PyTorch's max with dim);  the gradient goes to the returned index."""

    @staticmethod
    def forward(ctx, x, *, dim, keepdim=False):
        return _select_forward(ctx, x, x.argmax(axis=dim), dim, keepdim)

    @staticmethod
    def backward(ctx, gy):
        return _select_backward(ctx, gy)


@register_op("min_dim")
class MinDim(Function):
    """values of min(x, dim) (PyTorch's min with dim);  the gradient goes to the returned index."""

    @staticmethod
    def forward(ctx, x, *, dim, keepdim=False):
        return _select_forward(ctx, x, x.argmin(axis=dim), dim, keepdim)

    @staticmethod
    def backward(ctx, gy):
        return _select_backward(ctx, gy)


def _select_forward(ctx, x, idx, dim, keepdim):
    xp = ctx.xp
    idx = xp.expand_dims(idx, dim)
    ctx.meta = (x.shape, x.dtype, idx, dim, keepdim)
    y = xp.take_along_axis(x, idx, axis=dim)
    return y if keepdim else y.squeeze(dim)


def _select_backward(ctx, gy):
    xp = ctx.xp
    shape, dtype, idx, dim, keepdim = ctx.meta
    gx = xp.zeros(shape, dtype=dtype)
    xp.put_along_axis(gx, idx, gy if keepdim else xp.expand_dims(gy, dim), axis=dim)
    return gx


@register_op("var")
class Var(Function):
    """y = sum((x - mean)^2) / (n - correction);  gx = gy * 2 (x - mean) / (n - correction)."""

    @staticmethod
    def forward(ctx, x, *, axis=None, correction=1, keepdim=False):
        xc = x - x.mean(axis=axis, keepdims=True)
        denom = x.dtype.type(max(_count(x.shape, axis) - correction, 0))
        with ctx.xp.errstate(divide="ignore", invalid="ignore"):
            y = (xc * xc).sum(axis=axis, keepdims=keepdim) / denom
        ctx.save_for_backward(xc)
        ctx.meta = (axis, keepdim, denom)
        return y

    @staticmethod
    def backward(ctx, gy):
        (xc,) = ctx.saved_tensors
        axis, keepdim, denom = ctx.meta
        g = expand_reduced(gy, xc.shape, axis, keepdim)
        with ctx.xp.errstate(divide="ignore", invalid="ignore"):
            return g * xc * (xc.dtype.type(2) / denom)


@register_op("std")
class Std(Function):
    """y = sqrt(var(x));  gx = gy * (x - mean) / ((n - correction) * y), 0 where y == 0 (as
    PyTorch's)."""

    @staticmethod
    def forward(ctx, x, *, axis=None, correction=1, keepdim=False):
        xp = ctx.xp
        xc = x - x.mean(axis=axis, keepdims=True)
        denom = x.dtype.type(max(_count(x.shape, axis) - correction, 0))
        with xp.errstate(divide="ignore", invalid="ignore"):
            y = xp.sqrt((xc * xc).sum(axis=axis, keepdims=keepdim) / denom)
        ctx.save_for_backward(xc, y)
        ctx.meta = (axis, keepdim, denom)
        return y

    @staticmethod
    def backward(ctx, gy):
        xp = ctx.xp
        xc, y = ctx.saved_tensors
        axis, keepdim, denom = ctx.meta
        with xp.errstate(divide="ignore", invalid="ignore"):
            g = xp.where(y == 0, y.dtype.type(0), gy / y)
            return expand_reduced(g, xc.shape, axis, keepdim) * xc / denom


@register_op("logsumexp")
class LogSumExp(Function):
    """y = log(sum(exp(x)));  gx = gy * exp(x - y)."""

    @staticmethod
    def forward(ctx, x, *, axis=None, keepdim=False):
        xp = ctx.xp
        m = x.max(axis=axis, keepdims=True)
        m = xp.where(xp.isfinite(m), m, x.dtype.type(0))
        with xp.errstate(divide="ignore"):  # an all -inf slice: log(0) = -inf, as in PyTorch
            y = xp.log(xp.exp(x - m).sum(axis=axis, keepdims=True)) + m
        ctx.save_for_backward(x, y)
        ctx.meta = axis
        return y if keepdim else _squeeze(y, axis)

    @staticmethod
    def backward(ctx, gy):
        x, y = ctx.saved_tensors
        with ctx.xp.errstate(invalid="ignore"):  # -inf - -inf: NaN, as PyTorch's gradient
            return ctx.xp.exp(x - y) * gy.reshape(y.shape)


def _squeeze(y, axis):
    return y.reshape(()) if axis is None else y.squeeze(axis)


@register_op("prod")
class Prod(Function):
    """y = prod(x, axis);  gx = gy * (product of the other elements), exact even with zeros."""

    @staticmethod
    def forward(ctx, x, *, axis=None, keepdim=False):
        ctx.save_for_backward(x)
        ctx.meta = (axis, keepdim)
        return x.prod(axis=axis, keepdims=keepdim, dtype=None if x.dtype.kind == "f" else x.dtype)

    @staticmethod
    def backward(ctx, gy):
        xp = ctx.xp
        (x,) = ctx.saved_tensors
        if x.size == 0:  # nothing to differentiate (and the reshapes below would fail)
            return xp.zeros(x.shape, dtype=x.dtype)
        axis, keepdim = ctx.meta
        g = expand_reduced(gy, x.shape, axis, keepdim)
        # Move the reduced axes last and flatten them, then "product of the others" is the
        # product of an exclusive cumulative product from the left and one from the right.
        axes = tuple(range(x.ndim)) if axis is None else axis
        rest = tuple(i for i in range(x.ndim) if i not in axes)
        xt = x.transpose(rest + axes)
        flat = xt.reshape(xt.shape[: len(rest)] + (-1,))
        one = xp.ones(flat.shape[:-1] + (1,), dtype=x.dtype)
        left = xp.cumprod(xp.concatenate([one, flat[..., :-1]], axis=-1), axis=-1)
        right = xp.flip(
            xp.cumprod(xp.concatenate([one, xp.flip(flat, -1)[..., :-1]], axis=-1), axis=-1), -1
        )
        others = (left * right).reshape(xt.shape)
        inverse = [0] * x.ndim
        for i, a in enumerate(rest + axes):
            inverse[a] = i
        return g * others.transpose(inverse)


@register_op("norm")
class Norm(Function):
    """y = (sum |x|^p)^(1/p) (p = inf: max |x|);  gx = gy * sign(x) |x|^(p-1) / y^(p-1)."""

    @staticmethod
    def forward(ctx, x, *, p=2.0, axis=None, keepdim=False):
        xp = ctx.xp
        ax = xp.abs(x)
        if p == float("inf"):
            y = ax.max(axis=axis, keepdims=True)
        elif p == 2:
            y = xp.sqrt((x * x).sum(axis=axis, keepdims=True))
        elif p == 1:
            y = ax.sum(axis=axis, keepdims=True)
        else:
            y = (ax**p).sum(axis=axis, keepdims=True) ** (1.0 / p)
        ctx.save_for_backward(x, y)
        ctx.meta = (p, axis)
        return y if keepdim else _squeeze(y, axis)

    @staticmethod
    def backward(ctx, gy):
        xp = ctx.xp
        x, y = ctx.saved_tensors
        p, axis = ctx.meta
        g = gy.reshape(y.shape)
        zero = x.dtype.type(0)
        sign = torch_sign(xp, xp.atleast_1d(x)).reshape(x.shape)  # (a 0-d x: an array)
        with xp.errstate(divide="ignore", invalid="ignore"):
            if p == float("inf"):
                # PyTorch: NaNs count among the maxima (and get sign(NaN) = 0).
                ax = xp.abs(x)
                hit = (ax == y) | xp.isnan(ax)
                count = hit.sum(axis=axis, keepdims=True).astype(x.dtype)
                return sign * (g / count * hit)
            if p == 1:
                return sign * g
            # PyTorch's norm_backward, 0 where the norm is 0: for p = 2 gy * (x / y masked),
            # so an inf gy there gives NaN; otherwise x-terms * (gy / y^(p-1) masked), 0.
            if p == 2:
                return g * xp.where(y == 0, zero, x / y)
            return sign * xp.abs(x) ** (p - 1) * xp.where(y == 0, zero, g / y ** (p - 1))


@register_op("median")
class Median(Function):
    """y = the lower median of all elements (NaN if any is NaN; ``ignore_nan``: of the non-NaN
    ones, as nanmedian);  the gradient is shared evenly among the elements equal to y (the NaNs
    when y is NaN), as PyTorch's evenly_distribute_backward."""

    @staticmethod
    def forward(ctx, x, *, ignore_nan=False):
        xp = ctx.xp
        flat = x.reshape(-1)
        nans = int(xp.isnan(flat).sum()) if x.dtype.kind == "f" else 0
        if nans and not ignore_nan:
            y = xp.asarray(xp.nan, dtype=x.dtype)
        else:
            valid = flat.size - nans
            pos = (valid - 1) // 2 if valid else 0
            y = xp.asarray(xp.partition(flat, pos)[pos])
        ctx.save_for_backward(x, y)
        ctx.meta = (None, False, True)
        return y

    @staticmethod
    def backward(ctx, gy):
        return _even_backward(ctx, gy)


@register_op("quantile")
class Quantile(Function):
    """y = PyTorch's quantile: sort along ``dim`` (None: all elements), rank r = q * (n - 1)
    (a slice with a NaN: its last rank; ``ignore_nan``: n counts the non-NaNs), then lerp between
    the sorted values at floor(r) and ceil(r) (or pick one: ``interpolation``);
    gx: gy * (1 - w) to the element below, gy * w to the one above (all to it when picked)."""

    @staticmethod
    def forward(ctx, x, *, q, dim, keepdim, interpolation, ignore_nan, scalar):
        xp = ctx.xp
        xw = x.reshape(-1) if dim is None else xp.moveaxis(x, dim, -1)  # (B..., n)
        n = xw.shape[-1]
        order = xp.argsort(xw, axis=-1, kind="stable")
        srt = xp.take_along_axis(xw, order, axis=-1)
        nan = xp.isnan(srt)
        q = q.astype(x.dtype)  # (nq,)
        if ignore_nan:
            valid = (~nan).sum(axis=-1, keepdims=True).astype(x.dtype)
            ranks = q * (valid - x.dtype.type(1))
            ranks = xp.where(ranks < 0, x.dtype.type(0), ranks)
        else:
            last = x.dtype.type(n - 1)
            ranks = xp.broadcast_to(q * last, srt.shape[:-1] + q.shape)
            ranks = xp.where(nan.any(axis=-1, keepdims=True), last, ranks)
        if interpolation == "lower":
            ranks = xp.floor(ranks)
        elif interpolation == "higher":
            ranks = xp.ceil(ranks)
        elif interpolation == "nearest":
            ranks = xp.round(ranks)
        below = ranks.astype(xp.int64)
        y = xp.take_along_axis(srt, below, axis=-1)  # (B..., nq)
        above = w = None
        if interpolation in ("linear", "midpoint"):
            w = (
                xp.full_like(ranks, 0.5)
                if interpolation == "midpoint"
                else ranks - below.astype(x.dtype)
            )
            above = xp.ceil(ranks).astype(xp.int64)
            hi = xp.take_along_axis(srt, above, axis=-1)
            with xp.errstate(invalid="ignore"):
                # torch.lerp's two-sided form (exact at both ends).
                y = xp.where(w < 0.5, y + w * (hi - y), hi - (hi - y) * (x.dtype.type(1) - w))
        if any(ctx.needs_input_grad):
            ctx.meta = (x.shape, order, below, above, w, dim, keepdim, scalar)
        y = xp.moveaxis(y, -1, 0)  # (nq, B...)
        if keepdim:
            y = y.reshape(q.shape + (1,) * x.ndim) if dim is None else xp.expand_dims(y, dim + 1)
        return y[0] if scalar else y

    @staticmethod
    def backward(ctx, gy):
        xp = ctx.xp
        shape, order, below, above, w, dim, keepdim, scalar = ctx.meta
        g = gy[None] if scalar else gy
        if keepdim:
            g = g.reshape(g.shape[:1]) if dim is None else g.squeeze(dim + 1)
        g = xp.moveaxis(g, 0, -1)  # (B..., nq)
        gs = xp.zeros(order.shape, dtype=gy.dtype)
        grid = list(xp.indices(below.shape, sparse=True))
        if w is None:
            xp.add.at(gs, tuple(grid[:-1]) + (below,), g)
        else:
            with xp.errstate(invalid="ignore"):
                xp.add.at(gs, tuple(grid[:-1]) + (below,), g * (gy.dtype.type(1) - w))
                xp.add.at(gs, tuple(grid[:-1]) + (above,), g * w)
        gxw = xp.empty_like(gs)
        xp.put_along_axis(gxw, order, gs, axis=-1)
        return gxw.reshape(shape) if dim is None else xp.moveaxis(gxw, -1, dim)
