"""Matrix products: matmul with NumPy/PyTorch semantics, and the fused linear layer."""

from __future__ import annotations

from ..autograd.function import Function
from . import register_op
from ._util import unbroadcast


@register_op("matmul")
class MatMul(Function):
    """y = a @ b (1-D, 2-D, batched, broadcast);  ga = gy @ b^T, gb = a^T @ gy (unbroadcast)."""

    @staticmethod
    def forward(ctx, a, b):
        # Save only what the gradients need, as PyTorch does (ga needs b, gb needs a): an operand
        # that needs no gradient's partner may then change in place before backward.
        na, nb = ctx.needs_input_grad
        ctx.save_for_backward(a if nb else None, b if na else None)
        ctx.shapes = (a.shape, b.shape)
        return a @ b

    @staticmethod
    def backward(ctx, gy):
        xp = ctx.xp
        a, b = ctx.saved_tensors
        sa, sb = ctx.shapes
        na, nb = ctx.needs_input_grad
        if len(sa) == 1 and len(sb) == 1:
            return (gy * b if na else None), (gy * a if nb else None)
        # Treat vectors as matrices, as matmul itself does, then undo that on the gradients.
        sa2 = (1,) + sa if len(sa) == 1 else sa
        sb2 = sb + (1,) if len(sb) == 1 else sb
        g2 = gy
        if len(sa) == 1:
            g2 = xp.expand_dims(g2, -2)
        if len(sb) == 1:
            g2 = xp.expand_dims(g2, -1)
        ga = gb = None
        if na:
            b2 = b[:, None] if b.ndim == 1 else b
            ga = unbroadcast(g2 @ xp.swapaxes(b2, -1, -2), sa2).reshape(sa)
        if nb:
            a2 = a[None, :] if a.ndim == 1 else a
            if len(sb2) == 2 and a2.ndim > 2:
                # A shared weight: fold the batch into rows, one matmul instead of a batched one.
                k = a2.shape[-1]
                gb = a2.reshape(-1, k).T @ g2.reshape(-1, g2.shape[-1])
            else:
                gb = unbroadcast(xp.swapaxes(a2, -1, -2) @ g2, sb2)
            gb = gb.reshape(sb)
        return ga, gb


@register_op("linear")
class Linear(Function):
    """y = x @ w^T + b;  gx = gy @ w, gw = gy^T @ x, gb = sum(gy) (x: (*, in), w: (out, in))."""

    @staticmethod
    def forward(ctx, x, w, b=None):
        nx, nw = ctx.needs_input_grad[:2]
        ctx.save_for_backward(x if nw else None, w if nx else None)  # only what is needed
        ctx.x_shape = x.shape
        # Leading dims folded into rows: one large matrix multiply, not one per leading index.
        y = x.reshape(-1, x.shape[-1]) @ w.T if x.ndim > 2 else x @ w.T
        if b is not None:
            y += b
        return y.reshape(x.shape[:-1] + (w.shape[0],)) if x.ndim > 2 else y

    @staticmethod
    def backward(ctx, gy):
        x, w = ctx.saved_tensors
        nx, nw, *nb = ctx.needs_input_grad
        g2 = gy.reshape(-1, gy.shape[-1])
        gx = (g2 @ w).reshape(ctx.x_shape) if nx else None
        gw = g2.T @ x.reshape(-1, x.shape[-1]) if nw else None
        gb = g2.sum(axis=0) if nb and nb[0] else None
        return gx, gw, gb
