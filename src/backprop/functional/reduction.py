"""Reductions over one or several dims, with ``keepdim``; arg-reductions and top-k."""

from __future__ import annotations

import builtins
from typing import NamedTuple

import numpy as np

from ..ops import reduction as R
from ..ops.indexing import Gather
from ..tensor import Tensor
from ._util import as_tensor, dim_tuple, is_float, one_dim
from .elementwise import maximum, minimum

__all__ = [
    "sum", "mean", "max", "min", "amax", "amin", "var", "std", "logsumexp", "prod", "norm",
    "argmax", "argmin", "topk", "sort", "argsort", "all", "any", "count_nonzero", "ValuesIndices",
]  # fmt: skip


class ValuesIndices(NamedTuple):
    """What ``max(x, dim)``, ``min(x, dim)``, ``topk`` and ``sort`` return (torch.return_types)."""

    values: Tensor
    indices: Tensor


def _need_float(t: Tensor, op: str) -> None:
    if not is_float(t.data.dtype):
        raise TypeError(f"{op}: expected a floating-point tensor, got dtype {t.data.dtype}")


def _non_empty(t: Tensor, axis, op: str) -> None:
    # builtins.any: this module's own `any` (the tensor reduction) shadows the builtin.
    if t.data.size == 0 and (axis is None or builtins.any(t.shape[a] == 0 for a in axis)):
        raise ValueError(f"{op}: cannot reduce an empty dimension of a tensor of shape {t.shape}")


def sum(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """Sum over ``dim`` (an int, a tuple, or None for all). Bool and int inputs sum to int64."""
    input = as_tensor(input, "sum")
    axis = dim_tuple(dim, input.ndim, "sum")
    if not is_float(input.data.dtype) and input.data.dtype != np.int64:
        input = input.long()
    return R.Sum.apply(input, axis=axis, keepdim=keepdim)


def mean(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """Mean over ``dim``; floating-point inputs only, as in PyTorch."""
    input = as_tensor(input, "mean")
    _need_float(input, "mean")
    axis = dim_tuple(dim, input.ndim, "mean")
    _non_empty(input, axis, "mean")  # PyTorch returns NaN; a mean over nothing is a bug upstream
    return R.Mean.apply(input, axis=axis, keepdim=keepdim)


def amax(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """Maximum over ``dim``; the gradient is shared evenly among ties."""
    axis = dim_tuple(dim, input.ndim, "amax")
    _non_empty(input, axis, "amax")
    return R.Amax.apply(input, axis=axis, keepdim=keepdim)


def amin(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """Minimum over ``dim``; the gradient is shared evenly among ties."""
    axis = dim_tuple(dim, input.ndim, "amin")
    _non_empty(input, axis, "amin")
    return R.Amin.apply(input, axis=axis, keepdim=keepdim)


def max(input: Tensor, dim=None, keepdim: bool = False):
    """As ``torch.max``: ``max(x)`` is the largest element; ``max(x, dim)`` returns
    ``(values, indices)``; ``max(x, other_tensor)`` is :func:`maximum`."""
    return _max_min(input, dim, keepdim, "max")


def min(input: Tensor, dim=None, keepdim: bool = False):
    """As ``torch.min``: ``min(x)``, ``min(x, dim)`` -> ``(values, indices)``, ``min(x, other)``."""
    return _max_min(input, dim, keepdim, "min")


def _max_min(input, dim, keepdim, op):
    if isinstance(dim, Tensor):
        return maximum(input, dim) if op == "max" else minimum(input, dim)
    if dim is None:
        # torch's x.max() (not amax): its gradient is selected, split among NaNs and ties.
        _non_empty(input, None, op)
        fn = R.Amax if op == "max" else R.Amin
        return fn.apply(input, axis=None, keepdim=False, full=True)
    d = one_dim(dim, input.ndim, op)
    _non_empty(input, (d,), op)
    fn = R.MaxDim if op == "max" else R.MinDim
    values = fn.apply(input, dim=d, keepdim=keepdim)
    idx = input.data.argmax(axis=d) if op == "max" else input.data.argmin(axis=d)
    if keepdim:
        idx = np.expand_dims(idx, d)
    return ValuesIndices(values, Tensor._make(idx.astype(np.int64), False, None))


def argmax(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """Index of the largest element (of the flattened tensor when ``dim`` is None)."""
    return _arg(input, dim, keepdim, "argmax")


def argmin(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """Index of the smallest element (of the flattened tensor when ``dim`` is None)."""
    return _arg(input, dim, keepdim, "argmin")


def _arg(input, dim, keepdim, op):
    input = as_tensor(input, op)
    fn = np.argmax if op == "argmax" else np.argmin
    if dim is None:
        _non_empty(input, None, op)
        idx = np.asarray(fn(input.data))
        if keepdim:
            idx = idx.reshape((1,) * input.ndim)
    else:
        d = one_dim(dim, input.ndim, op)
        _non_empty(input, (d,), op)
        idx = fn(input.data, axis=d, keepdims=keepdim)
    return Tensor._make(np.asarray(idx, dtype=np.int64), False, None)


def var(input: Tensor, dim=None, unbiased=None, keepdim: bool = False, *, correction=None):
    """Variance over ``dim``: ``sum((x - mean)^2) / (N - correction)``; correction 1 by default
    (unbiased), 0 for the biased estimate (``unbiased=False``)."""
    return _var_std(R.Var, input, dim, unbiased, keepdim, correction, "var")


def std(input: Tensor, dim=None, unbiased=None, keepdim: bool = False, *, correction=None):
    """Standard deviation over ``dim``; ``correction`` as in :func:`var`."""
    return _var_std(R.Std, input, dim, unbiased, keepdim, correction, "std")


def _var_std(fn, input, dim, unbiased, keepdim, correction, op):
    input = as_tensor(input, op)
    _need_float(input, op)
    if isinstance(dim, bool):  # torch.var(x, False): the legacy positional `unbiased`
        dim, unbiased = None, dim
    if correction is None:
        correction = 1 if unbiased is None or unbiased else 0
    axis = dim_tuple(dim, input.ndim, op)
    _non_empty(input, axis, op)
    return fn.apply(input, axis=axis, correction=correction, keepdim=keepdim)


def logsumexp(input: Tensor, dim, keepdim: bool = False) -> Tensor:
    """``log(sum(exp(x)))`` over ``dim``, computed stably (shifted by the maximum)."""
    input = as_tensor(input, "logsumexp")
    _need_float(input, "logsumexp")
    axis = dim_tuple(dim, input.ndim, "logsumexp")
    _non_empty(input, axis, "logsumexp")  # (PyTorch gives -inf)
    return R.LogSumExp.apply(input, axis=axis, keepdim=keepdim)


def prod(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """Product over ``dim`` (one int, or None for all); the gradient is exact with zeros too."""
    input = as_tensor(input, "prod")
    if dim is not None and not isinstance(dim, (int, np.integer)):
        raise TypeError(f"prod: dim must be an int or None, got {dim!r}")
    return R.Prod.apply(input, axis=dim_tuple(dim, input.ndim, "prod"), keepdim=keepdim)


def norm(input: Tensor, p="fro", dim=None, keepdim: bool = False) -> Tensor:
    """The p-norm over ``dim`` (``'fro'`` and 2: Euclidean; ``float('inf')``: the max)."""
    input = as_tensor(input, "norm")
    _need_float(input, "norm")
    if p == "fro":
        p = 2.0
    if isinstance(p, str) or not (p > 0):
        raise ValueError(f"norm: p must be 'fro' or a positive number (inf allowed), got {p!r}")
    return R.Norm.apply(input, p=float(p), axis=dim_tuple(dim, input.ndim, "norm"), keepdim=keepdim)


def topk(input: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True):
    """The ``k`` largest (or smallest) elements along ``dim``: ``(values, indices)``.

    ``values`` is differentiable (the gradient goes to the selected elements); ``indices`` is not.
    """
    d = one_dim(dim, input.ndim, "topk")
    n = input.shape[d] if input.ndim else 1
    if not 0 <= k <= n:
        raise ValueError(f"topk: k={k} is out of range for dim {dim} of size {n}")
    order = np.argsort(-input.data if largest else input.data, axis=d, kind="stable")
    idx = np.take(order, np.arange(k), axis=d).astype(np.int64)
    return ValuesIndices(Gather.apply(input, idx, dim=d), Tensor._make(idx, False, None))


def sort(input: Tensor, dim: int = -1, descending: bool = False):
    """Sort along ``dim``: ``(values, indices)``; ``values`` is differentiable."""
    d = one_dim(dim, input.ndim, "sort")
    idx = np.argsort(-input.data if descending else input.data, axis=d, kind="stable")
    idx = idx.astype(np.int64)
    return ValuesIndices(Gather.apply(input, idx, dim=d), Tensor._make(idx, False, None))


def argsort(input: Tensor, dim: int = -1, descending: bool = False) -> Tensor:
    """Indices that sort ``input`` along ``dim``."""
    return sort(input, dim, descending).indices


def all(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """Whether every element (over ``dim``) is true."""
    axis = dim_tuple(dim, input.ndim, "all")
    return Tensor._make(np.asarray(np.all(input.data, axis=axis, keepdims=keepdim)), False, None)


def any(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """Whether any element (over ``dim``) is true."""
    axis = dim_tuple(dim, input.ndim, "any")
    return Tensor._make(np.asarray(np.any(input.data, axis=axis, keepdims=keepdim)), False, None)


def count_nonzero(input: Tensor, dim=None) -> Tensor:
    """Number of non-zero elements (over ``dim``)."""
    axis = dim_tuple(dim, input.ndim, "count_nonzero")
    n = np.count_nonzero(input.data, axis=axis)
    return Tensor._make(np.asarray(n, dtype=np.int64), False, None)
