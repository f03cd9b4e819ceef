"""Scaled dot-product attention (exposed as ``backprop.nn.functional``), PyTorch's semantics."""

from __future__ import annotations

import math
import numbers

import numpy as np

from ..ops.attention import ScaledDotProductAttention
from ..tensor import Tensor
from ._util import is_float

__all__ = ["scaled_dot_product_attention"]


def scaled_dot_product_attention(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    attn_mask: Tensor | None = None,
    dropout_p: float = 0.0,
    is_causal: bool = False,
    scale: float | None = None,
    enable_gqa: bool = False,
) -> Tensor:
    """Attention ``softmax(query @ key^T * scale + mask) @ value`` in one fused op.

    The softmax is computed stably (the row maximum subtracted first). A query row whose keys are
    all masked out gets zero weights, hence a zero output and zero gradients, as PyTorch's math
    kernel (its "safe softmax") gives. Backward is closed-form and first-order only; it reuses the
    (L, S) attention probabilities kept from the forward and no other (L, S) array.

    Args:
        query: ``(*, L, E)``.
        key: ``(*, S, E)``.
        value: ``(*, S, Ev)``. The leading dims of the three (and of the mask) broadcast.
        attn_mask: broadcastable to ``(*, L, S)``: a bool mask where True means *take part in
            attention* (the opposite of ``nn.MultiheadAttention``'s masks), or a float mask of
            the query's dtype added to the scores (``-inf`` removes a key; differentiable).
        dropout_p: probability of dropping an attention weight (survivors scaled by
            ``1 / (1 - p)``), drawn from ``backprop.random``; pass 0 outside training.
        is_causal: let query ``i`` see keys ``j <= i`` only (the mask is aligned at the top-left
            corner, as torch's ``ones(L, S).tril()``); not together with ``attn_mask``.
        scale: the factor on ``query @ key^T``; default ``1 / sqrt(E)``.
        enable_gqa: grouped-query attention: ``key`` and ``value`` may have fewer heads (dim -3)
            than ``query``, a divisor of its count; each serves a group of query heads.

    Returns:
        ``(*, L, Ev)``.

    Example:
        >>> q = k = v = backprop.randn(2, 4, 10, 16)          # (N, heads, L, head_dim)
        >>> F.scaled_dot_product_attention(q, k, v, is_causal=True).shape
        (2, 4, 10, 16)
    """
    _check_qkv(query, key, value)
    groups = _gqa_groups(query, key, value) if enable_gqa else 1
    _check_mask(attn_mask, is_causal, query.dtype)
    dropout_p, scale = _check_numbers(dropout_p, scale, query.shape[-1])
    _check_broadcast(query, key, value, attn_mask, groups)
    return ScaledDotProductAttention.apply(
        query,
        key,
        value,
        attn_mask,
        scale=scale,
        is_causal=bool(is_causal),
        dropout_p=dropout_p,
        groups=groups,
    )


_OP = "scaled_dot_product_attention"


def _check_qkv(query, key, value) -> None:
    """Floating-point tensors of one dtype, at least 2-D, with matching E and S."""
    op = _OP
    for name, x in (("query", query), ("key", key), ("value", value)):
        if not isinstance(x, Tensor) or not is_float(x.dtype):
            raise TypeError(f"{op}: {name} must be a floating-point Tensor")
        if x.ndim < 2:
            raise ValueError(f"{op}: {name} must have at least 2 dims (*, seq, dim), got {x.shape}")
    if not query.dtype == key.dtype == value.dtype:
        raise TypeError(
            f"{op}: query, key and value must share a dtype, got {query.dtype}, {key.dtype} "
            f"and {value.dtype}"
        )
    E, S = query.shape[-1], key.shape[-2]
    if key.shape[-1] != E:
        raise ValueError(
            f"{op}: query's last dim {E} differs from key's {key.shape[-1]} "
            f"(query {query.shape}, key {key.shape})"
        )
    if value.shape[-2] != S:
        raise ValueError(
            f"{op}: key has {S} positions but value has {value.shape[-2]} "
            f"(key {key.shape}, value {value.shape})"
        )


def _gqa_groups(query, key, value) -> int:
    """Query heads per key/value head under ``enable_gqa`` (1 below 3 dims)."""
    if query.ndim < 3 or key.ndim < 3:
        return 1
    hq, hk, hv = query.shape[-3], key.shape[-3], value.shape[-3]
    if hk != hv or hq % hk:
        raise ValueError(
            f"{_OP}: with enable_gqa, key and value must have the same number of heads (dim "
            f"-3) and it must divide query's; got query {hq}, key {hk}, value {hv}"
        )
    return hq // hk


def _check_mask(attn_mask, is_causal, dtype) -> None:
    """A bool mask or one of the query's dtype, never together with ``is_causal``."""
    if attn_mask is None:
        return
    if is_causal:
        raise ValueError(f"{_OP}: give attn_mask or is_causal=True, not both")
    if not isinstance(attn_mask, Tensor):
        raise TypeError(f"{_OP}: attn_mask must be a Tensor or None")
    if attn_mask.dtype != np.bool_ and attn_mask.dtype != dtype:
        raise TypeError(
            f"{_OP}: attn_mask must be bool or of the query's dtype {dtype}, got {attn_mask.dtype}"
        )


def _check_numbers(dropout_p, scale, E: int) -> tuple[float, float]:
    """``dropout_p`` in [0, 1] and ``scale`` (default ``1 / sqrt(E)``), as floats."""
    if isinstance(dropout_p, bool) or not isinstance(dropout_p, numbers.Real):
        raise TypeError(f"{_OP}: dropout_p must be a number in [0, 1], got {dropout_p!r}")
    if not 0.0 <= dropout_p <= 1.0:
        raise ValueError(f"{_OP}: dropout_p must be in [0, 1], got {dropout_p}")
    if scale is None:
        scale = 1.0 / math.sqrt(E) if E > 0 else 1.0
    elif isinstance(scale, bool) or not isinstance(scale, numbers.Real):
        raise TypeError(f"{_OP}: scale must be a number or None, got {scale!r}")
    return float(dropout_p), float(scale)


def _check_broadcast(query, key, value, attn_mask, groups: int) -> None:
    """The leading dims of the three (without the head dim under GQA) and the mask broadcast."""
    S = key.shape[-2]
    cut = -3 if groups > 1 else -2
    try:
        np.broadcast_shapes(query.shape[:cut], key.shape[:cut], value.shape[:cut])
        if attn_mask is not None:
            np.broadcast_shapes(attn_mask.shape, query.shape[:-1] + (S,))
    except ValueError:
        raise ValueError(
            f"{_OP}: leading dims do not broadcast: query {query.shape}, key {key.shape}, value "
            f"{value.shape}" + ("" if attn_mask is None else f", attn_mask {attn_mask.shape}")
        ) from None
