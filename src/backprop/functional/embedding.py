"""Embedding lookup (exposed as ``backprop.nn.functional.embedding``)."""

from __future__ import annotations

import numpy as np

from ..autograd.grad_mode import no_grad
from ..ops.embedding import Embedding
from ..tensor import Tensor
from ._util import IndexShapeError, check_index_dtype, is_float

__all__ = ["embedding"]


def embedding(
    input: Tensor,
    weight: Tensor,
    padding_idx: int | None = None,
    max_norm: float | None = None,
    norm_type: float = 2.0,
) -> Tensor:
    """Pick rows of ``weight`` by the integer indices in ``input``.

    Args:
        input: integer indices in [0, V), any shape.
        weight: the embedding matrix (V, D).
        padding_idx: a row that receives no gradient (negative counts from the end).
        max_norm: if given, the rows looked up are first renormalised in place (without
            gradient) to have ``norm_type``-norm at most ``max_norm``, as in PyTorch.
        norm_type: the p of that norm.

    Shape: input (*) -> (*, D).
    """
    op = "embedding"
    if not isinstance(weight, Tensor) or weight.ndim != 2 or not is_float(weight.dtype):
        got = weight.shape if isinstance(weight, Tensor) else type(weight).__name__
        raise ValueError(f"{op}: weight must be a 2-D float Tensor (V, D), got {got}")
    check_index_dtype(input, op)
    idx = input.data if isinstance(input, Tensor) else np.asarray(input)
    if not np.issubdtype(idx.dtype, np.integer):
        raise TypeError(f"{op}: indices must be integers, got dtype {idx.dtype}")
    V = weight.shape[0]
    if idx.size and (idx.min() < 0 or idx.max() >= V):
        bad = idx[(idx < 0) | (idx >= V)].reshape(-1)[0]
        raise IndexShapeError(f"{op}: index {int(bad)} is out of range for {V} embeddings")
    if padding_idx is not None:
        if not -V <= padding_idx < V:
            raise ValueError(f"{op}: padding_idx {padding_idx} must be within [-{V}, {V})")
        padding_idx = int(padding_idx) % V
    if max_norm is not None:
        renorm_rows(weight, idx, max_norm, norm_type)
    return Embedding.apply(weight, idx, padding_idx=padding_idx)


def renorm_rows(weight: Tensor, idx: np.ndarray, max_norm: float, norm_type: float) -> None:
    """Scale the rows of ``weight`` that ``idx`` picks, in place and without gradient, to a
    ``norm_type``-norm at most ``max_norm`` (PyTorch's ``embedding_renorm_``: a row over the
    bound is multiplied by ``max_norm / (norm + 1e-7)``); the version is bumped if one was."""
    with no_grad():
        rows = np.unique(idx)
        w = weight.data
        norms = np.linalg.norm(w[rows], ord=norm_type, axis=1)
        big = norms > max_norm
        scale = (max_norm / (norms[big] + 1e-7)).astype(w.dtype)
        w[rows[big]] *= scale[:, None]
        if big.any():
            weight._bump_version()
