"""Loss functions as fused ops: regression, binary and multiclass cross-entropy, the hinge.

Each op computes the elementwise loss and its reduction (``'none' | 'sum' | 'mean'``) in one
forward, and the gradient in closed form. Class weights (``weight``, ``pos_weight``) are constants
passed as keyword arrays, as PyTorch does not differentiate them either. The public checked
functions are in ``backprop.functional.loss`` (exposed as ``backprop.nn.functional``).
"""

from __future__ import annotations

from ..autograd.function import Function
from . import register_op
from .elementwise import torch_sign


def _reduce(xp, l, reduction: str, denom=None):
    """Reduce an elementwise loss; ``denom`` replaces the element count for 'mean'."""
    if reduction == "none":
        return l
    s = l.sum()
    if reduction == "sum":
        return xp.asarray(s, dtype=l.dtype)
    n = l.size if denom is None else denom
    if n == 0:
        return xp.asarray(float("nan"), dtype=l.dtype)  # PyTorch: mean of nothing is nan
    return xp.asarray(s / l.dtype.type(n), dtype=l.dtype)


def _coef(gy, shape, dtype, reduction: str, denom):
    """d(reduced loss)/d(elementwise loss): ``gy``, or a 0-d array broadcasting to ``shape``."""
    if reduction == "none":
        return gy
    if reduction == "sum":
        return gy
    n = 1 if denom is None else denom
    # n == 0: no element counts (every target ignored). The loss is NaN, as in PyTorch, but its
    # gradient is 0, as in PyTorch: NaN here would reach every element through 0 * NaN.
    return gy / dtype.type(n) if n else gy * dtype.type(0)


def _mean_denom(reduction: str, size: int):
    return size if reduction == "mean" else None


# ------------------------------------------------------------------ regression
@register_op("mse_loss")
class MSELoss(Function):
    """l = (x - t)^2;  gx = 2 (x - t) g, gt = -gx (g: gy spread by the reduction)."""

    @staticmethod
    def forward(ctx, x, t, *, reduction="mean"):
        d = x - t
        ctx.save_for_backward(d)
        ctx.reduction = reduction
        return _reduce(ctx.xp, d * d, reduction)

    @staticmethod
    def backward(ctx, gy):
        (d,) = ctx.saved_tensors
        g = _coef(gy, d.shape, d.dtype, ctx.reduction, _mean_denom(ctx.reduction, d.size))
        gx = d * (g * d.dtype.type(2))
        nx, nt = ctx.needs_input_grad
        return (gx if nx else None), (-gx if nt else None)


@register_op("l1_loss")
class L1Loss(Function):
    """l = |x - t|;  gx = sign(x - t) g (sign 0 at 0 and at NaN, as PyTorch's), gt = -gx."""

    @staticmethod
    def forward(ctx, x, t, *, reduction="mean"):
        d = x - t
        ctx.save_for_backward(d)
        ctx.reduction = reduction
        return _reduce(ctx.xp, ctx.xp.abs(d), reduction)

    @staticmethod
    def backward(ctx, gy):
        (d,) = ctx.saved_tensors
        g = _coef(gy, d.shape, d.dtype, ctx.reduction, _mean_denom(ctx.reduction, d.size))
        gx = torch_sign(ctx.xp, d) * g
        nx, nt = ctx.needs_input_grad
        return (gx if nx else None), (-gx if nt else None)


@register_op("huber_loss")
class HuberLoss(Function):
    """l = d^2 / 2 if |d| < delta else delta (|d| - delta / 2);  gx = clip(d, -delta, delta) g."""

    @staticmethod
    def forward(ctx, x, t, *, delta=1.0, reduction="mean"):
        xp = ctx.xp
        d = x - t
        ad = xp.abs(d)
        dl = d.dtype.type(delta)
        half = d.dtype.type(0.5)
        l = xp.where(ad < dl, half * d * d, dl * (ad - half * dl))
        ctx.save_for_backward(d)
        ctx.delta, ctx.reduction = dl, reduction
        return _reduce(xp, l, reduction)

    @staticmethod
    def backward(ctx, gy):
        (d,) = ctx.saved_tensors
        g = _coef(gy, d.shape, d.dtype, ctx.reduction, _mean_denom(ctx.reduction, d.size))
        gx = ctx.xp.clip(d, -ctx.delta, ctx.delta) * g
        nx, nt = ctx.needs_input_grad
        return (gx if nx else None), (-gx if nt else None)


# ------------------------------------------------------------------ binary cross-entropy
@register_op("binary_cross_entropy")
class BinaryCrossEntropy(Function):
    """l = -w (t log x + (1 - t) log(1 - x)), each log clamped at -100 as in PyTorch;
    gx = w (x - t) / max(x (1 - x), 1e-12) g,  gt = w (log(1 - x) - log x) g."""

    @staticmethod
    def forward(ctx, x, t, *, weight=None, reduction="mean"):
        xp = ctx.xp
        lo = x.dtype.type(-100)
        one = x.dtype.type(1)
        with xp.errstate(divide="ignore"):  # log(0) = -inf, then clamped to -100
            logx = xp.maximum(xp.log(x), lo)
            log1mx = xp.maximum(xp.log1p(-x), lo)
        l = (t - one) * log1mx - t * logx
        if weight is not None:
            l = l * weight
        ctx.save_for_backward(x, t)
        ctx.weight, ctx.reduction = weight, reduction
        return _reduce(xp, l, reduction)

    @staticmethod
    def backward(ctx, gy):
        xp = ctx.xp
        x, t = ctx.saved_tensors
        one = x.dtype.type(1)
        g = _coef(gy, x.shape, x.dtype, ctx.reduction, _mean_denom(ctx.reduction, x.size))
        if ctx.weight is not None:
            g = g * ctx.weight
        nx, nt = ctx.needs_input_grad
        gx = gt = None
        if nx:
            # PyTorch's EPSILON is the float 1e-12, in every dtype.
            eps = x.dtype.type(_BCE_EPS)
            gx = (x - t) / xp.maximum((one - x) * x, eps) * g
        if nt:
            with xp.errstate(divide="ignore"):
                gt = (xp.log1p(-x) - xp.log(x)) * g
        return gx, gt


_BCE_EPS = 9.999999960041972e-13  # float32(1e-12), PyTorch's EPSILON (a float constant)


def _log_sigmoid(xp, x):
    """log(sigmoid(x)) = -(log1p(exp(-|x|)) + max(-x, 0)), never overflowing."""
    return -(xp.log1p(xp.exp(-xp.abs(x))) + xp.maximum(-x, x.dtype.type(0)))


@register_op("binary_cross_entropy_with_logits")
class BinaryCrossEntropyWithLogits(Function):
    """l = w ((1 - t) x - (1 + (pw - 1) t) log sigmoid(x));
    gx = w ((1 + (pw - 1) t) sigmoid(x) - pw t) g,  gt = w (-x - (pw - 1) log sigmoid(x)) g."""

    @staticmethod
    def forward(ctx, x, t, *, weight=None, pos_weight=None, reduction="mean"):
        xp = ctx.xp
        one = x.dtype.type(1)
        ls = _log_sigmoid(xp, x)
        if pos_weight is not None:
            l = (one - t) * x - ((pos_weight - one) * t + one) * ls
        else:
            l = (one - t) * x - ls
        if weight is not None:
            l = l * weight
        ctx.save_for_backward(x, t, ls)
        ctx.weight, ctx.pos_weight, ctx.reduction = weight, pos_weight, reduction
        return _reduce(xp, l, reduction)

    @staticmethod
    def backward(ctx, gy):
        xp = ctx.xp
        x, t, ls = ctx.saved_tensors
        one = x.dtype.type(1)
        pw = ctx.pos_weight
        g = _coef(gy, x.shape, x.dtype, ctx.reduction, _mean_denom(ctx.reduction, x.size))
        if ctx.weight is not None:
            g = g * ctx.weight
        nx, nt = ctx.needs_input_grad
        gx = gt = None
        if nx:
            sig = xp.exp(ls)
            if pw is not None:
                gx = (((pw - one) * t + one) * sig - pw * t) * g
            else:
                gx = (sig - t) * g
        if nt:
            gt = (-x - (pw - one) * ls) * g if pw is not None else -x * g
        return gx, gt


# ------------------------------------------------------------------ multiclass
def _log_softmax_and_probs(xp, x):
    """log-softmax and softmax over axis 1, shifted by the max (no overflow)."""
    shifted = x - x.max(axis=1, keepdims=True)
    e = xp.exp(shifted)
    s = e.sum(axis=1, keepdims=True)
    logp = shifted - xp.log(s)
    e /= s
    return logp, e


def _class_weights(xp, x, target, weight, ignore_index):
    """valid mask, safe target (ignored -> 0) and the per-element weight w[y] (0 where ignored)."""
    valid = target != ignore_index
    tgt = xp.where(valid, target, 0)
    if weight is not None:
        wy = weight[tgt] * valid
    else:
        wy = valid.astype(x.dtype)
    return valid, tgt, wy


def _weighted_denom(reduction, wy):
    # PyTorch's weighted mean: sum_i w[y_i] l_i / sum_i w[y_i] over non-ignored elements.
    return wy.sum() if reduction == "mean" else None


@register_op("cross_entropy")
class CrossEntropy(Function):
    """Fused log-softmax + NLL over axis 1 with class-index targets (x: (N, C, *), t: (N, *)):
    l = (1 - s) w[y] (-log p_y) + (s / C) sum_c w_c (-log p_c);
    gx = (1 - s) w[y] (p - onehot(y)) g + (s / C) (W p - w) g  (W = sum_c w_c, s = smoothing)."""

    @staticmethod
    def forward(
        ctx, x, target, *, weight=None, ignore_index=-100, label_smoothing=0.0, reduction="mean"
    ):
        xp = ctx.xp
        logp, p = _log_softmax_and_probs(xp, x)
        valid, tgt, wy = _class_weights(xp, x, target, weight, ignore_index)
        idx = xp.expand_dims(tgt, 1)
        l = -xp.take_along_axis(logp, idx, axis=1)[:, 0] * wy
        s = label_smoothing
        if s > 0:
            lw = logp if weight is None else logp * weight.reshape((1, -1) + (1,) * (x.ndim - 2))
            smooth = -lw.sum(axis=1) * valid
            l = l * x.dtype.type(1 - s) + smooth * x.dtype.type(s / x.shape[1])
        denom = _weighted_denom(reduction, wy)
        ctx.save_for_backward(p, idx, wy, valid)
        ctx.weight, ctx.s, ctx.reduction, ctx.denom = weight, s, reduction, denom
        return _reduce(xp, l, reduction, denom)

    @staticmethod
    def backward(ctx, gy):
        xp = ctx.xp
        p, idx, wy, valid = ctx.saved_tensors
        t = p.dtype.type
        g = _coef(gy, wy.shape, p.dtype, ctx.reduction, ctx.denom)
        if ctx.reduction == "none":
            g = xp.where(valid, g, t(0))  # ignored targets get 0, even from an inf gy (PyTorch)
        a = wy * (g * t(1 - ctx.s))  # (N, *)
        gx = p * xp.expand_dims(a, 1)
        picked = xp.take_along_axis(gx, idx, axis=1) - xp.expand_dims(a, 1)
        xp.put_along_axis(gx, idx, picked, axis=1)
        if ctx.s > 0:
            C = p.shape[1]
            b = xp.expand_dims(valid * (g * t(ctx.s / C)), 1)
            if ctx.weight is None:
                gx += b * (t(C) * p - t(1))
            else:
                w = ctx.weight.reshape((1, -1) + (1,) * (p.ndim - 2))
                gx += b * (ctx.weight.sum() * p - w)
        return gx, None


@register_op("cross_entropy_probs")
class CrossEntropyProbs(Function):
    """Cross-entropy with probability targets (x, t: (N, C, *)), t' = (1 - s) t + s / C:
    l = -sum_c w_c t'_c log p_c;  gx = (p sum_c w_c t'_c - w t') g,  gt = -(1 - s) w log p g."""

    @staticmethod
    def forward(ctx, x, t, *, weight=None, label_smoothing=0.0, reduction="mean"):
        xp = ctx.xp
        s = label_smoothing
        C = x.shape[1]
        ts = t * x.dtype.type(1 - s) + x.dtype.type(s / C) if s > 0 else t
        w = None if weight is None else weight.reshape((1, -1) + (1,) * (x.ndim - 2))
        wt = ts if w is None else ts * w
        logp, p = _log_softmax_and_probs(xp, x)
        l = -(logp * wt).sum(axis=1)
        # PyTorch divides by the number of samples (N * d1 * ...), whatever the weights.
        denom = x.size // C if reduction == "mean" else None
        ctx.save_for_backward(p, logp, wt)
        ctx.w, ctx.s, ctx.reduction, ctx.denom = w, s, reduction, denom
        return _reduce(xp, l, reduction, denom)

    @staticmethod
    def backward(ctx, gy):
        xp = ctx.xp
        p, logp, wt = ctx.saved_tensors
        g = _coef(gy, p.shape[:1] + p.shape[2:], p.dtype, ctx.reduction, ctx.denom)
        if g.ndim:
            g = xp.expand_dims(g, 1)  # 'none': one coefficient per sample, broadcast over classes
        nx, nt = ctx.needs_input_grad
        gx = gt = None
        if nx:
            # Through log-softmax as PyTorch composes it (d/dlogp = -w t' g first), so that a
            # non-finite g meets the zero targets the same way: 0 * inf = NaN over the sample.
            wg = wt * g
            gx = p * wg.sum(axis=1, keepdims=True) - wg
        if nt:
            gt = -logp * g
            if ctx.w is not None:
                gt = gt * ctx.w
            if ctx.s > 0:
                gt = gt * p.dtype.type(1 - ctx.s)
            gt = xp.broadcast_to(gt, p.shape).astype(p.dtype, copy=True)
        return gx, gt


@register_op("nll_loss")
class NLLLoss(Function):
    """l = -w[y] x_y for log-probabilities x: (N, C, *), t: (N, *);  gx = -w[y] onehot(y) g."""

    @staticmethod
    def forward(ctx, x, target, *, weight=None, ignore_index=-100, reduction="mean"):
        xp = ctx.xp
        valid, tgt, wy = _class_weights(xp, x, target, weight, ignore_index)
        idx = xp.expand_dims(tgt, 1)
        l = -xp.take_along_axis(x, idx, axis=1)[:, 0] * wy
        denom = _weighted_denom(reduction, wy)
        ctx.save_for_backward(idx, wy, valid)
        ctx.shape, ctx.reduction, ctx.denom = x.shape, reduction, denom
        return _reduce(xp, l, reduction, denom)

    @staticmethod
    def backward(ctx, gy):
        xp = ctx.xp
        idx, wy, valid = ctx.saved_tensors
        g = _coef(gy, wy.shape, gy.dtype, ctx.reduction, ctx.denom)
        if ctx.reduction == "none":
            g = xp.where(valid, g, gy.dtype.type(0))  # ignored targets: 0, even from an inf gy
        gx = xp.zeros(ctx.shape, dtype=gy.dtype)
        xp.put_along_axis(gx, idx, xp.expand_dims(-(wy * g), 1).astype(gy.dtype), axis=1)
        return gx, None


@register_op("multi_margin_loss")
class MultiMarginLoss(Function):
    """The multiclass hinge (x: (N, C), t: (N,)), z_j = margin - x_y + x_j:
    l = sum_{j != y} w[y] max(0, z_j)^p / C;
    gx_j = w[y] p z_j^(p-1) [z_j > 0] g / C,  gx_y = -sum_{j != y} gx_j."""

    @staticmethod
    def forward(ctx, x, target, *, p=1, margin=1.0, weight=None, reduction="mean"):
        xp = ctx.xp
        C = x.shape[1]
        idx = target[:, None]
        z = x - xp.take_along_axis(x, idx, axis=1) + x.dtype.type(margin)
        active = z > 0
        xp.put_along_axis(active, idx, False, axis=1)
        h = xp.where(active, z if p == 1 else z * z, x.dtype.type(0))
        l = h.sum(axis=1)
        wy = None if weight is None else weight[target]
        if wy is not None:
            l = l * wy
        l = l / x.dtype.type(C)
        ctx.save_for_backward(z, active, idx)
        ctx.p, ctx.wy, ctx.reduction = p, wy, reduction
        return _reduce(xp, l, reduction)

    @staticmethod
    def backward(ctx, gy):
        xp = ctx.xp
        z, active, idx = ctx.saved_tensors
        N, C = z.shape
        t = z.dtype.type
        g = _coef(gy, (N,), z.dtype, ctx.reduction, _mean_denom(ctx.reduction, N))
        # d l / d x per sample first, then times g (PyTorch's order: an inf g gives inf * 0 =
        # NaN at inactive classes, and -inf, not NaN, at the target).
        a = xp.full((N,), t(1.0 / C), dtype=z.dtype)
        if ctx.wy is not None:
            a = a * ctx.wy
        if ctx.p == 1:
            gx = active * a[:, None]
        else:
            gx = xp.where(active, z * t(2), t(0)) * a[:, None]
        gx = gx.astype(z.dtype, copy=False)
        xp.put_along_axis(gx, idx, -gx.sum(axis=1, keepdims=True), axis=1)
        gx *= xp.broadcast_to(g, (N,))[:, None]
        return gx, None
