"""Bitwise operations on integer and bool tensors: ``bitwise_and or xor not`` (``& | ^ ~``) and
the shifts ``bitwise_left_shift`` / ``bitwise_right_shift`` (``<< >>``), with PyTorch's rules.

- dtypes: the operands are promoted as for arithmetic (int8 with uint8 gives int16, a bool
  tensor with a Python int gives int64), except that a 0-d tensor beside one with dimensions
  only counts by its category, as in PyTorch; a Python int that does not fit the tensor's
  dtype wraps to it (two's complement), as PyTorch converts it. Floating-point operands raise
  :class:`~backprop.functional.math.UnsupportedDtypeError` (a TypeError, and the
  NotImplementedError PyTorch raises); so do bool operands of a shift.
- and/or/xor/not of bool tensors are the logical ones and stay bool.
- shifts by a negative amount or by the bit width or more: a left shift gives 0, a right shift
  gives the sign fill (-1 for a negative signed value, else 0), not C's undefined result. A
  left shift wraps (it shifts the two's-complement bits).

No gradients: the results are integers.
"""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from ._util import as_tensor, operands
from .math import UnsupportedDtypeError

__all__ = [
    "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not", "bitwise_left_shift",
    "bitwise_right_shift",
]  # fmt: skip


def _integer_arrays(op: str, input, other, allow_bool: bool):
    """The two operands' arrays in their promoted integer (or bool) dtype, and that dtype."""
    a, b = operands(input, other, op)
    dt = (a if isinstance(a, Tensor) else b).data.dtype
    if dt.kind not in ("iu" + ("b" if allow_bool else "")):
        kinds = "integer or bool" if allow_bool else "integer"
        raise UnsupportedDtypeError(f"{op}: not implemented for dtype {dt} ({kinds} tensors only)")

    def raw(x):
        if isinstance(x, Tensor):
            return x.data
        return np.asarray(x).astype(dt)  # (operands wrapped an int out of dt's range)

    return raw(a), raw(b), dt


def _result(out) -> Tensor:
    return Tensor._make(np.asarray(out), False, None)


def bitwise_and(input, other) -> Tensor:
    """``input & other`` elementwise, broadcasting; integer or bool tensors (or a number)."""
    a, b, _ = _integer_arrays("bitwise_and", input, other, allow_bool=True)
    return _result(np.bitwise_and(a, b))


def bitwise_or(input, other) -> Tensor:
    """``input | other`` elementwise, broadcasting; integer or bool tensors (or a number)."""
    a, b, _ = _integer_arrays("bitwise_or", input, other, allow_bool=True)
    return _result(np.bitwise_or(a, b))


def bitwise_xor(input, other) -> Tensor:
    """``input ^ other`` elementwise, broadcasting; integer or bool tensors (or a number)."""
    a, b, _ = _integer_arrays("bitwise_xor", input, other, allow_bool=True)
    return _result(np.bitwise_xor(a, b))


def bitwise_not(input) -> Tensor:
    """``~input``: every bit flipped (for bool tensors, logical not)."""
    x = as_tensor(input, "bitwise_not").data
    if x.dtype.kind not in "biu":
        raise UnsupportedDtypeError(
            f"bitwise_not: not implemented for dtype {x.dtype} (integer or bool tensors only)"
        )
    return _result(np.invert(x))


def _shift_amounts(a, s, dt):
    """(amounts clipped into range, mask of out-of-range amounts) for a shift of ``dt``."""
    bits = dt.itemsize * 8
    bad = (s < 0) | (s >= bits) if dt.kind == "i" else s >= bits
    return np.where(bad, 0, s).astype(dt), bad


def bitwise_left_shift(input, other) -> Tensor:
    """``input << other``: the bits of ``input`` moved up by ``other`` places (wrapping);
    0 for a shift below 0 or of the bit width or more. Integer tensors (or a number)."""
    a, s, dt = _integer_arrays("bitwise_left_shift", input, other, allow_bool=False)
    amount, bad = _shift_amounts(a, s, dt)
    # Shift the unsigned view of the same width: well defined, and the wrap PyTorch has.
    unsigned = np.dtype(f"u{dt.itemsize}")
    out = np.left_shift(a.astype(unsigned), amount.astype(unsigned)).astype(dt)
    return _result(np.where(bad, np.zeros((), dt), out))


def bitwise_right_shift(input, other) -> Tensor:
    """``input >> other``: arithmetic shift down by ``other`` places (the sign is kept); for a
    shift below 0 or of the bit width or more, -1 for negative values and 0 otherwise. Integer
    tensors (or a number)."""
    a, s, dt = _integer_arrays("bitwise_right_shift", input, other, allow_bool=False)
    amount, bad = _shift_amounts(a, s, dt)
    out = np.right_shift(a, amount)
    fill = np.where(a < 0, np.asarray(-1).astype(dt), np.zeros((), dt))
    return _result(np.where(bad, fill, out))
