"""Inverted dropout as one fused op: draw the mask, scale the survivors, multiply."""

from __future__ import annotations

from .. import random
from ..autograd.function import Function
from . import register_op


def dropout_mask(xp, shape, p: float, dtype):
    """The scaled keep-mask: 1 / (1 - p) with probability 1 - p, else 0, in ``dtype``.

    Drawn from the library's generator (``backprop.random.generator()``), so ``manual_seed``
    reproduces it. Uniforms are drawn in float32 for float32 and narrower inputs (half the
    work of float64), in float64 otherwise.
    """
    if p >= 1:
        return xp.zeros(shape, dtype=dtype)
    udt = "float64" if xp.dtype(dtype).itemsize > 4 else "float32"
    u = random.generator().random(shape, dtype=udt)
    t = xp.dtype(dtype).type
    # u >= p keeps with probability 1 - p (u is uniform on [0, 1)).
    return xp.where(u >= p, t(1.0 / (1.0 - p)), t(0))


@register_op("dropout")
class Dropout(Function):
    """y = x * m, m = keep / (1 - p), keep ~ Bernoulli(1 - p);  gx = gy * m."""

    @staticmethod
    def forward(ctx, x, *, p=0.5):
        m = dropout_mask(ctx.xp, x.shape, p, x.dtype)
        ctx.save_for_backward(m)
        return x * m

    @staticmethod
    def backward(ctx, gy):
        (m,) = ctx.saved_tensors
        return gy * m
