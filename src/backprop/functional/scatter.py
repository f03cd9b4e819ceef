"""Scatter-style writes and selections: scatter, scatter_add, scatter_reduce, index_add,
index_copy, index_fill, masked_select, masked_scatter, take, take_along_dim, nonzero, argwhere.

All are out of place (they return a new tensor, as ``torch.scatter``); indices are integer
tensors and carry no gradient.
"""

from __future__ import annotations

import numpy as np

from ..ops import scatter as P
from ..ops.indexing import Gather
from ..tensor import Tensor
from ._util import IndexShapeError, as_tensor, check_index_dtype, fill_value, one_dim

__all__ = [
    "scatter", "scatter_add", "scatter_reduce", "index_add", "index_copy", "index_fill",
    "masked_select", "masked_scatter", "take", "take_along_dim", "nonzero", "argwhere",
]  # fmt: skip

_REDUCES = ("sum", "prod", "mean", "amax", "amin")
_INT64_ONLY = ("take", "take_along_dim", "index_copy", "index_fill")  # (PyTorch's index dtypes)


def _int_index(index, op: str) -> np.ndarray:
    check_index_dtype(index, op, int32=op not in _INT64_ONLY)
    a = np.asarray(index.data if isinstance(index, Tensor) else index)
    if not np.issubdtype(a.dtype, np.integer):
        raise TypeError(f"{op}: index must be an integer tensor, got dtype {a.dtype}")
    return a.astype(np.int64, copy=False)


def _in_range(idx, n: int, op: str, negative: bool = False) -> None:
    lo = -n if negative else 0
    if idx.size and (idx.min() < lo or idx.max() >= n):
        raise IndexShapeError(
            f"{op}: index out of range [{lo}, {n}) (got values {idx.min()}..{idx.max()})"
        )


def _same_dtype(input: Tensor, src: Tensor, op: str) -> None:
    if src.data.dtype != input.data.dtype:
        raise TypeError(f"{op}: src has dtype {src.data.dtype} but input has {input.data.dtype}")


def _scatter_args(input, dim, index, src, op):
    """Checked (input, d, index, src cut to index's shape); a number src is filled out."""
    input = as_tensor(input, op)
    d = one_dim(dim, input.ndim, op)
    idx = _int_index(index, op)
    nd = max(input.ndim, 1)
    if idx.ndim != input.ndim and not (idx.ndim <= 1 and input.ndim <= 1):
        raise ValueError(f"{op}: index has {idx.ndim} dims but input has {input.ndim}")
    x = input.reshape(-1) if input.ndim == 0 else input
    idx = idx.reshape(-1) if idx.ndim == 0 else idx
    for a in range(nd):
        if a != d and idx.shape[a] > x.shape[a]:
            raise ValueError(f"{op}: index of shape {idx.shape} exceeds input {x.shape} at dim {a}")
    if isinstance(src, Tensor):
        _same_dtype(input, src, op)
    _in_range(idx, x.shape[d], op)
    if isinstance(src, Tensor):
        s = src.reshape(-1) if src.ndim == 0 else src
        if s.ndim != idx.ndim or any(i > n for i, n in zip(idx.shape, s.shape)):
            raise ValueError(f"{op}: index of shape {idx.shape} exceeds src of shape {src.shape}")
        if s.shape != idx.shape:
            s = s[tuple(slice(0, n) for n in idx.shape)]
    else:
        s = np.full(idx.shape, fill_value(src, input.data.dtype, op), dtype=input.data.dtype)
    return input, x, d, idx, s


def _back(input: Tensor, y: Tensor) -> Tensor:
    from .shape import reshape

    return reshape(y, ()) if input.ndim == 0 else y


def scatter(input: Tensor, dim: int, index: Tensor, src=None, *, value=None, reduce=None):
    """``out[i][index[i][j]] = src[i][j]`` along ``dim`` (a copy of ``input`` otherwise).

    ``src`` is a tensor (only its ``index``-shaped corner is read) or a number (also as
    ``value=``). Repeated indices keep one of their values, unspecified which (as PyTorch).
    ``reduce="add"`` / ``"multiply"`` is PyTorch's legacy form of :func:`scatter_reduce`.
    """
    if src is None:
        src = value
    if src is None:
        raise TypeError("scatter: give src (a tensor) or value (a number)")
    if reduce is not None:
        if reduce not in ("add", "multiply"):
            raise ValueError(f"scatter: reduce must be 'add' or 'multiply', got {reduce!r}")
        input = as_tensor(input, "scatter")
        if not isinstance(src, Tensor):
            src = Tensor._make(np.full(_int_index(index, "scatter").shape,
                                       fill_value(src, input.dtype, "scatter"), input.dtype),
                               False, None)  # fmt: skip
        return scatter_reduce(input, dim, index, src, "sum" if reduce == "add" else "prod")
    input, x, d, idx, s = _scatter_args(input, dim, index, src, "scatter")
    return _back(input, P.Scatter.apply(x, s, index=idx, dim=d))


def scatter_add(input: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    """``out[i][index[i][j]] += src[i][j]`` along ``dim``; repeated indices accumulate."""
    input, x, d, idx, s = _scatter_args(input, dim, index, as_tensor(src, "scatter_add"),
                                        "scatter_add")  # fmt: skip
    return _back(input, P.ScatterAdd.apply(x, s, index=idx, dim=d))


def scatter_reduce(input: Tensor, dim: int, index: Tensor, src: Tensor, reduce: str, *,
                   include_self: bool = True) -> Tensor:  # fmt: skip
    """Reduce ``src`` into ``out[i][index[i][j]]`` along ``dim`` with ``reduce`` (``"sum"``,
    ``"prod"``, ``"mean"``, ``"amax"``, ``"amin"``); ``include_self`` says whether input's own
    value joins the reduction at the places written to. Integer means round down, as PyTorch's.
    The gradients are PyTorch's (exact products around zeros, ties of amax/amin share evenly).
    """
    if reduce not in _REDUCES:
        raise ValueError(f"scatter_reduce: reduce must be one of {_REDUCES}, got {reduce!r}")
    input, x, d, idx, s = _scatter_args(input, dim, index, as_tensor(src, "scatter_reduce"),
                                        "scatter_reduce")  # fmt: skip
    out = P.ScatterReduce.apply(x, s, index=idx, dim=d, reduce=reduce,
                                include_self=bool(include_self))  # fmt: skip
    return _back(input, out)


def _index_args(input, dim, index, source, op):
    input = as_tensor(input, op)
    if input.ndim == 0:
        raise ValueError(f"{op}: input must have at least one dim")
    d = one_dim(dim, input.ndim, op)
    idx = _int_index(index, op)
    if idx.ndim > 1:
        raise ValueError(f"{op}: index must be 0-d or 1-D, got shape {idx.shape}")
    idx = idx.reshape(-1)
    _in_range(idx, input.shape[d], op, negative=True)
    if source is None:
        return input, d, idx, None
    source = as_tensor(source, op)
    _same_dtype(input, source, op)
    want = input.shape[:d] + (idx.size,) + input.shape[d + 1 :]
    if source.shape != want:
        if source.data.size != np.prod(want, dtype=int):
            raise ValueError(
                f"{op}: source of shape {source.shape} does not fit {want} "
                f"(input {input.shape}, {idx.size} indices along dim {dim})"
            )
        source = source.reshape(want)
    return input, d, idx, source


def index_add(input: Tensor, dim: int, index: Tensor, source: Tensor, *, alpha=1) -> Tensor:
    """``out[..., index[i], ...] += alpha * source[..., i, ...]`` along ``dim``; repeats add up."""
    input, d, idx, source = _index_args(input, dim, index, source, "index_add")
    return P.IndexAdd.apply(input, source, index=idx, dim=d, alpha=alpha)


def index_copy(input: Tensor, dim: int, index: Tensor, source: Tensor) -> Tensor:
    """``out[..., index[i], ...] = source[..., i, ...]`` along ``dim``."""
    input, d, idx, source = _index_args(input, dim, index, source, "index_copy")
    return P.IndexCopy.apply(input, source, index=idx, dim=d)


def index_fill(input: Tensor, dim: int, index: Tensor, value) -> Tensor:
    """The entries ``index`` along ``dim`` set to ``value`` (a number, or a 0-d tensor, which
    then gets the sum of their gradients)."""
    input, d, idx, _ = _index_args(input, dim, index, None, "index_fill")
    if isinstance(value, Tensor):
        if value.ndim:
            raise ValueError(f"index_fill: value must be a number or 0-d, got shape {value.shape}")
        if value.data.dtype != input.data.dtype:
            fill_value(value, input.data.dtype, "index_fill")  # (checked as a number would be)
            value = value.to(input.data.dtype)
        return P.IndexFill.apply(input, value, index=idx, dim=d)
    fill = fill_value(value, input.data.dtype, "index_fill")
    return P.IndexFill.apply(input, index=idx, dim=d, fill=fill)


def _mask(mask, input: Tensor, op: str, to_input: bool) -> np.ndarray:
    m = np.asarray(mask.data if isinstance(mask, Tensor) else mask)
    if m.dtype != np.bool_:
        raise TypeError(f"{op}: mask must be a bool tensor, got dtype {m.dtype}")
    try:
        shape = np.broadcast_shapes(m.shape, input.shape)
        if to_input and shape != input.shape:
            raise ValueError
    except ValueError:
        raise ValueError(f"{op}: mask of shape {m.shape} does not broadcast with input "
                         f"{input.shape}") from None  # fmt: skip
    return m


def masked_select(input: Tensor, mask: Tensor) -> Tensor:
    """The elements where ``mask`` (bool, broadcast with input) is true, as a 1-D tensor."""
    input = as_tensor(input, "masked_select")
    return P.MaskedSelect.apply(input, mask=_mask(mask, input, "masked_select", False))


def masked_scatter(input: Tensor, mask: Tensor, source: Tensor) -> Tensor:
    """``input`` with the places where ``mask`` is true filled, in row-major order, from
    ``source``'s first elements (source needs at least as many elements as mask has trues)."""
    input = as_tensor(input, "masked_scatter")
    source = as_tensor(source, "masked_scatter")
    _same_dtype(input, source, "masked_scatter")
    m = _mask(mask, input, "masked_scatter", False)
    k = int(np.broadcast_to(m, np.broadcast_shapes(m.shape, input.shape)).sum())
    if source.data.size < k:
        raise ValueError(f"masked_scatter: mask selects {k} places but source has only "
                         f"{source.data.size} elements")  # fmt: skip
    return P.MaskedScatter.apply(input, source, mask=m)


def take(input: Tensor, index: Tensor) -> Tensor:
    """The elements of the flattened ``input`` at ``index`` (negatives count from the end), in
    ``index``'s shape."""
    input = as_tensor(input, "take")
    idx = _int_index(index, "take")
    _in_range(idx, input.data.size, "take", negative=True)
    return P.Take.apply(input, index=idx)


def take_along_dim(input: Tensor, indices: Tensor, dim=None) -> Tensor:
    """``gather`` along ``dim`` with input and indices broadcast against each other elsewhere
    (NumPy's take_along_axis); ``dim=None``: along the flattened input."""
    from .shape import expand, reshape

    input = as_tensor(input, "take_along_dim")
    idx = _int_index(indices, "take_along_dim")
    if dim is None:
        n = input.data.size
        _in_range(idx, n, "take_along_dim", negative=True)
        return Gather.apply(reshape(input, -1), idx.reshape(-1) % max(n, 1), dim=0)
    d = one_dim(dim, input.ndim, "take_along_dim")
    if idx.ndim != input.ndim:
        raise ValueError(f"take_along_dim: input has {input.ndim} dims but indices {idx.ndim}")
    n = input.shape[d]
    _in_range(idx, n, "take_along_dim", negative=True)
    rest = [s for a, s in enumerate(input.shape) if a != d]
    irest = [s for a, s in enumerate(idx.shape) if a != d]
    try:
        common = list(np.broadcast_shapes(tuple(rest), tuple(irest)))
    except ValueError:
        raise ValueError(f"take_along_dim: shapes {input.shape} and {idx.shape} do not broadcast "
                         f"outside dim {dim}") from None  # fmt: skip
    xs = tuple(common[:d]) + (n,) + tuple(common[d:])
    ishape = tuple(common[:d]) + (idx.shape[d],) + tuple(common[d:])
    x = expand(input, xs) if xs != input.shape else input
    return Gather.apply(x, np.broadcast_to(idx % max(n, 1), ishape), dim=d)


def nonzero(input: Tensor, *, as_tuple: bool = False):
    """Indices of the non-zero elements: an (n, ndim) int64 tensor, or (``as_tuple=True``) a
    tuple of ndim 1-D tensors (one for a 0-d input)."""
    a = np.asarray(as_tensor(input, "nonzero").data)
    if as_tuple:
        return tuple(Tensor._make(i.astype(np.int64), False, None)
                     for i in np.nonzero(np.atleast_1d(a)))  # fmt: skip
    return Tensor._make(np.argwhere(a).astype(np.int64), False, None)


def argwhere(input: Tensor) -> Tensor:
    """``nonzero(input)``: an (n, ndim) int64 tensor of the non-zero elements' indices."""
    return nonzero(input)
