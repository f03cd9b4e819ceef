"""3-D pooling (max_pool3d, avg_pool3d) and max unpooling, written for any number of spatial dims.

As pooling.py does in 2-D: one strided slice of the padded input per kernel tap covers every
window at once (KD*KH*KW slices, no im2col), the max backward routes each window's gradient to its
first maximum in window order (or its last NaN: PyTorch's CPU rule, via ``max_masks``), and both
backward passes are one slice-add (or assign, for tiling windows) per tap.

The ops also take integer inputs, as PyTorch's max pooling does for every integer dtype and its
average pooling for int64 (the sum divided with truncation toward zero); integer tensors carry no
gradient. Max unpooling writes each value at its saved flat index (``put_along_axis``); its
backward reads the gradient back at those indices. First-order gradients only.
"""

from __future__ import annotations

import itertools
from math import prod

from ..autograd.function import Function
from . import register_op
from .pooling import max_masks


def _fill_low(xp, dtype):
    """Max pooling's padding: -inf, or the smallest integer of an integer dtype."""
    return -xp.inf if dtype.kind == "f" else xp.iinfo(dtype).min


def padded(xp, x, pads, value):
    """x (N, C, *S) padded on its spatial dims by ``pads`` ((lo, hi) each) with ``value``."""
    if not any(lo or hi for lo, hi in pads):
        return x
    shape = x.shape[:2] + tuple(n + lo + hi for n, (lo, hi) in zip(x.shape[2:], pads))
    buf = xp.full(shape, value, dtype=x.dtype)
    buf[(slice(None),) * 2 + tuple(slice(lo, lo + n) for n, (lo, _) in zip(x.shape[2:], pads))] = x
    return buf


def tap_slices(K, O, st, dil):
    """Per kernel tap (in window order): (tap, the index tuple of its strided slice)."""
    ext = [s * (o - 1) + 1 for s, o in zip(st, O)]
    out = []
    for tap in itertools.product(*(range(k) for k in K)):
        sl = (slice(None),) * 2 + tuple(
            slice(i * d, i * d + e, s) for i, d, e, s in zip(tap, dil, ext, st)
        )
        out.append((tap, sl))
    return out


def inside(xp, tap, O, st, dil, pad, S):
    """(O...) mask of the windows where ``tap`` lies inside the input (not in any padding)."""
    m = None
    for a, (i, o, s, d, p, n) in enumerate(zip(tap, O, st, dil, pad, S)):
        r = xp.arange(o) * s + i * d - p
        ok = (r >= 0) & (r < n)
        ok = ok.reshape((-1,) + (1,) * (len(O) - a - 1))
        m = ok if m is None else m & ok
    return m


def out_shape(S, K, st, dil, pad, extra):
    return tuple(
        (n + 2 * p + e - d * (k - 1) - 1) // s + 1
        for n, k, s, d, p, e in zip(S, K, st, dil, pad, extra)
    )


def _scatter(xp, gs, shape, slices, tiles, dtype):
    g = xp.zeros(shape, dtype=dtype)
    for gk, (_, sl) in zip(gs, slices):
        if tiles:
            g[sl] = gk
        else:
            g[sl] += gk
    return g


@register_op("max_pool3d")
class MaxPool3d(Function):
    """y = max over each window of x padded with -inf;  gx = gy routed to each window's first
    maximum (last NaN). Any number of spatial dims; ``extra`` pads further for ceil_mode."""

    @staticmethod
    def forward(ctx, x, *, kernel_size, stride, padding, dilation, extra):
        xp = ctx.xp
        pads = tuple((p, p + e) for p, e in zip(padding, extra))
        xin = padded(xp, x, pads, _fill_low(xp, x.dtype))
        O = out_shape(x.shape[2:], kernel_size, stride, dilation, padding, extra)
        slices = tap_slices(kernel_size, O, stride, dilation)
        y = xin[slices[0][1]].copy()
        for _, sl in slices[1:]:
            xp.maximum(y, xin[sl], out=y)
        ctx.geom = (x.shape, kernel_size, O, stride, dilation, padding)
        ctx.save_for_backward(xin, y)
        return y

    @staticmethod
    def backward(ctx, gy):
        xp = ctx.xp
        xin, y = ctx.saved_tensors
        xshape, K, O, st, dil, pad = ctx.geom
        slices = tap_slices(K, O, st, dil)
        taps = [xin[sl] for _, sl in slices]
        ins = None
        if xin.shape != xshape and xp.isneginf(y).any():  # -inf windows may tie the padding
            ins = [inside(xp, tap, O, st, dil, pad, xshape[2:]) for tap, _ in slices]
        masks = max_masks(xp, taps, y, ins)
        if xp.isfinite(gy).all():
            gs = [gy * m for m in masks]
        else:  # inf * 0 would put NaN where no gradient belongs
            gs = [xp.where(m, gy, gy.dtype.type(0)) for m in masks]
        tiles = all(s >= d * (k - 1) + 1 for s, d, k in zip(st, dil, K))
        g = _scatter(xp, gs, xin.shape, slices, tiles, gy.dtype)
        crop = (slice(None),) * 2 + tuple(slice(p, p + n) for p, n in zip(pad, xshape[2:]))
        return g[crop]


def max_indices(xp, x, kernel_size, stride, padding, dilation, extra):
    """return_indices: each window's chosen maximum as a flat index into the input's spatial
    cells (the same choice as the backward), int64 (N, C, *O)."""
    pads = tuple((p, p + e) for p, e in zip(padding, extra))
    xin = padded(xp, x, pads, _fill_low(xp, x.dtype))
    S = x.shape[2:]
    O = out_shape(S, kernel_size, stride, dilation, padding, extra)
    slices = tap_slices(kernel_size, O, stride, dilation)
    taps = [xin[sl] for _, sl in slices]
    y = taps[0].copy()
    for t in taps[1:]:
        xp.maximum(y, t, out=y)
    ins = [inside(xp, tap, O, stride, dilation, padding, S) for tap, _ in slices]
    if x.dtype.kind == "f":
        masks = max_masks(xp, taps, y, ins if xin is not x else None)
    else:  # integers: the first maximum inside the input
        masks, free = [], xp.ones(y.shape, dtype=bool)
        for t, m_in in zip(taps, ins):
            m = (t == y) & m_in & free
            free &= ~m
            masks.append(m)
    idx = xp.zeros(y.shape, dtype=xp.int64)
    plane = [prod(S[a + 1 :]) for a in range(len(S))]
    for (tap, _), m in zip(slices, masks):
        flat = 0
        for a, (i, o, s, d, p) in enumerate(zip(tap, O, stride, dilation, padding)):
            r = xp.arange(o) * s + i * d - p
            flat = flat + (r * plane[a]).reshape((-1,) + (1,) * (len(O) - a - 1))
        idx[m] = xp.broadcast_to(flat, y.shape)[m]
    return idx


def avg_divisor(xp, dtype, S, K, O, st, pad, count_include_pad, divisor_override):
    """PyTorch's divisor (a scalar, or an (O...) array when windows differ); see pooling.py."""
    if divisor_override:
        return dtype.type(divisor_override)
    div = None
    for a, (n, k, o, s, p) in enumerate(zip(S, K, O, st, pad)):
        start = xp.arange(o) * s - p
        end = xp.minimum(start + k, n + p)
        size = end - start if count_include_pad else xp.minimum(end, n) - xp.maximum(start, 0)
        size = size.reshape((-1,) + (1,) * (len(O) - a - 1))
        div = size if div is None else div * size
    div = xp.broadcast_to(div, O).astype(dtype)
    if bool((div == div.flat[0]).all()):
        return dtype.type(div.flat[0])
    return div


@register_op("avg_pool3d")
class AvgPool3d(Function):
    """y = sum over each window of x padded with 0, / divisor (PyTorch's; int64: truncated);
    gx = gy / divisor spread over each window. Any number of spatial dims."""

    @staticmethod
    def forward(
        ctx, x, *, kernel_size, stride, padding, extra, count_include_pad, divisor_override
    ):
        xp = ctx.xp
        pads = tuple((p, p + e) for p, e in zip(padding, extra))
        xin = padded(xp, x, pads, 0)
        S = x.shape[2:]
        O = out_shape(S, kernel_size, stride, (1,) * len(S), padding, extra)
        slices = tap_slices(kernel_size, O, stride, (1,) * len(S))
        y = xin[slices[0][1]].copy()
        for _, sl in slices[1:]:
            y += xin[sl]
        div = avg_divisor(
            xp, x.dtype, S, kernel_size, O, stride, padding, count_include_pad, divisor_override
        )
        if x.dtype.kind == "f":
            y /= div
        else:  # int64 as PyTorch: C++ integer division, truncating toward zero
            y = xp.sign(y) * (xp.abs(y) // div)
        ctx.geom = (x.shape, xin.shape, kernel_size, O, stride, padding, div)
        return y

    @staticmethod
    def backward(ctx, gy):
        xp = ctx.xp
        xshape, pshape, K, O, st, pad, div = ctx.geom
        g = gy / div
        slices = tap_slices(K, O, st, (1,) * len(K))
        tiles = all(s >= k for s, k in zip(st, K))
        gpad = _scatter(xp, [g] * len(slices), pshape, slices, tiles, gy.dtype)
        crop = (slice(None),) * 2 + tuple(slice(p, p + n) for p, n in zip(pad, xshape[2:]))
        return gpad[crop]


@register_op("max_unpool")
class MaxUnpool(Function):
    """y = zeros(N, C, *out) with y.flat_plane[idx] = x (each value at its flat spatial index);
    gx = gy.flat_plane[idx]. Any number of spatial dims."""

    @staticmethod
    def forward(ctx, x, idx, *, out_spatial):
        xp = ctx.xp
        N, C = x.shape[:2]
        y = xp.zeros((N, C, prod(out_spatial)), dtype=x.dtype)
        flat = idx.reshape(N, C, -1)
        xp.put_along_axis(y, flat, x.reshape(N, C, -1), axis=2)
        ctx.save_for_backward(flat)  # (a view of the index input: the in-place check sees it)
        ctx.meta = x.shape
        return y.reshape((N, C) + tuple(out_spatial))

    @staticmethod
    def backward(ctx, gy):
        xshape = ctx.meta
        (flat,) = ctx.saved_tensors
        N, C = xshape[:2]
        g = ctx.xp.take_along_axis(gy.reshape(N, C, -1), flat, axis=2)
        return g.reshape(xshape), None
