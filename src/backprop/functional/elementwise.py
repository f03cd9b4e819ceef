"""Elementwise math: arithmetic with broadcasting, unary functions, comparisons."""

from __future__ import annotations

import numpy as np

from ..ops import elementwise as E
from ..tensor import Tensor
from ._util import as_tensor, operands

__all__ = [
    "add", "sub", "subtract", "mul", "multiply", "div", "divide", "true_divide", "pow", "neg",
    "exp", "log", "log1p", "sqrt", "rsqrt", "square", "reciprocal", "sin", "cos", "abs", "sign",
    "clamp", "clip", "maximum", "minimum", "where", "eq", "ne", "lt", "le", "gt", "ge",
    "isnan", "isinf", "isfinite", "logical_not", "logical_and", "logical_or", "allclose", "clone",
]  # fmt: skip


def add(input, other, *, alpha=1) -> Tensor:
    """``input + alpha * other``, broadcasting. Either may be a Python number."""
    if alpha != 1:
        other = mul(other, alpha)
    a, b = operands(input, other, "add")
    return E.Add.apply(a, b)


def sub(input, other, *, alpha=1) -> Tensor:
    """``input - alpha * other``, broadcasting. Bools cannot be subtracted (as in PyTorch)."""
    for x in (input, other):
        if isinstance(x, bool) or (isinstance(x, Tensor) and x.data.dtype == np.bool_):
            raise TypeError(
                "sub: subtraction with a bool operand is not supported; use ~ or logical_not"
            )
    if alpha != 1:
        other = mul(other, alpha)
    a, b = operands(input, other, "sub")
    return E.Sub.apply(a, b)


subtract = sub


def mul(input, other) -> Tensor:
    """``input * other``, broadcasting."""
    a, b = operands(input, other, "mul")
    return E.Mul.apply(a, b)


multiply = mul


def div(input, other) -> Tensor:
    """``input / other`` (true division; integer inputs give float32, as in PyTorch)."""
    a, b = operands(input, other, "div")
    if isinstance(a, Tensor) and not np.issubdtype(a.dtype, np.floating):
        a = a.float()
    if isinstance(b, Tensor) and not np.issubdtype(b.dtype, np.floating):
        b = b.float() if not isinstance(a, Tensor) else b.astype(a.dtype)
    return E.Div.apply(a, b)


divide = true_divide = div


def pow(input, exponent) -> Tensor:
    """``input ** exponent``, broadcasting; either may be a number."""
    a, b = operands(input, exponent, "pow")
    return E.Pow.apply(a, b)


def neg(input: Tensor) -> Tensor:
    return E.Neg.apply(input)


def _unary_float(op, name):
    def f(input: Tensor) -> Tensor:
        input = as_tensor(input, name)
        if not np.issubdtype(input.dtype, np.floating):
            input = input.float()
        return op.apply(input)

    f.__name__ = name
    f.__doc__ = f"Elementwise ``{name}``; integer inputs are promoted to float32. {op.__doc__}"
    return f


exp = _unary_float(E.Exp, "exp")
log = _unary_float(E.Log, "log")
log1p = _unary_float(E.Log1p, "log1p")
sqrt = _unary_float(E.Sqrt, "sqrt")
sin = _unary_float(E.Sin, "sin")
cos = _unary_float(E.Cos, "cos")


def rsqrt(input: Tensor) -> Tensor:
    """``1 / sqrt(input)``."""
    return pow(sqrt(input), -1)


def square(input: Tensor) -> Tensor:
    """``input * input``."""
    return mul(input, input)


def reciprocal(input: Tensor) -> Tensor:
    """``1 / input``."""
    return div(1.0, input)


def abs(input: Tensor) -> Tensor:
    """Elementwise absolute value; its gradient at 0 is 0, as in PyTorch."""
    return E.Abs.apply(as_tensor(input, "abs"))


def sign(input: Tensor) -> Tensor:
    """Elementwise sign (-1, 0 or 1); its gradient is zero."""
    return E.Sign.apply(as_tensor(input, "sign"))


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
    return E.Clamp.apply(as_tensor(input, "clamp"), min=min, max=max)


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
    a, b = operands(input, other, "where")
    shapes = [cond.shape] + [x.shape for x in (a, b) if isinstance(x, Tensor)]
    try:
        np.broadcast_shapes(*shapes)
    except ValueError:
        raise ValueError(f"where: shapes {shapes} cannot be broadcast together") from None
    return E.Where.apply(cond, a, b)


def _compare(ufunc, name):
    def f(input, other) -> Tensor:
        a, b = operands(input, other, name)
        da = a.data if isinstance(a, Tensor) else a
        db = b.data if isinstance(b, Tensor) else b
        return Tensor._make(np.asarray(ufunc(da, db)), False, None)

    f.__name__ = name
    f.__doc__ = f"Elementwise ``{name}`` comparison, broadcasting; a bool tensor without gradient."
    return f


eq = _compare(np.equal, "eq")
ne = _compare(np.not_equal, "ne")
lt = _compare(np.less, "lt")
le = _compare(np.less_equal, "le")
gt = _compare(np.greater, "gt")
ge = _compare(np.greater_equal, "ge")
logical_and = _compare(np.logical_and, "logical_and")
logical_or = _compare(np.logical_or, "logical_or")


def _predicate(ufunc, name):
    def f(input: Tensor) -> Tensor:
        return Tensor._make(np.asarray(ufunc(as_tensor(input, name).data)), False, None)

    f.__name__ = name
    f.__doc__ = f"Elementwise ``{name}``; a bool tensor without gradient."
    return f


isnan = _predicate(np.isnan, "isnan")
isinf = _predicate(np.isinf, "isinf")
isfinite = _predicate(np.isfinite, "isfinite")
logical_not = _predicate(np.logical_not, "logical_not")


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
