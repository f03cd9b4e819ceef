"""Embedding lookup: rows of a weight matrix picked by integer indices."""

from __future__ import annotations

from ..autograd.function import Function
from . import register_op


@register_op("embedding")
class Embedding(Function):
    """y = w[idx] (w: (V, D), idx: any int shape -> (*idx, D));
    gw[v] = sum of gy over the positions where idx == v (0 for padding_idx)."""

    @staticmethod
    def forward(ctx, w, idx, *, padding_idx=None):
        ctx.save_for_backward(idx)
        ctx.w_shape, ctx.padding_idx = w.shape, padding_idx
        return ctx.xp.take(w, idx, axis=0)

    @staticmethod
    def backward(ctx, gy):
        xp = ctx.xp
        (idx,) = ctx.saved_tensors
        V, D = ctx.w_shape
        flat = idx.reshape(-1)
        g2 = gy.reshape(-1, D)
        # Rows of gy grouped by index: one stable sort serves both paths below.
        order = xp.argsort(flat, kind="stable")
        sparse = _scipy_sparse() if xp.__name__ == "numpy" else None
        if sparse is not None:
            # gw = onehot(idx)^T @ gy as a CSR product: about 10x faster than a reduceat.
            indptr = xp.zeros(V + 1, dtype=xp.int64)
            xp.cumsum(xp.bincount(flat, minlength=V), out=indptr[1:])
            onehot_t = sparse.csr_matrix(
                (xp.ones(flat.size, dtype=gy.dtype), order, indptr), shape=(V, flat.size)
            )
            gw = xp.asarray(onehot_t @ g2, dtype=gy.dtype)
        else:
            # Sum each run of equal sorted indices with one reduceat (np.add.at is slower).
            gw = xp.zeros((V, D), dtype=gy.dtype)
            if flat.size:
                s = flat[order]
                starts = xp.flatnonzero(xp.concatenate((xp.ones(1, dtype=bool), s[1:] != s[:-1])))
                gw[s[starts]] = xp.add.reduceat(g2[order], starts, axis=0)
        if ctx.padding_idx is not None:
            gw[ctx.padding_idx] = 0
        return gw, None


def _scipy_sparse():
    """scipy.sparse when SciPy is installed (it is optional), else None."""
    try:
        from scipy import sparse
    except ImportError:  # pragma: no cover - depends on the environment
        return None
    return sparse
