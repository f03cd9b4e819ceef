"""``embedding_bag`` (exposed as ``backprop.nn.functional.embedding_bag``)."""

from __future__ import annotations

import numpy as np

from ..ops.embedding_bag import EmbeddingBag
from ..tensor import Tensor
from ._util import IndexShapeError, is_float
from .embedding import renorm_rows

__all__ = ["embedding_bag"]


def embedding_bag(
    input: Tensor,
    weight: Tensor,
    offsets: Tensor | None = None,
    max_norm: float | None = None,
    norm_type: float = 2.0,
    scale_grad_by_freq: bool = False,
    mode: str = "mean",
    sparse: bool = False,
    per_sample_weights: Tensor | None = None,
    include_last_offset: bool = False,
    padding_idx: int | None = None,
) -> Tensor:
    """The sum, mean or max of the embedding rows of each bag of indices, without building the
    (bags, length, dim) lookup.

    Args:
        input: integer indices: (B, L) for B bags of L indices each, or a flat (n,) vector cut
            into bags by ``offsets``.
        weight: the embedding matrix (V, D).
        offsets: with a 1-D input, the start of every bag (``offsets[0] == 0``, non-decreasing;
            a bag may be empty and gives zeros).
        max_norm, norm_type: renormalise the rows looked up (in place, without gradient) to a
            ``norm_type``-norm at most ``max_norm``, as :func:`embedding`.
        scale_grad_by_freq, sparse: not supported (True raises NotImplementedError).
        mode: ``'sum'``, ``'mean'`` or ``'max'`` (the gradient goes to each bag's first
            maximal row, per dim).
        per_sample_weights: float weights of the input's shape, multiplying each row (mode
            ``'sum'`` only); differentiable.
        include_last_offset: ``offsets`` has B + 1 entries, the last one the end of the last bag.
        padding_idx: indices equal to it are left out of their bags (and of the mean's count).

    Shape: output (B, D).

    Example:
        >>> w = backprop.randn(10, 3)
        >>> embedding_bag(backprop.tensor([1, 2, 4, 5, 4]), w, backprop.tensor([0, 2])).shape
        (2, 3)
    """
    op = "embedding_bag"
    if not isinstance(weight, Tensor) or weight.ndim != 2 or not is_float(weight.dtype):
        got = weight.shape if isinstance(weight, Tensor) else type(weight).__name__
        raise ValueError(f"{op}: weight must be a 2-D float Tensor (V, D), got {got}")
    if mode not in ("sum", "mean", "max"):
        raise ValueError(f"{op}: mode must be 'sum', 'mean' or 'max', got {mode!r}")
    if scale_grad_by_freq or sparse:
        raise NotImplementedError(f"{op}: scale_grad_by_freq and sparse are not supported")
    idx = input.data if isinstance(input, Tensor) else np.asarray(input)
    if not np.issubdtype(idx.dtype, np.integer):
        raise TypeError(f"{op}: indices must be integers, got dtype {idx.dtype}")
    V = weight.shape[0]
    starts = _bag_starts(idx, offsets, include_last_offset, op)
    psw = per_sample_weights
    if psw is not None:
        _check_per_sample_weights(psw, mode, idx, weight, op)
    flat = idx.reshape(-1).astype(np.int64, copy=False)
    if flat.size and (flat.min() < 0 or flat.max() >= V):
        bad = flat[(flat < 0) | (flat >= V)][0]
        raise IndexShapeError(f"{op}: index {int(bad)} is out of range for {V} embeddings")
    if padding_idx is not None:
        if not -V <= padding_idx < V:
            raise ValueError(f"{op}: padding_idx {padding_idx} must be within [-{V}, {V})")
        padding_idx = int(padding_idx) % V
    end = int(starts[-1])
    flat = flat[:end]
    if max_norm is not None:
        renorm_rows(weight, flat, max_norm, norm_type)
    args = (weight, flat)
    if psw is not None:
        args += (psw.reshape(-1)[:end] if end < psw.numel() else psw.reshape(-1),)
    return EmbeddingBag.apply(*args, starts=starts, mode=mode, padding_idx=padding_idx)


def _bag_starts(idx: np.ndarray, offsets, include_last_offset: bool, op: str) -> np.ndarray:
    """Where each bag starts in the flattened indices, plus the end of the last: B + 1 int64
    offsets. A (B, L) input gives bags of L; a 1-D input is cut by ``offsets`` (checked:
    ``offsets[0] == 0``, non-decreasing, within the input)."""
    if idx.ndim == 2:
        if offsets is not None:
            raise ValueError(f"{op}: offsets must be None with a 2-D input (got shape {idx.shape})")
        B, L = idx.shape
        return np.arange(B + 1, dtype=np.int64) * L
    if idx.ndim != 1:
        raise ValueError(f"{op}: input must be 1-D (with offsets) or 2-D, got shape {idx.shape}")
    if offsets is None:
        raise ValueError(f"{op}: a 1-D input needs offsets")
    off = offsets.data if isinstance(offsets, Tensor) else np.asarray(offsets)
    if off.ndim != 1 or not np.issubdtype(off.dtype, np.integer):
        raise ValueError(f"{op}: offsets must be a 1-D integer tensor, got {off.shape}")
    off = off.astype(np.int64)
    if off.size and off[0] != 0:
        raise ValueError(f"{op}: offsets[0] has to be 0, got {int(off[0])}")
    if off.size and off[-1] > idx.size:
        raise ValueError(
            f"{op}: offsets[-1] can not be greater than the input's length {idx.size}, got "
            f"{int(off[-1])}"
        )
    if off.size and (np.diff(off) < 0).any():
        raise ValueError(f"{op}: offsets must be non-decreasing, got {off.tolist()}")
    if include_last_offset:
        if off.size < 1:
            raise ValueError(f"{op}: include_last_offset needs at least one offset")
        return off
    return np.concatenate([off, [idx.size]])


def _check_per_sample_weights(psw, mode: str, idx: np.ndarray, weight: Tensor, op: str) -> None:
    """``per_sample_weights``: mode 'sum' only, a Tensor of the input's shape and weight's dtype."""
    if mode != "sum":
        raise NotImplementedError(
            f"{op}: per_sample_weights is only supported for mode='sum', got mode={mode!r}"
        )
    if not isinstance(psw, Tensor) or tuple(psw.shape) != tuple(idx.shape):
        got = psw.shape if isinstance(psw, Tensor) else type(psw).__name__
        raise ValueError(
            f"{op}: per_sample_weights must be a Tensor of the input's shape {idx.shape}, got {got}"
        )
    if psw.dtype != weight.dtype:
        raise TypeError(
            f"{op}: per_sample_weights dtype {psw.dtype} must match weight dtype {weight.dtype}"
        )
