"""Ops along one dim: cumulative scans (cumsum, cumprod, cummax, cummin, logcumsumexp) and
sorting (sort, argsort, msort, topk, kthvalue).

The multi-output ones return torch's named tuples ``(values, indices)``: the values are
differentiable, the indices are computed without gradient.
"""

from __future__ import annotations

import numpy as np

from ..ops import scan as C
from ..ops.indexing import Gather
from ..tensor import Tensor
from ._util import as_tensor, is_float, no_bool, one_dim
from .reduction import ValuesIndices, pick_dim, pick_keepdim, select_along

__all__ = [
    "cumsum", "cumprod", "cummax", "cummin", "logcumsumexp", "sort", "argsort", "msort", "topk",
    "kthvalue",
]  # fmt: skip


def _scan(fn, input: Tensor, dim, op: str) -> Tensor:
    from .shape import reshape

    if dim is None:
        raise TypeError(f"{op}: missing dim (an int)")
    d = one_dim(dim, input.ndim, op)
    if input.ndim == 0:  # a 0-d tensor scans as one element
        return reshape(fn.apply(reshape(input, 1), dim=0), ())
    return fn.apply(input, dim=d)


def _accumulating(input: Tensor, dtype, op: str) -> Tensor:
    input = as_tensor(input, op)
    if dtype is not None:
        return input if input.data.dtype == np.dtype(dtype) else input.to(np.dtype(dtype))
    if not is_float(input.data.dtype) and input.data.dtype != np.int64:
        return input.long()  # bool and integers accumulate in int64, as in PyTorch
    return input


def cumsum(input: Tensor, dim=None, *, dtype=None, axis=None) -> Tensor:
    """Cumulative sum along ``dim``: ``y_i = x_0 + ... + x_i``. Integers accumulate in int64."""
    x = _accumulating(input, dtype, "cumsum")
    return _scan(C.CumSum, x, pick_dim(dim, axis, "cumsum"), "cumsum")


def cumprod(input: Tensor, dim=None, *, dtype=None, axis=None) -> Tensor:
    """Cumulative product along ``dim``; the gradient is exact around zeros (as PyTorch's)."""
    x = _accumulating(input, dtype, "cumprod")
    return _scan(C.CumProd, x, pick_dim(dim, axis, "cumprod"), "cumprod")


def cummax(input: Tensor, dim=None, *, axis=None) -> ValuesIndices:
    """Running maximum along ``dim``: ``(values, indices)``; among ties the latest index, and a
    NaN propagates (as torch.cummax). The gradient goes to the index each value came from."""
    return _cum_extreme(input, pick_dim(dim, axis, "cummax"), True, "cummax")


def cummin(input: Tensor, dim=None, *, axis=None) -> ValuesIndices:
    """Running minimum along ``dim``: ``(values, indices)``, as :func:`cummax`."""
    return _cum_extreme(input, pick_dim(dim, axis, "cummin"), False, "cummin")


def _cum_extreme(input, dim, largest, op):
    input = as_tensor(input, op)
    values = _scan(C.CumMax if largest else C.CumMin, input, dim, op)
    a = input.data.reshape(-1) if input.ndim == 0 else input.data
    d = 0 if input.ndim == 0 else one_dim(dim, input.ndim, op)
    idx = C.cum_extreme_indices(np, a, values.data.reshape(a.shape), d, largest)
    return ValuesIndices(values, Tensor._make(idx.reshape(input.shape), False, None))


def logcumsumexp(input: Tensor, dim=None, *, axis=None) -> Tensor:
    """``y_i = log(exp(x_0) + ... + exp(x_i))`` along ``dim``, computed stably."""
    input = as_tensor(input, "logcumsumexp")
    if not is_float(input.data.dtype):
        raise TypeError(f"logcumsumexp: expected a floating-point tensor, got {input.data.dtype}")
    return _scan(C.LogCumSumExp, input, pick_dim(dim, axis, "logcumsumexp"), "logcumsumexp")


def _order(a, d: int, descending: bool):
    """Stable sorting indices along ``d``, NaN counted largest (last ascending, first descending);
    equal elements keep their order either way."""
    if not descending:
        return np.argsort(a, axis=d, kind="stable")
    n = a.shape[d]
    rev = np.argsort(np.flip(a, d), axis=d, kind="stable")
    return (n - 1) - np.flip(rev, d)


def sort(input: Tensor, dim: int = -1, descending: bool = False, *, stable: bool = False,
         axis=None):  # fmt: skip
    """Sort along ``dim``: ``(values, indices)``; ``values`` is differentiable. The sort is always
    stable (``stable=True`` asks for what is already given); NaNs sort as the largest values."""
    from .shape import reshape

    input = as_tensor(input, "sort")
    if axis is not None:
        dim = axis
    d = one_dim(dim, input.ndim, "sort")
    if input.ndim == 0:
        return ValuesIndices(reshape(input, ()), Tensor._make(np.zeros((), np.int64), False, None))
    idx = _order(input.data, d, descending).astype(np.int64)
    return ValuesIndices(Gather.apply(input, idx, dim=d), Tensor._make(idx, False, None))


def argsort(input: Tensor, dim: int = -1, descending: bool = False, *, stable: bool = False,
            axis=None) -> Tensor:  # fmt: skip
    """Indices that sort ``input`` along ``dim`` (stable, as :func:`sort`)."""
    return sort(input, dim, descending, stable=stable, axis=axis).indices


def msort(input: Tensor) -> Tensor:
    """The values of :func:`sort` along dim 0."""
    return sort(input, 0).values


def topk(input: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True, *,
         axis=None) -> ValuesIndices:  # fmt: skip
    """The ``k`` largest (or smallest) elements along ``dim``: ``(values, indices)``, always in
    sorted order (NaN counts as the largest). ``values`` is differentiable (the gradient goes to
    the selected elements); ``indices`` is not."""
    input = as_tensor(input, "topk")
    no_bool(input, "topk")
    if axis is not None:
        dim = axis
    d = one_dim(dim, input.ndim, "topk")
    n = input.shape[d] if input.ndim else 1
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 0 <= k <= n:
        raise ValueError(f"topk: k={k!r} is out of range for dim {dim} of size {n}")
    if input.ndim == 0:
        return sort(input)
    idx = np.take(_order(input.data, d, largest), np.arange(k), axis=d).astype(np.int64)
    return ValuesIndices(Gather.apply(input, idx, dim=d), Tensor._make(idx, False, None))


def kthvalue(input: Tensor, k: int, dim: int = -1, keepdim: bool = False, *, axis=None,
             keepdims=None) -> ValuesIndices:  # fmt: skip
    """The ``k``-th smallest element (1-based) along ``dim``: ``(values, indices)``; NaN counts
    as the largest. The gradient goes to the returned index."""
    input = as_tensor(input, "kthvalue")
    if input.ndim:  # (PyTorch returns a 0-d bool as it is)
        no_bool(input, "kthvalue")
    if axis is not None:
        dim = axis
    n = input.shape[one_dim(dim, input.ndim, "kthvalue")] if input.ndim else 1
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= n:
        raise ValueError(f"kthvalue: k={k!r} is out of range for dim {dim} of size {n}")

    def index(a, d):
        return np.take(np.argsort(a, axis=d, kind="stable"), [k - 1], axis=d)

    return select_along(input, dim, pick_keepdim(keepdim, keepdims), "kthvalue", index)
