"""Interpolation (``F.interpolate``): nearest, nearest-exact, (bi/tri)linear and bicubic resizing.

Every mode is separable: along one spatial axis, output ``j`` is a weighted sum of K input cells
(``K = 1`` nearest, 2 linear, 4 cubic) at indices and weights that depend on ``j`` only. The op
takes one "plan" per resized axis, ``(axis, idx (K, out), w (K, out) or None)``, built by
:func:`nearest_plan` / :func:`linear_plan` / :func:`cubic_plan` with PyTorch's index formulas
(``area_pixel_compute_source_index`` and friends, in the same precision), and

- forward: per axis, ``y = sum_k take(x, idx[k]) * w[k]`` (K gathers along the axis);
- backward: per axis in reverse, ``gx = sum_k scatter(gy * w[k], idx[k])``. Each ``idx[k]`` is
  non-decreasing, so the scatter is one ``add.reduceat`` over contiguous runs (no ``np.add.at``).

An integer upscale in nearest mode (output ``j`` reads input ``j // s``) takes a repeat forward
and a reshape-and-sum backward instead.

First-order gradients only.
"""

from __future__ import annotations

import math

from ..autograd.function import Function
from . import register_op


def _scale(xp, n_in, n_out, scale, align_corners, dtype):
    """PyTorch's area_pixel_compute_scale in ``dtype`` (its opmath type)."""
    if align_corners:
        return dtype.type((n_in - 1) / (n_out - 1)) if n_out > 1 else dtype.type(0)
    if scale is not None and scale > 0:
        return dtype.type(1.0 / scale)
    return dtype.type(n_in) / dtype.type(n_out)


def nearest_plan(xp, n_in, n_out, scale, exact):
    """Nearest (``floor(j * s)``) or nearest-exact (``floor((j + .5) * s)``) as PyTorch's CPU
    kernel computes it (in float32; nearest takes its shortcuts for equal and doubled sizes).
    Returns (idx (1, out), 0), or (None, k) where output j reads input j // k."""
    f32 = xp.dtype(xp.float32)
    j = xp.arange(n_out)
    if not exact and n_out == n_in:
        idx = j
    elif not exact and n_out == 2 * n_in:
        idx = j >> 1
    else:
        s = _scale(xp, n_in, n_out, scale, False, f32)
        jf = j.astype(f32) + (f32.type(0.5) if exact else f32.type(0))
        idx = xp.minimum(xp.floor(jf * s).astype(xp.int64), n_in - 1)
    if n_out % n_in == 0 and bool((idx == j // (n_out // n_in)).all()):
        return None, n_out // n_in
    return idx[None, :], 0


def linear_plan(xp, n_in, n_out, scale, align_corners, dtype):
    """(idx (2, out), w (2, out)) of linear interpolation (PyTorch's
    ``compute_indices_weights_linear``: source clamped at 0, lambdas in [0, 1])."""
    s = _scale(xp, n_in, n_out, scale, align_corners, dtype)
    j = xp.arange(n_out, dtype=dtype)
    if align_corners:
        src = s * j
    else:
        src = s * (j + dtype.type(0.5)) - dtype.type(0.5)
        src = xp.maximum(src, dtype.type(0))
    i0 = xp.minimum(xp.floor(src).astype(xp.int64), n_in - 1)
    lam = xp.clip(src - i0.astype(dtype), 0, 1).astype(dtype)
    i1 = i0 + (i0 < n_in - 1)
    idx = xp.stack([i0, i1])
    w = xp.stack([dtype.type(1) - lam, lam])
    return idx, w


def _cubic_weights(xp, t, dtype):
    A = dtype.type(-0.75)

    def cc1(x):  # |x| <= 1
        return ((A + 2) * x - (A + 3)) * x * x + 1

    def cc2(x):  # 1 < |x| < 2
        return ((A * x - 5 * A) * x + 8 * A) * x - 4 * A

    one = dtype.type(1)
    return xp.stack([cc2(t + one), cc1(t), cc1(one - t), cc2(one - t + one)]).astype(dtype)


def cubic_plan(xp, n_in, n_out, scale, align_corners, dtype):
    """(idx (4, out), w (4, out)) of bicubic interpolation (A = -0.75, edge indices clamped)."""
    s = _scale(xp, n_in, n_out, scale, align_corners, dtype)
    j = xp.arange(n_out, dtype=dtype)
    src = s * j if align_corners else s * (j + dtype.type(0.5)) - dtype.type(0.5)
    i0 = xp.minimum(xp.floor(src).astype(xp.int64), n_in - 1)
    t = xp.clip(src - i0.astype(dtype), 0, 1).astype(dtype)
    idx = xp.stack([xp.clip(i0 - 1 + k, 0, n_in - 1) for k in range(4)])
    return idx, _cubic_weights(xp, t, dtype)


def _at(axis, s):
    return (slice(None),) * axis + (s,)


def _bcast(w, axis, ndim):
    """A 1-D weight vector shaped to broadcast along ``axis`` of an ndim array."""
    return w.reshape((-1,) + (1,) * (ndim - axis - 1))


def _scatter(xp, g, idx, n, axis):
    """The adjoint of ``take(x, idx, axis)`` for a non-decreasing ``idx``: sums of g over runs."""
    counts = xp.bincount(idx, minlength=n)
    starts = xp.zeros(n, dtype=xp.int64)
    xp.cumsum(counts[:-1], out=starts[1:])
    nz = counts > 0
    if bool(nz.all()):
        return xp.add.reduceat(g, starts, axis=axis)
    shape = g.shape[:axis] + (n,) + g.shape[axis + 1 :]
    out = xp.zeros(shape, dtype=g.dtype)
    if idx.size:
        out[_at(axis, nz)] = xp.add.reduceat(g, starts[nz], axis=axis)
    return out


@register_op("interpolate")
class Interpolate(Function):
    """y = x resized axis by axis, y[j] = sum_k w[k, j] x[idx[k, j]] (nearest, linear, cubic);
    gx = the transposed sums, gx[i] = sum over (k, j) with idx[k, j] = i of w[k, j] gy[j]."""

    @staticmethod
    def forward(ctx, x, *, plans):
        xp = ctx.xp
        y = x
        for axis, idx, w, rep in plans:
            if rep:
                if rep > 1:
                    y = xp.repeat(y, rep, axis=axis)
                continue
            out = None
            for k in range(idx.shape[0]):
                t = xp.take(y, idx[k], axis=axis)
                if w is not None:
                    t *= _bcast(w[k], axis, y.ndim)
                out = t if out is None else xp.add(out, t, out=out)
            y = out
        ctx.plans = plans
        ctx.sizes = []
        shape = list(x.shape)
        for axis, idx, _, rep in plans:
            ctx.sizes.append(shape[axis])
            shape[axis] = shape[axis] * rep if rep else idx.shape[1]
        return y if y is not x else x.copy()

    @staticmethod
    def backward(ctx, gy):
        xp = ctx.xp
        g = gy
        for (axis, idx, w, rep), n in zip(reversed(ctx.plans), reversed(ctx.sizes)):
            if rep:
                if rep > 1:
                    g = g.reshape(g.shape[:axis] + (n, rep) + g.shape[axis + 1 :])
                    g = g.sum(axis=axis + 1)
                continue
            out = None
            for k in range(idx.shape[0]):
                gk = g if w is None else g * _bcast(w[k], axis, g.ndim)
                s = _scatter(xp, gk, idx[k], n, axis)
                out = s if out is None else xp.add(out, s, out=out)
            g = out
        return g if g is not gy else gy.copy()


def output_size(n: int, scale: float) -> int:
    """PyTorch's output length for a scale factor: floor(n * scale) in double precision."""
    return int(math.floor(float(n) * scale))
