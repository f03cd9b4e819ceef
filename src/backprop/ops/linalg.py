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


def _einsum(xp, spec, *arrays):
    # NumPy's default (optimize=False) contracts all operands in one loop nest: fine for two,
    # quadratic blow-up for more; a greedy path then picks pairwise contractions as torch does.
    y = xp.einsum(spec, *arrays, optimize="greedy" if len(arrays) > 2 else False)
    return xp.asarray(y)  # (a full contraction gives a NumPy scalar)


@register_op("einsum")
class Einsum(Function):
    """y = einsum(subs -> out, *xs) (labels of size 1 broadcast, as in PyTorch);
    gx_k = einsum(gy and the other operands -> x_k's labels), summed over the labels x_k holds
    with size 1 while the others are larger, broadcast over labels only x_k has, and written on
    the diagonal where x_k repeats a label ('ii->i').

    ``subs``: one string of letters per operand (the ellipsis already spelt out as letters);
    ``out``: the output's letters; ``sizes``: each label's broadcast size.
    """

    @staticmethod
    def forward(ctx, *xs, subs, out, sizes):
        # x_k is needed for the others' gradients only.
        needs = ctx.needs_input_grad
        ctx.save_for_backward(
            *(x if any(needs[:k] + needs[k + 1 :]) else None for k, x in enumerate(xs))
        )
        ctx.meta = (subs, out, sizes, tuple(x.shape for x in xs))
        return _einsum(ctx.xp, ",".join(subs) + "->" + out, *xs)

    @staticmethod
    def backward(ctx, gy):
        xp = ctx.xp
        xs = ctx.saved_tensors
        subs, out, sizes, shapes = ctx.meta
        grads = []
        for k, (sub, shape) in enumerate(zip(subs, shapes)):
            if not ctx.needs_input_grad[k]:
                grads.append(None)
                continue
            others = [(s, x) for j, (s, x) in enumerate(zip(subs, xs)) if j != k]
            seen = set(out).union(*(s for s, _ in others))
            uniq = list(dict.fromkeys(sub))
            dim_of = {lab: shape[sub.index(lab)] for lab in uniq}
            # Labels the gradient is computed over: those the other terms carry, and at full
            # size in x_k (a size-1 label that broadcast is summed over, by leaving it out).
            keep = [lab for lab in uniq if lab in seen and dim_of[lab] == sizes[lab]]
            spec = ",".join([out] + [s for s, _ in others]) + "->" + "".join(keep)
            g = _einsum(xp, spec, gy, *(x for _, x in others))
            # Back to x_k's unique labels: size-1 labels reinserted, missing ones broadcast.
            # (a kept label the other terms hold only with size 1 comes out of size 1 too)
            kept = iter(g.shape)
            g = g.reshape([next(kept) if lab in keep else 1 for lab in uniq])
            g = xp.broadcast_to(g, [dim_of[lab] for lab in uniq])
            if len(uniq) == len(sub):
                grads.append(xp.array(g))  # (a copy: g may be a broadcast view; 0-d stays 0-d)
                continue
            # A repeated label: the gradient lives on the diagonal, zero elsewhere.
            gx = xp.zeros(shape, dtype=gy.dtype)
            strides = [sum(gx.strides[i] for i, c in enumerate(sub) if c == lab) for lab in uniq]
            diag = xp.lib.stride_tricks.as_strided(gx, g.shape, strides)
            diag[...] = g
            grads.append(gx)
        return tuple(grads)


@register_op("addmm")
class AddMM(Function):
    """y = beta * c + alpha * (a @ b), c broadcast to the product's shape; addmm (2-D a, b),
    addmv (b a vector) and baddbmm (batches of matrices). With beta = 0, c is not read (its
    NaN and inf do not propagate, as in PyTorch);
    gc = beta * gy summed to c's shape, ga = alpha * gy @ b^T, gb = alpha * a^T @ gy."""

    @staticmethod
    def forward(ctx, c, a, b, *, beta=1, alpha=1):
        _, na, nb = ctx.needs_input_grad
        ctx.save_for_backward(a if nb else None, b if na else None)
        ctx.meta = (c.shape, beta, alpha, b.ndim == 1)
        t = a.dtype.type
        y = a @ b
        if alpha != 1:
            y *= t(alpha)
        if beta == 0:
            return y
        y += c if beta == 1 else c * t(beta)
        return y

    @staticmethod
    def backward(ctx, gy):
        xp = ctx.xp
        a, b = ctx.saved_tensors
        c_shape, beta, alpha, vec = ctx.meta
        nc, na, nb = ctx.needs_input_grad
        t = gy.dtype.type
        gc = ga = gb = None
        if nc:
            # (beta = 0 gives gy * 0, NaN for an inf gy: PyTorch's maybe_multiply)
            gc = unbroadcast(gy if beta == 1 else gy * t(beta), c_shape)
        g2 = gy[..., None] if vec else gy  # addmv: the vector as a column
        if na:
            ga = g2 @ xp.swapaxes(b[:, None] if vec else b, -1, -2)
            if alpha != 1:
                ga *= t(alpha)
        if nb:
            gb = xp.swapaxes(a, -1, -2) @ g2
            if vec:
                gb = gb[..., 0]
            if alpha != 1:
                gb *= t(alpha)
        return gc, ga, gb


@register_op("cross")
class Cross(Function):
    """y = a x b along ``dim`` (size 3), broadcasting the other dims;
    ga = b x gy, gb = gy x a (each summed to its operand's shape)."""

    @staticmethod
    def forward(ctx, a, b, *, dim):
        na, nb = ctx.needs_input_grad
        ctx.save_for_backward(a if nb else None, b if na else None)
        ctx.meta = (a.shape, b.shape, dim)
        return ctx.xp.cross(a, b, axis=dim)

    @staticmethod
    def backward(ctx, gy):
        xp = ctx.xp
        a, b = ctx.saved_tensors
        sa, sb, dim = ctx.meta
        na, nb = ctx.needs_input_grad
        ga = unbroadcast(xp.cross(b, gy, axis=dim), sa) if na else None
        gb = unbroadcast(xp.cross(gy, a, axis=dim), sb) if nb else None
        return ga, gb


@register_op("cdist")
class Cdist(Function):
    """y[..., i, j] = ||x1[..., i, :] - x2[..., j, :]||_p (p >= 0, inf allowed; batch dims
    already broadcast);  g = gy * d||.||/d diff, PyTorch's (0 where the distance is 0; for
    p < 1 also where a coordinate difference is 0), gx1 = sum_j g, gx2 = -sum_i g.

    ``mm``: p = 2 through ||x1||^2 + ||x2||^2 - 2 x1 x2^T (clamped at 0) and matrix products,
    O(P R) memory instead of the O(P R M) differences, as PyTorch does for more than 25 rows.
    """

    @staticmethod
    def forward(ctx, x1, x2, *, p, mm):
        xp = ctx.xp
        ctx.meta = (p, mm)
        t = x1.dtype.type
        if mm:
            d2 = (x1 * x1).sum(-1)[..., :, None] + (x2 * x2).sum(-1)[..., None, :]
            d2 -= t(2) * (x1 @ xp.swapaxes(x2, -1, -2))
            y = xp.sqrt(xp.maximum(d2, t(0)))
        else:
            diff = xp.abs(x1[..., :, None, :] - x2[..., None, :, :])  # (..., P, R, M)
            if p == 0:
                y = (diff != 0).sum(-1).astype(x1.dtype)
            elif p == 1:
                y = diff.sum(-1)
            elif p == 2:
                y = xp.sqrt((diff * diff).sum(-1))
            elif p == float("inf"):
                y = diff.max(-1) if diff.shape[-1] else diff.sum(-1)
            else:
                y = (diff ** t(p)).sum(-1) ** t(1 / p)
        ctx.save_for_backward(x1, x2, y)
        return y

    @staticmethod
    def backward(ctx, gy):
        xp = ctx.xp
        x1, x2, y = ctx.saved_tensors
        p, mm = ctx.meta
        t = gy.dtype.type
        n1, n2 = ctx.needs_input_grad
        if p == 0:
            return (xp.zeros_like(x1) if n1 else None), (xp.zeros_like(x2) if n2 else None)
        zero = t(0)
        if mm:
            with xp.errstate(divide="ignore", invalid="ignore"):
                w = xp.where(y == 0, zero, gy / y)  # (..., P, R)
            g1 = x1 * w.sum(-1)[..., None] - w @ x2 if n1 else None
            g2 = x2 * w.sum(-2)[..., None] - xp.swapaxes(w, -1, -2) @ x1 if n2 else None
            return g1, g2
        diff = x1[..., :, None, :] - x2[..., None, :, :]
        g = gy[..., None]
        d = y[..., None]
        with xp.errstate(divide="ignore", invalid="ignore"):
            if p == 1:
                gd = xp.sign(diff) * g
            elif p == 2:
                gd = xp.where(d == 0, zero, diff * (g / d))
            elif p == float("inf"):
                gd = xp.sign(diff) * g * (xp.abs(diff) == d)
            else:
                ad = xp.abs(diff)
                gd = xp.sign(diff) * ad ** t(p - 1) * (g / d ** t(p - 1))
                dead = d == 0
                if p < 1:
                    dead = dead | (diff == 0)
                gd = xp.where(dead, zero, gd)
        return (gd.sum(-2) if n1 else None), (-gd.sum(-3) if n2 else None)
