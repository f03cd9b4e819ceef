"""Scaled dot-product attention as one fused op with a closed-form backward.

Composed from matmul, mask, softmax, dropout and matmul primitives, eager NumPy would keep four or
five (L, S) arrays alive for backward (scores, exponentials, probabilities, dropout mask, dropped
probabilities) and make a Python call and a memory pass for each. Fused, the forward computes the
scores into one buffer, masks and normalises it in place, and keeps only that buffer (the
probabilities P) for backward, plus a boolean keep-mask when dropout is on.
"""

from __future__ import annotations

import functools

from .. import random
from ..autograd.function import Function
from . import register_op
from ._util import unbroadcast


@functools.lru_cache(maxsize=16)
def _above_diagonal(xp, L: int, S: int):
    """(L, S) bool, True strictly above the diagonal: the keys a causal query must not see
    (torch's ``ones(L, S).tril()`` is the complement: aligned at the top-left corner)."""
    m = xp.triu(xp.ones((L, S), dtype=bool), 1)
    m.flags.writeable = False
    return m


def _gqa_views(q, k, v, mask, groups: int):
    """Grouped-query attention without copies: q (..., Hk*G, L, E) -> (..., Hk, G, L, E), k and v
    (..., Hk, S, E) -> (..., Hk, 1, S, E); broadcasting then shares each key/value head among
    its G query heads (torch's ``repeat_interleave(G, dim=-3)``)."""
    lead, (hq, L, E) = q.shape[:-3], q.shape[-3:]
    q = q.reshape(lead + (hq // groups, groups, L, E))
    k = k[..., None, :, :]
    v = v[..., None, :, :]
    if mask is not None and mask.ndim >= 3:
        if mask.shape[-3] == hq and hq > 1:
            mask = mask.reshape(mask.shape[:-3] + (hq // groups, groups) + mask.shape[-2:])
        else:
            mask = mask[..., None, :, :]
    return q, k, v, mask


def _row_dot(xp, a, b):
    """sum(a * b, axis=-1, keepdims=True) without an (L, S) temporary."""
    return xp.einsum("...j,...j->...", a, b)[..., None]


@register_op("scaled_dot_product_attention")
class ScaledDotProductAttention(Function):
    """y = D(P) @ v, P = softmax(scale * q @ k^T + M) (rows with every key masked give P = 0, as
    torch), D = dropout;  with gP = D(gy @ v^T) and gS = P * (gP - sum(gP * P, -1)):
    gq = scale * gS @ k, gk = scale * gS^T @ q, gv = D(P)^T @ gy, gM = gS (a float mask)."""

    @staticmethod
    def forward(ctx, q, k, v, mask=None, *, scale, is_causal=False, dropout_p=0.0, groups=1):
        xp = ctx.xp
        t = q.dtype.type
        shapes = (q.shape, k.shape, v.shape, None if mask is None else mask.shape)
        if groups > 1:
            q, k, v, mask = _gqa_views(q, k, v, mask, groups)
        L, S = q.shape[-2], k.shape[-2]
        batch = xp.broadcast_shapes(q.shape[:-2], k.shape[:-2])
        if mask is not None:
            batch = xp.broadcast_shapes(batch, mask.shape[:-2])
        # s: (*batch, L, S), the scores, then (in place) the probabilities P
        s = ctx.empty(batch + (L, S), q.dtype)
        xp.matmul(q * t(scale), k.swapaxes(-1, -2), out=s)
        if is_causal:
            xp.copyto(s, t(-xp.inf), where=_above_diagonal(xp, L, S))
        if mask is not None:
            if mask.dtype == bool:
                xp.copyto(s, t(-xp.inf), where=~mask)
            else:
                s += mask
        if S > 0:
            mx = s.max(axis=-1, keepdims=True)
            mx[mx == -xp.inf] = 0  # a fully masked row: exp(-inf - 0) = 0, no NaN from inf - inf
            s -= mx
            xp.exp(s, out=s)
            den = s.sum(axis=-1, keepdims=True)
            den[den == 0] = 1  # every key masked: P = 0 (torch's safe softmax), not 0 / 0
            s *= t(1) / den
        p = s
        keep = None
        if dropout_p > 0:
            udt = "float64" if q.dtype.itemsize > 4 else "float32"
            keep = random.generator().random(p.shape, dtype=udt) >= dropout_p
            ctx.keep_scale = t(0) if dropout_p >= 1 else t(1 / (1 - dropout_p))
            pd = xp.multiply(p, keep, out=ctx.empty(p.shape, p.dtype))
            pd *= ctx.keep_scale
        else:
            pd = p
        # y: (*batch, L, Ev)
        y = xp.matmul(pd, v)
        if any(ctx.needs_input_grad):
            ctx.save_for_backward(q, k, v, p, keep)
            ctx.scale, ctx.shapes, ctx.groups = scale, shapes, groups
            ctx.mask_view_shape = None if mask is None else mask.shape
        if groups > 1:
            y = y.reshape(y.shape[:-4] + (y.shape[-4] * y.shape[-3],) + y.shape[-2:])
        return y

    @staticmethod
    def backward(ctx, gy):
        q, k, v, p, keep = ctx.saved_tensors
        nq, nk, nv, nm = ctx.needs_input_grad
        xp = ctx.xp
        t = gy.dtype.type
        sq, sk, sv, sm = ctx.shapes
        if ctx.groups > 1:
            gy = gy.reshape(gy.shape[:-3] + q.shape[-4:-2] + gy.shape[-2:])
        gq = gk = gv = gm = None
        if nv:
            if keep is None:
                pd = p
            else:
                pd = xp.multiply(p, keep, out=ctx.empty(p.shape, p.dtype))
                pd *= ctx.keep_scale
            gv = unbroadcast(xp.matmul(pd.swapaxes(-1, -2), gy), v.shape)
            del pd
        if nq or nk or nm:
            # gs: (*batch, L, S), dP then (in place) dS
            gs = xp.matmul(gy, v.swapaxes(-1, -2), out=ctx.empty(p.shape, p.dtype))
            if keep is not None:
                gs *= keep
                gs *= ctx.keep_scale
            gs -= _row_dot(xp, gs, p)
            gs *= p
            if nq:
                gq = unbroadcast(xp.matmul(gs, k), q.shape)
                gq *= t(ctx.scale)
            if nk:
                gk = unbroadcast(xp.matmul(gs.swapaxes(-1, -2), q), k.shape)
                gk *= t(ctx.scale)
            if nm:
                gm = unbroadcast(gs, ctx.mask_view_shape)
        if ctx.groups > 1:
            gq = None if gq is None else gq.reshape(sq)
            gk = None if gk is None else gk.reshape(sk)
            gv = None if gv is None else gv.reshape(sv)
        if gm is not None:
            gm = gm.reshape(sm)
        return gq, gk, gv, gm
