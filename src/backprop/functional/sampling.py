"""Sampling from distributions given as tensors: ``multinomial``, ``bernoulli``; and
``one_hot``, the inverse of a class index. None of them has a gradient (as in PyTorch)."""

from __future__ import annotations

import numpy as np

from ..random import resolve
from ..tensor import Tensor
from ._util import as_tensor

__all__ = ["multinomial", "bernoulli", "one_hot"]


def multinomial(input, num_samples: int, replacement: bool = False, *, generator=None) -> Tensor:
    """``num_samples`` indices drawn from each row of ``input`` (non-negative weights, not
    necessarily summing to 1), as ``torch.multinomial``.

    Args:
        input: (C,) or (N, C) weights.
        num_samples: draws per row; without replacement at most the number of categories
            (once the non-zero weights are used up, zero-weight ones follow, as in PyTorch).
        replacement: draw with replacement.
        generator: a ``backprop.Generator`` (default: the library's).

    Returns:
        (num_samples,) or (N, num_samples) int64 indices.
    """
    op = "multinomial"
    x = as_tensor(input, op)
    w = x.data
    if w.ndim not in (1, 2) or not np.issubdtype(w.dtype, np.floating):
        raise ValueError(f"{op}: input must be a 1-D or 2-D float tensor, got {w.dtype} {w.shape}")
    if isinstance(num_samples, bool) or not isinstance(num_samples, (int, np.integer)):
        raise TypeError(f"{op}: num_samples must be an int, got {num_samples!r}")
    if num_samples <= 0:
        raise ValueError(f"{op}: num_samples must be positive, got {num_samples}")
    rows = w.reshape(-1, w.shape[-1]).astype(np.float64)
    if not np.isfinite(rows).all() or (rows < 0).any():
        raise ValueError(f"{op}: probability tensor contains either inf, nan or element < 0")
    totals = rows.sum(axis=1)
    if (totals <= 0).any():
        raise ValueError(f"{op}: invalid multinomial distribution (sum of probabilities <= 0)")
    if not replacement and num_samples > rows.shape[1]:
        raise ValueError(
            f"{op}: cannot sample {num_samples} > {rows.shape[1]} samples without replacement"
        )
    rng = resolve(generator, op)
    p = rows / totals[:, None]
    if replacement:
        cdf = np.cumsum(p, axis=1)
        cdf[:, -1] = 1.0
        u = rng.random((rows.shape[0], num_samples))
        out = np.stack([np.searchsorted(c, ui, side="right") for c, ui in zip(cdf, u)])
    else:
        # Exponential races (Gumbel-top-k): the k smallest of E_i / p_i are a draw without
        # replacement with probabilities p, in order of drawing.
        with np.errstate(divide="ignore"):
            keys = rng.exponential(size=p.shape) / p
        out = np.argsort(keys, axis=1, kind="stable")[:, :num_samples]
    out = out.astype(np.int64)
    return Tensor._make(out[0] if w.ndim == 1 else out, False, None)


def bernoulli(input, p=None, *, generator=None) -> Tensor:
    """0/1 draws, 1 with probability ``input`` (each element in [0, 1]), or with probability
    ``p`` in ``input``'s shape; the result has ``input``'s dtype."""
    op = "bernoulli"
    x = as_tensor(input, op)
    probs = np.full(x.shape, p, dtype=np.float64) if p is not None else x.data.astype(np.float64)
    if not ((probs >= 0) & (probs <= 1)).all():
        raise ValueError(f"{op}: probabilities must be in [0, 1]")
    u = resolve(generator, op).random(x.shape)
    dtype = x.data.dtype if np.issubdtype(x.data.dtype, np.floating) else np.float32
    return Tensor._make((u < probs).astype(dtype), False, None)


def one_hot(tensor, num_classes: int = -1) -> Tensor:
    """(*,) int64 class indices -> (*, num_classes) int64 one-hot rows, as
    ``torch.nn.functional.one_hot`` (``num_classes=-1``: the largest index + 1)."""
    op = "one_hot"
    t = as_tensor(tensor, op)
    idx = t.data
    if idx.dtype != np.int64:
        raise TypeError(
            f"{op}: one_hot is only applicable to index tensor (int64), got {idx.dtype}"
        )
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)):
        raise TypeError(f"{op}: num_classes must be an int, got {num_classes!r}")
    if idx.size and idx.min() < 0:
        raise ValueError(f"{op}: class values must be non-negative, got {int(idx.min())}")
    if num_classes == -1:
        if idx.size == 0:
            raise ValueError(f"{op}: can not infer total number of classes from an empty tensor")
        num_classes = int(idx.max()) + 1
    if num_classes < 0:
        raise ValueError(f"{op}: num_classes must be -1 or non-negative, got {num_classes}")
    if idx.size and idx.max() >= num_classes:
        raise ValueError(f"{op}: class values must be smaller than num_classes ({num_classes})")
    out = np.zeros(idx.shape + (num_classes,), dtype=np.int64)
    np.put_along_axis(out, idx[..., None], 1, axis=-1)
    return Tensor._make(out, False, None)
