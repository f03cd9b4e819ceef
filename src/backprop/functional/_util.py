"""Argument handling shared by the public functions: dims, dtype promotion, operands."""

from __future__ import annotations

import numpy as np

from ..ops.elementwise import Cast
from ..tensor import Tensor

FLOAT_DEFAULT = np.dtype(np.float32)


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


def promote(a, b):
    """PyTorch's type promotion for two dtypes: a float beats an int or bool, else NumPy's rule."""
    fa, fb = is_float(a), is_float(b)
    if fa and not fb:
        return np.dtype(a)
    if fb and not fa:
        return np.dtype(b)
    return np.result_type(a, b)


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


def operands(a, b, op: str):
    """Two operands of a binary op, promoted to one dtype, with broadcasting checked.

    Python scalars stay raw (NumPy keeps the tensor's dtype for them, as PyTorch does) unless a
    float scalar meets an integer tensor, which is promoted to float32 as in PyTorch.
    """
    ta, tb = isinstance(a, Tensor), isinstance(b, Tensor)
    if ta and tb:
        da, db = a.data.dtype, b.data.dtype
        if da != db:
            dt = promote(da, db)
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
            return _scalar(a, b, op)
        return operands(a, as_tensor(b, op), op)
    if tb:
        if _is_number(a):
            b, s = _scalar(b, a, op)
            return s, b
        return operands(as_tensor(a, op), b, op)
    raise TypeError(
        f"{op}: expected at least one Tensor, got {type(a).__name__} and {type(b).__name__}"
    )


def _is_number(x) -> bool:
    return isinstance(x, (bool, int, float))


def _scalar(t: Tensor, s, op: str):
    dt = t.data.dtype
    if isinstance(s, float) and not is_float(dt):
        return cast(t, FLOAT_DEFAULT), s
    if isinstance(s, int) and not isinstance(s, bool) and dt == np.bool_:
        return cast(t, np.dtype(np.int64)), s
    return t, s


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
