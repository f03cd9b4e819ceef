"""Argument handling shared by the public functions: dims, dtype promotion, operands."""

from __future__ import annotations

import numpy as np

from ..ops.elementwise import Cast
from ..tensor import Tensor

FLOAT_DEFAULT = np.dtype(np.float32)


class UnsupportedDtypeError(TypeError, NotImplementedError):
    """An op given a dtype it is not defined for (PyTorch raises NotImplementedError, a
    RuntimeError, saying ``"..._cpu" not implemented for 'Float'``); also a TypeError."""


class IndexDtypeError(IndexError, TypeError):
    """An index tensor of a dtype PyTorch does not index with: an IndexError (as PyTorch's
    ``x[i]``) and a TypeError."""


def check_index_dtype(index, op: str, int32: bool = True) -> None:
    """PyTorch's index dtypes for the index-taking ops: an int64 tensor, or int32 where
    ``int32`` (gather, scatter, index_select, index_add; take, take_along_dim, index_copy and
    index_fill take int64 only). Raw arrays and lists are not checked."""
    if isinstance(index, Tensor):
        dt = index.data.dtype
        if dt != INT64 and not (int32 and dt == np.int32):
            want = "int64 or int32" if int32 else "int64"
            raise IndexDtypeError(f"{op}: indices must be integers of dtype {want}, got {dt}")


class IndexShapeError(IndexError, ValueError):
    """An index that does not fit the tensor: an IndexError (as PyTorch) and a ValueError."""


def is_float(dtype) -> bool:
    return np.dtype(dtype).kind == "f"


def dim_tuple(dim, ndim: int, op: str):
    """Normalise ``dim`` (None, an int or ints; negatives allowed) to a sorted tuple, or None."""
    if dim is None:
        return None
    dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
    out = []
    for d in dims:
        if isinstance(d, bool) or not isinstance(d, (int, np.integer)):
            raise TypeError(f"{op}: dim must be an int or a tuple of ints, got {dim!r}")
        out.append(one_dim(d, ndim, op))
    if len(set(out)) != len(out):
        raise ValueError(f"{op}: dim {dim!r} repeats an axis")
    return tuple(sorted(out))


def one_dim(d, ndim: int, op: str) -> int:
    """Normalise one axis index into ``[0, ndim)`` (a 0-d tensor accepts 0 and -1)."""
    if isinstance(d, bool) or not isinstance(d, (int, np.integer)):
        raise TypeError(f"{op}: dim must be an int, got {type(d).__name__}")
    n = max(ndim, 1)
    if not -n <= d < n:
        raise ValueError(f"{op}: dim {d} is out of range for a tensor with {ndim} dimensions")
    return int(d) % n


def parse_sizes(shape, op: str, non_negative: bool = False) -> tuple:
    """Sizes given as ``f(2, 3)`` or ``f((2, 3))``, as PyTorch accepts both; ints only."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    for n in shape:
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
            raise TypeError(f"{op}: sizes must be ints, got {shape!r}")
        if non_negative and n < 0:
            raise ValueError(f"{op}: sizes must be non-negative, got {shape!r}")
    return tuple(int(n) for n in shape)


# PyTorch's dtype categories, lowest first: a 0-d tensor or a Python number beside tensors with
# dimensions lifts the result only into a higher category, never within one.
_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}
INT64 = np.dtype(np.int64)


def promote(a, b):
    """PyTorch's ``promote_types`` for two dtypes: a float beats an int or bool (int16 with
    float16 is float16, where NumPy says float32), else NumPy's rule (int8 with uint8: int16)."""
    fa, fb = is_float(a), is_float(b)
    if fa and not fb:
        return np.dtype(a)
    if fb and not fa:
        return np.dtype(b)
    return np.result_type(a, b)


def combine(dim_dtype, zero_dtype):
    """PyTorch's result dtype for tensors with dimensions (promoted to ``dim_dtype``) beside
    0-d tensors or Python numbers (``zero_dtype``): the latter count only where their category
    (bool < integer < floating) is higher, so int32 (3,) + int64 0-d is int32, int32 (3,) +
    float64 0-d is float64, float16 (3,) + float64 0-d is float16."""
    if _CATEGORY[zero_dtype.kind] > _CATEGORY[dim_dtype.kind]:
        return promote(dim_dtype, zero_dtype)
    return dim_dtype


def scalar_dtype(x):
    """The dtype PyTorch gives a Python number: bool, int64, or the default float32."""
    if isinstance(x, bool):
        return np.dtype(np.bool_)
    return INT64 if isinstance(x, int) else FLOAT_DEFAULT


def result_type(*operands):
    """The dtype of an elementwise op on ``operands`` (Tensors and Python numbers), by
    PyTorch's rules: tensors with dimensions promote each other; 0-d tensors promote each
    other, then Python numbers each other, each group counting only by a higher category
    (see :func:`combine`)."""
    dim = zero = wrapped = None
    for x in operands:
        if isinstance(x, Tensor):
            dt = x.data.dtype
            if x.data.ndim:
                dim = dt if dim is None else promote(dim, dt)
            else:
                zero = dt if zero is None else promote(zero, dt)
        elif isinstance(x, (bool, int, float)):
            dt = scalar_dtype(x)
            wrapped = dt if wrapped is None else promote(wrapped, dt)
        else:
            raise TypeError(f"result_type: expected Tensors or numbers, got {type(x).__name__}")
    out = None
    for dt in (wrapped, zero, dim):  # the lowest priority first
        if dt is not None:
            out = dt if out is None else combine(dt, out)
    if out is None:
        raise TypeError("result_type: no operands")
    return out


def cast(t: Tensor, dtype) -> Tensor:
    return t if t.data.dtype == dtype else Cast.apply(t, dtype=dtype)


def as_tensor(x, op: str) -> Tensor:
    """Wrap a Python number, list or array into a constant Tensor (Tensors pass through)."""
    if isinstance(x, Tensor):
        return x
    from .creation import tensor

    try:
        return tensor(x)
    except (TypeError, ValueError) as e:
        raise TypeError(f"{op}: expected a Tensor or a number, got {type(x).__name__}") from e


def operands(a, b, op: str, floating: bool = False, checked: bool = False):
    """Two operands of a binary op, promoted to one dtype, with broadcasting checked.

    The dtype is PyTorch's (:func:`result_type`): a 0-d tensor beside one with dimensions
    counts only by its category. Python scalars stay raw (NumPy keeps the tensor's dtype for
    them, as PyTorch does) unless a float scalar meets an integer tensor, which is promoted to
    float32 as in PyTorch. ``floating``: an op that computes in floating point (true division,
    atan2): an integer or bool result dtype becomes float32, each operand cast to it directly
    (an int8 0-d -2 beside uint8 is -2.0, not 254.0). ``checked``: a Python int must fit
    the integer dtype (see :func:`fit_int`), as PyTorch checks it for ``where`` and ``clamp``.
    """
    ta = isinstance(a, Tensor)
    if ta and (type(b) is float or type(b) is int) and a.data.dtype.kind == "f":
        return a, b  # (the fast path: a float tensor keeps its dtype for any Python number)
    tb = isinstance(b, Tensor)
    if ta and tb:
        da, db = a.data.dtype, b.data.dtype
        if da != db or (floating and da.kind != "f"):  # (the fast path: nothing to decide)
            za, zb = a.data.ndim == 0, b.data.ndim == 0
            if za == zb:
                dt = promote(da, db)
            else:
                dt = combine(da, db) if zb else combine(db, da)
            if floating and dt.kind != "f":
                dt = FLOAT_DEFAULT
            a, b = cast(a, dt), cast(b, dt)
        sa, sb = a.data.shape, b.data.shape
        if sa != sb:
            try:
                np.broadcast_shapes(sa, sb)
            except ValueError:
                raise ValueError(
                    f"{op}: shapes {tuple(sa)} and {tuple(sb)} cannot be broadcast together"
                ) from None
        return a, b
    if ta:
        if _is_number(b):
            return _scalar(a, b, op, floating, checked)
        return operands(a, as_tensor(b, op), op, floating)
    if tb:
        if _is_number(a):
            b, s = _scalar(b, a, op, floating, checked)
            return s, b
        return operands(as_tensor(a, op), b, op, floating)
    raise TypeError(
        f"{op}: expected at least one Tensor, got {type(a).__name__} and {type(b).__name__}"
    )


def _is_number(x) -> bool:
    return isinstance(x, (bool, int, float))


def _scalar(t: Tensor, s, op: str, floating: bool = False, checked: bool = False):
    """A tensor and a Python number: a float lifts an integer or bool tensor to float32, an int
    a bool tensor to int64; else the tensor's dtype holds (NumPy 2 keeps it for a raw Python
    number), and an int outside its range wraps to it (two's complement), as PyTorch converts
    it (NumPy would raise OverflowError). ``floating``, ``checked``: see :func:`operands`."""
    kind = t.data.dtype.kind
    if kind == "f":
        return t, s
    if floating or isinstance(s, float):
        return cast(t, FLOAT_DEFAULT), s
    if isinstance(s, bool):
        return t, s
    if kind == "b":
        t = cast(t, INT64)
    return t, fit_int(s, t.data.dtype, op, checked)


class DtypeOverflowError(OverflowError, ValueError):
    """A number that does not fit the dtype it is written into (PyTorch: "value cannot be
    converted to type int8_t without overflow"): an OverflowError, and a ValueError."""


def fill_value(v, dtype, op: str):
    """A number (Python or NumPy, or a one-element tensor) as a value of ``dtype``, by
    PyTorch's checked conversion for fills (``full``, ``fill_``, ``masked_fill``,
    ``index_fill``, ``scatter`` of a value, ``x[i] = v``): an integer dtype takes a float
    truncated toward zero and an int that fits (an unsigned one also a negative int down to
    -max, wrapped: uint8 takes -255..255), else DtypeOverflowError; a float dtype takes any
    number (too large for float16 is inf), bool any number (non-zero is True)."""
    dt = np.dtype(dtype)
    if dt.kind == "f" and type(v) in (float, int):
        return v  # (the fast path: a float dtype takes any Python number as it is)
    if isinstance(v, Tensor):
        v = v.item()
    elif isinstance(v, np.generic):
        v = v.item()
    if dt.kind in "iu" and not isinstance(v, bool):
        if isinstance(v, float):
            if v != v or v in (float("inf"), float("-inf")) or (dt.kind == "u" and v < 0):
                raise DtypeOverflowError(f"{op}: the value {v} cannot be converted to {dt}")
            v = int(v)  # (toward zero)
        if isinstance(v, int):
            v = fit_int(v, dt, op, checked=True)
    with np.errstate(over="ignore", invalid="ignore"):
        return np.asarray(v).astype(dt)[()]


def fit_int(s: int, dtype, op: str, checked: bool = False):
    """A Python int for an integer ``dtype``: itself where it fits, else wrapped to the dtype
    (two's complement, as PyTorch converts a number in arithmetic); ``checked`` raises
    OverflowError instead, except that a negative number down to -max wraps into an unsigned
    dtype (uint8 takes -255..255), PyTorch's rule for ``where``, ``clamp`` and fills."""
    info = np.iinfo(dtype)
    if info.min <= s <= info.max:
        return s
    if checked and not (info.min == 0 and 0 > s >= -info.max):
        raise DtypeOverflowError(f"{op}: the value {s} cannot be converted to {np.dtype(dtype)}")
    if not -(2**63) <= s < 2**64:
        raise OverflowError(f"{op}: the Python int {s} does not fit 64 bits")
    return np.asarray(s & (2**64 - 1), dtype=np.uint64).astype(dtype)


def no_bool(t: Tensor, op: str) -> None:
    """Refuse a bool tensor where PyTorch has no kernel for one (argmax, median, topk...)."""
    if t.data.dtype.kind == "b":
        raise UnsupportedDtypeError(f"{op}: not implemented for bool tensors")


def check_float(t: Tensor, op: str) -> None:
    if not is_float(t.data.dtype):
        raise TypeError(f"{op}: expected a floating-point tensor, got dtype {t.data.dtype}")


def write_out(op: str, result: Tensor, out) -> Tensor:
    """PyTorch's ``out=`` argument: copy ``result`` into ``out`` (same shape; cast to its dtype)
    and return ``out``. Like torch, refused for an ``out`` that requires grad in grad mode."""
    if not isinstance(out, Tensor):
        raise TypeError(f"{op}: out must be a Tensor, got {type(out).__name__}")
    if out.shape != result.shape:
        raise ValueError(f"{op}: out has shape {out.shape}, the result has shape {result.shape}")
    return out.copy_(result)
