"""Activation functions and the fused softmax / log-softmax."""

from __future__ import annotations

import math

from ..autograd.function import Function
from . import register_op


def stable_sigmoid(xp, x):
    """1 / (1 + exp(-x)) without overflow: exp only ever sees -|x|."""
    e = xp.exp(-xp.abs(x))
    one = x.dtype.type(1)
    return xp.where(x >= 0, one, e) / (one + e)


def select(xp, gy, keep, out=None):
    """gy where ``keep``, else 0 (into ``out`` when given): a mask that selects, so an inf or NaN
    gy through a closed gate gives 0, as PyTorch's threshold_backward does.

    Multiplying by the mask runs ~5x faster than ``where``; its result differs from selecting
    only where it holds a NaN (inf * 0, or a NaN gy), and then the select is redone.
    """
    out = xp.multiply(gy, keep, out=out)
    if xp.isnan(out).any():
        xp.copyto(out, gy)
        xp.copyto(out, gy.dtype.type(0), where=~keep)
    return out


@register_op("sigmoid")
class Sigmoid(Function):
    """y = 1 / (1 + exp(-x));  gx = gy * y * (1 - y)."""

    @staticmethod
    def forward(ctx, x):
        y = stable_sigmoid(ctx.xp, x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, gy):
        (y,) = ctx.saved_tensors
        return gy * y * (y.dtype.type(1) - y)


@register_op("tanh")
class Tanh(Function):
    """y = tanh(x);  gx = gy * (1 - y^2)."""

    @staticmethod
    def forward(ctx, x):
        y = ctx.xp.tanh(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, gy):
        (y,) = ctx.saved_tensors
        return gy * (y.dtype.type(1) - y * y)


@register_op("relu")
class ReLU(Function):
    """y = max(x, 0) (NaN stays NaN);  gx = gy where not y <= 0, else 0 (PyTorch's
    threshold_backward: 0 at x = 0 even for an inf gy; a NaN x passes gy)."""

    @staticmethod
    def forward(ctx, x):
        # Into a pooled array in x's memory order (a conv's CHWN stays CHWN for the next layer).
        y = ctx.xp.maximum(x, x.dtype.type(0), out=ctx.empty_like(x))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, gy):
        (y,) = ctx.saved_tensors
        xp = ctx.xp
        gy = ctx.match_layout(gy, y)
        # (out= keeps a 0-d result an array, so that the in-place not works on it too)
        keep = xp.less_equal(y, y.dtype.type(0), out=xp.empty(y.shape, dtype=bool))
        xp.logical_not(keep, out=keep)
        return select(xp, gy, keep, out=ctx.empty_like(y))


@register_op("leaky_relu")
class LeakyReLU(Function):
    """y = x if x > 0 else slope * x;  gx = gy * (1 if x > 0 else slope)."""

    @staticmethod
    def forward(ctx, x, *, negative_slope=0.01):
        ctx.save_for_backward(x)
        ctx.slope = x.dtype.type(negative_slope)
        return ctx.xp.where(x > 0, x, x * ctx.slope)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        return ctx.xp.where(x > 0, gy, gy * ctx.slope)


@register_op("elu")
class ELU(Function):
    """y = x if x > 0 else alpha * (exp(x) - 1);  gx = gy * (y + alpha) if x <= 0 else gy (so a
    NaN x passes gy, as PyTorch's)."""

    @staticmethod
    def forward(ctx, x, *, alpha=1.0):
        xp = ctx.xp
        a = x.dtype.type(alpha)
        y = xp.where(x > 0, x, a * xp.expm1(xp.minimum(x, x.dtype.type(0))))
        ctx.save_for_backward(x, y)
        ctx.alpha = a
        return y

    @staticmethod
    def backward(ctx, gy):
        x, y = ctx.saved_tensors
        return ctx.xp.where(x <= 0, gy * (y + ctx.alpha), gy)


def _erf(xp, x):
    """The error function, exact to float64 (NumPy has none)."""
    try:
        from scipy.special import erf
    except ImportError:  # pragma: no cover - SciPy comes with scikit-learn in practice
        erf = xp.frompyfunc(math.erf, 1, 1)
    return xp.asarray(erf(x), dtype=x.dtype)


@register_op("gelu")
class GELU(Function):
    """y = x * Phi(x) (exact) or the tanh approximation;  gx = gy * dy/dx."""

    @staticmethod
    def forward(ctx, x, *, approximate="none"):
        xp = ctx.xp
        t = x.dtype.type
        ctx.save_for_backward(x)
        ctx.approximate = approximate
        if approximate == "tanh":
            k = t(math.sqrt(2.0 / math.pi))
            inner = k * (x + t(0.044715) * x * x * x)
            th = xp.tanh(inner)
            ctx.th = th
            return t(0.5) * x * (t(1) + th)
        cdf = t(0.5) * (t(1) + _erf(xp, x * t(1 / math.sqrt(2.0))))
        ctx.cdf = cdf
        return x * cdf

    @staticmethod
    def backward(ctx, gy):
        xp = ctx.xp
        (x,) = ctx.saved_tensors
        t = x.dtype.type
        if ctx.approximate == "tanh":
            k = t(math.sqrt(2.0 / math.pi))
            th = ctx.th
            dinner = k * (t(1) + t(3 * 0.044715) * x * x)
            return gy * (t(0.5) * (t(1) + th) + t(0.5) * x * (t(1) - th * th) * dinner)
        pdf = xp.exp(t(-0.5) * x * x) * t(1 / math.sqrt(2.0 * math.pi))
        return gy * (ctx.cdf + x * pdf)


@register_op("softplus")
class Softplus(Function):
    """y = log(1 + exp(beta x)) / beta, linear where beta x > threshold;
    gx = gy * sigmoid(beta x)."""

    @staticmethod
    def forward(ctx, x, *, beta=1.0, threshold=20.0):
        xp = ctx.xp
        t = x.dtype.type
        bx = x * t(beta)
        ctx.save_for_backward(bx)
        ctx.threshold = threshold
        # log1p(exp(-|bx|)) + max(bx, 0) never overflows.
        soft = (xp.log1p(xp.exp(-xp.abs(bx))) + xp.maximum(bx, t(0))) / t(beta)
        return xp.where(bx > threshold, x, soft)

    @staticmethod
    def backward(ctx, gy):
        xp = ctx.xp
        (bx,) = ctx.saved_tensors
        return xp.where(bx > ctx.threshold, gy, gy * stable_sigmoid(xp, bx))


@register_op("silu")
class SiLU(Function):
    """y = x * sigmoid(x);  gx = gy * s * (1 + x (1 - s))."""

    @staticmethod
    def forward(ctx, x):
        s = stable_sigmoid(ctx.xp, x)
        ctx.save_for_backward(x, s)
        return x * s

    @staticmethod
    def backward(ctx, gy):
        x, s = ctx.saved_tensors
        one = x.dtype.type(1)
        return gy * s * (one + x * (one - s))


@register_op("threshold")
class Threshold(Function):
    """y = value if x <= threshold else x (PyTorch's F.threshold: a NaN x stays NaN);
    gx = 0 where x <= threshold (even for an inf gy), else gy."""

    @staticmethod
    def forward(ctx, x, *, threshold, value):
        keep = ~(x <= threshold)
        ctx.keep = keep
        return ctx.xp.where(keep, x, x.dtype.type(value))

    @staticmethod
    def backward(ctx, gy):
        return select(ctx.xp, gy, ctx.keep)


@register_op("step")
class Step(Function):
    """The lectures' threshold unit: y = 1 if x > threshold else 0;  gx = 0 ("no gradient")."""

    @staticmethod
    def forward(ctx, x, *, threshold=0.0):
        return (x > threshold).astype(x.dtype)

    @staticmethod
    def backward(ctx, gy):
        return ctx.xp.zeros_like(gy)


@register_op("softmax")
class Softmax(Function):
    """y = exp(x - max) / sum(exp(x - max));  gx = y * (gy - sum(gy * y))."""

    @staticmethod
    def forward(ctx, x, *, dim):
        xp = ctx.xp
        e = xp.exp(x - x.max(axis=dim, keepdims=True))
        y = e / e.sum(axis=dim, keepdims=True)
        ctx.save_for_backward(y)
        ctx.dim = dim
        return y

    @staticmethod
    def backward(ctx, gy):
        (y,) = ctx.saved_tensors
        gyy = gy * y
        return gyy - y * gyy.sum(axis=ctx.dim, keepdims=True)


@register_op("log_softmax")
class LogSoftmax(Function):
    """y = x - max - log(sum(exp(x - max)));  gx = gy - exp(y) * sum(gy)."""

    @staticmethod
    def forward(ctx, x, *, dim):
        xp = ctx.xp
        shifted = x - x.max(axis=dim, keepdims=True)
        y = shifted - xp.log(xp.exp(shifted).sum(axis=dim, keepdims=True))
        ctx.save_for_backward(y)
        ctx.dim = dim
        return y

    @staticmethod
    def backward(ctx, gy):
        (y,) = ctx.saved_tensors
        return gy - ctx.xp.exp(y) * gy.sum(axis=ctx.dim, keepdims=True)
