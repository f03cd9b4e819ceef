"""Tensor factories: ``tensor``, ``zeros``, ``arange``, ``randn``... (float32 by default)."""

from __future__ import annotations

import numpy as np

from .. import random as _random
from ..tensor import Tensor
from ._util import parse_sizes

__all__ = [
    "tensor", "as_tensor", "from_numpy", "zeros", "ones", "full", "empty", "arange", "linspace",
    "eye", "rand", "randn", "randint", "randperm", "normal", "zeros_like", "ones_like", "full_like",
    "empty_like", "rand_like", "randn_like", "randint_like",
]  # fmt: skip

_DEFAULT = np.dtype(np.float32)


def _dtype(dtype, default=_DEFAULT):
    if dtype is None:
        return np.dtype(default)
    try:
        return np.dtype(dtype)
    except TypeError:
        raise TypeError(f"unknown dtype {dtype!r}") from None


def _new(data, requires_grad):
    t = Tensor._make(data, False, None)
    if requires_grad:
        t.requires_grad_(True)
    return t


def tensor(data, dtype=None, requires_grad: bool = False) -> Tensor:
    """A new tensor holding a copy of ``data`` (a number, nested list, NumPy array or Tensor).

    Python floats become float32 and Python ints int64, as in PyTorch; a NumPy array keeps its
    dtype unless ``dtype`` is given.
    """
    if isinstance(data, Tensor):
        arr = data.data.copy()
    elif isinstance(data, (np.ndarray, np.generic)):
        arr = np.array(data)
    else:
        try:
            arr = np.array(data)
        except ValueError as e:  # a ragged nested list
            raise ValueError(
                f"tensor: cannot make a tensor from {type(data).__name__} {data!r:.60}: the "
                f"nested sequences have different lengths ({e})"
            ) from None
        if arr.dtype == object or arr.dtype.kind in "US":
            raise TypeError(f"tensor: cannot make a tensor from {type(data).__name__} {data!r:.60}")
        if arr.dtype.kind == "f":
            arr = arr.astype(_DEFAULT)
        elif arr.dtype.kind in "iu":
            arr = arr.astype(np.int64)
    if dtype is not None:
        arr = arr.astype(_dtype(dtype))
    return _new(arr, requires_grad)


def as_tensor(data, dtype=None) -> Tensor:
    """Like :func:`tensor`, but a Tensor or NumPy array of the right dtype is not copied."""
    if isinstance(data, Tensor) and (dtype is None or data.dtype == np.dtype(dtype)):
        return data
    if isinstance(data, np.ndarray) and (dtype is None or data.dtype == np.dtype(dtype)):
        return Tensor._make(data, False, None)
    return tensor(data, dtype=dtype)


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing memory with ``array`` (no copy), keeping its dtype."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected a numpy.ndarray, got {type(array).__name__}")
    return Tensor._make(array, False, None)


def zeros(*size, dtype=None, requires_grad: bool = False) -> Tensor:
    """A tensor of zeros of shape ``size`` (``zeros(2, 3)`` or ``zeros((2, 3))``)."""
    return _new(
        np.zeros(parse_sizes(size, "zeros", non_negative=True), dtype=_dtype(dtype)), requires_grad
    )


def ones(*size, dtype=None, requires_grad: bool = False) -> Tensor:
    """A tensor of ones of shape ``size``."""
    return _new(
        np.ones(parse_sizes(size, "ones", non_negative=True), dtype=_dtype(dtype)), requires_grad
    )


def empty(*size, dtype=None, requires_grad: bool = False) -> Tensor:
    """An uninitialised tensor of shape ``size``."""
    return _new(
        np.empty(parse_sizes(size, "empty", non_negative=True), dtype=_dtype(dtype)), requires_grad
    )


def full(size, fill_value, dtype=None, requires_grad: bool = False) -> Tensor:
    """A tensor of shape ``size`` filled with ``fill_value`` (its dtype inferred if not given)."""
    if dtype is None:
        dtype = np.bool_ if isinstance(fill_value, bool) else (
            np.int64 if isinstance(fill_value, int) else _DEFAULT
        )  # fmt: skip
    size = parse_sizes(
        tuple(size) if isinstance(size, (tuple, list)) else (size,), "full", non_negative=True
    )
    return _new(np.full(size, fill_value, dtype=_dtype(dtype)), requires_grad)


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
    return _new(arr.astype(_dtype(dtype, default)), requires_grad)


def linspace(start, end, steps: int, dtype=None, requires_grad: bool = False) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive."""
    if steps < 0:
        raise ValueError(f"linspace: steps must be non-negative, got {steps}")
    return _new(np.linspace(start, end, steps).astype(_dtype(dtype)), requires_grad)


def eye(n: int, m: int | None = None, dtype=None, requires_grad: bool = False) -> Tensor:
    """The ``n`` x ``m`` identity matrix."""
    parse_sizes((n,) if m is None else (n, m), "eye", non_negative=True)
    return _new(np.eye(n, m, dtype=_dtype(dtype)), requires_grad)


def rand(*size, dtype=None, requires_grad: bool = False) -> Tensor:
    """Uniform samples on [0, 1) from the library's seeded generator."""
    dt = _dtype(dtype)
    g = _random.generator()
    return _new(
        g.random(parse_sizes(size, "rand", non_negative=True), dtype=np.float64).astype(dt),
        requires_grad,
    )


def randn(*size, dtype=None, requires_grad: bool = False) -> Tensor:
    """Standard normal samples from the library's seeded generator."""
    dt = _dtype(dtype)
    g = _random.generator()
    arr = g.standard_normal(parse_sizes(size, "randn", non_negative=True), dtype=np.float64).astype(
        dt
    )
    return _new(arr, requires_grad)


def normal(mean: float, std: float, size, dtype=None) -> Tensor:
    """Normal samples of the given mean and standard deviation."""
    if std < 0:
        raise ValueError(f"normal: std must be non-negative, got {std}")
    g = _random.generator()
    size = parse_sizes(tuple(size), "normal", non_negative=True)
    return _new(g.normal(mean, std, size).astype(_dtype(dtype)), False)


def randint(low, high=None, size=None, dtype=None, requires_grad: bool = False) -> Tensor:
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
    arr = _random.generator().integers(low, high, size=size, dtype=np.int64)
    return _new(arr.astype(_dtype(dtype, np.int64)), requires_grad)


def randperm(n: int, dtype=None) -> Tensor:
    """A random permutation of ``0..n-1``."""
    parse_sizes((n,), "randperm", non_negative=True)
    return _new(_random.generator().permutation(n).astype(_dtype(dtype, np.int64)), False)


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
