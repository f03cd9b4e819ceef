"""Activation functions and the fused softmax / log-softmax."""

from __future__ import annotations

import math

from ..autograd.function import Function
from ..backend import kernels
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
    with xp.errstate(invalid="ignore"):  # inf * 0 is redone below, not a user's problem
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


# ReLU's compiled kernels (backend/numba_kernels.py: relu, relu_backward), for float arrays of at
# least this many elements in one memory order. Kept because they pay on conv nets (1 thread /
# 2 threads, medians of 200 calls on 1,003,520 float32, LeNet-5's first ReLU at batch 64):
# backward 0.91 -> 0.42 / 0.93 -> 0.21 ms, forward 0.29 -> 0.29 / 0.29 -> 0.14 ms. With the
# compiled 2x2 pool forward, the LeNet-5 step of benchmarks/workloads.py went 44.4 -> 42.9 ms on
# 1 thread and 30.2 -> 27.0 on 2 (Intel Xeon, medians of 3 processes each). Smaller arrays stay
# with NumPy: at the MLP's 16k-32k elements a 2-thread launch cost more than it saved (the MLP
# step 2.22 -> 2.57 ms with a floor of 4,096; on 1 thread 2.40 -> 2.36, within the noise), as
# numba's woken workers then compete with the next product's BLAS threads.
_RELU_MIN_FUSED = 1 << 18


def _relu_flat(*arrays):
    """Flat views of ``arrays`` for ReLU's compiled kernels, or None for the NumPy code
    (flat_alike also refuses arrays that are not NumPy's)."""
    a = arrays[0]
    if (
        a.size < _RELU_MIN_FUSED
        or a.dtype.name not in ("float32", "float64")
        or not kernels.fused_kernels_enabled()
    ):
        return None
    return kernels.flat_alike(*arrays)


@register_op("relu")
class ReLU(Function):
    """y = max(x, 0) (NaN stays NaN);  gx = gy where not y <= 0, else 0 (PyTorch's
    threshold_backward: 0 at x = 0 even for an inf gy; a NaN x passes gy)."""

    @staticmethod
    def forward(ctx, x):
        xp = ctx.xp
        # Into an array in x's memory order (a conv's CHWN stays CHWN for the next layer).
        y = ctx.empty_like(x)
        flat = _relu_flat(x, y)
        if flat is not None:
            kernels.launch("relu", *flat)
        else:
            xp.maximum(x, x.dtype.type(0), out=y)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, gy):
        (y,) = ctx.saved_tensors
        xp = ctx.xp
        gy = ctx.match_layout(gy, y)
        gx = ctx.empty_like(y)
        flat = _relu_flat(y, gy, gx)
        if flat is not None:
            kernels.launch("relu_backward", *flat)
            return gx
        # The mask in y's memory order: a C-ordered mask next to a conv's CHWN-ordered y made
        # every pass below strided (LeNet-5's ReLU backward took 5x longer). (out= also keeps a
        # 0-d result an array, so that the in-place not works on it too.)
        keep = xp.less_equal(y, y.dtype.type(0), out=ctx.empty_like(y, dtype=bool))
        xp.logical_not(keep, out=keep)
        return select(xp, gy, keep, out=gx)


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
    """y = scale * (x if x > 0 else alpha * (exp(input_scale * x) - 1)) (ELU; SELU and CELU are
    its scaled forms, as in PyTorch);  gx = gy * scale if x > 0, else
    gy * input_scale * (y + scale * alpha) (so a NaN x passes gy * scale, as PyTorch's).

    ``grad_scale``: the input scale the backward uses, when it differs from the forward's:
    PyTorch's CELU backward takes 1 / alpha with alpha rounded to float32 first (its
    derivatives.yaml: ``1.0 / alpha.toFloat()``), so its gradients differ from exp(x / alpha)
    by ~1e-8 in float64; the same rounding here keeps the parity exact.
    """

    @staticmethod
    def forward(ctx, x, *, alpha=1.0, scale=1.0, input_scale=1.0, grad_scale=None):
        xp = ctx.xp
        t = x.dtype.type
        m = xp.minimum(x, t(0))
        neg = t(alpha * scale) * xp.expm1(m * t(input_scale) if input_scale != 1.0 else m)
        y = xp.where(x > 0, x * t(scale) if scale != 1.0 else x, neg)
        ctx.save_for_backward(x, y)
        ctx.coef = (alpha, scale, input_scale, grad_scale)
        return y

    @staticmethod
    def backward(ctx, gy):
        xp = ctx.xp
        x, y = ctx.saved_tensors
        alpha, scale, input_scale, grad_scale = ctx.coef
        t = x.dtype.type
        pos = gy * t(scale) if scale != 1.0 else gy
        if grad_scale is None:
            neg = gy * (t(input_scale) * (y + t(scale * alpha)))
        else:
            neg = gy * (t(alpha * scale * grad_scale) * xp.exp(x * t(grad_scale)))
        return xp.where(x <= 0, neg, pos)


def _erf(xp, x):
    """The error function, exact to float64 (NumPy has none)."""
    try:
        from scipy.special import erf
    except ImportError:  # pragma: no cover - SciPy comes with scikit-learn in practice
        erf = xp.frompyfunc(math.erf, 1, 1)
    return xp.asarray(erf(x), dtype=x.dtype)


def _gelu_cdf(xp, x):
    """Phi(x) = (1 + erf(x / sqrt 2)) / 2 in x's dtype (the NumPy path)."""
    t = x.dtype.type
    return t(0.5) * (t(1) + _erf(xp, x * t(1 / math.sqrt(2.0))))


# The exact GELU's compiled kernels (backend/numba_kernels.py: gelu, gelu_backward): one pass
# each, Phi from x in float64, <= 1 ulp in float32; only x is saved (the NumPy path keeps Phi).
# Kept because they pay (CPU time, 1 thread, a loaded 2-core machine, medians): on 1M float32
# elements, forward 12.5 -> 3.9 ms and forward + backward 14.5 -> 7.6-8.5 ms (SciPy's erf
# alone takes ~14 ms); the small GPT of benchmarks/bench_gpt.py (4 layers) trains a step in
# 165-170 ms instead of 178-185 (torch: 145-155). PyTorch's float32 GELU is a SIMD polynomial
# (~0.3 ms forward on 1M elements) that loses the negative tail; this keeps it.
_GELU_DTYPES = ("float32", "float64")


def _gelu_fused(xp, x) -> bool:
    """Whether the exact GELU of ``x`` runs as the compiled kernels: a C-contiguous NumPy
    float32/float64 array while the numba kernels are in use."""
    return (
        x.dtype.name in _GELU_DTYPES
        and kernels.fused_kernels_enabled()
        and type(x) is xp.ndarray
        and x.flags.c_contiguous
    )


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
        if _gelu_fused(xp, x):
            y = xp.empty_like(x)
            kernels.launch("gelu", x.reshape(-1), y.reshape(-1))
            ctx.cdf = None  # the backward kernel recomputes it from x
            return y
        cdf = _gelu_cdf(xp, x)
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
        cdf = ctx.cdf
        if cdf is None:
            if _gelu_fused(xp, x):
                gx = xp.empty_like(x)
                g = xp.ascontiguousarray(gy)
                kernels.launch("gelu_backward", x.reshape(-1), g.reshape(-1), gx.reshape(-1))
                return gx
            cdf = _gelu_cdf(xp, x)  # the kernels were switched off since the forward
        pdf = xp.exp(t(-0.5) * x * x) * t(1 / math.sqrt(2.0 * math.pi))
        return gy * (cdf + x * pdf)


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


# The hard (piecewise-linear) units and the shrinks follow PyTorch's scalar kernels at a NaN
# input: its vectorised CPU loops give another gradient there (0 where the scalar loop passes
# gy) for whole vectors only, so the scalar loop is the definition.


_SIXTH_F32 = 0.1666666716337204  # float32(1 / 6), exactly


@register_op("hardtanh")
class Hardtanh(Function):
    """y = clamp(x, min_val, max_val) (NaN stays NaN);  gx = 0 where x <= min_val or
    x >= max_val (even for an inf gy), else gy (a NaN x passes gy). ReLU6 is (0, 6)."""

    @staticmethod
    def forward(ctx, x, *, min_val=-1.0, max_val=1.0):
        xp = ctx.xp
        t = x.dtype.type
        # maximum/minimum (not clip) keep a NaN x NaN.
        y = xp.minimum(xp.maximum(x, t(min_val)), t(max_val))
        ctx.keep = ~((x <= min_val) | (x >= max_val))
        return y

    @staticmethod
    def backward(ctx, gy):
        return select(ctx.xp, gy, ctx.keep)


@register_op("hardsigmoid")
class Hardsigmoid(Function):
    """y = clamp(x + 3, 0, 6) / 6;  gx = gy / 6 where -3 < x < 3, else 0 (a NaN x too).

    The backward's 1/6 is the float32 constant in every dtype, as in PyTorch's kernel (its
    float64 gradients are 1/6 * (1 + 3e-8)).
    """

    @staticmethod
    def forward(ctx, x):
        xp = ctx.xp
        t = x.dtype.type
        ctx.keep = (x > -3) & (x < 3)
        return xp.minimum(xp.maximum(x + t(3), t(0)), t(6)) / t(6)

    @staticmethod
    def backward(ctx, gy):
        return select(ctx.xp, gy, ctx.keep) * gy.dtype.type(_SIXTH_F32)


@register_op("hardswish")
class Hardswish(Function):
    """y = x * clamp(x + 3, 0, 6) / 6 (so -inf gives NaN, as in PyTorch);
    gx = 0 where x <= -3, gy * (x / 3 + 1/2) where x < 3, else gy (a NaN x passes gy)."""

    @staticmethod
    def forward(ctx, x):
        xp = ctx.xp
        t = x.dtype.type
        ctx.save_for_backward(x)
        return x * xp.minimum(xp.maximum(x + t(3), t(0)), t(6)) / t(6)

    @staticmethod
    def backward(ctx, gy):
        xp = ctx.xp
        (x,) = ctx.saved_tensors
        t = x.dtype.type
        mid = xp.where(x < 3, gy * (x / t(3) + t(0.5)), gy)
        return xp.where(x <= -3, t(0), mid)


@register_op("mish")
class Mish(Function):
    """y = x * tanh(softplus(x));  gx = gy * (th + x * sigmoid(x) * (1 - th^2)), th the tanh
    (so +inf gives a NaN gradient and -inf a NaN value, as PyTorch's formula does)."""

    @staticmethod
    def forward(ctx, x):
        xp = ctx.xp
        t = x.dtype.type
        # softplus as log1p(exp(-|x|)) + max(x, 0): no overflow for large x.
        th = xp.tanh(xp.log1p(xp.exp(-xp.abs(x))) + xp.maximum(x, t(0)))
        ctx.save_for_backward(x, th)
        return x * th

    @staticmethod
    def backward(ctx, gy):
        x, th = ctx.saved_tensors
        one = x.dtype.type(1)
        return gy * (th + x * stable_sigmoid(ctx.xp, x) * (one - th * th))


@register_op("log_sigmoid")
class LogSigmoid(Function):
    """y = log(sigmoid(x)) = min(x, 0) - log1p(exp(-|x|));  gx = gy * sigmoid(-x)."""

    @staticmethod
    def forward(ctx, x):
        xp = ctx.xp
        ctx.save_for_backward(x)
        return xp.minimum(x, x.dtype.type(0)) - xp.log1p(xp.exp(-xp.abs(x)))

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        return gy * stable_sigmoid(ctx.xp, -x)


@register_op("softshrink")
class Softshrink(Function):
    """y = x - lambd if x > lambd, x + lambd if x < -lambd, else 0 (NaN stays NaN);
    gx = 0 where -lambd <= x <= lambd (even for an inf gy), else gy."""

    @staticmethod
    def forward(ctx, x, *, lambd=0.5):
        xp = ctx.xp
        t = x.dtype.type
        inside = (x >= -lambd) & (x <= lambd)
        ctx.keep = ~inside
        # x * 0 inside: a NaN x stays NaN (it is not inside: both comparisons are false).
        shifted = xp.where(x > lambd, x - t(lambd), x + t(lambd))
        return xp.where(inside, x * t(0), shifted)

    @staticmethod
    def backward(ctx, gy):
        return select(ctx.xp, gy, ctx.keep)


@register_op("hardshrink")
class Hardshrink(Function):
    """y = 0 where -lambd <= x <= lambd, else x;  gx = 0 there (even for an inf gy), else gy."""

    @staticmethod
    def forward(ctx, x, *, lambd=0.5):
        keep = ~((x >= -lambd) & (x <= lambd))
        ctx.keep = keep
        return ctx.xp.where(keep, x, x.dtype.type(0))

    @staticmethod
    def backward(ctx, gy):
        return select(ctx.xp, gy, ctx.keep)


@register_op("prelu")
class PReLU(Function):
    """y = x if x > 0 else w * x, w (C,) or (1,) broadcast along dim 1 (``w_shape``: w as it
    broadcasts against x);  gx = gy where x > 0 else w * gy (so a NaN x gets w * gy),
    gw = sum of gy * x where not x > 0, over every dim but the channel's."""

    @staticmethod
    def forward(ctx, x, w, *, w_shape):
        wb = w.reshape(w_shape)
        pos = x > 0
        ctx.save_for_backward(x, w)
        ctx.pos, ctx.w_shape = pos, w_shape
        return ctx.xp.where(pos, x, wb * x)

    @staticmethod
    def backward(ctx, gy):
        xp = ctx.xp
        x, w = ctx.saved_tensors
        pos = ctx.pos
        nx, nw = ctx.needs_input_grad
        zero = gy.dtype.type(0)
        gx = xp.where(pos, gy, w.reshape(ctx.w_shape) * gy) if nx else None
        gw = None
        if nw:
            contrib = xp.where(pos, zero, x * gy)
            axes = tuple(i for i, n in enumerate(ctx.w_shape) if n == 1)
            gw = contrib.sum(axis=axes).reshape(w.shape)
        return gx, gw


@register_op("glu")
class GLU(Function):
    """y = a * sigmoid(b), a and b the two halves of x along ``dim``;
    ga = gy * sigmoid(b), gb = gy * a * sigmoid(b) * (1 - sigmoid(b))."""

    @staticmethod
    def forward(ctx, x, *, dim):
        xp = ctx.xp
        a, b = xp.split(x, 2, axis=dim)
        s = stable_sigmoid(xp, b)
        ctx.save_for_backward(a, s)
        ctx.dim = dim
        return a * s

    @staticmethod
    def backward(ctx, gy):
        a, s = ctx.saved_tensors
        one = s.dtype.type(1)
        ga = gy * s
        gb = ga * a * (one - s)
        return ctx.xp.concatenate([ga, gb], axis=ctx.dim)


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
