"""Tensor factories: ``tensor``, ``zeros``, ``arange``, ``randn``... (float32 by default)."""

from __future__ import annotations

import numpy as np

from .. import random as _random
from ..tensor import Tensor
from ._util import DtypeOverflowError, parse_sizes, promote
from ._util import fill_value as _fill_value

__all__ = [
    "tensor", "as_tensor", "from_numpy", "zeros", "ones", "full", "empty", "arange", "linspace",
    "eye", "rand", "randn", "randint", "randperm", "normal", "zeros_like", "ones_like", "full_like",
    "empty_like", "rand_like", "randn_like", "randint_like",
]  # fmt: skip

_DEFAULT = np.dtype(np.float32)

# NumPy kinds with no backprop dtype: bool, signed and unsigned ints and floats are the ones kept.
_REFUSED_KINDS = {
    "O": "object", "U": "string", "S": "bytes", "V": "structured (void)", "c": "complex",
    "M": "datetime", "m": "timedelta",
}  # fmt: skip


def _check_dtype(dt: np.dtype, op: str, what: str = "dtype") -> np.dtype:
    """``dt`` if backprop has it (bool, ints, float16/32/64), else TypeError naming it."""
    if dt.kind in _REFUSED_KINDS:
        raise TypeError(
            f"{op}: {what} {dt} ({_REFUSED_KINDS[dt.kind]}) is not supported: backprop has bool, "
            f"integer and float16/32/64 tensors only"
        )
    if dt.kind == "f" and dt.itemsize > 8:
        raise TypeError(f"{op}: {what} {dt} is not supported: floats are float16/32/64 only")
    return dt


def _dtype(dtype, default=_DEFAULT, op: str = "tensor"):
    if dtype is None:
        return np.dtype(default)
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"unknown dtype {dtype!r}") from None
    return _check_dtype(dt, op)


def _new(data, requires_grad):
    t = Tensor._make(data, False, None)
    if requires_grad:
        t.requires_grad_(True)
    return t


_SCALAR_DTYPE = {bool: np.dtype(np.bool_), int: np.dtype(np.int64), float: _DEFAULT}


def _scalar_dtype(x, op: str):
    """PyTorch's dtype for one leaf of the data (a number, NumPy scalar or array, Tensor)."""
    dt = _SCALAR_DTYPE.get(type(x))
    if dt is not None:
        return dt
    if isinstance(x, Tensor):
        return x.data.dtype
    if isinstance(x, (np.ndarray, np.generic)):
        return _check_dtype(x.dtype, op, "NumPy dtype")
    if isinstance(x, bool):
        return _SCALAR_DTYPE[bool]
    if isinstance(x, int):
        return _SCALAR_DTYPE[int]
    if isinstance(x, float):
        return _DEFAULT
    if isinstance(x, complex):
        raise TypeError(
            f"{op}: complex value {x!r} is not supported: backprop has no complex dtype"
        )
    raise TypeError(f"{op}: cannot make a tensor from {type(x).__name__} {x!r:.60}")


def _infer(data, op: str) -> np.dtype | None:
    """The dtype ``torch.tensor(data)`` gives nested Python data: a Python float is float32, an
    int int64, a bool bool, a NumPy scalar or array or a Tensor keeps its dtype, and the leaves
    are promoted together (a float beats an int); None for no leaves (an empty list)."""
    if not isinstance(data, (list, tuple)):
        return _scalar_dtype(data, op)
    types = set(map(type, data))
    if types and types <= {bool, int, float}:  # the common flat case without a Python loop
        return _SCALAR_DTYPE[float if float in types else int if int in types else bool]
    out = None
    for item in data:
        dt = _infer(item, op)
        if dt is not None:
            out = dt if out is None else promote(out, dt)
    return out


def _from_data(data, dtype: np.dtype, op: str) -> np.ndarray:
    """One conversion of Python data straight to ``dtype`` (no float32 or float64 on the way)."""
    try:
        with np.errstate(over="ignore"):  # a float too large for float32/16 is inf, as in torch
            return np.array(data, dtype=dtype)
    except OverflowError:
        if dtype.kind == "u":  # PyTorch wraps -max..-1 into an unsigned dtype (-1 is 255)
            wide = np.array(data)
            if wide.dtype.kind == "i" and wide.size and wide.min() >= -np.iinfo(dtype).max:
                if wide.max() <= np.iinfo(dtype).max:
                    return wide.astype(dtype)
        raise DtypeOverflowError(
            f"{op}: a value of {type(data).__name__} {data!r:.60} does not fit dtype {dtype}"
        ) from None
    except ValueError as e:
        if "sequence" in str(e) or "inhomogeneous" in str(e):  # a ragged nested list
            raise ValueError(
                f"{op}: cannot make a tensor from {type(data).__name__} {data!r:.60}: the "
                f"nested sequences have different lengths ({e})"
            ) from None
        raise ValueError(f"{op}: cannot convert {data!r:.60} to dtype {dtype} ({e})") from None


def tensor(data, dtype=None, requires_grad: bool = False) -> Tensor:
    """A new tensor holding a copy of ``data`` (a number, nested list, NumPy array or Tensor).

    The data is converted once, straight to the requested ``dtype``: ``tensor(0.1,
    dtype=float64).item() == 0.1`` and ``tensor(1e40, dtype=float64)`` is finite. Without a
    dtype, PyTorch's rules: Python floats become float32, ints int64, bools bool; a NumPy array
    or scalar and a Tensor keep their dtype; mixed leaves are promoted (a float beats an int).
    Object, string, bytes, complex, datetime, timedelta and structured data raise TypeError.
    """
    dt = None if dtype is None else _dtype(dtype)
    if isinstance(data, Tensor):
        with np.errstate(over="ignore", invalid="ignore"):
            arr = data.data.copy() if dt is None else data.data.astype(dt)
    elif isinstance(data, (np.ndarray, np.generic)):
        _check_dtype(data.dtype, "tensor", "NumPy dtype")
        # As torch: float64 -> float32 overflow is inf, an out-of-range float -> int is undefined.
        with np.errstate(over="ignore", invalid="ignore"):
            arr = np.array(data, dtype=dt)
    else:
        if isinstance(data, (str, bytes)):
            raise TypeError(f"tensor: cannot make a tensor from {type(data).__name__} {data!r:.60}")
        if dt is None:
            dt = _infer(data, "tensor")
            if dt is None:  # no leaves: torch.tensor([]) is float32
                dt = _DEFAULT
        elif isinstance(data, (list, tuple)):
            _infer(data, "tensor")  # refuses strings, complex and objects before NumPy parses them
        else:
            _scalar_dtype(data, "tensor")
        arr = _from_data(data, dt, "tensor")
    return _new(arr, requires_grad)


def as_tensor(data, dtype=None) -> Tensor:
    """Like :func:`tensor`, but a Tensor or NumPy array of the right dtype is not copied."""
    if isinstance(data, Tensor) and (dtype is None or data.dtype == np.dtype(dtype)):
        return data
    if isinstance(data, np.ndarray) and (dtype is None or data.dtype == np.dtype(dtype)):
        _check_dtype(data.dtype, "as_tensor", "NumPy dtype")
        return Tensor._make(data, False, None)
    return tensor(data, dtype=dtype)


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing memory with ``array`` (no copy), keeping its dtype."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected a numpy.ndarray, got {type(array).__name__}")
    _check_dtype(array.dtype, "from_numpy", "NumPy dtype")
    return Tensor._make(array, False, None)


def zeros(*size, dtype=None, requires_grad: bool = False) -> Tensor:
    """A tensor of zeros of shape ``size`` (``zeros(2, 3)`` or ``zeros((2, 3))``)."""
    return _new(
        np.zeros(parse_sizes(size, "zeros", non_negative=True), dtype=_dtype(dtype, op="zeros")),
        requires_grad,
    )


def ones(*size, dtype=None, requires_grad: bool = False) -> Tensor:
    """A tensor of ones of shape ``size``."""
    return _new(
        np.ones(parse_sizes(size, "ones", non_negative=True), dtype=_dtype(dtype, op="ones")),
        requires_grad,
    )


def empty(*size, dtype=None, requires_grad: bool = False) -> Tensor:
    """An uninitialised tensor of shape ``size``."""
    return _new(
        np.empty(parse_sizes(size, "empty", non_negative=True), dtype=_dtype(dtype, op="empty")),
        requires_grad,
    )


def full(size, fill_value, dtype=None, requires_grad: bool = False) -> Tensor:
    """A tensor of shape ``size`` filled with ``fill_value`` (its dtype inferred if not given)."""
    if isinstance(fill_value, (Tensor, np.ndarray)) and fill_value.ndim == 0:
        fill_value = fill_value.item()
    if isinstance(fill_value, complex) or not isinstance(
        fill_value, (int, float, np.integer, np.floating, np.bool_)
    ):
        raise TypeError(
            f"full: fill_value must be a real number, got {type(fill_value).__name__} "
            f"{fill_value!r:.60}"
        )
    if dtype is None:
        if isinstance(fill_value, (bool, np.bool_)):
            dtype = np.bool_
        elif isinstance(fill_value, (int, np.integer)):
            dtype = np.int64
        else:
            dtype = _DEFAULT
    size = parse_sizes(
        tuple(size) if isinstance(size, (tuple, list)) else (size,), "full", non_negative=True
    )
    dt = _dtype(dtype, op="full")
    with np.errstate(over="ignore"):  # one conversion, straight to dt (checked)
        value = np.asarray(_fill_value(fill_value, dt, "full"), dtype=dt)
    if dt.kind == "f" and np.isinf(value) and not np.isinf(float(fill_value)):
        raise ValueError(f"full: fill_value {fill_value!r} overflows dtype {dt}")
    return _new(np.full(size, value, dtype=dt), requires_grad)


def arange(start, end=None, step=1, dtype=None, requires_grad: bool = False) -> Tensor:
    """From ``start`` to ``end`` (exclusive) by ``step``; int64 if all are ints, else float32."""
    if end is None:
        start, end = 0, start
    if step == 0:
        raise ValueError("arange: step must be non-zero")
    ints = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
    default = np.int64 if ints else _DEFAULT
    # Compute in float64 (or int64), then cast: the count matches PyTorch's.
    arr = np.arange(start, end, step, dtype=np.int64 if ints else np.float64)
    return _new(arr.astype(_dtype(dtype, default, "arange")), requires_grad)


def linspace(start, end, steps: int, dtype=None, requires_grad: bool = False) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive."""
    if steps < 0:
        raise ValueError(f"linspace: steps must be non-negative, got {steps}")
    return _new(np.linspace(start, end, steps).astype(_dtype(dtype, op="linspace")), requires_grad)


def eye(n: int, m: int | None = None, dtype=None, requires_grad: bool = False) -> Tensor:
    """The ``n`` x ``m`` identity matrix."""
    parse_sizes((n,) if m is None else (n, m), "eye", non_negative=True)
    return _new(np.eye(n, m, dtype=_dtype(dtype, op="eye")), requires_grad)


def rand(*size, generator=None, dtype=None, requires_grad: bool = False) -> Tensor:
    """Uniform samples on [0, 1) from ``generator`` (a ``backprop.Generator``) or the library's
    seeded generator."""
    dt = _dtype(dtype, op="rand")
    g = _random.resolve(generator, "rand")
    return _new(
        g.random(parse_sizes(size, "rand", non_negative=True), dtype=np.float64).astype(dt),
        requires_grad,
    )


def randn(*size, generator=None, dtype=None, requires_grad: bool = False) -> Tensor:
    """Standard normal samples from ``generator`` or the library's seeded generator."""
    dt = _dtype(dtype, op="randn")
    g = _random.resolve(generator, "randn")
    arr = g.standard_normal(parse_sizes(size, "randn", non_negative=True), dtype=np.float64).astype(
        dt
    )
    return _new(arr, requires_grad)


def normal(mean: float, std: float, size, *, generator=None, dtype=None) -> Tensor:
    """Normal samples of the given mean and standard deviation."""
    if std < 0:
        raise ValueError(f"normal: std must be non-negative, got {std}")
    g = _random.resolve(generator, "normal")
    size = parse_sizes(tuple(size), "normal", non_negative=True)
    return _new(g.normal(mean, std, size).astype(_dtype(dtype, op="normal")), False)


def randint(
    low, high=None, size=None, *, generator=None, dtype=None, requires_grad: bool = False
) -> Tensor:
    """Integers uniform on [low, high) (``randint(high, size)`` means low = 0), int64 by default."""
    if size is None:
        if not isinstance(high, (tuple, list)):
            raise TypeError("randint: size is required, e.g. randint(0, 10, (3,))")
        low, high, size = 0, low, high
    if high is None:
        low, high = 0, low
    if high <= low:
        raise ValueError(f"randint: high ({high}) must be greater than low ({low})")
    size = parse_sizes(tuple(size), "randint", non_negative=True)
    arr = _random.resolve(generator, "randint").integers(low, high, size=size, dtype=np.int64)
    return _new(arr.astype(_dtype(dtype, np.int64, "randint")), requires_grad)


def randperm(n: int, *, generator=None, dtype=None) -> Tensor:
    """A random permutation of ``0..n-1``."""
    parse_sizes((n,), "randperm", non_negative=True)
    return _new(
        _random.resolve(generator, "randperm")
        .permutation(n)
        .astype(_dtype(dtype, np.int64, "randperm")),
        False,
    )


def _like(t: Tensor, dtype):
    if not isinstance(t, Tensor):
        raise TypeError(f"*_like: expected a Tensor, got {type(t).__name__}")
    return t.shape, (t.dtype if dtype is None else dtype)


def zeros_like(input: Tensor, dtype=None, requires_grad: bool = False) -> Tensor:
    shape, dt = _like(input, dtype)
    return zeros(shape, dtype=dt, requires_grad=requires_grad)


def ones_like(input: Tensor, dtype=None, requires_grad: bool = False) -> Tensor:
    shape, dt = _like(input, dtype)
    return ones(shape, dtype=dt, requires_grad=requires_grad)


def empty_like(input: Tensor, dtype=None, requires_grad: bool = False) -> Tensor:
    shape, dt = _like(input, dtype)
    return empty(shape, dtype=dt, requires_grad=requires_grad)


def full_like(input: Tensor, fill_value, dtype=None, requires_grad: bool = False) -> Tensor:
    shape, dt = _like(input, dtype)
    return full(shape, fill_value, dtype=dt, requires_grad=requires_grad)


def rand_like(input: Tensor, dtype=None, requires_grad: bool = False) -> Tensor:
    shape, dt = _like(input, dtype)
    return rand(shape, dtype=dt, requires_grad=requires_grad)


def randn_like(input: Tensor, dtype=None, requires_grad: bool = False) -> Tensor:
    shape, dt = _like(input, dtype)
    return randn(shape, dtype=dt, requires_grad=requires_grad)


def randint_like(input: Tensor, low, high=None, dtype=None) -> Tensor:
    shape, dt = _like(input, dtype)
    return randint(low, high, shape, dtype=dt)
