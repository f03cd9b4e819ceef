"""Elementwise arithmetic: binary ops broadcast, and their gradients are summed back (unbroadcast).

Binary ops get operands of one dtype (the functional layer promotes them first); a raw constant
(Python scalar or array that is not a Tensor) never needs a gradient.
"""

from __future__ import annotations

from ..autograd.function import Function
from . import register_op
from ._util import unbroadcast


def torch_sign(xp, x):
    """sign(x) as PyTorch's: -1, 0 or 1, and 0 (not NaN) for NaN."""
    s = xp.asarray(xp.sign(x))  # (a 0-d input gives a NumPy scalar, which copyto refuses)
    if s.dtype.kind == "f":
        xp.copyto(s, s.dtype.type(0), where=s != s)
    return s


def _keep_shapes(ctx, a, b, y) -> None:
    """For add's and sub's backward: the inputs' shapes (``ctx.shapes``), kept only when an input
    that needs a gradient was broadcast (its gradient must be summed back to its shape). In the
    common case nothing is kept and each gradient is ``gy`` itself: two tuples and the context's
    attribute dict fewer per op, hence less work for Python's cyclic garbage collector."""
    na, nb = ctx.needs_input_grad
    if (na and getattr(a, "shape", ()) != y.shape) or (nb and getattr(b, "shape", ()) != y.shape):
        ctx.shapes = (getattr(a, "shape", ()), getattr(b, "shape", ()))


@register_op("add")
class Add(Function):
    """y = a + b;  ga = gy, gb = gy (unbroadcast)."""

    @staticmethod
    def forward(ctx, a, b):
        y = a + b
        _keep_shapes(ctx, a, b, y)
        return y

    @staticmethod
    def backward(ctx, gy):
        na, nb = ctx.needs_input_grad
        shapes = getattr(ctx, "shapes", None)
        if shapes is None:  # (no input that needs a gradient was broadcast)
            return gy if na else None, gy if nb else None
        return (
            unbroadcast(gy, shapes[0]) if na else None,
            unbroadcast(gy, shapes[1]) if nb else None,
        )


@register_op("sub")
class Sub(Function):
    """y = a - b;  ga = gy, gb = -gy (unbroadcast)."""

    @staticmethod
    def forward(ctx, a, b):
        y = a - b
        _keep_shapes(ctx, a, b, y)
        return y

    @staticmethod
    def backward(ctx, gy):
        na, nb = ctx.needs_input_grad
        shapes = getattr(ctx, "shapes", None)
        if shapes is None:  # (no input that needs a gradient was broadcast)
            return gy if na else None, -gy if nb else None
        return (
            unbroadcast(gy, shapes[0]) if na else None,
            unbroadcast(-gy, shapes[1]) if nb else None,
        )


@register_op("mul")
class Mul(Function):
    """y = a * b;  ga = gy * b, gb = gy * a (unbroadcast)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx, gy):
        a, b = ctx.saved_tensors
        na, nb = ctx.needs_input_grad
        return (
            unbroadcast(gy * b, a.shape) if na else None,
            unbroadcast(gy * a, b.shape) if nb else None,
        )


@register_op("div")
class Div(Function):
    """y = a / b;  ga = gy / b, gb = -gy * a / b**2 (unbroadcast)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a / b

    @staticmethod
    def backward(ctx, gy):
        a, b = ctx.saved_tensors
        na, nb = ctx.needs_input_grad
        ga = gy / b
        return (
            unbroadcast(ga, a.shape) if na else None,
            unbroadcast(-ga * a / b, b.shape) if nb else None,
        )


@register_op("pow")
class Pow(Function):
    """y = a ** b;  ga = gy * b * a**(b-1) (0 where b == 0, even for an inf gy),
    gb = gy * (y * log(a), 0 where a == 0 and b >= 0): PyTorch's, so 0**0 and x**x at 0 give 0."""

    @staticmethod
    def forward(ctx, a, b):
        y = a**b
        # y is needed only for the exponent's gradient (saving it otherwise would make a later
        # in-place write to y raise at backward, where PyTorch does not).
        ctx.save_for_backward(a, b, y if ctx.needs_input_grad[1] else None)
        return y

    @staticmethod
    def backward(ctx, gy):
        xp = ctx.xp
        a, b, y = ctx.saved_tensors
        na, nb = ctx.needs_input_grad
        ga = gb = None
        zero = gy.dtype.type(0)
        with xp.errstate(divide="ignore", invalid="ignore"):
            if na:
                ga = gy * b * a ** (b - 1)
                if xp.any(b == 0):
                    ga = xp.where(b == 0, zero, ga)
                ga = unbroadcast(ga, a.shape)
            if nb:
                # asarray in y's dtype: log of a Python scalar would be a float64 scalar.
                dyb = y * xp.log(xp.asarray(a, dtype=y.dtype))
                dyb = xp.where((a == 0) & (b >= 0), zero, dyb)
                gb = unbroadcast(gy * dyb, b.shape)
        return ga, gb


@register_op("neg")
class Neg(Function):
    """y = -x;  gx = -gy."""

    @staticmethod
    def forward(ctx, x):
        return -x

    @staticmethod
    def backward(ctx, gy):
        return -gy


@register_op("exp")
class Exp(Function):
    """y = exp(x);  gx = gy * y."""

    @staticmethod
    def forward(ctx, x):
        y = ctx.xp.exp(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, gy):
        return gy * ctx.saved_tensors[0]


@register_op("log")
class Log(Function):
    """y = log(x);  gx = gy / x."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with ctx.xp.errstate(divide="ignore", invalid="ignore"):
            return ctx.xp.log(x)

    @staticmethod
    def backward(ctx, gy):
        with ctx.xp.errstate(divide="ignore"):
            return gy / ctx.saved_tensors[0]


@register_op("log1p")
class Log1p(Function):
    """y = log(1 + x);  gx = gy / (1 + x)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with ctx.xp.errstate(divide="ignore", invalid="ignore"):
            return ctx.xp.log1p(x)

    @staticmethod
    def backward(ctx, gy):
        x = ctx.saved_tensors[0]
        with ctx.xp.errstate(divide="ignore"):
            return gy / (x + x.dtype.type(1))


@register_op("sqrt")
class Sqrt(Function):
    """y = sqrt(x);  gx = gy / (2 y)."""

    @staticmethod
    def forward(ctx, x):
        with ctx.xp.errstate(invalid="ignore"):
            y = ctx.xp.sqrt(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, gy):
        y = ctx.saved_tensors[0]
        with ctx.xp.errstate(divide="ignore"):
            return gy / (y + y)


@register_op("sin")
class Sin(Function):
    """y = sin(x);  gx = gy * cos(x)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return ctx.xp.sin(x)

    @staticmethod
    def backward(ctx, gy):
        return gy * ctx.xp.cos(ctx.saved_tensors[0])


@register_op("cos")
class Cos(Function):
    """y = cos(x);  gx = -gy * sin(x)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return ctx.xp.cos(x)

    @staticmethod
    def backward(ctx, gy):
        return -gy * ctx.xp.sin(ctx.saved_tensors[0])


@register_op("abs")
class Abs(Function):
    """y = |x|;  gx = gy * sign(x)  (0 at x = 0 and at NaN, as in PyTorch)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return ctx.xp.abs(x)

    @staticmethod
    def backward(ctx, gy):
        return gy * torch_sign(ctx.xp, ctx.saved_tensors[0])


@register_op("sign")
class Sign(Function):
    """y = sign(x) (0 at NaN, as in PyTorch);  gx = 0 (piecewise constant)."""

    @staticmethod
    def forward(ctx, x):
        return torch_sign(ctx.xp, x)

    @staticmethod
    def backward(ctx, gy):
        return ctx.xp.zeros_like(gy)


@register_op("clamp")
class Clamp(Function):
    """y = min(max(x, lo), hi);  gx = gy where lo <= x <= hi, else 0."""

    @staticmethod
    def forward(ctx, x, *, min=None, max=None):
        ctx.save_for_backward(x)
        ctx.bounds = (min, max)
        return ctx.xp.clip(x, min, max)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        lo, hi = ctx.bounds
        keep = True
        if lo is not None:
            keep = x >= lo
        if hi is not None:
            keep = keep & (x <= hi)
        return ctx.xp.where(keep, gy, gy.dtype.type(0))


@register_op("maximum")
class Maximum(Function):
    """y = max(a, b);  the gradient goes to the larger input, halved on ties, and in full to both
    where either is NaN (as PyTorch)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return ctx.xp.maximum(a, b)

    @staticmethod
    def backward(ctx, gy):
        return _minmax_backward(ctx, gy, larger=True)


@register_op("minimum")
class Minimum(Function):
    """y = min(a, b);  the gradient goes to the smaller input, halved on ties, and in full to both
    where either is NaN (as PyTorch)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return ctx.xp.minimum(a, b)

    @staticmethod
    def backward(ctx, gy):
        return _minmax_backward(ctx, gy, larger=False)


def _minmax_backward(ctx, gy, larger: bool):
    xp = ctx.xp
    a, b = ctx.saved_tensors
    na, nb = ctx.needs_input_grad
    half = gy * gy.dtype.type(0.5)
    # PyTorch masks out the side that loses outright: with a NaN neither loses, both get gy.
    a_loses = a < b if larger else a > b
    b_loses = a > b if larger else a < b
    ties = a == b
    zero = gy.dtype.type(0)
    ga = gb = None
    if na:
        ga = unbroadcast(xp.where(ties, half, xp.where(a_loses, zero, gy)), a.shape)
    if nb:
        gb = unbroadcast(xp.where(ties, half, xp.where(b_loses, zero, gy)), b.shape)
    return ga, gb


@register_op("where")
class Where(Function):
    """y = cond ? a : b;  ga = gy where cond, gb = gy where not cond (unbroadcast)."""

    @staticmethod
    def forward(ctx, cond, a, b):
        ctx.save_for_backward(cond)
        ctx.shapes = (getattr(a, "shape", ()), getattr(b, "shape", ()))
        return ctx.xp.where(cond, a, b)

    @staticmethod
    def backward(ctx, gy):
        xp = ctx.xp
        (cond,) = ctx.saved_tensors
        _, na, nb = ctx.needs_input_grad
        zero = gy.dtype.type(0)
        return (
            None,
            unbroadcast(xp.where(cond, gy, zero), ctx.shapes[0]) if na else None,
            unbroadcast(xp.where(cond, zero, gy), ctx.shapes[1]) if nb else None,
        )


@register_op("cast")
class Cast(Function):
    """y = x.astype(dtype);  gx = gy.astype(x.dtype)."""

    @staticmethod
    def forward(ctx, x, *, dtype):
        ctx.dtype = x.dtype
        return x.astype(dtype)

    @staticmethod
    def backward(ctx, gy):
        return gy.astype(ctx.dtype)


@register_op("clone")
class Clone(Function):
    """y = copy of x;  gx = gy."""

    @staticmethod
    def forward(ctx, x):
        return x.copy()

    @staticmethod
    def backward(ctx, gy):
        return gy
