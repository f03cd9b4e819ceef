"""3-D convolution (conv3d) by im2col and one matrix multiply, conv2d's algorithm one dim up.

Inside, the padded input is (C, D, H, W, N) and the im2col matrix (C*KD*KH*KW, OD*OH*OW*N);
``w @ cols`` gives (O, OD, OH, OW, N), returned as its (N, O, OD, OH, OW) view. Backward:
``gw = gy @ cols^T`` and ``gx = col2im(w^T @ gy)`` (one strided slice-add per kernel tap).
First-order gradients only.
"""

from __future__ import annotations

from ..autograd.function import Function
from . import _convnd as C
from . import register_op
from .conv import out_size


@register_op("conv3d")
class Conv3d(Function):
    """y[n,o] = b[o] + sum_{c,k} w[o,c,k] xpad[n,c, s*od + d*k] (groups split c, o);
    gw = gy @ cols^T, gx = col2im(w^T @ gy), gb = sum(gy).

    ``padding`` is ((lo, hi) per spatial dim); ``stride``/``dilation`` one int per dim.
    """

    @staticmethod
    def forward(ctx, x, w, b=None, *, stride, padding, dilation, groups):
        xp = ctx.xp
        nd = x.ndim - 2
        N = x.shape[0]
        O = w.shape[0]
        K = w.shape[2:]
        OS = tuple(
            out_size(n, k, s, d, lo, hi)
            for n, k, s, d, (lo, hi) in zip(x.shape[2:], K, stride, dilation, padding)
        )
        xpad = C.padded(xp, x, padding, ctx.empty)
        cols = C.im2col(xp, xpad, K, OS, stride, dilation, ctx.empty)
        y = C.grouped_matmul(xp, w.reshape(O, -1), cols, groups)  # (O, prod(OS)*N)
        if b is not None:
            y += b[:, None]
        nx, nw = ctx.needs_input_grad[:2]
        ctx.geom = (x.shape, xpad.shape, K, OS, stride, padding, dilation, groups)
        ctx.save_for_backward(cols if nw else None, w if nx else None)
        return C.to_nc(y.reshape((O,) + OS + (N,)), nd)

    @staticmethod
    def backward(ctx, gy):
        xp = ctx.xp
        cols, w = ctx.saved_tensors
        xshape, pshape, K, OS, stride, padding, dilation, G = ctx.geom
        nx, nw, *nb = ctx.needs_input_grad
        nd = len(K)
        O = gy.shape[1]
        gy2 = C.as_rows(xp, gy, ctx.empty)  # (O, prod(OS)*N)
        gx = gw = gb = None
        if nb and nb[0]:
            gb = gy2.sum(axis=1)
        if nw:
            gw = C.grouped_matmul(xp, gy2, cols, G, tb=True).reshape(w_shape(xshape, O, K, G))
        if nx:
            gcols = C.grouped_matmul(xp, w.reshape(O, -1), gy2, G, ta=True)
            gpad = C.col2im(xp, gcols, pshape, K, OS, stride, dilation, ctx.zeros)
            crop = (slice(None),) + tuple(
                slice(lo, lo + n) for n, (lo, _) in zip(xshape[2:], padding)
            )
            gx = C.to_nc(gpad[crop], nd)
        return gx, gw, gb


def w_shape(xshape, O, K, G):
    return (O, xshape[1] // G) + tuple(K)
