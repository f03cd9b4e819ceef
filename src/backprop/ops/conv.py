"""Convolution: conv2d (and conv1d, as conv2d over a unit height) by im2col and one matrix multiply.

The API is NCHW (PyTorch's), but inside the op the batch axis goes last: the padded input is held as
(C, H, W, N) and the im2col matrix as (C*KH*KW, OH*OW*N). Why:

1. the copy that builds the im2col matrix then moves runs of OW*N contiguous numbers (not OW), so it
   runs near memory speed;
2. ``w (O, C*KH*KW) @ cols`` is one plain 2-D matrix multiply whose result (O, OH, OW, N) is
   returned as a transposed *view* (N, O, OH, OW): no copy. Elementwise ops downstream keep that
   memory order, so the next conv layer and this op's backward find their operands already laid out
   and their transposes cost nothing;
3. the weight gradient ``(cols @ gy^T)^T`` is again one 2-D multiply, with BLAS reading ``gy``
   transposed in place.

The input gradient is col2im of ``w^T @ gy``: one multiply, then one strided slice-add per kernel
tap (KH*KW of them, each vectorised over channels, positions and batch) into a zeroed padded
buffer, with no ``np.add.at``. The alternative, a full correlation of the zero-stuffed, padded
``gy`` with the flipped kernel through the same im2col path, builds a matrix O*KH*KW rows tall
instead of C*KH*KW; on the benchmark shape (64, 20, 14, 14) -> 50 filters 5x5 it measured 2.3x
slower (17.9 ms against 7.9 ms for multiply + slice-adds; benchmarks/bench_nn.py re-measures
both), so the slice-adds stay.

First-order gradients only.
"""

from __future__ import annotations

from ..autograd.function import Function
from . import register_op


def windows(xp, a, shape, strides):
    """A read-only-by-convention strided view of ``a`` (strides in elements, not bytes)."""
    item = a.itemsize
    return xp.lib.stride_tricks.as_strided(a, shape, tuple(s * item for s in strides))


def _elem_strides(a):
    item = a.itemsize
    return tuple(s // item for s in a.strides)


def padded_chwn(xp, x, pt, pb, pl, pr):
    """x (N, C, H, W) -> zero-padded (C, H+pt+pb, W+pl+pr, N) (x's transposed view if unpadded)."""
    xt = x.transpose(1, 2, 3, 0)
    if not (pt or pb or pl or pr):
        return xt
    C, H, W, N = xt.shape
    buf = xp.zeros((C, H + pt + pb, W + pl + pr, N), dtype=x.dtype)
    buf[:, pt : pt + H, pl : pl + W] = xt
    return buf


def im2col(xp, xpad, KH, KW, OH, OW, sh, sw, dh, dw):
    """xpad (C, Hp, Wp, N) -> cols (C*KH*KW, OH*OW*N), rows in (c, kh, kw) order like w's."""
    C, _, _, N = xpad.shape
    s0, s1, s2, s3 = _elem_strides(xpad)
    view = windows(xp, xpad, (C, KH, KW, OH, OW, N), (s0, dh * s1, dw * s2, sh * s1, sw * s2, s3))
    # The one copy of the forward pass (a view when the kernel is 1x1 over a contiguous input).
    return view.reshape(C * KH * KW, OH * OW * N)


def col2im(xp, gcols, shape, KH, KW, OH, OW, sh, sw, dh, dw):
    """The adjoint of im2col: gcols (C*KH*KW, OH*OW*N) -> the padded gradient (C, Hp, Wp, N).

    One strided slice-add per kernel tap; the taps overlap when the stride is below the kernel
    extent, which is why this accumulates rather than assigns.
    """
    C, Hp, Wp, N = shape
    g = gcols.reshape(C, KH, KW, OH, OW, N)
    gpad = xp.zeros(shape, dtype=gcols.dtype)
    he, we = sh * (OH - 1) + 1, sw * (OW - 1) + 1
    for i in range(KH):
        for j in range(KW):
            gpad[:, i * dh : i * dh + he : sh, j * dw : j * dw + we : sw] += g[:, i, j]
    return gpad


def out_size(n, k, s, d, p_lo, p_hi):
    """Output length of a convolution along one axis."""
    return (n + p_lo + p_hi - d * (k - 1) - 1) // s + 1


@register_op("conv2d")
class Conv2d(Function):
    """y[n,o] = b[o] + sum_{c,i,j} w[o,c,i,j] xpad[n,c, s*oh + d*i, s*ow + d*j] (groups split c, o);
    gw = gy @ cols^T, gx = col2im(w^T @ gy), gb = sum(gy). A 3-D input (N, C, L) is conv1d.

    ``padding`` is (top, bottom, left, right); ``stride``/``dilation`` are (h, w) pairs.
    """

    @staticmethod
    def forward(ctx, x, w, b=None, *, stride, padding, dilation, groups):
        xp = ctx.xp
        ctx.one_d = x.ndim == 3
        if ctx.one_d:
            x = x[:, :, None, :]
            w = w[:, :, None, :]
        N, C, H, W = x.shape
        O, Cg, KH, KW = w.shape
        sh, sw = stride
        dh, dw = dilation
        pt, pb, pl, pr = padding
        G = groups
        OH = out_size(H, KH, sh, dh, pt, pb)
        OW = out_size(W, KW, sw, dw, pl, pr)
        xpad = padded_chwn(xp, x, pt, pb, pl, pr)
        cols = im2col(xp, xpad, KH, KW, OH, OW, sh, sw, dh, dw)  # (C*KH*KW, OH*OW*N)
        L = OH * OW * N
        if G == 1:
            y = w.reshape(O, Cg * KH * KW) @ cols  # (O, L)
        else:
            wg = w.reshape(G, O // G, Cg * KH * KW)
            y = (wg @ cols.reshape(G, Cg * KH * KW, L)).reshape(O, L)
        if b is not None:
            y += b[:, None]
        nx, nw = ctx.needs_input_grad[:2]
        ctx.geom = (x.shape, xpad.shape, KH, KW, OH, OW, sh, sw, dh, dw, pt, pl, G)
        ctx.save_for_backward(cols if nw else None, w if nx else None)
        y = y.reshape(O, OH, OW, N).transpose(3, 0, 1, 2)  # a view: NCHW over (O, OH, OW, N)
        return y[:, :, 0, :] if ctx.one_d else y

    @staticmethod
    def backward(ctx, gy):
        xp = ctx.xp
        cols, w = ctx.saved_tensors
        (N, C, H, W), pshape, KH, KW, OH, OW, sh, sw, dh, dw, pt, pl, G = ctx.geom
        nx, nw, *nb = ctx.needs_input_grad
        if ctx.one_d:
            gy = gy[:, :, None, :]
        O = gy.shape[1]
        L = OH * OW * N
        # Free when gy kept this op's output layout (e.g. it came through relu or pooling).
        gy2 = gy.transpose(1, 2, 3, 0).reshape(O, L)
        gx = gw = gb = None
        if nb and nb[0]:
            gb = gy2.sum(axis=1)
        ckk = C // G * KH * KW
        if nw:
            # (cols @ gy^T)^T rather than gy @ cols^T: the same product, but BLAS runs it up to
            # 2x faster when O is small (measured for LeNet's 6 and 16 filters), never slower.
            if G == 1:
                gw = (cols @ gy2.T).T
            else:
                gw = cols.reshape(G, ckk, L) @ gy2.reshape(G, O // G, L).transpose(0, 2, 1)
                gw = gw.transpose(0, 2, 1)
            gw = gw.reshape((O, C // G, KH, KW))
            if ctx.one_d:
                gw = gw[:, :, 0, :]
        if nx:
            if G == 1:
                gcols = w.reshape(O, ckk).T @ gy2
            else:
                wg = w.reshape(G, O // G, ckk).transpose(0, 2, 1)
                gcols = wg @ gy2.reshape(G, O // G, L)
            gpad = col2im(xp, gcols, pshape, KH, KW, OH, OW, sh, sw, dh, dw)
            gx = gpad[:, pt : pt + H, pl : pl + W].transpose(3, 0, 1, 2)
            if ctx.one_d:
                gx = gx[:, :, 0, :]
        return gx, gw, gb
