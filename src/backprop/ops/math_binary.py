"""Binary and bounded elementwise math: atan2, logaddexp, logaddexp2, copysign, hypot, lerp,
nan_to_num and clamp with tensor bounds.

Operands come promoted to one dtype (the functional layer does it); a raw Python number never
needs a gradient. Gradients are PyTorch's formulas, summed back over broadcast axes.
"""

from __future__ import annotations

import math

from ..autograd.function import Function
from . import register_op
from ._util import unbroadcast

_LN2 = math.log(2.0)


def _shape(a):
    return getattr(a, "shape", ())


@register_op("atan2")
class Atan2(Function):
    """y = atan2(a, b) (the angle of the point (b, a));
    ga = gy * b / (a^2 + b^2), gb = -gy * a / (a^2 + b^2), both 0 at a = b = 0 (PyTorch's)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return ctx.xp.asarray(ctx.xp.arctan2(a, b))

    @staticmethod
    def backward(ctx, gy):
        xp = ctx.xp
        a, b = ctx.saved_tensors
        na, nb = ctx.needs_input_grad
        with xp.errstate(all="ignore"):
            denom = xp.asarray(a * a + b * b, dtype=gy.dtype)
            recip = xp.where(denom == 0, gy.dtype.type(0), gy.dtype.type(1) / denom)
            return (
                unbroadcast(gy * b * recip, _shape(a)) if na else None,
                unbroadcast(gy * -a * recip, _shape(b)) if nb else None,
            )


@register_op("logaddexp")
class LogAddExp(Function):
    """y = log(exp(a) + exp(b)) without overflow;
    ga = gy / (1 + exp(b - a)), gb = gy / (1 + exp(a - b))."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        with ctx.xp.errstate(invalid="ignore"):
            return ctx.xp.asarray(ctx.xp.logaddexp(a, b))

    @staticmethod
    def backward(ctx, gy):
        xp = ctx.xp
        a, b = ctx.saved_tensors
        na, nb = ctx.needs_input_grad
        one = gy.dtype.type(1)
        with xp.errstate(all="ignore"):
            return (
                unbroadcast(gy / (one + xp.exp(b - a)), _shape(a)) if na else None,
                unbroadcast(gy / (one + xp.exp(a - b)), _shape(b)) if nb else None,
            )


@register_op("logaddexp2")
class LogAddExp2(Function):
    """y = log2(2^a + 2^b) without overflow;
    ga = gy / (1 + 2^(b - a)), gb = gy / (1 + 2^(a - b))."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        with ctx.xp.errstate(invalid="ignore"):
            return ctx.xp.asarray(ctx.xp.logaddexp2(a, b))

    @staticmethod
    def backward(ctx, gy):
        xp = ctx.xp
        a, b = ctx.saved_tensors
        na, nb = ctx.needs_input_grad
        one = gy.dtype.type(1)
        with xp.errstate(all="ignore"):
            return (
                unbroadcast(gy / (one + xp.exp2(b - a)), _shape(a)) if na else None,
                unbroadcast(gy / (one + xp.exp2(a - b)), _shape(b)) if nb else None,
            )


@register_op("copysign")
class Copysign(Function):
    """y = |a| with the sign (bit) of b;  ga = gy * y / a (0 where a = 0), gb = 0."""

    @staticmethod
    def forward(ctx, a, b):
        y = ctx.xp.asarray(ctx.xp.copysign(a, b))
        ctx.save_for_backward(a, y)
        ctx.b_shape = _shape(b)
        return y

    @staticmethod
    def backward(ctx, gy):
        xp = ctx.xp
        a, y = ctx.saved_tensors
        na, nb = ctx.needs_input_grad
        ga = gb = None
        if na:
            with xp.errstate(all="ignore"):
                ratio = xp.where(a == 0, gy.dtype.type(0), y / a)
            ga = unbroadcast(gy * ratio, _shape(a))
        if nb:
            gb = xp.zeros(ctx.b_shape, dtype=gy.dtype)
        return ga, gb


@register_op("hypot")
class Hypot(Function):
    """y = sqrt(a^2 + b^2) without overflow;  ga = gy * a / y, gb = gy * b / y."""

    @staticmethod
    def forward(ctx, a, b):
        y = ctx.xp.asarray(ctx.xp.hypot(a, b))
        ctx.save_for_backward(a, b, y)
        return y

    @staticmethod
    def backward(ctx, gy):
        a, b, y = ctx.saved_tensors
        na, nb = ctx.needs_input_grad
        with ctx.xp.errstate(all="ignore"):
            return (
                unbroadcast(gy * a / y, _shape(a)) if na else None,
                unbroadcast(gy * b / y, _shape(b)) if nb else None,
            )


@register_op("lerp")
class Lerp(Function):
    """y = start + w * (end - start), as start + w d for |w| < 1/2 and end - d (1 - w) beyond
    (PyTorch's split: exact at w = 0 and w = 1);
    gstart = gy * (1 - w), gend = gy * w, gw = gy * (end - start).

    ``weight`` is an array of the operands' dtype or a Python number (no gradient).
    """

    @staticmethod
    def forward(ctx, start, end, weight):
        xp = ctx.xp
        with xp.errstate(all="ignore"):
            d = end - start
            if isinstance(weight, float):
                w = start.dtype.type(weight)
                y = start + w * d if abs(weight) < 0.5 else end - d * (start.dtype.type(1) - w)
            else:
                one = start.dtype.type(1)
                y = xp.where(xp.abs(weight) < 0.5, start + weight * d, end - d * (one - weight))
        y = xp.asarray(y)
        ctx.save_for_backward(start, end, weight if not isinstance(weight, float) else None)
        ctx.scalar = weight if isinstance(weight, float) else None
        ctx.shapes = (start.shape, end.shape, _shape(weight))
        return y

    @staticmethod
    def backward(ctx, gy):
        xp = ctx.xp
        start, end, w = ctx.saved_tensors
        ns, ne, nw = ctx.needs_input_grad
        if w is None:
            w = ctx.scalar  # a Python float: PyTorch's (1 - weight) in double, then gy's dtype
            cw = 1.0 - w
        else:
            cw = gy.dtype.type(1) - w
        s_shape, e_shape, w_shape = ctx.shapes
        with xp.errstate(all="ignore"):
            return (
                unbroadcast(gy * cw, s_shape) if ns else None,
                unbroadcast(xp.asarray(gy * w), e_shape) if ne else None,
                unbroadcast(gy * (end - start), w_shape) if nw else None,
            )


@register_op("nan_to_num")
class NanToNum(Function):
    """y = x with NaN, +inf, -inf replaced by ``nan``, ``posinf``, ``neginf``;
    gx = gy * isfinite(x) (a product, as PyTorch's: an inf gy at a non-finite x gives NaN)."""

    @staticmethod
    def forward(ctx, x, *, nan, posinf, neginf):
        ctx.save_for_backward(x)
        return ctx.xp.asarray(ctx.xp.nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf))

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        return gy * ctx.xp.isfinite(x)


@register_op("clamp_tensor")
class ClampTensor(Function):
    """y = min(max(x, lo), hi) with tensor bounds (either may be None; NaN anywhere gives NaN;
    lo > hi gives hi). PyTorch's gradients: gx = gy where lo <= x <= hi; glo = gy where x < lo
    and lo < hi; ghi = gy where x > hi or hi < lo (one bound alone: where x passes it)."""

    @staticmethod
    def forward(ctx, x, lo, hi):
        xp = ctx.xp
        y = x
        if lo is not None:
            y = xp.maximum(y, lo)
        if hi is not None:
            y = xp.minimum(y, hi)
        ctx.save_for_backward(x, lo, hi)
        ctx.out_shape = y.shape
        return xp.asarray(y)

    @staticmethod
    def backward(ctx, gy):
        xp = ctx.xp
        x, lo, hi = ctx.saved_tensors
        nx, nlo, nhi = ctx.needs_input_grad
        zero = gy.dtype.type(0)
        gx = glo = ghi = None
        if nx:
            keep = xp.ones(ctx.out_shape, dtype=bool)
            if lo is not None:
                keep = keep & (x >= lo)
            if hi is not None:
                keep = keep & (x <= hi)
            gx = unbroadcast(xp.where(keep, gy, zero), x.shape)
        if nlo:
            take = x < lo if hi is None else (x < lo) & (lo < hi)
            glo = unbroadcast(xp.where(take, gy, zero), lo.shape)
        if nhi:
            take = x > hi if lo is None else (x > hi) | (hi < lo)
            ghi = unbroadcast(xp.where(take, gy, zero), hi.shape)
        return gx, glo, ghi
