"""Rounding and integer division: ``floor ceil trunc round frac``, ``floor_divide`` (``//``),
``remainder`` (``%``, the sign of the divisor, as Python's) and ``fmod`` (the sign of the
dividend, as C's), with PyTorch's gradients: zero for the rounding functions, and for the
remainders d/da = 1, d/db = -floor(a / b) (remainder) or -trunc(a / b) (fmod)."""

from __future__ import annotations

import numpy as np

from ..autograd.grad_mode import no_grad
from ..ops.rounding import Rounding
from ..tensor import Tensor
from ._util import UnsupportedDtypeError, as_tensor, is_float, operands

__all__ = [
    "floor", "ceil", "trunc", "fix", "round", "frac", "floor_divide", "remainder", "fmod",
]  # fmt: skip


def _round(op, input, fn, decimals=0):
    x = as_tensor(input, op)
    if not is_float(x.dtype):
        if x.dtype.kind == "b" or decimals:
            raise UnsupportedDtypeError(
                f"{op}: not implemented for dtype {x.dtype}"
                + (f" with decimals={decimals} (floating-point tensors only)" if decimals else "")
            )
        return x if decimals >= 0 else Tensor._make(np.round(x.data, decimals), False, None)
    return Rounding.apply(x, fn=fn, decimals=int(decimals))


def floor(input) -> Tensor:
    """The largest integer <= x, elementwise (integer tensors are returned as they are)."""
    return _round("floor", input, "floor")


def ceil(input) -> Tensor:
    """The smallest integer >= x, elementwise."""
    return _round("ceil", input, "ceil")


def trunc(input) -> Tensor:
    """x rounded toward zero, elementwise."""
    return _round("trunc", input, "trunc")


fix = trunc


def round(input, *, decimals: int = 0) -> Tensor:
    """x rounded to ``decimals`` places, halves to even (as PyTorch and NumPy)."""
    if isinstance(decimals, bool) or not isinstance(decimals, int):
        raise TypeError(f"round: decimals must be an int, got {decimals!r}")
    return _round("round", input, "round", decimals)


def frac(input) -> Tensor:
    """x - trunc(x) (the sign of x); gradient 1."""
    x = as_tensor(input, "frac")
    if not is_float(x.dtype):
        raise TypeError(f"frac: expected a floating-point tensor, got {x.dtype}")
    return x - trunc(x)


def floor_divide(input, other) -> Tensor:
    """floor(a / b) elementwise (``//``), in the operands' promoted dtype; no gradient, as in
    PyTorch. Integer division by zero raises ZeroDivisionError, as PyTorch's does; bool
    tensors are refused (TypeError), as PyTorch refuses them."""
    return rounded_divide(input, other, "floor", "floor_divide")


def rounded_divide(input, other, rounding_mode: str, op: str = "div") -> Tensor:
    """``div(input, other, rounding_mode=...)``: the quotient rounded toward zero ("trunc") or
    down ("floor"), in the operands' promoted dtype (integers stay integers); no gradient."""
    if rounding_mode not in ("trunc", "floor"):
        raise ValueError(
            f"{op}: rounding_mode must be None, 'trunc' or 'floor', got {rounding_mode!r}"
        )
    a, b = operands(input, other, op)
    da, db, dtype = _arrays(a, b, op)
    if np.issubdtype(dtype, np.integer):
        if (np.asarray(db) == 0).any():
            raise ZeroDivisionError(f"{op}: integer division by zero")
        out = np.floor_divide(da, db)
        if rounding_mode == "trunc":  # toward zero: one up where the floor rounded down
            out = out + ((np.remainder(da, db) != 0) & ((np.asarray(da) < 0) != (db < 0)))
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            out = (np.floor if rounding_mode == "floor" else np.trunc)(np.true_divide(da, db))
    return Tensor._make(np.asarray(out).astype(dtype, copy=False), False, None)


def _arrays(a, b, op: str):
    """The operands' arrays (a scalar stays a scalar) and the result dtype: the tensor's, as
    ``operands`` already promoted it; bool is refused, as PyTorch refuses it."""
    da = a.data if isinstance(a, Tensor) else a
    db = b.data if isinstance(b, Tensor) else b
    dtype = (a if isinstance(a, Tensor) else b).data.dtype
    if dtype.kind == "b":
        raise UnsupportedDtypeError(f"{op}: not implemented for bool tensors")
    return da, db, dtype


def _remainder(op, input, other, fn) -> Tensor:
    a, b = operands(input, other, op)
    da, db, dtype = _arrays(a, b, op)
    grad = any(isinstance(t, Tensor) and t.requires_grad for t in (a, b))
    if np.issubdtype(dtype, np.integer) or not grad:
        if np.issubdtype(dtype, np.integer) and (np.asarray(db) == 0).any():
            raise ZeroDivisionError(f"{op}: integer division by zero")
        with np.errstate(divide="ignore", invalid="ignore"):
            out = (np.remainder if fn is np.floor else np.fmod)(da, db)
        return Tensor._make(np.asarray(out).astype(dtype, copy=False), False, None)
    with no_grad(), np.errstate(divide="ignore", invalid="ignore"):
        q = Tensor._make(np.asarray(fn(np.true_divide(da, db))).astype(dtype), False, None)
    return a - b * q  # d/da = 1, d/db = -q


def remainder(input, other) -> Tensor:
    """a - b * floor(a / b) (``%``: the result has the divisor's sign, as Python's)."""
    return _remainder("remainder", input, other, np.floor)


def fmod(input, other) -> Tensor:
    """a - b * trunc(a / b) (C's fmod: the result has the dividend's sign)."""
    return _remainder("fmod", input, other, np.trunc)
