"""Shape ops: they move or copy elements, so their gradients move them back."""

from __future__ import annotations

from ..autograd.function import Function
from . import register_op
from ._util import unbroadcast


@register_op("reshape")
class Reshape(Function):
    """y = x.reshape(shape);  gx = gy.reshape(x.shape)."""

    @staticmethod
    def forward(ctx, x, *, shape):
        ctx.shape = x.shape
        return x.reshape(shape)

    @staticmethod
    def backward(ctx, gy):
        return gy.reshape(ctx.shape)


@register_op("permute")
class Permute(Function):
    """y = x.transpose(dims);  gx = gy.transpose(inverse(dims))."""

    @staticmethod
    def forward(ctx, x, *, dims):
        ctx.dims = dims
        return x.transpose(dims)

    @staticmethod
    def backward(ctx, gy):
        inverse = [0] * len(ctx.dims)
        for i, d in enumerate(ctx.dims):
            inverse[d] = i
        return gy.transpose(inverse)


@register_op("expand")
class Expand(Function):
    """y = broadcast_to(x, shape);  gx = gy summed over the broadcast axes."""

    @staticmethod
    def forward(ctx, x, *, shape):
        ctx.shape = x.shape
        return ctx.xp.broadcast_to(x, shape)

    @staticmethod
    def backward(ctx, gy):
        return unbroadcast(gy, ctx.shape)


@register_op("repeat")
class Repeat(Function):
    """y = tile(x, reps) (PyTorch's repeat);  gx = gy summed over the copies."""

    @staticmethod
    def forward(ctx, x, *, reps):
        xp = ctx.xp
        # PyTorch's repeat may add leading dimensions; give x as many as reps has.
        xe = x.reshape((1,) * (len(reps) - x.ndim) + x.shape)
        ctx.meta = (x.shape, xe.shape, reps)
        return xp.tile(xe, reps)

    @staticmethod
    def backward(ctx, gy):
        shape, eshape, reps = ctx.meta
        split = []
        for r, n in zip(reps, eshape):
            split += [r, n]
        g = gy.reshape(split).sum(axis=tuple(range(0, 2 * len(reps), 2)))
        return g.reshape(shape)


@register_op("flip")
class Flip(Function):
    """y = flip(x, dims);  gx = flip(gy, dims)."""

    @staticmethod
    def forward(ctx, x, *, dims):
        ctx.dims = dims
        return ctx.xp.flip(x, dims)

    @staticmethod
    def backward(ctx, gy):
        return ctx.xp.flip(gy, ctx.dims)


@register_op("cat")
class Cat(Function):
    """y = concatenate(xs, dim);  each gx is its slice of gy."""

    @staticmethod
    def forward(ctx, *xs, dim):
        ctx.meta = (dim, [x.shape[dim] for x in xs])
        return ctx.xp.concatenate(xs, axis=dim)

    @staticmethod
    def backward(ctx, gy):
        dim, sizes = ctx.meta
        grads = []
        start = 0
        index = [slice(None)] * gy.ndim
        for need, n in zip(ctx.needs_input_grad, sizes):
            index[dim] = slice(start, start + n)
            grads.append(gy[tuple(index)] if need else None)
            start += n
        return tuple(grads)


@register_op("stack")
class Stack(Function):
    """y = stack(xs, dim);  each gx is gy taken at its position along dim."""

    @staticmethod
    def forward(ctx, *xs, dim):
        ctx.dim = dim
        return ctx.xp.stack(xs, axis=dim)

    @staticmethod
    def backward(ctx, gy):
        dim = ctx.dim
        return tuple(
            gy.take(i, axis=dim) if need else None for i, need in enumerate(ctx.needs_input_grad)
        )


@register_op("pad")
class Pad(Function):
    """y = x padded with a constant;  gx = the interior slice of gy."""

    @staticmethod
    def forward(ctx, x, *, widths, value=0.0):
        ctx.index = tuple(slice(lo, lo + n) for (lo, _), n in zip(widths, x.shape))
        return ctx.xp.pad(x, widths, mode="constant", constant_values=value)

    @staticmethod
    def backward(ctx, gy):
        return gy[ctx.index]
