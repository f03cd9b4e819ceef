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
    op = "scaled_dot_product_attention"
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
    groups = 1
    if enable_gqa and query.ndim >= 3 and key.ndim >= 3:
        hq, hk, hv = query.shape[-3], key.shape[-3], value.shape[-3]
        if hk != hv or hq % hk:
            raise ValueError(
                f"{op}: with enable_gqa, key and value must have the same number of heads (dim "
                f"-3) and it must divide query's; got query {hq}, key {hk}, value {hv}"
            )
        groups = hq // hk
    if attn_mask is not None:
        if is_causal:
            raise ValueError(f"{op}: give attn_mask or is_causal=True, not both")
        if not isinstance(attn_mask, Tensor):
            raise TypeError(f"{op}: attn_mask must be a Tensor or None")
        if attn_mask.dtype != np.bool_ and attn_mask.dtype != query.dtype:
            raise TypeError(
                f"{op}: attn_mask must be bool or of the query's dtype {query.dtype}, got "
                f"{attn_mask.dtype}"
            )
    if isinstance(dropout_p, bool) or not isinstance(dropout_p, numbers.Real):
        raise TypeError(f"{op}: dropout_p must be a number in [0, 1], got {dropout_p!r}")
    if not 0.0 <= dropout_p <= 1.0:
        raise ValueError(f"{op}: dropout_p must be in [0, 1], got {dropout_p}")
    if scale is None:
        scale = 1.0 / math.sqrt(E) if E > 0 else 1.0
    elif isinstance(scale, bool) or not isinstance(scale, numbers.Real):
        raise TypeError(f"{op}: scale must be a number or None, got {scale!r}")
    try:
        lead = [query.shape[:-2], key.shape[:-2], value.shape[:-2]]
        if groups > 1:
            lead = [query.shape[:-3], key.shape[:-3], value.shape[:-3]]
        np.broadcast_shapes(*lead)
        if attn_mask is not None:
            np.broadcast_shapes(attn_mask.shape, query.shape[:-1] + (S,))
    except ValueError:
        raise ValueError(
            f"{op}: leading dims do not broadcast: query {query.shape}, key {key.shape}, value "
            f"{value.shape}" + ("" if attn_mask is None else f", attn_mask {attn_mask.shape}")
        ) from None
    return ScaledDotProductAttention.apply(
        query,
        key,
        value,
        attn_mask,
        scale=float(scale),
        is_causal=bool(is_causal),
        dropout_p=float(dropout_p),
        groups=groups,
    )
