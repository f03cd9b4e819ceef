"""Elementwise math: arithmetic with broadcasting, unary functions, comparisons."""

from __future__ import annotations

import numpy as np

from ..ops import elementwise as E
from ..tensor import Tensor
from ._util import UnsupportedDtypeError, as_tensor, fit_int, operands, result_type

__all__ = [
    "add", "sub", "subtract", "mul", "multiply", "div", "divide", "true_divide", "pow", "neg",
    "exp", "log", "log1p", "sqrt", "rsqrt", "square", "reciprocal", "sin", "cos", "abs", "sign",
    "clamp", "clip", "maximum", "minimum", "where", "eq", "ne", "lt", "le", "gt", "ge",
    "isnan", "isinf", "isfinite", "logical_not", "logical_and", "logical_or", "allclose", "clone",
]  # fmt: skip


# A float tensor and a Python number (not a bool): operands() would return them as they are;
# add, sub and mul test it first, without that call (the common ``x * 0.5``).
_INT_FLOAT = (int, float)


def add(input, other, *, alpha=1) -> Tensor:
    """``input + alpha * other``, broadcasting. Either may be a Python number."""
    if (
        alpha == 1
        and type(other) in _INT_FLOAT
        and isinstance(input, Tensor)
        and input.data.dtype.kind == "f"
    ):
        return E.Add.apply(input, other)  # (operands' fast path, without its call)
    if alpha != 1:
        other = _scaled(input, other, alpha, "add")
    a, b = operands(input, other, "add")
    return E.Add.apply(a, b)


def sub(input, other, *, alpha=1) -> Tensor:
    """``input - alpha * other``, broadcasting. Bools cannot be subtracted (as in PyTorch)."""
    if (
        alpha == 1
        and type(other) in _INT_FLOAT
        and isinstance(input, Tensor)
        and input.data.dtype.kind == "f"
    ):
        return E.Sub.apply(input, other)  # (operands' fast path, without its call)
    if (
        type(input) is bool
        or type(other) is bool
        or (isinstance(input, Tensor) and input.data.dtype.kind == "b")
        or (isinstance(other, Tensor) and other.data.dtype.kind == "b")
    ):
        raise TypeError(
            "sub: subtraction with a bool operand is not supported; use ~ or logical_not"
        )
    if alpha != 1:
        other = _scaled(input, other, alpha, "sub")
    a, b = operands(input, other, "sub")
    return E.Sub.apply(a, b)


subtract = sub


def _scaled(input, other, alpha, op: str):
    """``alpha * other`` for add's and sub's ``alpha``, computed in the dtype of ``input op
    other`` (alpha does not promote it, as in PyTorch; a float alpha with integers is refused)."""
    if not isinstance(alpha, (bool, int, float)):
        raise TypeError(f"{op}: alpha must be a number, got {type(alpha).__name__}")
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        return mul(other, alpha)  # (refused there, naming the operands)
    dt = result_type(*(as_tensor(x, op) if not isinstance(x, (bool, int, float)) else x
                       for x in (input, other)))  # fmt: skip
    if dt.kind != "f" and isinstance(alpha, float):
        raise TypeError(f"{op}: alpha must not be a float ({alpha}) for {dt} tensors")
    if dt.kind == "b":
        return other if alpha else mul(other, False)
    if not isinstance(other, Tensor):
        return other * alpha
    return mul(other if other.data.dtype == dt else other.astype(dt), alpha)


def mul(input, other) -> Tensor:
    """``input * other``, broadcasting."""
    if type(other) in _INT_FLOAT and isinstance(input, Tensor) and input.data.dtype.kind == "f":
        return E.Mul.apply(input, other)  # (operands' fast path, without its call)
    a, b = operands(input, other, "mul")
    return E.Mul.apply(a, b)


multiply = mul


def div(input, other, *, rounding_mode=None) -> Tensor:
    """``input / other`` (true division; integer inputs give float32, as in PyTorch).
    ``rounding_mode`` "trunc" (toward zero) or "floor" (``//``) rounds the quotient and keeps
    the operands' dtype, without gradient (:func:`backprop.floor_divide`)."""
    if rounding_mode is not None:
        from .rounding import rounded_divide

        return rounded_divide(input, other, rounding_mode)
    a, b = operands(input, other, "div", floating=True)
    return E.Div.apply(a, b)


divide = true_divide = div


def pow(input, exponent) -> Tensor:
    """``input ** exponent``, broadcasting; either may be a number. Bool tensors only to a
    Python bool power (``x ** True`` is ``x``, ``x ** False`` all True), as in PyTorch."""
    a, b = operands(input, exponent, "pow")
    kind = (a if isinstance(a, Tensor) else b).data.dtype.kind
    if kind == "b":
        if isinstance(a, Tensor) and isinstance(b, bool):
            return Tensor._make(np.logical_or(a.data, not b), False, None)
        raise UnsupportedDtypeError("pow: not implemented for bool tensors")
    if kind in "iu" and isinstance(b, Tensor) and (b.data < 0).any():
        return Tensor._make(_int_pow(a.data if isinstance(a, Tensor) else a, b.data), False, None)
    return E.Pow.apply(a, b)


def _int_pow(a, b):
    """``a ** b`` of integers where some ``b < 0``: PyTorch's 0 there, except 1 ** b = 1 and
    (-1) ** b = +-1 (NumPy refuses negative integer powers)."""
    a = np.asarray(a, dtype=b.dtype)
    one = np.ones((), b.dtype)
    odd = (b % 2) != 0
    neg = np.where(a == 1, one, np.where(a == -1, np.where(odd, -one, one), np.zeros((), b.dtype)))
    return np.where(b < 0, neg, np.power(a, np.maximum(b, 0)))


def neg(input: Tensor) -> Tensor:
    """``-input``, elementwise.

    Shape:
        input: any shape; the output has its shape and dtype.
    """
    return E.Neg.apply(input)


def _float_input(input, op: str) -> Tensor:
    """``input`` as a Tensor of a float dtype: integer and bool tensors are promoted to float32."""
    input = as_tensor(input, op)
    if not np.issubdtype(input.dtype, np.floating):
        input = input.float()
    return input


def exp(input: Tensor) -> Tensor:
    """``e ** input``, elementwise; integer inputs are promoted to float32.

    ``y = exp(x);  gx = gy * y``.

    Shape:
        input: any shape; the output has its shape.
    """
    return E.Exp.apply(_float_input(input, "exp"))


def log(input: Tensor) -> Tensor:
    """The natural logarithm, elementwise; integer inputs are promoted to float32.

    ``y = log(x);  gx = gy / x``. ``log(0)`` is ``-inf``, a negative input gives ``nan``.

    Shape:
        input: any shape; the output has its shape.
    """
    return E.Log.apply(_float_input(input, "log"))


def log1p(input: Tensor) -> Tensor:
    """``log(1 + input)``, accurate for small ``input``; integer inputs are promoted to float32.

    ``y = log(1 + x);  gx = gy / (1 + x)``.

    Shape:
        input: any shape; the output has its shape.
    """
    return E.Log1p.apply(_float_input(input, "log1p"))


def sqrt(input: Tensor) -> Tensor:
    """The square root, elementwise; integer inputs are promoted to float32.

    ``y = sqrt(x);  gx = gy / (2 y)`` (``inf`` at 0, as in PyTorch).

    Shape:
        input: any shape; the output has its shape.
    """
    return E.Sqrt.apply(_float_input(input, "sqrt"))


def sin(input: Tensor) -> Tensor:
    """The sine (radians), elementwise; integer inputs are promoted to float32.

    ``y = sin(x);  gx = gy * cos(x)``.

    Shape:
        input: any shape; the output has its shape.
    """
    return E.Sin.apply(_float_input(input, "sin"))


def cos(input: Tensor) -> Tensor:
    """The cosine (radians), elementwise; integer inputs are promoted to float32.

    ``y = cos(x);  gx = -gy * sin(x)``.

    Shape:
        input: any shape; the output has its shape.
    """
    return E.Cos.apply(_float_input(input, "cos"))


def rsqrt(input: Tensor) -> Tensor:
    """``1 / sqrt(input)``."""
    return pow(sqrt(input), -1)


def square(input: Tensor) -> Tensor:
    """``input * input`` (a bool tensor gives int64, as PyTorch's ``pow(x, 2)``)."""
    if isinstance(input, Tensor) and input.data.dtype.kind == "b":
        input = input.long()
    return mul(input, input)


def reciprocal(input: Tensor) -> Tensor:
    """``1 / input``."""
    return div(1.0, input)


def abs(input: Tensor) -> Tensor:
    """Elementwise absolute value; its gradient at 0 is 0, as in PyTorch (bool refused)."""
    x = as_tensor(input, "abs")
    if x.data.dtype.kind == "b":
        raise UnsupportedDtypeError("abs: not implemented for bool tensors")
    return E.Abs.apply(x)


def sign(input: Tensor) -> Tensor:
    """Elementwise sign (-1, 0 or 1; a bool tensor's is itself); its gradient is zero."""
    x = as_tensor(input, "sign")
    if x.data.dtype.kind == "b":
        return Tensor._make(x.data.copy(), False, None)
    return E.Sign.apply(x)


def clamp(input: Tensor, min=None, max=None) -> Tensor:
    """Clamp every element into ``[min, max]``; the gradient passes where ``min <= x <= max``.

    ``min`` and ``max`` are numbers, tensors (broadcasting; they get gradients too, see
    :func:`backprop.functional.math.clamp_tensors`) or None (at least one must be given).
    """
    if min is None and max is None:
        raise ValueError("clamp: at least one of min and max must be given")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        from .math import clamp_tensors

        return clamp_tensors(input, min, max)
    x = as_tensor(input, "clamp")
    if x.data.dtype.kind != "f":  # (a float tensor keeps its dtype beside numbers)
        for v in (min, max):
            if v is not None and not isinstance(v, (int, float)):
                raise TypeError(f"clamp: min and max must be numbers or Tensors, got {v!r}")
        dt = result_type(x, *(v for v in (min, max) if v is not None))
        if dt.kind == "b":
            raise UnsupportedDtypeError("clamp: not implemented for bool tensors")
        x = x.astype(dt)
        if dt.kind in "iu":
            min, max = (v if v is None else fit_int(v, dt, "clamp", True) for v in (min, max))
    return E.Clamp.apply(x, min=min, max=max)


clip = clamp


def maximum(input: Tensor, other: Tensor) -> Tensor:
    """Elementwise maximum, broadcasting; on ties each input gets half the gradient (PyTorch)."""
    a, b = operands(input, other, "maximum")
    return E.Maximum.apply(a, b)


def minimum(input: Tensor, other: Tensor) -> Tensor:
    """Elementwise minimum, broadcasting; on ties each input gets half the gradient (PyTorch)."""
    a, b = operands(input, other, "minimum")
    return E.Minimum.apply(a, b)


def where(condition, input, other) -> Tensor:
    """``input`` where ``condition`` is true, else ``other``; all three broadcast together.
    Two numbers give PyTorch's scalar dtype: bool, int64, or float32 if either is a float."""
    cond = condition.data if isinstance(condition, Tensor) else np.asarray(condition)
    if cond.dtype != np.bool_:
        raise TypeError(f"where: condition must be a bool tensor, got dtype {cond.dtype}")
    if all(isinstance(v, (bool, int, float)) for v in (input, other)):
        kinds = {type(v) for v in (input, other)}
        dt = np.bool_ if kinds == {bool} else np.float32 if float in kinds else np.int64
        input = Tensor._make(np.asarray(input, dtype=dt), False, None)
    a, b = operands(input, other, "where", checked=True)
    shapes = [cond.shape] + [x.shape for x in (a, b) if isinstance(x, Tensor)]
    try:
        np.broadcast_shapes(*shapes)
    except ValueError:
        raise ValueError(f"where: shapes {shapes} cannot be broadcast together") from None
    return E.Where.apply(cond, a, b)


def _compare(ufunc, input, other, op: str) -> Tensor:
    """``ufunc(input, other)`` on the promoted operands (either may be a Python number; their
    shapes must broadcast together), as a bool tensor without gradient."""
    a, b = operands(input, other, op)
    da = a.data if isinstance(a, Tensor) else a
    db = b.data if isinstance(b, Tensor) else b
    return Tensor._make(np.asarray(ufunc(da, db)), False, None)


def eq(input, other) -> Tensor:
    """``input == other``: a bool tensor (no gradient) of the operands' broadcast shape.

    NaN equals nothing, itself included (IEEE 754, as in PyTorch)."""
    return _compare(np.equal, input, other, "eq")


def ne(input, other) -> Tensor:
    """``input != other``: a bool tensor (no gradient) of the operands' broadcast shape; true
    wherever either operand is NaN."""
    return _compare(np.not_equal, input, other, "ne")


def lt(input, other) -> Tensor:
    """``input < other``: a bool tensor (no gradient) of the operands' broadcast shape."""
    return _compare(np.less, input, other, "lt")


def le(input, other) -> Tensor:
    """``input <= other``: a bool tensor (no gradient) of the operands' broadcast shape.

    Like :func:`lt`, :func:`gt` and :func:`ge`, false wherever either operand is NaN."""
    return _compare(np.less_equal, input, other, "le")


def gt(input, other) -> Tensor:
    """``input > other``: a bool tensor (no gradient) of the operands' broadcast shape."""
    return _compare(np.greater, input, other, "gt")


def ge(input, other) -> Tensor:
    """``input >= other``: a bool tensor (no gradient) of the operands' broadcast shape."""
    return _compare(np.greater_equal, input, other, "ge")


def logical_and(input, other) -> Tensor:
    """``input and other`` elementwise, any dtype (nonzero is true): a bool tensor (no gradient)
    of the operands' broadcast shape."""
    return _compare(np.logical_and, input, other, "logical_and")


def logical_or(input, other) -> Tensor:
    """``input or other`` elementwise, any dtype (nonzero is true): a bool tensor (no gradient)
    of the operands' broadcast shape.

    Example:
        >>> backprop.logical_or(backprop.tensor([0, 2, 0]), backprop.tensor([0.0, 0.0, 0.5]))
        tensor([False,  True,  True])
    """
    return _compare(np.logical_or, input, other, "logical_or")


def _predicate(ufunc, input, op: str) -> Tensor:
    """``ufunc(input)`` as a bool tensor without gradient."""
    return Tensor._make(np.asarray(ufunc(as_tensor(input, op).data)), False, None)


def isnan(input: Tensor) -> Tensor:
    """Whether each element is NaN: a bool tensor (no gradient) of ``input``'s shape."""
    return _predicate(np.isnan, input, "isnan")


def isinf(input: Tensor) -> Tensor:
    """Whether each element is ``inf`` or ``-inf``: a bool tensor (no gradient) of ``input``'s
    shape; always false for an integer tensor."""
    return _predicate(np.isinf, input, "isinf")


def isfinite(input: Tensor) -> Tensor:
    """Whether each element is neither NaN nor infinite: a bool tensor (no gradient) of
    ``input``'s shape.

    Example:
        >>> backprop.isfinite(backprop.tensor([1.0, float("inf"), float("nan")]))
        tensor([ True, False, False])
    """
    return _predicate(np.isfinite, input, "isfinite")


def logical_not(input: Tensor) -> Tensor:
    """``not input`` elementwise, any dtype (zero becomes true): a bool tensor (no gradient) of
    ``input``'s shape."""
    return _predicate(np.logical_not, input, "logical_not")


def allclose(input: Tensor, other: Tensor, rtol=1e-5, atol=1e-8, equal_nan=False) -> bool:
    """Whether every element of ``input`` is close to ``other`` (NumPy's and PyTorch's rule)."""
    a = as_tensor(input, "allclose").data
    b = as_tensor(other, "allclose").data
    try:
        np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise ValueError(
            f"allclose: shapes {a.shape} and {b.shape} cannot be broadcast together"
        ) from None
    return bool(np.allclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan))


def clone(input: Tensor) -> Tensor:
    """A copy of ``input`` that stays in the graph (its gradient flows back)."""
    return E.Clone.apply(input)
