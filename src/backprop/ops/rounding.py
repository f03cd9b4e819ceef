"""Rounding: floor, ceil, trunc, round (half to even, with decimals). Piecewise constant, so the
gradient is zero everywhere (PyTorch's convention, also at the jumps)."""

from __future__ import annotations

from ..autograd.function import Function
from . import register_op

_FUNCS = ("floor", "ceil", "trunc", "round")


@register_op("rounding")
class Rounding(Function):
    """y = floor/ceil/trunc/round(x) (``fn``; ``decimals`` for round);  gx = 0."""

    @staticmethod
    def forward(ctx, x, *, fn, decimals=0):
        xp = ctx.xp
        ctx.shape, ctx.dtype = x.shape, x.dtype
        if fn == "round":
            return xp.asarray(xp.round(x, decimals))
        return xp.asarray(getattr(xp, fn)(x))

    @staticmethod
    def backward(ctx, gy):
        return ctx.xp.zeros(ctx.shape, dtype=ctx.dtype)
