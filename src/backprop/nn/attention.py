"""`MultiheadAttention`: PyTorch's layer, its parameter names and layout, over the fused
``F.scaled_dot_product_attention`` op."""

from __future__ import annotations

import math

import numpy as np

from ..functional import cat, zeros
from ..functional.attention import scaled_dot_product_attention
from ..functional.dropout import dropout
from ..functional.linalg import linear
from ..tensor import Tensor
from . import init
from ._util import check_size, factory_dtype
from .linear import Linear
from .module import Module
from .parameter import Parameter

__all__ = ["MultiheadAttention"]


def _float_mask(mask: Tensor, dtype) -> Tensor:
    """A MultiheadAttention mask as an additive float mask: bool True (not allowed) -> -inf."""
    if mask.dtype == np.bool_:
        return zeros(mask.shape, dtype=dtype).masked_fill(mask, float("-inf"))
    return mask if mask.dtype == dtype else mask.to(dtype)


def _check_mask(mask, name: str, where: str):
    if mask is None:
        return None
    if not isinstance(mask, Tensor):
        raise TypeError(f"{where}: {name} must be a Tensor or None, got {type(mask).__name__}")
    if mask.dtype != np.bool_ and np.dtype(mask.dtype).kind != "f":
        raise TypeError(f"{where}: only bool and floating {name}s are supported, got {mask.dtype}")
    return mask


def _append_column(mask: Tensor | None) -> Tensor | None:
    """One more key that every query may see: a False / 0 column at the end."""
    if mask is None:
        return None
    return cat([mask, zeros(mask.shape[:-1] + (1,), dtype=mask.dtype)], dim=-1)


class MultiheadAttention(Module):
    """Multi-head attention (Vaswani et al. 2017), as ``torch.nn.MultiheadAttention``:
    ``MultiHead(Q, K, V) = Concat(head_1, ..., head_h) W_O`` with
    ``head_i = softmax(Q W_Qi (K W_Ki)^T / sqrt(d_head) + M) V W_Vi``.

    The parameters have PyTorch's names and layout, so a torch state dict loads unchanged:
    ``in_proj_weight`` (3E, E) stacks the query, key and value projections (or, when ``kdim`` or
    ``vdim`` differ from ``embed_dim``, ``q_proj_weight`` (E, E), ``k_proj_weight`` (E, kdim)
    and ``v_proj_weight`` (E, vdim)), ``in_proj_bias`` (3E,), ``out_proj`` a ``Linear(E, E)``,
    and ``bias_k``, ``bias_v`` (1, 1, E) with ``add_bias_kv``. Initialised as torch: Xavier
    uniform projections, zero biases, Xavier normal ``bias_k``/``bias_v``.

    Masks follow PyTorch's MultiheadAttention convention (the opposite of
    ``F.scaled_dot_product_attention``'s bool masks): a bool True means *not allowed*; a float
    mask is added to the scores.

    Args:
        embed_dim: model width E (split into ``num_heads`` heads of E // num_heads).
        num_heads: parallel attention heads; must divide ``embed_dim``.
        dropout: dropout on the attention weights (training only).
        bias: learn ``in_proj_bias`` and ``out_proj.bias``.
        add_bias_kv: learn one more key and value (``bias_k``, ``bias_v``) appended to the
            sequence.
        add_zero_attn: append a zero key and value after the projections.
        kdim, vdim: key and value feature sizes (default ``embed_dim``).
        batch_first: inputs and output are (N, L, E) instead of (L, N, E).
        dtype: parameter dtype (float32 by default).

    Shape:
        query (L, N, E) or (N, L, E) with ``batch_first`` or (L, E) unbatched; key (S, N, kdim),
        value (S, N, vdim) likewise; ``key_padding_mask`` (N, S) or (S,); ``attn_mask`` (L, S)
        or (N * num_heads, L, S). Output: (attn_output like query, attn_weights (N, L, S) when
        averaged, (N, num_heads, L, S) otherwise, or None without ``need_weights``).

    Example:
        >>> mha = nn.MultiheadAttention(16, 4, batch_first=True)
        >>> x = backprop.randn(2, 5, 16)
        >>> out, w = mha(x, x, x)
        >>> out.shape, w.shape
        ((2, 5, 16), (2, 5, 5))
    """

    def __init__(
        self,
        embed_dim: int,
        num_heads: int,
        dropout: float = 0.0,
        bias: bool = True,
        add_bias_kv: bool = False,
        add_zero_attn: bool = False,
        kdim: int | None = None,
        vdim: int | None = None,
        batch_first: bool = False,
        device=None,
        dtype=None,
    ):
        super().__init__()
        where = "MultiheadAttention"
        if device is not None:
            from ..device import as_device

            as_device(device, where)
        self.embed_dim = check_size(embed_dim, "embed_dim", where, 1)
        self.num_heads = check_size(num_heads, "num_heads", where, 1)
        self.kdim = check_size(kdim, "kdim", where, 1) if kdim is not None else self.embed_dim
        self.vdim = check_size(vdim, "vdim", where, 1) if vdim is not None else self.embed_dim
        if self.embed_dim % self.num_heads:
            raise ValueError(
                f"{where}: embed_dim must be divisible by num_heads, got {embed_dim} and "
                f"{num_heads}"
            )
        if not 0.0 <= dropout <= 1.0:
            raise ValueError(f"{where}: dropout must be in [0, 1], got {dropout}")
        self.head_dim = self.embed_dim // self.num_heads
        self.dropout = float(dropout)
        self.batch_first = bool(batch_first)
        self.add_zero_attn = bool(add_zero_attn)
        self._qkv_same_embed_dim = self.kdim == self.embed_dim and self.vdim == self.embed_dim
        dt = factory_dtype(dtype, where)
        E = self.embed_dim
        if self._qkv_same_embed_dim:
            self.in_proj_weight = Parameter(np.empty((3 * E, E), dtype=dt))
            for name in ("q_proj_weight", "k_proj_weight", "v_proj_weight"):
                self.register_parameter(name, None)
        else:
            self.q_proj_weight = Parameter(np.empty((E, E), dtype=dt))
            self.k_proj_weight = Parameter(np.empty((E, self.kdim), dtype=dt))
            self.v_proj_weight = Parameter(np.empty((E, self.vdim), dtype=dt))
            self.register_parameter("in_proj_weight", None)
        if bias:
            self.in_proj_bias = Parameter(np.empty((3 * E,), dtype=dt))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = Linear(E, E, bias=bias, dtype=dt)
        if add_bias_kv:
            self.bias_k = Parameter(np.empty((1, 1, E), dtype=dt))
            self.bias_v = Parameter(np.empty((1, 1, E), dtype=dt))
        else:
            self.register_parameter("bias_k", None)
            self.register_parameter("bias_v", None)
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            init.xavier_uniform_(self.q_proj_weight)
            init.xavier_uniform_(self.k_proj_weight)
            init.xavier_uniform_(self.v_proj_weight)
        if self.in_proj_bias is not None:
            init.zeros_(self.in_proj_bias)
            init.zeros_(self.out_proj.bias)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
            init.xavier_normal_(self.bias_v)

    def reset_parameters(self) -> None:
        """Re-draw the parameters with PyTorch's initialisation."""
        self.out_proj.reset_parameters()
        self._reset_parameters()

    def _in_projection(self, query, key, value):
        """q, k, v projected, each (N, L or S, E) (views of the seq-first layout when not
        batch_first): one matmul for self-attention, two for a shared key/value."""
        E = self.embed_dim
        b = self.in_proj_bias
        bq, bk, bv = (None, None, None) if b is None else (b[:E], b[E : 2 * E], b[2 * E :])
        if self._qkv_same_embed_dim:
            w = self.in_proj_weight
            if key is value and query is key:
                qkv = linear(query, w, b)
                q, k, v = qkv[..., :E], qkv[..., E : 2 * E], qkv[..., 2 * E :]
            elif key is value:
                q = linear(query, w[:E], bq)
                kv = linear(key, w[E:], None if b is None else b[E:])
                k, v = kv[..., :E], kv[..., E:]
            else:
                q = linear(query, w[:E], bq)
                k = linear(key, w[E : 2 * E], bk)
                v = linear(value, w[2 * E :], bv)
        else:
            q = linear(query, self.q_proj_weight, bq)
            k = linear(key, self.k_proj_weight, bk)
            v = linear(value, self.v_proj_weight, bv)
        if not self.batch_first:
            q, k, v = q.transpose(0, 1), k.transpose(0, 1), v.transpose(0, 1)
        return q, k, v

    def forward(
        self,
        query: Tensor,
        key: Tensor,
        value: Tensor,
        key_padding_mask: Tensor | None = None,
        need_weights: bool = True,
        attn_mask: Tensor | None = None,
        average_attn_weights: bool = True,
        is_causal: bool = False,
    ):
        where = "MultiheadAttention"
        self._check_inputs(query, key, value)
        key_padding_mask = _check_mask(key_padding_mask, "key_padding_mask", where)
        attn_mask = _check_mask(attn_mask, "attn_mask", where)
        if is_causal and attn_mask is None:
            raise ValueError(
                f"{where}: is_causal=True is a hint that attn_mask is causal; give the mask too "
                "(e.g. nn.Transformer.generate_square_subsequent_mask(L))"
            )
        batched = query.ndim == 3
        if not batched:  # as (L, 1, E), or (1, L, E) batch-first
            d = 0 if self.batch_first else 1
            same_kv, same_qk = key is value, query is key
            query = query.unsqueeze(d)
            key = query if same_qk else key.unsqueeze(d)
            value = key if same_kv else value.unsqueeze(d)
            if key_padding_mask is not None:
                key_padding_mask = key_padding_mask.unsqueeze(0)
            # (a 3-D attn_mask is (heads, L, S) = (1 * heads, L, S) already)
        N, L, S = self._sizes(query, key, value)
        H, hd = self.num_heads, self.head_dim
        # q: (N, L, E); k, v: (N, S, E)
        q, k, v = self._in_projection(query, key, value)
        if is_causal and key_padding_mask is None and not need_weights:
            attn_mask = None  # the hint: SDPA builds the causal mask itself
        else:
            is_causal = False
        attn_mask, key_padding_mask = self._fit_masks(attn_mask, key_padding_mask, N, L, S)
        k, v, attn_mask, key_padding_mask = self._extra_keys(k, v, attn_mask, key_padding_mask)
        S = k.shape[1]
        # (N, n, E) -> (N, H, n, hd)
        q = q.reshape(N, L, H, hd).transpose(1, 2)
        k = k.reshape(N, S, H, hd).transpose(1, 2)
        v = v.reshape(N, S, H, hd).transpose(1, 2)
        masks = [m for m in (attn_mask, key_padding_mask) if m is not None]
        out, weights = self._attend(q, k, v, masks, need_weights, average_attn_weights, is_causal)
        if weights is not None and not batched:
            weights = weights.squeeze(0)
        # out: (N, H, L, hd) -> (N, L, E) or (L, N, E)
        if self.batch_first:
            out = out.transpose(1, 2).reshape(N, L, self.embed_dim)
        else:
            out = out.permute(2, 0, 1, 3).reshape(L, N, self.embed_dim)
        out = self.out_proj(out)
        if not batched:
            out = out.squeeze(0 if self.batch_first else 1)
        return out, weights

    def _check_inputs(self, query, key, value) -> None:
        """Tensors of the right last dims, all batched (3-D) or all unbatched (2-D)."""
        where = "MultiheadAttention"
        for name, x, d in (("query", query, self.embed_dim), ("key", key, self.kdim),
                           ("value", value, self.vdim)):  # fmt: skip
            if not isinstance(x, Tensor) or x.ndim not in (2, 3) or x.shape[-1] != d:
                got = x.shape if isinstance(x, Tensor) else type(x).__name__
                raise ValueError(f"{where}: {name} must be (L, N, {d}), (N, L, {d}) or (L, {d}); "
                                 f"got {got}")  # fmt: skip
        if key.ndim != query.ndim or value.ndim != query.ndim:
            raise ValueError(
                f"{where}: query, key and value must all be batched (3-D) or all unbatched "
                f"(2-D); got {query.shape}, {key.shape}, {value.shape}"
            )

    def _sizes(self, query, key, value) -> tuple[int, int, int]:
        """(N, L, S) of batched inputs; key and value must agree with the query on N and S."""
        bf = self.batch_first
        N, L = (query.shape[0], query.shape[1]) if bf else query.shape[1::-1]
        S = key.shape[1] if bf else key.shape[0]
        kb = key.shape[0] if bf else key.shape[1]
        vs = value.shape[1] if bf else value.shape[0]
        vb = value.shape[0] if bf else value.shape[1]
        if kb != N or vb != N or vs != S:
            raise ValueError(
                f"MultiheadAttention: query, key and value disagree on the batch or key length: "
                f"{query.shape}, {key.shape}, {value.shape} (batch_first={bf})"
            )
        return N, L, S

    def _fit_masks(self, attn_mask, key_padding_mask, N: int, L: int, S: int):
        """The masks shaped to broadcast against the (N, H, L, S) scores: attn_mask (L, S) ->
        (1, 1, L, S), (N * H, L, S) -> (N, H, L, S); key_padding_mask (N, S) -> (N, 1, 1, S)."""
        where, H = "MultiheadAttention", self.num_heads
        if attn_mask is not None:
            if attn_mask.ndim == 2 and attn_mask.shape == (L, S):
                attn_mask = attn_mask.reshape(1, 1, L, S)
            elif attn_mask.ndim == 3 and attn_mask.shape == (N * H, L, S):
                attn_mask = attn_mask.reshape(N, H, L, S)
            else:
                raise ValueError(
                    f"{where}: attn_mask of shape {attn_mask.shape} does not fit; expected "
                    f"({L}, {S}) or ({N * H}, {L}, {S})"
                )
        if key_padding_mask is not None:
            if key_padding_mask.shape != (N, S):
                raise ValueError(
                    f"{where}: key_padding_mask of shape {key_padding_mask.shape} does not fit; "
                    f"expected ({N}, {S})"
                )
            key_padding_mask = key_padding_mask.reshape(N, 1, 1, S)
        return attn_mask, key_padding_mask

    def _extra_keys(self, k, v, attn_mask, key_padding_mask):
        """``add_bias_kv`` and ``add_zero_attn``: one more key and value each (``bias_k``/
        ``bias_v``, then zeros) at the end of (N, S, E) ``k`` and ``v``, a column every query may
        see appended to each mask."""
        N, E = k.shape[0], self.embed_dim
        extra = []
        if self.bias_k is not None:
            extra.append((self.bias_k.expand(N, 1, E), self.bias_v.expand(N, 1, E)))
        if self.add_zero_attn:
            z = zeros((N, 1, E), dtype=k.dtype)
            extra.append((z, z))
        for ek, ev in extra:
            k, v = cat([k, ek], dim=1), cat([v, ev], dim=1)
            attn_mask, key_padding_mask = (
                _append_column(attn_mask),
                _append_column(key_padding_mask),
            )
        return k, v, attn_mask, key_padding_mask

    def _attend(self, q, k, v, masks, need_weights: bool, average: bool, is_causal: bool):
        """``softmax(q k^T / sqrt(hd) + masks) v`` over (N, H, n, hd) heads: (out, weights).

        With ``need_weights`` the weights are an output, so the product is composed (as torch
        does) and they are kept, averaged over the heads with ``average``; otherwise one fused
        :func:`scaled_dot_product_attention` call and weights None."""
        p = self.dropout if self.training else 0.0
        if need_weights:
            hd = q.shape[-1]
            scores = (q * q.dtype.type(1 / math.sqrt(hd))).matmul(k.transpose(-1, -2))
            for m in masks:
                scores = scores + _float_mask(m, q.dtype)
            weights = scores.softmax(-1)
            if p > 0:
                weights = dropout(weights, p)
            out = weights.matmul(v)
            return out, weights.mean(dim=1) if average else weights
        if not masks:
            mask = None
        elif all(m.dtype == np.bool_ for m in masks):
            mask = ~masks[0] if len(masks) == 1 else ~(masks[0] | masks[1])  # True: attend
        else:
            mask = _float_mask(masks[0], q.dtype)
            if len(masks) == 2:
                mask = mask + _float_mask(masks[1], q.dtype)
        out = scaled_dot_product_attention(q, k, v, mask, dropout_p=p, is_causal=is_causal)
        return out, None
