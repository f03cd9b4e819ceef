"""Reductions over one or several dims, with ``keepdim``; arg-reductions and order statistics.

Every reduction takes PyTorch's NumPy-style aliases too: ``axis=`` for ``dim=`` and ``keepdims=``
for ``keepdim=`` (``x.sum(axis=1, keepdims=True)``). ``dim`` is an int, a tuple of ints where
PyTorch accepts one (an empty tuple reduces everything, as in PyTorch), or None for all; a 0-d
tensor reduces over dim 0 or -1 to a 0-d tensor.
"""

from __future__ import annotations

import builtins
from typing import NamedTuple

import numpy as np

from ..ops import reduction as R
from ..ops.indexing import Gather
from ..tensor import Tensor
from ._util import as_tensor, dim_tuple, is_float, no_bool, one_dim
from .elementwise import maximum, minimum

__all__ = [
    "equal",
    "sum", "mean", "nansum", "max", "min", "amax", "amin", "aminmax", "var", "std", "var_mean",
    "std_mean", "logsumexp", "prod", "norm", "argmax", "argmin", "all", "any", "count_nonzero",
    "median", "nanmedian", "mode", "quantile", "nanquantile", "ValuesIndices", "MinMax",
]  # fmt: skip


class ValuesIndices(NamedTuple):
    """What ``max(x, dim)``, ``sort``, ``topk``, ``median(x, dim)``... return (as torch's)."""

    values: Tensor
    indices: Tensor


class MinMax(NamedTuple):
    """What :func:`aminmax` returns (``torch.return_types.aminmax``)."""

    min: Tensor
    max: Tensor


def _need_float(t: Tensor, op: str) -> None:
    if not is_float(t.data.dtype):
        raise TypeError(f"{op}: expected a floating-point tensor, got dtype {t.data.dtype}")


def _non_empty(t: Tensor, axis, op: str) -> None:
    # builtins.any: this module's own `any` (the tensor reduction) shadows the builtin.
    if t.data.size == 0 and (axis is None or builtins.any(t.shape[a] == 0 for a in axis)):
        raise ValueError(f"{op}: cannot reduce an empty dimension of a tensor of shape {t.shape}")


def pick_dim(dim, axis, op: str):
    """``dim``, or PyTorch's NumPy-style alias ``axis`` (giving both is an error)."""
    if axis is None:
        return dim
    if dim is not None:
        raise TypeError(f"{op}: got both dim={dim!r} and its alias axis={axis!r}")
    return axis


def pick_keepdim(keepdim, keepdims) -> bool:
    """``keepdim``, or its NumPy-style alias ``keepdims`` when given."""
    return bool(keepdim if keepdims is None else keepdims)


def _axes(input: Tensor, dim, op: str, many: bool = True):
    """The reduced axes as a sorted tuple, or None for all: ``()`` means all (as PyTorch), and a
    0-d tensor's dim 0 or -1 is all of it. ``many=False``: an int (or None) only."""
    if dim is None:
        return None
    if not many and not isinstance(dim, (int, np.integer)):
        raise TypeError(f"{op}: dim must be an int or None, got {dim!r}")
    axes = dim_tuple(dim, input.ndim, op)
    return None if not axes or input.ndim == 0 else axes


def _as_dtype(input: Tensor, dtype, op: str) -> Tensor:
    if dtype is None or input.data.dtype == np.dtype(dtype):
        return input
    return input.to(np.dtype(dtype))


def _to_long(input: Tensor) -> Tensor:
    """Bool and integer inputs accumulate in int64, as in PyTorch."""
    if not is_float(input.data.dtype) and input.data.dtype != np.int64:
        return input.long()
    return input


def sum(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None, axis=None, keepdims=None):
    """Sum over ``dim`` (an int, a tuple, or None for all). Bool and int inputs sum to int64."""
    input = _as_dtype(as_tensor(input, "sum"), dtype, "sum")
    axes = _axes(input, pick_dim(dim, axis, "sum"), "sum")
    if dtype is None:
        input = _to_long(input)
    return R.Sum.apply(input, axis=axes, keepdim=pick_keepdim(keepdim, keepdims))


def nansum(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None, axis=None, keepdims=None):
    """Sum over ``dim`` treating NaNs as zero (their gradient is 0)."""
    input = as_tensor(input, "nansum")
    if is_float(input.data.dtype):
        from .indexing import masked_fill

        input = masked_fill(input, Tensor._make(np.isnan(input.data), False, None), 0.0)
    return sum(input, dim, keepdim, dtype=dtype, axis=axis, keepdims=keepdims)


def mean(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None, axis=None, keepdims=None):
    """Mean over ``dim``; floating-point inputs only (or give ``dtype``), as in PyTorch."""
    input = _as_dtype(as_tensor(input, "mean"), dtype, "mean")
    _need_float(input, "mean")
    axes = _axes(input, pick_dim(dim, axis, "mean"), "mean")
    _non_empty(input, axes, "mean")  # PyTorch returns NaN; a mean over nothing is a bug upstream
    return R.Mean.apply(input, axis=axes, keepdim=pick_keepdim(keepdim, keepdims))


def amax(input: Tensor, dim=(), keepdim: bool = False, *, axis=None, keepdims=None) -> Tensor:
    """Maximum over ``dim`` (all by default); the gradient is shared evenly among ties."""
    return _extreme(R.Amax, input, dim, keepdim, axis, keepdims, "amax")


def amin(input: Tensor, dim=(), keepdim: bool = False, *, axis=None, keepdims=None) -> Tensor:
    """Minimum over ``dim`` (all by default); the gradient is shared evenly among ties."""
    return _extreme(R.Amin, input, dim, keepdim, axis, keepdims, "amin")


def _extreme(fn, input, dim, keepdim, axis, keepdims, op):
    input = as_tensor(input, op)
    axes = _axes(input, pick_dim(None if dim == () else dim, axis, op), op)
    _non_empty(input, axes, op)
    return fn.apply(input, axis=axes, keepdim=pick_keepdim(keepdim, keepdims))


def aminmax(input: Tensor, *, dim=None, keepdim: bool = False, axis=None, keepdims=None):
    """``(min, max)`` over ``dim`` (one int, or None for all), as :func:`amin` and :func:`amax`."""
    dim = pick_dim(dim, axis, "aminmax")
    if dim is not None and not isinstance(dim, (int, np.integer)):
        raise TypeError(f"aminmax: dim must be an int or None, got {dim!r}")
    keep = pick_keepdim(keepdim, keepdims)
    return MinMax(amin(input, dim, keep), amax(input, dim, keep))


def max(input: Tensor, dim=None, keepdim: bool = False, *, axis=None, keepdims=None):
    """As ``torch.max``: ``max(x)`` is the largest element; ``max(x, dim)`` returns
    ``(values, indices)``; ``max(x, other_tensor)`` is :func:`maximum`."""
    return _max_min(input, pick_dim(dim, axis, "max"), pick_keepdim(keepdim, keepdims), "max")


def min(input: Tensor, dim=None, keepdim: bool = False, *, axis=None, keepdims=None):
    """As ``torch.min``: ``min(x)``, ``min(x, dim)`` -> ``(values, indices)``, ``min(x, other)``."""
    return _max_min(input, pick_dim(dim, axis, "min"), pick_keepdim(keepdim, keepdims), "min")


def _max_min(input, dim, keepdim, op):
    if isinstance(dim, Tensor):
        return maximum(input, dim) if op == "max" else minimum(input, dim)
    input = as_tensor(input, op)
    if dim is None:
        # torch's x.max() (not amax): its gradient is selected, split among NaNs and ties.
        _non_empty(input, None, op)
        fn = R.Amax if op == "max" else R.Amin
        return fn.apply(input, axis=None, keepdim=False, full=True)
    fn = R.MaxDim if op == "max" else R.MinDim
    argfn = np.argmax if op == "max" else np.argmin

    def values(x, d):
        return fn.apply(x, dim=d, keepdim=True)

    return select_along(input, dim, keepdim, op, lambda a, d: argfn(a, axis=d, keepdims=True),
                        values=values)  # fmt: skip


def select_along(input: Tensor, dim, keepdim: bool, op: str, index_fn, values=None):
    """``(values, indices)`` of one element picked per slice along ``dim``.

    ``index_fn(array, d)`` gives the picked positions with the reduced dim kept (size 1); the
    values are gathered there (so the gradient goes to them) unless ``values(x, d)`` makes them.
    A 0-d input is treated as one element along dim 0 and gives 0-d results.
    """
    from .shape import reshape

    input = as_tensor(input, op)
    scalar = input.ndim == 0
    d = one_dim(dim, input.ndim, op)
    x = reshape(input, 1) if scalar else input
    _non_empty(x, (d,), op)
    idx = np.asarray(index_fn(x.data, d)).astype(np.int64)
    v = values(x, d) if values is not None else Gather.apply(x, idx, dim=d)
    if scalar or not keepdim:
        shape = idx.shape[:d] + idx.shape[d + 1 :]
        v, idx = reshape(v, shape), idx.reshape(shape)
    return ValuesIndices(v, Tensor._make(idx, False, None))


def argmax(input: Tensor, dim=None, keepdim: bool = False, *, axis=None, keepdims=None):
    """Index of the largest element (of the flattened tensor when ``dim`` is None)."""
    return _arg(input, pick_dim(dim, axis, "argmax"), pick_keepdim(keepdim, keepdims), "argmax")


def argmin(input: Tensor, dim=None, keepdim: bool = False, *, axis=None, keepdims=None):
    """Index of the smallest element (of the flattened tensor when ``dim`` is None)."""
    return _arg(input, pick_dim(dim, axis, "argmin"), pick_keepdim(keepdim, keepdims), "argmin")


def _arg(input, dim, keepdim, op):
    input = as_tensor(input, op)
    no_bool(input, op)
    fn = np.argmax if op == "argmax" else np.argmin
    if dim is None or input.ndim == 0:
        if dim is not None:
            one_dim(dim, 0, op)
        _non_empty(input, None, op)
        idx = np.asarray(fn(input.data))
        if keepdim:
            idx = idx.reshape((1,) * input.ndim)
    else:
        d = one_dim(dim, input.ndim, op)
        _non_empty(input, (d,), op)
        idx = fn(input.data, axis=d, keepdims=keepdim)
    return Tensor._make(np.asarray(idx, dtype=np.int64), False, None)


def var(input: Tensor, dim=None, unbiased=None, keepdim: bool = False, *, correction=None,
        axis=None, keepdims=None):  # fmt: skip
    """Variance over ``dim``: ``sum((x - mean)^2) / (N - correction)``; correction 1 by default
    (unbiased), 0 for the biased estimate (``unbiased=False``)."""
    return _var_std(R.Var, input, dim, unbiased, keepdim, correction, axis, keepdims, "var")


def std(input: Tensor, dim=None, unbiased=None, keepdim: bool = False, *, correction=None,
        axis=None, keepdims=None):  # fmt: skip
    """Standard deviation over ``dim``; ``correction`` as in :func:`var`."""
    return _var_std(R.Std, input, dim, unbiased, keepdim, correction, axis, keepdims, "std")


def var_mean(input: Tensor, dim=None, unbiased=None, keepdim: bool = False, *, correction=None,
             axis=None, keepdims=None) -> tuple:  # fmt: skip
    """``(var, mean)`` over ``dim`` (a plain tuple, as ``torch.var_mean``)."""
    v = _var_std(R.Var, input, dim, unbiased, keepdim, correction, axis, keepdims, "var_mean")
    return v, _mean_like(input, dim, keepdim, axis, keepdims, "var_mean")


def std_mean(input: Tensor, dim=None, unbiased=None, keepdim: bool = False, *, correction=None,
             axis=None, keepdims=None) -> tuple:  # fmt: skip
    """``(std, mean)`` over ``dim`` (a plain tuple, as ``torch.std_mean``)."""
    s = _var_std(R.Std, input, dim, unbiased, keepdim, correction, axis, keepdims, "std_mean")
    return s, _mean_like(input, dim, keepdim, axis, keepdims, "std_mean")


def _mean_like(input, dim, keepdim, axis, keepdims, op):
    if isinstance(dim, bool):  # the legacy positional `unbiased`
        dim = None
    return mean(input, pick_dim(dim, axis, op), pick_keepdim(keepdim, keepdims))


def _var_std(fn, input, dim, unbiased, keepdim, correction, axis, keepdims, op):
    input = as_tensor(input, op)
    _need_float(input, op)
    if isinstance(dim, bool):  # torch.var(x, False): the legacy positional `unbiased`
        dim, unbiased = None, dim
    if correction is None:
        correction = 1 if unbiased is None or unbiased else 0
    axes = _axes(input, pick_dim(dim, axis, op), op)
    _non_empty(input, axes, op)
    keep = pick_keepdim(keepdim, keepdims)
    return fn.apply(input, axis=axes, correction=correction, keepdim=keep)


def logsumexp(input: Tensor, dim=None, keepdim: bool = False, *, axis=None, keepdims=None):
    """``log(sum(exp(x)))`` over ``dim``, computed stably (shifted by the maximum)."""
    input = as_tensor(input, "logsumexp")
    dim = pick_dim(dim, axis, "logsumexp")
    if dim is None:
        raise TypeError("logsumexp: missing dim (an int or a tuple of ints)")
    if not is_float(input.data.dtype):
        input = input.float()  # (PyTorch computes integers' in the default float dtype)
    axes = _axes(input, dim, "logsumexp")
    _non_empty(input, axes, "logsumexp")  # (PyTorch gives -inf)
    return R.LogSumExp.apply(input, axis=axes, keepdim=pick_keepdim(keepdim, keepdims))


def prod(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None, axis=None, keepdims=None):
    """Product over ``dim`` (one int, or None for all); the gradient is exact with zeros too.
    Bool and int inputs multiply in int64, as in PyTorch."""
    input = _as_dtype(as_tensor(input, "prod"), dtype, "prod")
    axes = _axes(input, pick_dim(dim, axis, "prod"), "prod", many=False)
    if dtype is None:
        input = _to_long(input)
    return R.Prod.apply(input, axis=axes, keepdim=pick_keepdim(keepdim, keepdims))


def norm(input: Tensor, p="fro", dim=None, keepdim: bool = False, *, axis=None, keepdims=None):
    """The p-norm over ``dim`` (``'fro'`` and 2: Euclidean; ``float('inf')``: the max)."""
    input = as_tensor(input, "norm")
    _need_float(input, "norm")
    if p == "fro" or p is None:
        p = 2.0
    if isinstance(p, str) or not (p > 0):
        raise ValueError(f"norm: p must be 'fro' or a positive number (inf allowed), got {p!r}")
    axes = _axes(input, pick_dim(dim, axis, "norm"), "norm")
    return R.Norm.apply(input, p=float(p), axis=axes, keepdim=pick_keepdim(keepdim, keepdims))


def all(input: Tensor, dim=None, keepdim: bool = False, *, axis=None, keepdims=None) -> Tensor:
    """Whether every element (over ``dim``, an int or a tuple; ``()``: none) is true: bool (uint8
    for uint8)."""
    return _all_any(np.all, input, dim, keepdim, axis, keepdims, "all")


def any(input: Tensor, dim=None, keepdim: bool = False, *, axis=None, keepdims=None) -> Tensor:
    """Whether any element (over ``dim``, an int or a tuple; ``()``: none) is true: bool (uint8
    for uint8)."""
    return _all_any(np.any, input, dim, keepdim, axis, keepdims, "any")


def _all_any(fn, input, dim, keepdim, axis, keepdims, op):
    input = as_tensor(input, op)
    dim = pick_dim(dim, axis, op)
    # PyTorch's all/any read an empty tuple of dims as "reduce none" (sum etc. as "all").
    axes = () if isinstance(dim, (tuple, list)) and not dim else _axes(input, dim, op)
    out = np.asarray(fn(input.data, axis=axes, keepdims=pick_keepdim(keepdim, keepdims)))
    if input.data.dtype == np.uint8:
        out = out.astype(np.uint8)
    return Tensor._make(out, False, None)


def count_nonzero(input: Tensor, dim=None, *, axis=None) -> Tensor:
    """Number of non-zero elements (over ``dim``, an int or a tuple): int64."""
    input = as_tensor(input, "count_nonzero")
    axes = _axes(input, pick_dim(dim, axis, "count_nonzero"), "count_nonzero")
    n = np.count_nonzero(input.data, axis=axes)
    return Tensor._make(np.asarray(n, dtype=np.int64), False, None)


def median(input: Tensor, dim=None, keepdim: bool = False, *, axis=None, keepdims=None):
    """The lower median (the smaller of the two middle values for an even count), NaN where a NaN
    is present, as ``torch.median``.

    ``median(x)`` is a 0-d tensor whose gradient is shared evenly among the elements equal to it;
    ``median(x, dim)`` returns ``(values, indices)`` (the first NaN's index where one is present)
    and sends the gradient to the returned index.
    """
    return _median(input, dim, keepdim, axis, keepdims, False, "median")


def nanmedian(input: Tensor, dim=None, keepdim: bool = False, *, axis=None, keepdims=None):
    """:func:`median` ignoring NaNs (NaN only where a slice is all NaN)."""
    return _median(input, dim, keepdim, axis, keepdims, True, "nanmedian")


def _median(input, dim, keepdim, axis, keepdims, ignore_nan, op):
    input = as_tensor(input, op)
    no_bool(input, op)
    dim = pick_dim(dim, axis, op)
    if dim is None:
        _non_empty(input, None, op)
        return R.Median.apply(input, ignore_nan=ignore_nan)

    def index(a, d):
        n = a.shape[d]
        order = np.argsort(a, axis=d, kind="stable")  # NaNs last, in order
        nans = np.isnan(a).sum(axis=d, keepdims=True) if is_float(a.dtype) else np.zeros(1, int)
        if ignore_nan:
            pos = np.where(nans < n, (n - nans - 1) // 2, (n - 1) // 2)  # all NaN: as torch
        else:
            pos = np.where(nans > 0, n - nans, (n - 1) // 2)
        pos = np.broadcast_to(pos, order.shape[:d] + (1,) + order.shape[d + 1 :])
        return np.take_along_axis(order, pos, axis=d)

    return select_along(input, dim, pick_keepdim(keepdim, keepdims), op, index)


def mode(input: Tensor, dim: int = -1, keepdim: bool = False, *, axis=None, keepdims=None):
    """The most frequent value along ``dim`` (the smallest among equally frequent ones) and the
    index of its last occurrence, as ``torch.mode``: ``(values, indices)``. The gradient goes to
    the returned index. NaN inputs give unspecified results."""

    def index(a, d):
        a = np.moveaxis(a, d, -1)
        n = a.shape[-1]
        order = np.argsort(a, axis=-1, kind="stable")
        s = np.take_along_axis(a, order, axis=-1)
        new = np.ones(s.shape, dtype=bool)  # a run of equal values starts here
        new[..., 1:] = s[..., 1:] != s[..., :-1]
        last = np.ones(s.shape, dtype=bool)  # a run ends here
        last[..., :-1] = new[..., 1:]
        pos = np.arange(n)
        start = np.maximum.accumulate(np.where(new, pos, 0), axis=-1)
        end = np.flip(np.minimum.accumulate(np.flip(np.where(last, pos, n), -1), axis=-1), -1)
        best = np.argmax(end - start, axis=-1)[..., None]  # first longest run: smallest value
        idx = np.take_along_axis(order, np.take_along_axis(end, best, axis=-1), axis=-1)
        return np.moveaxis(idx, -1, d)

    if axis is not None:
        dim = axis
    return select_along(input, dim, pick_keepdim(keepdim, keepdims), "mode", index)


_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


def quantile(input: Tensor, q, dim=None, keepdim: bool = False, *, interpolation="linear",
             axis=None, keepdims=None) -> Tensor:  # fmt: skip
    """The ``q``-th quantiles along ``dim`` (None: of all elements), as ``torch.quantile``.

    ``q`` is a float or a 0-d tensor (no extra dim) or a 1-D tensor (its dim comes first in the
    output). The rank ``q * (n - 1)`` is interpolated between the sorted values below and above
    it (``interpolation``: linear, lower, higher, midpoint, nearest); a slice holding a NaN gives
    NaN. Differentiable in ``input`` as PyTorch (the gradient goes to the sorted neighbours,
    weighted as they were), not in ``q``.
    """
    return _quantile(input, q, dim, keepdim, interpolation, axis, keepdims, False, "quantile")


def nanquantile(input: Tensor, q, dim=None, keepdim: bool = False, *, interpolation="linear",
                axis=None, keepdims=None) -> Tensor:  # fmt: skip
    """:func:`quantile` ignoring NaNs (NaN only where a slice is all NaN)."""
    return _quantile(input, q, dim, keepdim, interpolation, axis, keepdims, True, "nanquantile")


def _quantile(input, q, dim, keepdim, interpolation, axis, keepdims, ignore_nan, op):
    input = as_tensor(input, op)
    _need_float(input, op)
    if input.data.dtype == np.float16:
        raise TypeError(f"{op}: input must be float32 or float64, got float16 (as PyTorch)")
    if interpolation not in _INTERPOLATIONS:
        raise ValueError(f"{op}: interpolation must be one of {_INTERPOLATIONS}, "
                         f"got {interpolation!r}")  # fmt: skip
    if isinstance(q, Tensor):
        if q.data.dtype != input.data.dtype:
            raise TypeError(f"{op}: q has dtype {q.data.dtype} but input has {input.data.dtype}")
        qa, scalar = q.data, q.ndim == 0
        if q.ndim > 1:
            raise ValueError(f"{op}: q must be a scalar or a 1-D tensor, got shape {q.shape}")
    elif isinstance(q, (int, float, np.floating)) and not isinstance(q, bool):
        qa, scalar = np.asarray(q, dtype=input.data.dtype), True
    else:
        raise TypeError(f"{op}: q must be a float or a tensor, got {type(q).__name__}")
    qa = qa.reshape(-1)
    if qa.size and not (qa.min() >= 0 and qa.max() <= 1):
        raise ValueError(f"{op}: q values must be in [0, 1], got {qa.tolist()}")
    dim = pick_dim(dim, axis, op)
    d = None if dim is None else one_dim(dim, input.ndim, op)
    if input.ndim == 0:
        d = None
    _non_empty(input, None if d is None else (d,), op)
    keep = pick_keepdim(keepdim, keepdims)
    return R.Quantile.apply(
        input, q=qa, dim=d, keepdim=keep, interpolation=interpolation, ignore_nan=ignore_nan,
        scalar=scalar,
    )  # fmt: skip


def equal(input: Tensor, other: Tensor) -> bool:
    """True if both tensors have the same shape and the same values (as ``torch.equal``; NaN is
    never equal to itself)."""
    if not isinstance(input, Tensor) or not isinstance(other, Tensor):
        raise TypeError(
            f"equal: expected two Tensors, got {type(input).__name__} and {type(other).__name__}"
        )
    return input.shape == other.shape and bool(np.array_equal(input.data, other.data))
