"""Gradient clipping: rescale the gradients to a maximum global norm, or clamp each value.

Both work in place on ``p.grad``; call them between ``loss.backward()`` and ``optimizer.step()``.
"""

from __future__ import annotations

import math
import types
import warnings
from collections.abc import Iterable

import numpy as np

from ...tensor import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_value_", "get_total_norm", "clip_grads_with_norm_"]


def _tensors(parameters, fn: str) -> list[Tensor]:
    if isinstance(parameters, Tensor):
        return [parameters]
    is_generator = isinstance(parameters, types.GeneratorType)
    params = list(parameters)
    if is_generator and not params:
        warnings.warn(
            f"{fn}: `parameters` is an empty generator, no gradient clipping will occur",
            stacklevel=3,
        )
    for i, p in enumerate(params):
        if not isinstance(p, Tensor):
            raise TypeError(f"{fn}: parameter {i} is a {type(p).__name__}, not a Tensor")
    return params


def _positive(value, name: str, fn: str, allow_inf: bool = True) -> float:
    """A non-negative number (a negative bound would flip the gradients' sign silently)."""
    if isinstance(value, bool) or isinstance(value, (str, bytes)):
        raise TypeError(f"{fn}: {name} must be a number, got {value!r}")
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{fn}: {name} must be a number, got {type(value).__name__}") from None
    if not v >= 0 or (v == math.inf and not allow_inf):  # NaN fails too
        raise ValueError(f"{fn}: {name} must be >= 0, got {value!r}")
    return v


def _norm_type(norm_type, fn: str) -> float:
    if isinstance(norm_type, bool):
        raise TypeError(f"{fn}: norm_type must be a number (or math.inf), got {norm_type!r}")
    try:
        p = float(norm_type)  # 'inf' is accepted, as in PyTorch
    except (TypeError, ValueError):
        raise TypeError(
            f"{fn}: norm_type must be a number (or math.inf), got {type(norm_type).__name__} "
            f"{norm_type!r:.40}"
        ) from None
    if math.isnan(p):
        raise ValueError(f"{fn}: norm_type must be a number, got nan")
    return p


def _vector_norm(x: np.ndarray, p: float):
    """The p-norm of ``x`` flattened, in x's dtype (as ``torch.linalg.vector_norm``)."""
    a = x.reshape(-1)
    if a.size == 0:
        return x.dtype.type(0)
    if p == 2.0:
        return np.sqrt(np.dot(a, a))  # a BLAS dot: one pass, no temporary
    if p == math.inf:
        return np.abs(a).max()
    if p == -math.inf:
        return np.abs(a).min()
    if p == 0.0:
        return x.dtype.type(np.count_nonzero(a))
    if p == 1.0:
        return np.abs(a).sum()
    return (np.abs(a) ** x.dtype.type(p)).sum() ** x.dtype.type(1.0 / p)


def get_total_norm(
    tensors: Tensor | Iterable[Tensor], norm_type: float = 2.0, error_if_nonfinite: bool = False
) -> Tensor:
    """The norm of the norms of ``tensors``: the norm of all their values seen as one vector.

    Args:
        tensors: a Tensor or an iterable of Tensors (typically the gradients).
        norm_type: the order p of the norm (``math.inf`` for the largest absolute value).
        error_if_nonfinite: raise if the norm is NaN or infinite.

    Returns:
        A 0-d Tensor in the tensors' dtype (float32 ``0.`` when there are none).
    """
    arrays = [t.data for t in _tensors(tensors, "get_total_norm")]
    p = _norm_type(norm_type, "get_total_norm")
    if not arrays:
        return Tensor._make(np.zeros((), np.float32), False, None)
    dtype = np.result_type(*arrays)
    norms = np.array([_vector_norm(a, p) for a in arrays], dtype=dtype)
    total = np.asarray(_vector_norm(norms, p), dtype=dtype)
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(
            f"clip_grad_norm_: the total norm of order {p} of the gradients is {total.item()}, "
            f"so it cannot be clipped; pass error_if_nonfinite=False to scale by it anyway"
        )
    return Tensor._make(total, False, None)


def clip_grads_with_norm_(
    parameters: Tensor | Iterable[Tensor], max_norm: float, total_norm: Tensor | float
) -> None:
    """Scale the gradients by ``min(1, max_norm / (total_norm + 1e-6))``, in place.

    Args:
        parameters: a Tensor or an iterable of Tensors whose ``.grad`` is scaled.
        max_norm: the largest norm allowed.
        total_norm: the gradients' norm (from :func:`get_total_norm`).
    """
    grads = [p.grad for p in _tensors(parameters, "clip_grads_with_norm_") if p.grad is not None]
    max_norm = _positive(max_norm, "max_norm", "clip_grads_with_norm_")
    if not grads:
        return
    total = total_norm.data if isinstance(total_norm, Tensor) else np.asarray(total_norm)
    f = total.dtype.type if np.issubdtype(total.dtype, np.floating) else np.float64
    coef = min(f(max_norm) / (f(total) + f(1e-6)), f(1.0))  # a NaN norm stays NaN, as in PyTorch
    for g in grads:
        _scale(g, coef)


def _scale(g: Tensor, coef) -> None:
    # Multiplying even by 1 keeps one code path (PyTorch does the same, to avoid a sync on GPU).
    coef = g.data.dtype.type(coef)
    with np.errstate(invalid="ignore"):  # inf * 0 (an infinite norm) is NaN, silently as in PyTorch
        if g.data.flags.writeable:
            g.data *= coef
        else:
            g.data = g.data * coef


def clip_grad_norm_(
    parameters: Tensor | Iterable[Tensor],
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
) -> Tensor:
    """Rescale the gradients so that their global norm is at most ``max_norm``, in place.

    The norm is taken over all gradients together, as if concatenated into one vector; when it
    exceeds ``max_norm`` every gradient is multiplied by ``max_norm / (norm + 1e-6)``, which keeps
    the direction of the update and bounds its size (against exploding gradients, in RNNs above
    all).

    Args:
        parameters: a Tensor or an iterable of Tensors (``model.parameters()``); those without a
            gradient are skipped.
        max_norm: the largest norm allowed.
        norm_type: the order p of the norm (2 by default; ``math.inf`` for the largest absolute
            value).
        error_if_nonfinite: raise RuntimeError if the norm is NaN or infinite (by default such
            gradients are scaled anyway, which turns them into NaN, as in PyTorch).

    Returns:
        The total norm of the gradients before clipping, a 0-d Tensor.

    Example:
        >>> loss.backward()
        >>> norm = clip_grad_norm_(model.parameters(), max_norm=1.0)
        >>> opt.step()
    """
    params = _tensors(parameters, "clip_grad_norm_")
    _positive(max_norm, "max_norm", "clip_grad_norm_")
    _norm_type(norm_type, "clip_grad_norm_")
    grads = [p.grad for p in params if p.grad is not None]
    total = get_total_norm(grads, norm_type, error_if_nonfinite)
    clip_grads_with_norm_(params, max_norm, total)
    return total


def clip_grad_value_(parameters: Tensor | Iterable[Tensor], clip_value: float) -> None:
    """Clamp every gradient value into ``[-clip_value, clip_value]``, in place.

    Args:
        parameters: a Tensor or an iterable of Tensors; those without a gradient are skipped.
        clip_value: the largest absolute value allowed.
    """
    # A negative bound would clamp every value to -|clip_value| (NumPy's clip with lo > hi).
    c = _positive(clip_value, "clip_value", "clip_grad_value_")
    for p in _tensors(parameters, "clip_grad_value_"):
        g = p.grad
        if g is None:
            continue
        lo, hi = g.data.dtype.type(-c), g.data.dtype.type(c)
        if g.data.flags.writeable:
            np.clip(g.data, lo, hi, out=g.data)
        else:
            g.data = np.clip(g.data, lo, hi)
