"""Embedding bags: the sum, mean or max of the embedding rows of each bag of indices.

The bags are contiguous runs of a flat index vector (``starts``, a (B + 1,) bound array), so
each reduction is one ``reduceat`` over the gathered rows (empty bags give 0), with no (B, L)
padding. The backward scatters each row's gradient into the weight with one ``bincount`` over
(row, dim) cells: max mode sends each bag's gradient to its first maximal row per dim, as
PyTorch's CPU kernel. Indices equal to ``padding_idx`` take no part (not counted by the mean).
First-order gradients only.
"""

from __future__ import annotations

from ..autograd.function import Function
from . import register_op


def _segments(xp, starts, n):
    """(bag of every row, the bags that hold rows, their first rows)."""
    counts = xp.diff(starts)
    bag = xp.repeat(xp.arange(counts.size), counts)
    nonempty = counts > 0
    return bag, nonempty, starts[:-1][nonempty]


def _reduce(xp, ufunc, rows, starts, B, nonempty, first):
    out = xp.zeros((B, rows.shape[1]), dtype=rows.dtype)
    if first.size:
        out[nonempty] = ufunc.reduceat(rows, first, axis=0)
    return out


def _scatter_rows(xp, idx, g, V, dtype):
    """gw (V, D): the sum of g's rows (n, D) into the rows idx (n,) name."""
    D = g.shape[1]
    cells = (idx[:, None] * D + xp.arange(D)[None, :]).reshape(-1)
    gw = xp.bincount(cells, weights=g.reshape(-1), minlength=V * D)
    return gw.reshape(V, D).astype(dtype, copy=False)


@register_op("embedding_bag")
class EmbeddingBag(Function):
    """y[b] = sum / mean / max over the rows w[idx[j]] of bag b (sum: times psw[j]);
    gw[v] = sum of each bag's gy (/ count, or at its argmax) over the rows of index v;
    gpsw[j] = <gy[bag of j], w[idx[j]]>."""

    @staticmethod
    def forward(ctx, w, idx, psw=None, *, starts, mode, padding_idx=None):
        xp = ctx.xp
        B = starts.size - 1
        n = idx.size
        rows = xp.take(w, idx, axis=0)  # (n, D)
        keep = None if padding_idx is None else idx != padding_idx
        bag, nonempty, first = _segments(xp, starts, n)
        # idx (and psw, below) through save_for_backward: the in-place check sees them.
        ctx.save_for_backward(None, idx, None)
        ctx.meta = (w.shape, bag, keep, mode)
        if mode == "max":
            # PyTorch keeps a bag's first row and then takes every larger one: a NaN wins only
            # as the first row of its bag, later NaNs never compare larger.
            nan = xp.isnan(rows)
            nan_any = bool(nan.any())
            if nan_any:
                rows[nan] = -xp.inf
            if keep is not None:
                rows[~keep] = -xp.inf
            y = _reduce(xp, xp.maximum, rows, starts, B, nonempty, first)
            if keep is not None:
                empty = xp.isneginf(y) & ~_any_kept(xp, keep, starts, B, nonempty, first)[:, None]
                y[empty] = 0
            hit = rows == y[bag]
            if keep is not None:
                hit &= keep[:, None]
            pos = xp.where(hit, xp.arange(n)[:, None], n)
            arg = xp.full(y.shape, n, dtype=xp.int64)
            if first.size:
                arg[nonempty] = xp.minimum.reduceat(pos, first, axis=0)
            if nan_any:
                lead = _first_kept(xp, keep, starts, B, n, nonempty, first)  # (B,), n: none
                has = lead < n
                lead_nan = xp.zeros(y.shape, dtype=bool)
                lead_nan[has] = nan[lead[has]]
                y[lead_nan] = xp.nan
                arg = xp.where(lead_nan, lead[:, None], arg)
            ctx.arg = arg
            return y
        if keep is not None:
            rows[~keep] = 0
        if psw is not None:
            rows *= psw[:, None]
            ctx.save_for_backward(w if ctx.needs_input_grad[2] else None, idx, psw)
        y = _reduce(xp, xp.add, rows, starts, B, nonempty, first)
        if mode == "mean":
            counts = xp.diff(starts) if keep is None else _count_kept(xp, keep, starts, B)
            ctx.scale = (1 / xp.maximum(counts, 1)).astype(w.dtype)
            y *= ctx.scale[:, None]
        return y

    @staticmethod
    def backward(ctx, gy):
        xp = ctx.xp
        (V, D), bag, keep, mode = ctx.meta
        w, idx, psw = ctx.saved_tensors
        nw = ctx.needs_input_grad[0]
        gw = gpsw = None
        if mode == "max":
            arg = ctx.arg
            valid = arg < idx.size
            if not idx.size:
                return xp.zeros((V, D), dtype=gy.dtype), None, None
            src = idx[xp.minimum(arg, idx.size - 1)]
            cells = (src * D + xp.arange(D)[None, :])[valid]
            gw = xp.bincount(cells, weights=gy[valid], minlength=V * D)
            return gw.reshape(V, D).astype(gy.dtype, copy=False), None, None
        g = gy[bag]  # (n, D)
        if mode == "mean":
            g = g * ctx.scale[bag][:, None]
        if keep is not None:
            g = g * keep[:, None]
        if psw is not None and len(ctx.needs_input_grad) > 2 and ctx.needs_input_grad[2]:
            gpsw = (g * xp.take(w, idx, axis=0)).sum(axis=1)
        if nw:
            gw = _scatter_rows(xp, idx, g if psw is None else g * psw[:, None], V, gy.dtype)
        return gw, None, gpsw


def _count_kept(xp, keep, starts, B):
    c = xp.zeros(B, dtype=xp.int64)
    nonempty = xp.diff(starts) > 0
    if nonempty.any():
        c[nonempty] = xp.add.reduceat(keep.astype(xp.int64), starts[:-1][nonempty])
    return c


def _any_kept(xp, keep, starts, B, nonempty, first):
    out = xp.zeros(B, dtype=bool)
    if first.size:
        out[nonempty] = xp.logical_or.reduceat(keep, first)
    return out


def _first_kept(xp, keep, starts, B, n, nonempty, first):
    """Each bag's first row that is not padding (n where there is none)."""
    out = xp.full(B, n, dtype=xp.int64)
    if first.size:
        pos = xp.arange(n) if keep is None else xp.where(keep, xp.arange(n), n)
        out[nonempty] = xp.minimum.reduceat(pos, first)
    return out
