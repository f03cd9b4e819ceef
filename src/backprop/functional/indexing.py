"""Indexing and gathering: ``x[index]``, gather, index_select, masked_fill."""

from __future__ import annotations

import numpy as np

from ..ops import indexing as I
from ..tensor import Tensor
from ._util import IndexShapeError, one_dim

__all__ = ["getitem", "gather", "index_select", "masked_fill", "take"]


def _plain(i):
    if isinstance(i, Tensor):
        return i.data
    if isinstance(i, list):
        return np.asarray(i)
    return i


def getitem(input: Tensor, index) -> Tensor:
    """``input[index]`` with ints, slices, None, ``...``, integer arrays and bool masks (NumPy
    rules). The gradient is scattered back; repeated indices accumulate."""
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
        split = _ints_first(index)
        if split is not None:  # PyTorch's rule, not NumPy's: see _ints_first
            first, rest = split
            return I.GetItem.apply(I.GetItem.apply(input, index=first), index=rest)
        return I.GetItem.apply(input, index=index)
    except IndexError as e:
        raise IndexShapeError(f"index: {e} (tensor of shape {input.shape})") from None


def _is_int(i) -> bool:
    return isinstance(i, (int, np.integer)) and not isinstance(i, (bool, np.bool_))


def _ints_first(index):
    """``(ints only, the rest)`` when ``index`` mixes integers with integer-array or mask indices,
    else None.

    NumPy counts an integer as an advanced index when arrays are present, so ``x[0, :, idx]``
    puts idx's dimension first (the advanced indices are not adjacent); PyTorch applies the
    integers first, as plain selections, and then ``[:, idx]``. Indexing twice gives PyTorch's
    result.
    """
    if not isinstance(index, tuple) or not any(_is_int(i) for i in index):
        return None
    if not any(isinstance(i, np.ndarray) and i.ndim > 0 for i in index):
        return None
    first, rest = [], []
    for i in index:
        if _is_int(i):
            first.append(i)
        elif isinstance(i, np.ndarray) and i.dtype == np.bool_:
            first.extend([slice(None)] * i.ndim)  # a mask consumes its ndim dimensions
            rest.append(i)
        elif i is None or i is Ellipsis or isinstance(i, (bool, np.bool_)):
            first.append(i)
            rest.append(i if i is Ellipsis else slice(None))  # None/bool: a new dim
        else:  # a slice or an integer array: one dimension
            first.append(slice(None))
            rest.append(i)
    return tuple(first), tuple(rest)


def gather(input: Tensor, dim: int, index: Tensor) -> Tensor:
    """``out[i][j] = input[i][index[i][j]]`` along ``dim`` (``index`` has input's rank)."""
    d = one_dim(dim, input.ndim, "gather")
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
    idx = np.asarray(_plain(index))
    if idx.ndim > 1 or not np.issubdtype(idx.dtype, np.integer):
        raise TypeError(
            f"index_select: index must be a 1-D integer tensor, got {idx.dtype} {idx.shape}"
        )
    n = input.shape[d]
    if idx.size and (idx.min() < -n or idx.max() >= n):
        raise IndexShapeError(f"index_select: index out of range for dim {dim} of size {n}")
    return I.IndexSelect.apply(input, idx.reshape(-1), dim=d)


take = index_select


def masked_fill(input: Tensor, mask: Tensor, value: float) -> Tensor:
    """``value`` where ``mask`` (bool, broadcastable to input) is true, else ``input``."""
    m = np.asarray(_plain(mask))
    if m.dtype != np.bool_:
        raise TypeError(f"masked_fill: mask must be a bool tensor, got dtype {m.dtype}")
    try:
        if np.broadcast_shapes(m.shape, input.shape) != input.shape:
            raise ValueError
    except ValueError:
        raise ValueError(
            f"masked_fill: mask of shape {m.shape} does not broadcast to input {input.shape}"
        ) from None
    if isinstance(value, Tensor):
        value = value.item()
    return I.MaskedFill.apply(input, m, value=value)
