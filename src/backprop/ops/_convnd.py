"""N-d convolution helpers (1, 2 or 3 spatial dims) in conv.py's batch-last layout.

conv.py holds the 2-D im2col/col2im for conv2d; these are the same algorithms over any number of
spatial dims, for conv3d and the transposed convolutions. Arrays are (C, *spatial, N) inside:
the im2col matrix is (C*prod(K), prod(O)*N), rows in (c, k...) order like the weight's, so that
``w (O, C*prod(K)) @ cols`` is one 2-D multiply whose result is returned as a transposed view.
"""

from __future__ import annotations

import itertools
from math import prod

from .conv import _elem_strides, windows


def padded(xp, x, pads, empty=None):
    """x (N, C, *S) -> zero-padded (C, *(S + lo + hi), N) (a transposed view when unpadded)."""
    nd = x.ndim - 2
    xt = x.transpose(tuple(range(1, nd + 2)) + (0,))
    if not any(lo or hi for lo, hi in pads):
        return xt
    shape = (xt.shape[0],) + tuple(n + lo + hi for n, (lo, hi) in zip(xt.shape[1:-1], pads))
    shape += (xt.shape[-1],)
    buf = xp.zeros(shape, dtype=x.dtype) if empty is None else empty(shape, x.dtype)
    if empty is not None:
        buf.fill(0)
    inner = (slice(None),) + tuple(slice(lo, lo + n) for n, (lo, _) in zip(xt.shape[1:-1], pads))
    buf[inner] = xt
    return buf


def im2col(xp, xpad, K, O, st, dil, empty=None):
    """xpad (C, *Sp, N) -> cols (C*prod(K), prod(O)*N)."""
    C, N = xpad.shape[0], xpad.shape[-1]
    s = _elem_strides(xpad)
    nd = len(K)
    shape = (C,) + tuple(K) + tuple(O) + (N,)
    strides = (s[0],) + tuple(d * s[1 + i] for i, d in enumerate(dil))
    strides += tuple(t * s[1 + i] for i, t in enumerate(st)) + (s[nd + 1],)
    view = windows(xp, xpad, shape, strides)
    rows, cols_n = C * prod(K), prod(O) * N
    if all(k == 1 for k in K) and all(t == 1 for t in st) and xpad.flags.c_contiguous:
        return view.reshape(rows, cols_n)
    out = (
        xp.empty((rows, cols_n), dtype=xpad.dtype)
        if empty is None
        else empty((rows, cols_n), xpad.dtype)
    )
    xp.copyto(out.reshape(shape), view)
    return out


def col2im(xp, gcols, pshape, K, O, st, dil, zeros=None):
    """The adjoint of :func:`im2col`: (C*prod(K), prod(O)*N) -> (C, *Sp, N), one strided
    slice-add per kernel tap."""
    C, N = pshape[0], pshape[-1]
    g = gcols.reshape((C,) + tuple(K) + tuple(O) + (N,))
    out = xp.zeros(pshape, dtype=gcols.dtype) if zeros is None else zeros(pshape, gcols.dtype)
    ext = [t * (o - 1) + 1 for t, o in zip(st, O)]
    for tap in itertools.product(*(range(k) for k in K)):
        dst = (slice(None),) + tuple(
            slice(i * d, i * d + e, t) for i, d, e, t in zip(tap, dil, ext, st)
        )
        out[dst] += g[(slice(None),) + tap]
    return out


def as_rows(xp, x, empty=None):
    """x (N, C, *S) -> (C, prod(S)*N) in the batch-last layout (free when x already is)."""
    nd = x.ndim - 2
    xt = x.transpose(tuple(range(1, nd + 2)) + (0,))
    if xt.flags.c_contiguous:
        return xt.reshape(xt.shape[0], -1)
    out = xp.empty(xt.shape, dtype=x.dtype) if empty is None else empty(xt.shape, x.dtype)
    xp.copyto(out, xt)
    return out.reshape(xt.shape[0], -1)


def to_nc(y, nd):
    """(C, *S, N) -> the (N, C, *S) view."""
    return y.transpose((nd + 1, 0) + tuple(range(1, nd + 1)))


def grouped_matmul(xp, a, b, G, out=None, ta=False, tb=False):
    """Per group g: op(a_g) @ op(b_g), with a (G*p, q) and b (G*q', r) split on their rows
    (``ta``/``tb``: transpose the group's block first). Returns (G*m, r')."""
    if G == 1:
        A = a.T if ta else a
        B = b.T if tb else b
        return xp.matmul(A, B, out=out) if out is not None else A @ B
    A = a.reshape(G, a.shape[0] // G, a.shape[1])
    B = b.reshape(G, b.shape[0] // G, b.shape[1])
    if ta:
        A = A.transpose(0, 2, 1)
    if tb:
        B = B.transpose(0, 2, 1)
    if out is not None:
        xp.matmul(A, B, out=out.reshape(G, A.shape[1], B.shape[2]))
        return out
    r = A @ B
    return r.reshape(G * r.shape[1], r.shape[2])
