"""Transposed convolution (conv_transpose1d/2d/3d): the adjoint of a convolution with the same
weight, so its forward is conv's input gradient and its backward is conv's forward.

With the weight w (C_in, C_out/G, *K) read as a convolution's (O = C_in, C/G = C_out/G, *K):

- forward: ``cols = w^T @ x`` (one multiply per group, x as (C_in, prod(S)*N)), then col2im into
  the (C_out, *Sp, N) buffer, ``Sp = (S - 1) * stride + dilation * (K - 1) + 1 + output_padding``,
  cropped by ``padding`` on each side: no zero-stuffed input, no flipped kernel;
- backward: ``cols(gy)`` = im2col of the padded output gradient on the input's grid, then
  ``gx = w @ cols(gy)`` and ``gw = x @ cols(gy)^T`` (one multiply each), ``gb = sum(gy)``.

The batch rides last inside (conv.py's layout) and the output is a transposed view of
(C_out, *S_out, N) memory. First-order gradients only.
"""

from __future__ import annotations

from ..autograd.function import Function
from . import _convnd as C
from . import register_op


@register_op("conv_transpose")
class ConvTranspose(Function):
    """y = col2im(w^T @ x) cropped by padding (+ b);  gx = w @ im2col(gy), gw = x @ im2col(gy)^T,
    gb = sum(gy). Any of 1, 2 or 3 spatial dims (conv_transpose1d/2d/3d)."""

    @staticmethod
    def forward(ctx, x, w, b=None, *, stride, padding, output_padding, dilation, groups):
        xp = ctx.xp
        nd = x.ndim - 2
        N, Cin = x.shape[:2]
        S = x.shape[2:]
        Cout = w.shape[1] * groups
        K = w.shape[2:]
        full = tuple(
            (n - 1) * s + d * (k - 1) + 1 + op
            for n, s, d, k, op in zip(S, stride, dilation, K, output_padding)
        )
        pshape = (Cout,) + full + (N,)
        x2 = C.as_rows(xp, x, ctx.empty)  # (C_in, prod(S)*N)
        w2 = w.reshape(Cin, -1)  # (C_in, C_out/G * prod(K))
        gcols = C.grouped_matmul(xp, w2, x2, groups, ta=True)  # (C_out*prod(K), prod(S)*N)
        ypad = C.col2im(xp, gcols, pshape, K, S, stride, dilation, ctx.zeros)
        del gcols
        crop = (slice(None),) + tuple(slice(p, n - p) for p, n in zip(padding, full))
        y = ypad[crop]
        if b is not None:
            y += b.reshape((-1,) + (1,) * (nd + 1))
        nx, nw = ctx.needs_input_grad[:2]
        ctx.geom = (x.shape, K, stride, padding, dilation, groups)
        ctx.save_for_backward(x2 if nw else None, w if nx else None)
        return C.to_nc(y, nd)

    @staticmethod
    def backward(ctx, gy):
        xp = ctx.xp
        x2, w = ctx.saved_tensors
        xshape, K, stride, padding, dilation, G = ctx.geom
        nx, nw, *nb = ctx.needs_input_grad
        nd = len(K)
        S = xshape[2:]
        gx = gw = gb = None
        if nb and nb[0]:
            gb = gy.sum(axis=(0,) + tuple(range(2, nd + 2)))
        gpad = C.padded(xp, gy, tuple((p, p) for p in padding), ctx.empty)  # (C_out, *Sp, N)
        cols = C.im2col(xp, gpad, K, S, stride, dilation, ctx.empty)  # (C_out*prod(K), L)
        del gpad
        if nw:
            gw = C.grouped_matmul(xp, x2, cols, G, tb=True)  # (C_in, C_out/G * prod(K))
            gw = gw.reshape((xshape[1], -1) + tuple(K))
        if nx:
            Cin = xshape[1]
            g2 = C.grouped_matmul(xp, w.reshape(Cin, -1), cols, G)  # (C_in, prod(S)*N)
            gx = C.to_nc(g2.reshape((Cin,) + tuple(S) + (xshape[0],)), nd)
        return gx, gw, gb
