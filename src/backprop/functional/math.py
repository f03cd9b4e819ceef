"""Elementwise math beyond arithmetic: trigonometric and hyperbolic functions and their inverses,
the error function family, exp2/expm1/log2/log10, logaddexp, copysign, hypot, lerp, and the
predicates and clean-ups (signbit, isclose, isposinf, isneginf, nan_to_num), with PyTorch's
names, dtype rules (integer inputs give float32 where PyTorch computes in floating point) and
gradients. ``clamp`` with tensor bounds is here too (``backprop.clamp`` calls it)."""

from __future__ import annotations

import numpy as np

from ..ops import math as M
from ..ops import math_binary as MB
from ..tensor import Tensor
from ._util import (
    FLOAT_DEFAULT,
    UnsupportedDtypeError,
    as_tensor,
    cast,
    is_float,
    operands,
    result_type,
)

__all__ = [
    "tan", "asin", "acos", "atan", "sinh", "cosh", "asinh", "acosh", "atanh", "arcsin", "arccos",
    "arctan", "arcsinh", "arccosh", "arctanh", "erf", "erfc", "erfinv", "exp2", "expm1", "log2",
    "log10", "atan2", "arctan2", "logaddexp", "logaddexp2", "copysign", "hypot", "lerp",
    "nan_to_num", "sgn", "signbit", "isclose", "isposinf", "isneginf", "clamp_min", "clamp_max",
]  # fmt: skip


def _float_input(x, op: str) -> Tensor:
    """``x`` as a tensor; integer and bool tensors become float32, as PyTorch computes them."""
    x = as_tensor(x, op)
    return x if is_float(x.data.dtype) else cast(x, FLOAT_DEFAULT)


def _unary(op_cls, name: str, doc: str):
    def f(input) -> Tensor:
        return op_cls.apply(_float_input(input, name))

    f.__name__ = f.__qualname__ = name
    f.__doc__ = (
        f"{doc}\n\nElementwise, any shape; integer and bool inputs give float32.\n\n"
        f"Math and gradient: {op_cls.__doc__}"
    )
    return f


tan = _unary(M.Tan, "tan", "The tangent of ``input`` (radians).")
asin = _unary(M.Asin, "asin", "The arcsine of ``input``, in [-pi/2, pi/2]; NaN outside [-1, 1].")
acos = _unary(M.Acos, "acos", "The arccosine of ``input``, in [0, pi]; NaN outside [-1, 1].")
atan = _unary(M.Atan, "atan", "The arctangent of ``input``, in (-pi/2, pi/2).")
sinh = _unary(M.Sinh, "sinh", "The hyperbolic sine of ``input``.")
cosh = _unary(M.Cosh, "cosh", "The hyperbolic cosine of ``input``.")
asinh = _unary(M.Asinh, "asinh", "The inverse hyperbolic sine of ``input``.")
acosh = _unary(M.Acosh, "acosh", "The inverse hyperbolic cosine of ``input``; NaN below 1.")
atanh = _unary(M.Atanh, "atanh", "The inverse hyperbolic tangent; +-inf at +-1, NaN beyond.")
erf = _unary(M.Erf, "erf", "The error function 2/sqrt(pi) * integral_0^x exp(-t^2) dt.")
erfc = _unary(M.Erfc, "erfc", "The complementary error function 1 - erf(x), exact in the tail.")
erfinv = _unary(M.Erfinv, "erfinv", "The inverse error function; +-inf at +-1, NaN beyond.")
exp2 = _unary(M.Exp2, "exp2", "2 to the power ``input``.")
expm1 = _unary(M.Expm1, "expm1", "exp(x) - 1, accurate for small x.")
log2 = _unary(M.Log2, "log2", "The base-2 logarithm; -inf at 0, NaN below.")
log10 = _unary(M.Log10, "log10", "The base-10 logarithm; -inf at 0, NaN below.")
arcsin, arccos, arctan = asin, acos, atan
arcsinh, arccosh, arctanh = asinh, acosh, atanh


def _binary(op_cls, input, other, name: str, ints_to_float: bool) -> Tensor:
    """Promote two operands (tensors or numbers) to one dtype and apply ``op_cls``; integer
    results become float32 (``ints_to_float``) or are refused, as PyTorch does per op."""
    a, b = operands(input, other, name, floating=ints_to_float)
    dt = (a if isinstance(a, Tensor) else b).data.dtype
    if not is_float(dt):
        raise UnsupportedDtypeError(
            f"{name}: not implemented for dtype {dt} (floating-point tensors only)"
        )
    return op_cls.apply(a, b)


def atan2(input, other) -> Tensor:
    """The angle of the point (other, input) (``atan(input / other)`` in the right quadrant),
    in [-pi, pi]; broadcasting. Integer inputs give float32.

    Gradient: d/dinput = other / r^2, d/dother = -input / r^2 (r^2 = input^2 + other^2; both 0
    at the origin, as PyTorch).
    """
    return _binary(MB.Atan2, input, other, "atan2", ints_to_float=True)


arctan2 = atan2


def logaddexp(input, other) -> Tensor:
    """log(exp(input) + exp(other)) without overflow, broadcasting; floating point only."""
    return _binary(MB.LogAddExp, input, other, "logaddexp", ints_to_float=False)


def logaddexp2(input, other) -> Tensor:
    """log2(2^input + 2^other) without overflow, broadcasting; floating point only."""
    return _binary(MB.LogAddExp2, input, other, "logaddexp2", ints_to_float=False)


def copysign(input, other) -> Tensor:
    """|input| with the sign of ``other`` (its sign bit: -0.0 counts as negative); broadcasting.
    Integer inputs give float32. The gradient to ``other`` is zero."""
    return _binary(MB.Copysign, input, other, "copysign", ints_to_float=True)


def hypot(input, other) -> Tensor:
    """sqrt(input^2 + other^2) without overflow, broadcasting; floating point only."""
    return _binary(MB.Hypot, input, other, "hypot", ints_to_float=False)


def lerp(input, end, weight) -> Tensor:
    """``input + weight * (end - input)``, broadcasting all three.

    Args:
        input, end: floating-point tensors of one dtype.
        weight: a number, or a tensor of that dtype; a 0-d one of any dtype takes part in
            the promotion (a 0-d float16 weight makes integer ends float16, as PyTorch).

    Returns:
        A tensor of the broadcast shape. Gradients: (1 - weight) to ``input``, ``weight`` to
        ``end``, ``end - input`` to a tensor ``weight``.
    """
    op = "lerp"
    start, end = as_tensor(input, op), as_tensor(end, op)
    dt = start.data.dtype
    if end.data.dtype != dt:
        raise TypeError(f"{op}: expected dtype {dt} for end, got {end.data.dtype}")
    if isinstance(weight, Tensor) and weight.data.ndim == 0 and weight.data.dtype != dt:
        # A 0-d weight takes part in the promotion (PyTorch's result_type of the three).
        dt = result_type(start, end, weight)
        start, end, weight = cast(start, dt), cast(end, dt), cast(weight, dt)
    if not is_float(dt):
        raise UnsupportedDtypeError(f"{op}: not implemented for dtype {dt}")
    if isinstance(weight, Tensor):
        if weight.data.dtype != dt:
            raise TypeError(f"{op}: expected dtype {dt} for weight, got {weight.data.dtype}")
        shapes = [start.shape, end.shape, weight.shape]
    elif isinstance(weight, (int, float)):
        weight = float(weight)
        shapes = [start.shape, end.shape]
    else:
        raise TypeError(f"{op}: weight must be a number or a Tensor, got {type(weight).__name__}")
    _check_broadcast(op, shapes)
    return MB.Lerp.apply(start, end, weight)


def _check_broadcast(op: str, shapes) -> None:
    try:
        np.broadcast_shapes(*shapes)
    except ValueError:
        raise ValueError(f"{op}: shapes {list(shapes)} cannot be broadcast together") from None


def nan_to_num(input, nan: float = 0.0, posinf: float | None = None, neginf: float | None = None):
    """``input`` with NaN replaced by ``nan``, +inf by ``posinf`` and -inf by ``neginf`` (by
    default the dtype's largest and lowest finite values). Integer tensors come back copied.
    The gradient passes where ``input`` is finite and is 0 elsewhere."""
    x = as_tensor(input, "nan_to_num")
    if not is_float(x.data.dtype):
        return Tensor._make(x.data.copy(), False, None)
    return MB.NanToNum.apply(x, nan=nan, posinf=posinf, neginf=neginf)


def sgn(input) -> Tensor:
    """The sign of ``input`` (for real tensors PyTorch's ``sgn`` is ``sign``): -1, 0 or 1; 0 at
    NaN; zero gradient."""
    from .elementwise import sign

    return sign(input)


def signbit(input) -> Tensor:
    """Whether each element's sign bit is set (True for -0.0 and negative NaN); a bool tensor
    without gradient."""
    x = as_tensor(input, "signbit").data
    if x.dtype == np.bool_:
        out = np.zeros(x.shape, dtype=np.bool_)
    elif is_float(x.dtype):
        out = np.signbit(x)
    else:
        out = x < 0
    return Tensor._make(np.asarray(out), False, None)


def isclose(input, other, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False):
    """Elementwise ``|input - other| <= atol + rtol * |other|`` (equal values, infinities
    included, are always close; NaN is close to NaN only with ``equal_nan``); broadcasting. Both
    must have one dtype (a number takes the tensor's). A bool tensor without gradient."""
    op = "isclose"
    if rtol < 0 or atol < 0:
        raise ValueError(f"{op}: rtol and atol must be >= 0, got rtol={rtol}, atol={atol}")
    a = as_tensor(input, op).data
    if isinstance(other, Tensor):
        b = other.data
        if b.dtype != a.dtype:
            raise TypeError(f"{op}: input has dtype {a.dtype} but other has dtype {b.dtype}")
    else:
        b = np.asarray(other, dtype=a.dtype)
    _check_broadcast(op, [a.shape, b.shape])
    close = a == b
    if a.dtype != np.bool_:
        with np.errstate(invalid="ignore", over="ignore"):
            if is_float(a.dtype):
                diff, bound = np.abs(a - b), atol + np.abs(rtol * b)
                close = close | (np.isfinite(a) & np.isfinite(b) & (diff <= bound))
            else:  # exact in float64 for the integers a tolerance can matter for
                fa, fb = a.astype(np.float64), b.astype(np.float64)
                close = close | (np.abs(fa - fb) <= atol + np.abs(rtol * fb))
        if equal_nan and is_float(a.dtype):
            close = close | (np.isnan(a) & np.isnan(b))
    return Tensor._make(np.asarray(close), False, None)


def _is_signed_inf(input, op: str, positive: bool) -> Tensor:
    x = as_tensor(input, op).data
    if not is_float(x.dtype):
        return Tensor._make(np.zeros(x.shape, dtype=np.bool_), False, None)
    return Tensor._make(np.asarray(x == (np.inf if positive else -np.inf)), False, None)


def isposinf(input) -> Tensor:
    """Whether each element is +inf; a bool tensor without gradient."""
    return _is_signed_inf(input, "isposinf", True)


def isneginf(input) -> Tensor:
    """Whether each element is -inf; a bool tensor without gradient."""
    return _is_signed_inf(input, "isneginf", False)


def clamp_min(input, min) -> Tensor:
    """``clamp(input, min=min)``: max(input, min), ``min`` a number or a tensor."""
    from .elementwise import clamp

    return clamp(input, min=min)


def clamp_max(input, max) -> Tensor:
    """``clamp(input, max=max)``: min(input, max), ``max`` a number or a tensor."""
    from .elementwise import clamp

    return clamp(input, max=max)


def clamp_tensors(input, min=None, max=None) -> Tensor:
    """``clamp`` where a bound is a tensor: the three broadcast together, and the result takes
    their promoted dtype (a float bound makes an integer input float, as PyTorch). A NaN
    anywhere gives NaN; where min > max the result is max. Gradients also flow to tensor
    bounds: to ``min`` where input < min < max, to ``max`` where input > max or max < min."""
    op = "clamp"
    x = as_tensor(input, op)
    bounds = [min, max]
    for v in bounds:
        if v is not None and (isinstance(v, bool) or not isinstance(v, (Tensor, int, float))):
            raise TypeError(f"{op}: min and max must be numbers or Tensors, got {v!r}")
    dt = result_type(x, *(v for v in bounds if v is not None))
    for i, v in enumerate(bounds):
        if v is None:
            continue
        bounds[i] = (
            cast(v, dt) if isinstance(v, Tensor) else Tensor._make(np.asarray(v, dt), False, None)
        )
    x = cast(x, dt)
    _check_broadcast(op, [x.shape] + [v.shape for v in bounds if v is not None])
    return MB.ClampTensor.apply(x, *bounds)
