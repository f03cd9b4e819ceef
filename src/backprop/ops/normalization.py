"""Batch norm and layer norm as fused ops with closed-form backward passes.

Composing them from mean / sub / mul primitives costs several memory passes and a Python call per
primitive, and its backward is longer still; the closed forms need two reductions and one pass.
"""

from __future__ import annotations

import math

from ..autograd.function import Function
from ..backend import kernels
from . import register_op

# Below this many elements a compiled batch norm does not pay for its launch (~3 us).
_FUSED_MIN_SIZE = 1 << 14


def _channel_sum(xp, x):
    """Sum of (N, C, *) over every axis but 1 -> (C,).

    As matrix-vector products with a vector of ones: BLAS sums the contiguous inner axis about
    4x faster than NumPy's ``sum(axis=(0, 2, 3))``, with the same float32 accuracy to 1e-6.
    Reads x in its own memory order: a conv output is an (N, C, H, W) view of (C, H, W, N)
    memory, where reshaping to (N*C, H*W) would first copy all of it (3x slower in all).
    """
    n, c = x.shape[:2]
    if x.ndim == 2:
        return xp.ones(n, dtype=x.dtype) @ x
    channel_major = x.transpose(1, *range(2, x.ndim), 0)  # (C, *, N)
    if channel_major.flags.c_contiguous:
        x2 = channel_major.reshape(c, -1)
        return x2 @ xp.ones(x2.shape[1], dtype=x.dtype)
    x3 = x.reshape(n * c, math.prod(x.shape[2:]))
    rows = x3 @ xp.ones(x3.shape[1], dtype=x.dtype)  # (N*C,)
    return xp.ones(n, dtype=x.dtype) @ rows.reshape(n, c)


def _channel_middle(a):
    """``a`` (N, C, *) as a C-contiguous (A, C, B) view with the channel in the middle, or None:
    (N, C, prod(*)) for C order, (1, C, prod(*) * N) for a view of (C, *, N) memory."""
    n, c = a.shape[:2]
    if a.flags.c_contiguous:
        return a.reshape(n, c, -1)
    channel_major = a.transpose(1, *range(2, a.ndim), 0)
    if channel_major.flags.c_contiguous:
        return channel_major.reshape(1, c, -1)
    return None


def _fused(xp, x) -> bool:
    """Whether batch norm of ``x`` runs as the compiled kernels (a NumPy float array of 3+ dims,
    large enough, in a layout :func:`_channel_middle` reads)."""
    return (
        x.ndim >= 3
        and x.size >= _FUSED_MIN_SIZE
        and x.dtype.kind == "f"
        and kernels.fused_kernels_enabled()
        and type(x) is xp.ndarray
        and _channel_middle(x) is not None
    )


def _row_sum(xp, x2):
    """Sum over the last axis of a 2-D array as a matrix-vector product (see _channel_sum)."""
    return x2 @ xp.ones(x2.shape[1], dtype=x2.dtype)


def _col_sum(xp, x2):
    return xp.ones(x2.shape[0], dtype=x2.dtype) @ x2


def _update_running(running_mean, running_var, mean, var, m, momentum) -> None:
    """running = (1 - momentum) * running + momentum * batch stat, in place (the variance
    unbiased), as PyTorch does; either may be None."""
    if running_mean is not None:
        mom = running_mean.dtype.type(momentum)
        running_mean *= 1 - mom
        running_mean += mom * mean.astype(running_mean.dtype, copy=False)
    if running_var is not None:
        mom = running_var.dtype.type(momentum)
        unbiased = var * var.dtype.type(m / (m - 1)) if m > 1 else var
        running_var *= 1 - mom
        running_var += mom * unbiased.astype(running_var.dtype, copy=False)


@register_op("batch_norm")
class BatchNorm(Function):
    """y = (x - mean) / sqrt(var + eps) * w + b over axis 1 (x: (N, C, *));  in training, with
    xhat the normalised input and M = N * prod(*):
    gx = w / sqrt(var + eps) * (gy - mean(gy) - xhat * mean(gy * xhat)),
    gw = sum(gy * xhat), gb = sum(gy) (sums and means per channel). In eval mode the statistics
    are constants: gx = gy * w / sqrt(var + eps).

    In training the running statistics (when given) are updated in place, as PyTorch does:
    running = (1 - momentum) * running + momentum * batch stat, with the unbiased variance.
    """

    @staticmethod
    def forward(
        ctx,
        x,
        w=None,
        b=None,
        *,
        running_mean=None,
        running_var=None,
        training=True,
        momentum=0.1,
        eps=1e-5,
    ):
        xp = ctx.xp
        t = x.dtype.type
        C = x.shape[1]
        bshape = (1, C) + (1,) * (x.ndim - 2)
        if training and _fused(xp, x):
            # One compiled pass per channel instead of NumPy's six over memory (see
            # numba_kernels.batch_norm_train).
            m = x.size // C
            xc, y = ctx.empty_like(x), ctx.empty_like(x)
            mean, var, invstd, scale = (xp.empty(C, x.dtype) for _ in range(4))
            empty = xp.empty(0, x.dtype)
            kernels.launch(
                "batch_norm_train", _channel_middle(x),
                empty if w is None else xp.ascontiguousarray(w, dtype=x.dtype),
                empty if b is None else xp.ascontiguousarray(b, dtype=x.dtype),
                float(eps), _channel_middle(xc), _channel_middle(y), mean, var, invstd, scale,
            )  # fmt: skip
            _update_running(running_mean, running_var, mean, var, m, momentum)
            ctx.save_for_backward(xc, invstd, scale)
            ctx.training = training
            return y
        if training:
            m = x.size // C
            mean = _channel_sum(xp, x) / t(m)
            # Pooled arrays in x's memory order (a conv's CHWN stays CHWN).
            xc = xp.subtract(x, mean.reshape(bshape), out=ctx.empty_like(x))
            sq = xp.multiply(xc, xc, out=ctx.empty_like(x))
            var = _channel_sum(xp, sq) / t(m)
            _update_running(running_mean, running_var, mean, var, m, momentum)
        else:
            mean = running_mean.astype(x.dtype, copy=False).reshape(bshape)
            xc = xp.subtract(x, mean, out=ctx.empty_like(x))
            var = running_var.astype(x.dtype, copy=False)
            sq = ctx.empty_like(x)
        invstd = t(1) / xp.sqrt(var + t(eps))
        scale = invstd if w is None else invstd * w
        y = xp.multiply(xc, scale.reshape(bshape), out=sq)  # reuses the squares' memory
        if b is not None:
            y += b.reshape(bshape)
        ctx.save_for_backward(xc, invstd, scale)
        ctx.training = training
        return y

    @staticmethod
    def backward(ctx, gy):
        xc, invstd, scale = ctx.saved_tensors
        nx, nw, nb = ctx.needs_input_grad
        t = gy.dtype.type
        C = gy.shape[1]
        bshape = (1, C) + (1,) * (gy.ndim - 2)
        xp = ctx.xp
        gy = ctx.match_layout(gy, xc)
        if ctx.training and _fused(xp, xc) and _channel_middle(gy) is not None:
            gx = ctx.empty_like(xc) if nx else xp.empty(0, xc.dtype)
            gw, gb = xp.empty(C, xc.dtype), xp.empty(C, xc.dtype)
            kernels.launch(
                "batch_norm_train_backward", _channel_middle(gy), _channel_middle(xc), invstd,
                scale, _channel_middle(gx) if nx else gx, gw, gb,
            )  # fmt: skip
            return (gx if nx else None), (gw if nw else None), (gb if nb else None)
        gb = _channel_sum(xp, gy)
        tmp = xp.multiply(gy, xc, out=ctx.empty_like(xc))
        # sum(gy * xhat) = invstd * sum(gy * xc)
        gxhat_sum = _channel_sum(xp, tmp) * invstd
        gx = None
        if nx:
            gx = xp.multiply(gy, scale.reshape(bshape), out=ctx.empty_like(xc))
            if ctx.training:
                m = gy.size // C
                # gx = scale * (gy - gb / m) - xc * scale * invstd * gxhat_sum / m
                k2 = scale * invstd * gxhat_sum / t(m)
                gx -= xp.multiply(xc, k2.reshape(bshape), out=tmp)
                gx -= (scale * gb / t(m)).reshape(bshape)
        return gx, (gxhat_sum if nw else None), (gb if nb else None)


@register_op("layer_norm")
class LayerNorm(Function):
    """y = (x - mean) / sqrt(var + eps) * w + b over the last k axes (biased variance);
    with gh = gy * w: gx = (gh - mean(gh) - xhat * mean(gh * xhat)) / sqrt(var + eps),
    gw = sum over the leading axes of gy * xhat, gb = sum of gy."""

    @staticmethod
    def forward(ctx, x, w=None, b=None, *, normalized_ndim=1, eps=1e-5):
        xp = ctx.xp
        t = x.dtype.type
        lead = x.shape[: x.ndim - normalized_ndim]
        d = math.prod(x.shape[x.ndim - normalized_ndim :])
        x2 = x.reshape(math.prod(lead), d)
        mean = _row_sum(xp, x2) / t(d)  # (M,)
        xhat = x2 - mean[:, None]  # becomes xhat in place below
        var = _row_sum(xp, xhat * xhat) / t(d)
        invstd = t(1) / xp.sqrt(var + t(eps))
        xhat *= invstd[:, None]
        if w is not None:
            y = xhat * w.reshape(1, d)
            if b is not None:
                y += b.reshape(1, d)
        elif b is not None:
            y = xhat + b.reshape(1, d)
        else:
            y = xhat.copy()
        ctx.save_for_backward(xhat, invstd, w)
        ctx.shape, ctx.lead = x.shape, lead
        return y.reshape(x.shape)

    @staticmethod
    def backward(ctx, gy):
        xp = ctx.xp
        xhat, invstd, w = ctx.saved_tensors
        t = gy.dtype.type
        d = xhat.shape[1]
        g2 = gy.reshape(-1, d)
        nx, nw, nb = ctx.needs_input_grad
        gx = gw = gb = None
        if nx or nw:
            gxh = g2 * xhat  # (M, D), shared by gw and gx
            if nw:
                gw = _col_sum(xp, gxh).reshape(w.shape)
        if nx:
            if w is not None:
                gh = g2 * w.reshape(1, d)
                xp.multiply(gxh, w.reshape(1, d), out=gxh)  # gh * xhat
            else:
                gh = g2.copy()
            s1 = _row_sum(xp, gh) / t(d)
            s2 = _row_sum(xp, gxh) / t(d)
            gx = gh
            gx -= xp.multiply(xhat, s2[:, None], out=gxh)
            gx -= s1[:, None]
            gx *= invstd[:, None]
            gx = gx.reshape(ctx.shape)
        if nb:
            gb = _col_sum(xp, g2).reshape(ctx.shape[len(ctx.lead) :])
        return gx, gw, gb
