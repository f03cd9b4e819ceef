"""Layout ops that move elements within a tensor: triangles, diagonals, roll, rot90."""

from __future__ import annotations

from ..autograd.function import Function
from . import register_op


@register_op("tril")
class Tril(Function):
    """y = x on and below diagonal k of the last two dims, 0 above;  gx = tril(gy, k)."""

    @staticmethod
    def forward(ctx, x, *, diagonal=0):
        ctx.k = diagonal
        return ctx.xp.tril(x, diagonal)

    @staticmethod
    def backward(ctx, gy):
        return ctx.xp.tril(gy, ctx.k)


@register_op("triu")
class Triu(Function):
    """y = x on and above diagonal k of the last two dims, 0 below;  gx = triu(gy, k)."""

    @staticmethod
    def forward(ctx, x, *, diagonal=0):
        ctx.k = diagonal
        return ctx.xp.triu(x, diagonal)

    @staticmethod
    def backward(ctx, gy):
        return ctx.xp.triu(gy, ctx.k)


def _diag_index(xp, n1, n2, offset):
    """Row and column indices of diagonal ``offset`` of an (n1, n2) plane."""
    start_r, start_c = max(-offset, 0), max(offset, 0)
    length = max(min(n1 - start_r, n2 - start_c), 0)
    i = xp.arange(length)
    return i + start_r, i + start_c


def write_diagonal(xp, out, values, offset, dim1, dim2):
    """Write ``values`` (diagonal last) into diagonal ``offset`` of the (dim1, dim2) planes."""
    plane = xp.moveaxis(out, (dim1, dim2), (-2, -1))
    r, c = _diag_index(xp, plane.shape[-2], plane.shape[-1], offset)
    plane[..., r, c] = values
    return out


@register_op("diagonal")
class Diagonal(Function):
    """y = the diagonal ``offset`` of the (dim1, dim2) planes, appended as the last dim (a copy);
    gx = zeros with gy written on that diagonal."""

    @staticmethod
    def forward(ctx, x, *, offset=0, dim1=0, dim2=1):
        ctx.meta = (x.shape, offset, dim1, dim2)
        return ctx.xp.diagonal(x, offset, dim1, dim2).copy()

    @staticmethod
    def backward(ctx, gy):
        shape, offset, dim1, dim2 = ctx.meta
        return write_diagonal(ctx.xp, ctx.xp.zeros(shape, gy.dtype), gy, offset, dim1, dim2)


@register_op("diag_embed")
class DiagEmbed(Function):
    """y = zeros with x's last dim written on diagonal ``offset`` of the new (dim1, dim2) planes;
    gx = that diagonal of gy."""

    @staticmethod
    def forward(ctx, x, *, offset=0, dim1=-2, dim2=-1, shape):
        ctx.meta = (offset, dim1, dim2)
        return write_diagonal(ctx.xp, ctx.xp.zeros(shape, x.dtype), x, offset, dim1, dim2)

    @staticmethod
    def backward(ctx, gy):
        offset, dim1, dim2 = ctx.meta
        return ctx.xp.diagonal(gy, offset, dim1, dim2)


@register_op("roll")
class Roll(Function):
    """y = x rolled by ``shifts`` along ``dims`` (None: the flattened tensor);  gx = gy rolled
    back."""

    @staticmethod
    def forward(ctx, x, *, shifts, dims):
        ctx.meta = (shifts, dims)
        return ctx.xp.roll(x, shifts, dims)

    @staticmethod
    def backward(ctx, gy):
        shifts, dims = ctx.meta
        back = -shifts if dims is None else tuple(-s for s in shifts)
        return ctx.xp.roll(gy, back, dims)


@register_op("rot90")
class Rot90(Function):
    """y = x rotated k quarter turns in the plane dims (from the first towards the second);
    gx = gy rotated -k turns."""

    @staticmethod
    def forward(ctx, x, *, k, dims):
        ctx.meta = (k, dims)
        return ctx.xp.rot90(x, k, dims)

    @staticmethod
    def backward(ctx, gy):
        k, dims = ctx.meta
        return ctx.xp.rot90(gy, -k, dims)
