"""Padding in PyTorch's modes: constant (with negative widths: cropping), reflect, replicate and
circular, over any trailing axes.

Every mode is, along one axis, an index map ``y[j] = x[src[j]]`` (``src[j] = -1``: the constant).
The map is cut into runs where the source moves by +1, -1 or 0 per step (reflect: three runs,
circular: up to three, replicate: the interior plus one constant run per side), so the forward
fills the output with one slice copy per run and the backward folds ``gy`` back with one slice-add
per run (a sum over the axis for a replicated run): no gather of every element, no ``np.add.at``.

First-order gradients only.
"""

from __future__ import annotations

from ..autograd.function import Function
from . import register_op


def source_index(n: int, lo: int, hi: int, mode: str) -> list:
    """PyTorch's source index (``-1``: the fill value) of every output position along an axis of
    length ``n`` padded by ``(lo, hi)`` (negative: cropped). Reflect and replicate pad the whole
    axis and then crop; circular crops first and wraps the rest (as torch 2.x does)."""
    if mode == "circular":
        start, stop = max(-lo, 0), n - max(-hi, 0)
        m = stop - start
        return [start + (j % m) for j in range(-max(lo, 0), m + max(hi, 0))]
    out = []
    for i in range(-lo, n + hi):
        if mode == "constant":
            out.append(i if 0 <= i < n else -1)
        elif mode == "reflect":
            i = abs(i)
            out.append(2 * (n - 1) - i if i >= n else i)
        else:  # replicate
            out.append(min(max(i, 0), n - 1))
    return out


def runs(src: list) -> tuple:
    """Cut an index map into runs ``(j0, j1, i0, step)``: ``y[j0:j1]`` reads ``x[i0 + step * k]``
    (step +1, -1 or 0); ``i0 = -1`` marks a run of the fill value."""
    out = []
    j, n = 0, len(src)
    while j < n:
        i0 = src[j]
        if i0 < 0:
            k = j + 1
            while k < n and src[k] < 0:
                k += 1
            out.append((j, k, -1, 0))
            j = k
            continue
        step = src[j + 1] - i0 if j + 1 < n and src[j + 1] >= 0 else 1
        if step not in (-1, 0, 1):
            step = 1
        k = j + 1
        while k < n and src[k] >= 0 and src[k] - src[k - 1] == step:
            k += 1
        out.append((j, k, i0, step))
        j = k
    return tuple(out)


def _src_slice(i0: int, length: int, step: int) -> slice:
    if step == 1:
        return slice(i0, i0 + length)
    stop = i0 - length
    return slice(i0, stop if stop >= 0 else None, -1)


def _at(axis: int, s) -> tuple:
    return (slice(None),) * axis + (s,)


@register_op("pad_mode")
class PadMode(Function):
    """y = x read through per-axis index maps (constant/reflect/replicate/circular, negative widths
    crop);  gx = gy folded back through the same maps (a slice-add per run)."""

    @staticmethod
    def forward(ctx, x, *, plan, value=0.0):
        # plan: ((axis, runs, out_len), ...) over the padded axes.
        xp = ctx.xp
        y = x
        for axis, rs, m in plan:
            shape = y.shape[:axis] + (m,) + y.shape[axis + 1 :]
            out = xp.empty(shape, dtype=y.dtype)
            for j0, j1, i0, step in rs:
                dst = out[_at(axis, slice(j0, j1))]
                if i0 < 0:
                    dst[...] = value
                elif step == 0:
                    dst[...] = y[_at(axis, slice(i0, i0 + 1))]
                else:
                    dst[...] = y[_at(axis, _src_slice(i0, j1 - j0, step))]
            y = out
        ctx.plan = plan
        # y[axis k] reads the array padded along axes < k: record each input length in order.
        lens, shape = [], list(x.shape)
        for axis, _, m in plan:
            lens.append(shape[axis])
            shape[axis] = m
        ctx.sizes = lens
        return y

    @staticmethod
    def backward(ctx, gy):
        xp = ctx.xp
        g = gy
        for (axis, rs, _), n in zip(reversed(ctx.plan), reversed(ctx.sizes)):
            shape = g.shape[:axis] + (n,) + g.shape[axis + 1 :]
            gx = xp.zeros(shape, dtype=g.dtype)
            for j0, j1, i0, step in rs:
                if i0 < 0:
                    continue
                src = g[_at(axis, slice(j0, j1))]
                if step == 0:
                    gx[_at(axis, slice(i0, i0 + 1))] += src.sum(axis=axis, keepdims=True)
                else:
                    gx[_at(axis, _src_slice(i0, j1 - j0, step))] += src
            g = gx
        return (g,)
