"""Unary elementwise math: tan, the inverse trigonometric and the hyperbolic functions, erf,
erfc, erfinv, exp2, expm1, log2, log10.

Each gradient is PyTorch's formula (tools/autograd/derivatives.yaml), so the values at the
edges of a domain agree with it: asin'(+-1) = inf, acosh'(1) = inf, atanh'(+-1) = inf,
log2'(0) = inf, and NaN outside the domain. Out-of-domain inputs give NaN without a warning,
as in PyTorch.
"""

from __future__ import annotations

import math

from ..autograd.function import Function
from . import _erf, register_op

_LN2 = math.log(2.0)
_LN10 = math.log(10.0)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_HALF_SQRT_PI = 0.5 * math.sqrt(math.pi)


def _rsqrt(xp, v):
    """1 / sqrt(v): inf at 0, NaN below it (the caller silences the warnings)."""
    return v.dtype.type(1) / xp.sqrt(v)


@register_op("tan")
class Tan(Function):
    """y = tan(x);  gx = gy * (1 + y^2)."""

    @staticmethod
    def forward(ctx, x):
        with ctx.xp.errstate(invalid="ignore"):
            y = ctx.xp.asarray(ctx.xp.tan(x))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, gy):
        (y,) = ctx.saved_tensors
        with ctx.xp.errstate(over="ignore", invalid="ignore"):
            return gy * (y.dtype.type(1) + y * y)


@register_op("asin")
class Asin(Function):
    """y = asin(x) (NaN outside [-1, 1]);  gx = gy / sqrt(1 - x^2)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with ctx.xp.errstate(invalid="ignore"):
            return ctx.xp.asarray(ctx.xp.arcsin(x))

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        with ctx.xp.errstate(all="ignore"):
            return gy * _rsqrt(ctx.xp, x.dtype.type(1) - x * x)


@register_op("acos")
class Acos(Function):
    """y = acos(x) (NaN outside [-1, 1]);  gx = -gy / sqrt(1 - x^2)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with ctx.xp.errstate(invalid="ignore"):
            return ctx.xp.asarray(ctx.xp.arccos(x))

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        with ctx.xp.errstate(all="ignore"):
            return gy * -_rsqrt(ctx.xp, x.dtype.type(1) - x * x)


@register_op("atan")
class Atan(Function):
    """y = atan(x);  gx = gy / (1 + x^2)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return ctx.xp.asarray(ctx.xp.arctan(x))

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        with ctx.xp.errstate(over="ignore"):
            return gy / (x * x + x.dtype.type(1))


@register_op("sinh")
class Sinh(Function):
    """y = sinh(x);  gx = gy * cosh(x)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with ctx.xp.errstate(over="ignore"):
            return ctx.xp.asarray(ctx.xp.sinh(x))

    @staticmethod
    def backward(ctx, gy):
        with ctx.xp.errstate(over="ignore", invalid="ignore"):
            return gy * ctx.xp.cosh(ctx.saved_tensors[0])


@register_op("cosh")
class Cosh(Function):
    """y = cosh(x);  gx = gy * sinh(x)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with ctx.xp.errstate(over="ignore"):
            return ctx.xp.asarray(ctx.xp.cosh(x))

    @staticmethod
    def backward(ctx, gy):
        with ctx.xp.errstate(over="ignore", invalid="ignore"):
            return gy * ctx.xp.sinh(ctx.saved_tensors[0])


@register_op("asinh")
class Asinh(Function):
    """y = asinh(x);  gx = gy / sqrt(x^2 + 1)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return ctx.xp.asarray(ctx.xp.arcsinh(x))

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        with ctx.xp.errstate(all="ignore"):
            return gy * _rsqrt(ctx.xp, x * x + x.dtype.type(1))


@register_op("acosh")
class Acosh(Function):
    """y = acosh(x) (NaN below 1);  gx = gy / sqrt(x^2 - 1)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with ctx.xp.errstate(invalid="ignore"):
            return ctx.xp.asarray(ctx.xp.arccosh(x))

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        with ctx.xp.errstate(all="ignore"):
            return gy * _rsqrt(ctx.xp, x * x - x.dtype.type(1))


@register_op("atanh")
class Atanh(Function):
    """y = atanh(x) (+-inf at +-1, NaN beyond);  gx = gy / (1 - x^2)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with ctx.xp.errstate(divide="ignore", invalid="ignore"):
            return ctx.xp.asarray(ctx.xp.arctanh(x))

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        with ctx.xp.errstate(all="ignore"):
            return gy / (x.dtype.type(1) - x * x)


@register_op("erf")
class Erf(Function):
    """y = erf(x) (Cody's approximations, float64 inside);  gx = gy * 2/sqrt(pi) * exp(-x^2)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _erf.erf_erfc(ctx.xp, x)[0].astype(x.dtype)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        with ctx.xp.errstate(over="ignore", under="ignore"):
            return gy * (x.dtype.type(_TWO_OVER_SQRT_PI) * ctx.xp.exp(-(x * x)))


@register_op("erfc")
class Erfc(Function):
    """y = 1 - erf(x), accurate in the tail;  gx = -gy * 2/sqrt(pi) * exp(-x^2)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _erf.erf_erfc(ctx.xp, x)[1].astype(x.dtype)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        with ctx.xp.errstate(over="ignore", under="ignore"):
            return gy * (x.dtype.type(-_TWO_OVER_SQRT_PI) * ctx.xp.exp(-(x * x)))


@register_op("erfinv")
class Erfinv(Function):
    """y = erfinv(x) (+-inf at +-1, NaN beyond);  gx = gy * sqrt(pi)/2 * exp(y^2)."""

    @staticmethod
    def forward(ctx, x):
        y = _erf.erfinv(ctx.xp, x).astype(x.dtype)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, gy):
        (y,) = ctx.saved_tensors
        with ctx.xp.errstate(over="ignore", invalid="ignore"):
            return gy * (y.dtype.type(_HALF_SQRT_PI) * ctx.xp.exp(y * y))


@register_op("exp2")
class Exp2(Function):
    """y = 2^x;  gx = gy * y * ln 2."""

    @staticmethod
    def forward(ctx, x):
        with ctx.xp.errstate(over="ignore"):
            y = ctx.xp.asarray(ctx.xp.exp2(x))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, gy):
        (y,) = ctx.saved_tensors
        with ctx.xp.errstate(over="ignore", invalid="ignore"):
            return gy * y * y.dtype.type(_LN2)


@register_op("expm1")
class Expm1(Function):
    """y = exp(x) - 1, accurate near 0;  gx = gy * (y + 1)."""

    @staticmethod
    def forward(ctx, x):
        with ctx.xp.errstate(over="ignore"):
            y = ctx.xp.asarray(ctx.xp.expm1(x))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, gy):
        (y,) = ctx.saved_tensors
        with ctx.xp.errstate(over="ignore", invalid="ignore"):
            return gy * (y + y.dtype.type(1))


@register_op("log2")
class Log2(Function):
    """y = log2(x) (-inf at 0, NaN below);  gx = gy / (x ln 2)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with ctx.xp.errstate(divide="ignore", invalid="ignore"):
            return ctx.xp.asarray(ctx.xp.log2(x))

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        with ctx.xp.errstate(all="ignore"):
            return gy / (x * x.dtype.type(_LN2))


@register_op("log10")
class Log10(Function):
    """y = log10(x) (-inf at 0, NaN below);  gx = gy / (x ln 10)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with ctx.xp.errstate(divide="ignore", invalid="ignore"):
            return ctx.xp.asarray(ctx.xp.log10(x))

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        with ctx.xp.errstate(all="ignore"):
            return gy / (x * x.dtype.type(_LN10))
