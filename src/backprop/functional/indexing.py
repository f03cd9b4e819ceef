"""Indexing and gathering: ``x[index]``, gather, index_select, masked_fill."""

from __future__ import annotations

import warnings

import numpy as np

from ..ops import indexing as I
from ..tensor import Tensor
from ._util import IndexDtypeError, IndexShapeError, check_index_dtype, fill_value, one_dim

__all__ = ["getitem", "gather", "index_select", "masked_fill"]


def _plain(i):
    """One index item as NumPy takes it, with PyTorch's reading of 0-d indices.

    A 0-d integer tensor or array is an integer (PyTorch selects with it; NumPy would count it
    as an advanced index), a 0-d bool one a Python bool, and an empty list an empty integer index.
    """
    if isinstance(i, Tensor):
        i = i.data
        if i.dtype == np.uint8:  # PyTorch's deprecated byte mask
            warnings.warn(
                "indexing with a uint8 tensor (a mask) is deprecated, as in PyTorch; use a "
                "bool tensor",
                UserWarning,
                stacklevel=3,
            )
            i = i.astype(np.bool_)
        elif i.ndim and i.dtype.kind in "iu" and i.dtype not in (np.int32, np.int64):
            raise IndexDtypeError(
                f"index: tensors used as indices must be int64, int32, uint8 or bool, got {i.dtype}"
            )
    elif isinstance(i, list):
        i = np.asarray(i)
        if i.size == 0 and i.dtype.kind == "f":
            i = i.astype(np.int64)  # torch: x[[]] selects nothing
    if isinstance(i, np.ndarray) and i.ndim == 0:
        if i.dtype == np.bool_:
            return bool(i)
        if np.issubdtype(i.dtype, np.integer):
            return int(i)
    if isinstance(i, np.bool_):
        return bool(i)
    return i


def getitem(input: Tensor, index) -> Tensor:
    """``input[index]`` with ints, slices, None, ``...``, integer arrays and bool masks, with
    PyTorch's rules (see :func:`_ints_first` for where they differ from NumPy's). The gradient
    is scattered back; repeated indices accumulate."""
    index = tuple(_plain(i) for i in index) if isinstance(index, tuple) else _plain(index)
    for i in index if isinstance(index, tuple) else (index,):
        if isinstance(i, np.ndarray) and not (
            np.issubdtype(i.dtype, np.integer) or i.dtype == np.bool_
        ):
            raise TypeError(
                f"index: tensors used as indices must be integer or bool, got {i.dtype}"
            )
        if isinstance(i, float):
            raise TypeError(f"index: float {i} cannot be used as an index")
    try:
        split = _ints_first(index, input.ndim)
        if split is not None:  # PyTorch's rule, not NumPy's: see _ints_first
            first, rest = split
            return I.GetItem.apply(input, index=rest, first=first)
        return I.GetItem.apply(input, index=index)
    except IndexError as e:
        raise IndexShapeError(f"index: {e} (tensor of shape {input.shape})") from None


def _is_int(i) -> bool:
    return isinstance(i, (int, np.integer)) and not isinstance(i, (bool, np.bool_))


def _ints_first(index, ndim: int | None = None):
    """``(basic part, advanced part)`` when NumPy would place an advanced index's dimensions
    elsewhere than PyTorch does, else None. ``x[index]`` is then ``x[first][rest]``.

    PyTorch (``applySlicing`` then ``index``) first applies the integers, slices, None and
    ``...`` as plain view operations; an integer removes its dimension and takes no part in
    the advanced indexing. Then the index tensors sit at their positions among the remaining
    dimensions, and their result dimensions go first if and only if some dimension lies
    between two of them (a slice, a None, or an ``...`` that stands for at least one
    dimension); else they stay in place. NumPy counts an integer as an advanced index, so
    ``x[0, :, idx]`` puts idx's dimension first, and an ``...`` always separates, even one that
    stands for no dimension: on a (2, 1, 1) tensor ``x[:, [0], ..., [0]]`` is (2, 1) in PyTorch,
    (1, 2) in NumPy. A Python bool adds a dimension of size 1 indexed by ``[0]`` (True) or
    ``[]`` (False), as in PyTorch.

    ``rest`` holds only full slices and arrays, where NumPy's placement is PyTorch's. ``ndim``
    (the indexed tensor's) tells how many dimensions an ``...`` stands for; without it the
    ``...`` is kept in ``rest`` (right unless it stands for no dimension between two arrays).
    """
    items = index if isinstance(index, tuple) else (index,)
    arrays = [isinstance(i, np.ndarray) and i.ndim > 0 for i in items]
    bools = [isinstance(i, (bool, np.bool_)) for i in items]
    if not any(arrays) and not any(bools):
        return None
    if not any(_is_int(i) or i is None or i is Ellipsis or b for i, b in zip(items, bools)):
        return None  # only slices and arrays: NumPy's rule is PyTorch's
    consumed = sum(
        (i.ndim if i.dtype == np.bool_ else 1)
        if a
        else (0 if b or i is None or i is Ellipsis else 1)
        for i, a, b in zip(items, arrays, bools)
    )
    first, rest = [], []
    for i, a, b in zip(items, arrays, bools):
        if b:
            first.append(None)
            rest.append(np.zeros(1 if i else 0, dtype=np.int64))
        elif _is_int(i):
            first.append(i)
        elif a and i.dtype == np.bool_:
            first.extend([slice(None)] * i.ndim)  # a mask consumes its ndim dimensions
            rest.append(i)
        elif a:
            first.append(slice(None))
            rest.append(i)
        elif i is None:
            first.append(None)
            rest.append(slice(None))
        elif i is Ellipsis:
            first.append(i)
            if ndim is None:
                rest.append(i)
            else:
                rest.extend([slice(None)] * max(ndim - consumed, 0))
        else:  # a slice (or anything else, for NumPy to judge): one dimension
            first.append(i)
            rest.append(slice(None))
    return tuple(first), tuple(rest)


def gather(input: Tensor, dim: int, index: Tensor) -> Tensor:
    """``out[i][j] = input[i][index[i][j]]`` along ``dim`` (``index`` has input's rank)."""
    d = one_dim(dim, input.ndim, "gather")
    check_index_dtype(index, "gather")
    idx = _plain(index)
    if not isinstance(idx, np.ndarray) or not np.issubdtype(idx.dtype, np.integer):
        raise TypeError("gather: index must be an integer tensor")
    if idx.ndim != input.ndim:
        raise ValueError(f"gather: index of shape {idx.shape} must have input's rank {input.ndim}")
    for a in range(input.ndim):
        if a != d and idx.shape[a] > input.shape[a]:
            raise ValueError(
                f"gather: index shape {idx.shape} exceeds input {input.shape} at dim {a}"
            )
    if idx.size and (idx.min() < -input.shape[d] or idx.max() >= input.shape[d]):
        raise IndexShapeError(f"gather: index out of range for dim {dim} of size {input.shape[d]}")
    if idx.shape != input.shape:
        # take_along_axis needs equal sizes off-dim; PyTorch allows smaller ones.
        input = input[
            tuple(slice(0, n) if a != d else slice(None) for a, n in enumerate(idx.shape))
        ]
    return I.Gather.apply(input, idx, dim=d)


def index_select(input: Tensor, dim: int, index: Tensor) -> Tensor:
    """Select entries ``index`` (1-D integer) along ``dim``."""
    d = one_dim(dim, input.ndim, "index_select")
    check_index_dtype(index, "index_select")
    idx = np.asarray(_plain(index))
    if idx.ndim > 1 or not np.issubdtype(idx.dtype, np.integer):
        raise TypeError(
            f"index_select: index must be a 1-D integer tensor, got {idx.dtype} {idx.shape}"
        )
    n = input.shape[d]
    if idx.size and (idx.min() < -n or idx.max() >= n):
        raise IndexShapeError(f"index_select: index out of range for dim {dim} of size {n}")
    return I.IndexSelect.apply(input, idx.reshape(-1), dim=d)


def masked_fill(input: Tensor, mask: Tensor, value: float) -> Tensor:
    """``value`` where ``mask`` (bool, broadcastable to input) is true, else ``input``."""
    m = np.asarray(mask.data if isinstance(mask, Tensor) else _plain(mask))
    if m.dtype != np.bool_:
        raise TypeError(f"masked_fill: mask must be a bool tensor, got dtype {m.dtype}")
    try:
        shape = np.broadcast_shapes(m.shape, input.shape)
    except ValueError:
        raise ValueError(
            f"masked_fill: mask of shape {m.shape} does not broadcast with input {input.shape}"
        ) from None
    if shape != input.shape:  # (the result has the broadcast shape, as PyTorch's)
        input = input.expand(*shape)
    if isinstance(value, Tensor) and value.ndim:
        raise ValueError(
            f"masked_fill: value must be a number or a 0-d tensor, got shape {value.shape}"
        )
    value = fill_value(value, input.data.dtype, "masked_fill")
    return I.MaskedFill.apply(input, m, value=value)
