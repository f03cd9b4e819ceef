"""Loss functions (exposed as ``backprop.nn.functional.*``), PyTorch's semantics and names.

Every loss takes ``reduction='mean' | 'sum' | 'none'``. Arguments are checked here (ValueError or
TypeError naming the loss and the shapes); the math is in the fused ops of ``backprop.ops.loss``.
Class weights (``weight``, ``pos_weight``) are constants: no gradient flows into them (as in
PyTorch). Gradients flow into the input and, for the regression and binary losses and probability
targets, into a target that requires grad.
"""

from __future__ import annotations

import numpy as np

from ..ops import loss as L
from ..tensor import Tensor
from ._util import cast, is_float

__all__ = [
    "mse_loss", "l1_loss", "huber_loss", "binary_cross_entropy",
    "binary_cross_entropy_with_logits", "cross_entropy", "nll_loss", "multi_margin_loss",
]  # fmt: skip

_REDUCTIONS = ("mean", "sum", "none")


def _reduction(reduction, op: str, x: Tensor | None = None) -> str:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{op}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
    if reduction == "mean" and x is not None and x.data.size == 0:
        # PyTorch returns NaN, which surfaces epochs later as a NaN loss far from the cause.
        raise ValueError(
            f"{op}: the input of shape {x.shape} is empty (an empty batch?); the mean of no "
            f"elements is undefined (use reduction='sum' or 'none' to accept empty batches)"
        )
    return reduction


def _input(x, op: str) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: input must be a Tensor, got {type(x).__name__}")
    if not is_float(x.dtype):
        raise TypeError(f"{op}: input must be floating point, got dtype {x.dtype}")
    return x


def _target(t, op: str) -> Tensor:
    if isinstance(t, Tensor):
        return t
    if isinstance(t, np.ndarray):
        return Tensor._make(t, False, None)
    raise TypeError(f"{op}: target must be a Tensor (or NumPy array), got {type(t).__name__}")


def _same_shape_float_target(x: Tensor, t, op: str) -> Tensor:
    """A target of the input's shape, cast to the input's dtype (never upcasting the input)."""
    t = _target(t, op)
    if t.shape != x.shape:
        # PyTorch warns and broadcasts; (N, 1) against (N,) then silently gives an (N, N) loss.
        raise ValueError(
            f"{op}: target shape {t.shape} differs from input shape {x.shape}; reshape one of them"
        )
    return cast(t, x.dtype)


def _const(w, x: Tensor, op: str, what: str, shape=None) -> np.ndarray | None:
    """A weight as a raw array of x's dtype that broadcasts to ``shape`` (x's by default)."""
    if w is None:
        return None
    a = w.data if isinstance(w, Tensor) else np.asarray(w)
    shape = x.shape if shape is None else shape
    try:
        ok = np.broadcast_shapes(a.shape, shape) == tuple(shape)
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(f"{op}: {what} of shape {a.shape} does not broadcast to {tuple(shape)}")
    return a.astype(x.dtype, copy=False)


def mse_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    """Mean squared error ``(input - target)^2``, reduced.

    PyTorch's form, without the lectures' 1/2: the gradient is ``2 (input - target)`` (divided by
    the number of elements for 'mean'). Unlike PyTorch, a target of another shape is an error
    rather than a broadcast (the classic (N, 1) vs (N,) bug).

    Shape: input (*), target (*) the same; output () or (*) for 'none'.
    """
    x = _input(input, "mse_loss")
    t = _same_shape_float_target(x, target, "mse_loss")
    return L.MSELoss.apply(x, t, reduction=_reduction(reduction, "mse_loss", x))


def l1_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    """Mean absolute error ``|input - target|``, reduced (gradient ``sign(input - target)``).

    Shape: input (*), target (*) the same; output () or (*) for 'none'.
    """
    x = _input(input, "l1_loss")
    t = _same_shape_float_target(x, target, "l1_loss")
    return L.L1Loss.apply(x, t, reduction=_reduction(reduction, "l1_loss", x))


def huber_loss(
    input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0
) -> Tensor:
    """Huber loss of d = input - target: ``d^2 / 2`` for ``|d| < delta``, else
    ``delta (|d| - delta / 2)``.

    Quadratic near zero, linear (robust to outliers) beyond ``delta``.

    Shape: input (*), target (*) the same; output () or (*) for 'none'.
    """
    x = _input(input, "huber_loss")
    t = _same_shape_float_target(x, target, "huber_loss")
    if not delta > 0:
        raise ValueError(f"huber_loss: delta must be positive, got {delta}")
    return L.HuberLoss.apply(
        x, t, delta=float(delta), reduction=_reduction(reduction, "huber_loss", x)
    )


def binary_cross_entropy(
    input: Tensor, target: Tensor, weight: Tensor | None = None, reduction: str = "mean"
) -> Tensor:
    """Binary cross-entropy of probabilities: ``-w (t log p + (1 - t) log(1 - p))``.

    Each log is clamped at -100 (as in PyTorch), so a probability of exactly 0 or 1 gives a finite
    loss. Prefer :func:`binary_cross_entropy_with_logits` on logits: it is stabler.

    Args:
        input: probabilities in [0, 1].
        target: targets in [0, 1], the input's shape (ValueError outside it, as PyTorch raises).
        weight: per-element weights broadcasting to the input (a constant).

    Shape: input (*), target (*); output () or (*) for 'none'.
    """
    op = "binary_cross_entropy"
    x = _input(input, op)
    t = _same_shape_float_target(x, target, op)
    if x.data.size and not (x.data.min() >= 0 and x.data.max() <= 1):  # NaN fails too
        raise ValueError(
            f"{op}: input values must lie in [0, 1], got min {x.data.min():.4g} and max "
            f"{x.data.max():.4g} (for logits use binary_cross_entropy_with_logits)"
        )
    _check_unit_target(t, op)
    w = _const(weight, x, op, "weight")
    return L.BinaryCrossEntropy.apply(x, t, weight=w, reduction=_reduction(reduction, op, x))


def _check_unit_target(t: Tensor, op: str) -> None:
    """Targets must lie in [0, 1] (PyTorch raises "all elements of target should be between 0
    and 1"); outside it the loss is unbounded below and training runs away."""
    a = t.data
    if not a.size or (a.min() >= 0 and a.max() <= 1):  # NaN fails both comparisons
        return
    nan = np.isnan(a)
    if nan.any():
        raise ValueError(f"{op}: target values must lie in [0, 1], got {int(nan.sum())} NaN(s)")
    raise ValueError(
        f"{op}: target values must lie in [0, 1], got min {a.min():.4g} and max {a.max():.4g} "
        f"(for targets outside [0, 1] use binary_cross_entropy_with_logits, which allows them)"
    )


def binary_cross_entropy_with_logits(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    reduction: str = "mean",
    pos_weight: Tensor | None = None,
) -> Tensor:
    """Sigmoid + binary cross-entropy in one stable op, on logits ``x``:
    ``l = w ((1 - t) x - (1 + (pos_weight - 1) t) log sigmoid(x))``.

    ``log sigmoid`` is computed as ``-(log1p(exp(-|x|)) + max(-x, 0))``: no overflow for any x.

    Args:
        input: logits.
        target: targets in [0, 1], the input's shape.
        weight: per-element weights broadcasting to the input (a constant).
        pos_weight: weight of the positive class, broadcasting to the input (e.g. shape (C,)
            for (N, C) multi-label logits); > 1 raises recall, < 1 precision.

    Shape: input (*), target (*); output () or (*) for 'none'.
    """
    op = "binary_cross_entropy_with_logits"
    x = _input(input, op)
    t = _same_shape_float_target(x, target, op)
    w = _const(weight, x, op, "weight")
    pw = _const(pos_weight, x, op, "pos_weight")
    return L.BinaryCrossEntropyWithLogits.apply(
        x, t, weight=w, pos_weight=pw, reduction=_reduction(reduction, op, x)
    )


def _class_weight(weight, C: int, x: Tensor, op: str) -> np.ndarray | None:
    if weight is None:
        return None
    a = weight.data if isinstance(weight, Tensor) else np.asarray(weight)
    if a.shape != (C,):
        raise ValueError(f"{op}: weight must have shape ({C},) (one per class), got {a.shape}")
    return a.astype(x.dtype, copy=False)


def _class_targets(t: Tensor, x: Tensor, C: int, ignore_index: int, op: str) -> Tensor:
    """Check integer class targets: shape (N, d1, ...) for input (N, C, d1, ...), range [0, C)."""
    expected = x.shape[:1] + x.shape[2:]
    if t.shape != expected:
        raise ValueError(
            f"{op}: expected target of shape {expected} for input of shape {x.shape}, got {t.shape}"
        )
    d = t.data
    if d.size:
        bad = (d < 0) | (d >= C)
        if ignore_index is not None:
            bad &= d != ignore_index
        if bad.any():
            v = d[bad].reshape(-1)[0]
            raise ValueError(
                f"{op}: target {int(v)} is out of bounds for {C} classes (valid: 0..{C - 1}"
                + (f", or ignore_index={ignore_index})" if ignore_index is not None else ")")
            )
    return t


def _batched(x: Tensor, t: Tensor, op: str):
    """(C,) input with a () target is one sample: make it (1, C) and (1,)."""
    if x.ndim == 0:
        raise ValueError(f"{op}: input must have a class dimension, got a 0-d tensor")
    if x.ndim == 1:
        if t.ndim != 0:
            raise ValueError(
                f"{op}: for an unbatched input of shape {x.shape} the target must be 0-d, got "
                f"shape {t.shape}"
            )
        return x.reshape(1, x.shape[0]), t.reshape(1), True
    return x, t, False


def cross_entropy(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    ignore_index: int = -100,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    """Cross-entropy from logits: log-softmax over the class axis (dim 1) and the negative
    log-likelihood, fused in one op (no overflow, one backward ``softmax - onehot``).

    The lectures write ``-log softmax(x)_y``; PyTorch's form takes the logits directly and
    averages over the batch, as here.

    Args:
        input: logits, (N, C), (N, C, d1, ...) or (C,).
        target: class indices (integers) of shape (N,), (N, d1, ...) or (); or class
            probabilities (floats) of the input's shape.
        weight: per-class weights (C,) (a constant).
        ignore_index: a class-index target value that contributes nothing (not to the mean's
            denominator either).
        reduction: 'mean' is PyTorch's weighted mean ``sum_i w[y_i] l_i / sum_i w[y_i]`` over
            non-ignored elements for index targets, and the sum divided by N * d1 * ... for
            probability targets.
        label_smoothing: s in [0, 1]: the target becomes ``(1 - s) onehot + s / C``.

    Shape: output () or, for 'none', (N,), (N, d1, ...) or ().

    Example:
        >>> F.cross_entropy(backprop.randn(4, 10), backprop.tensor([1, 0, 9, 3]))
    """
    op = "cross_entropy"
    x = _input(input, op)
    t = _target(target, op)
    reduction = _reduction(reduction, op, x)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{op}: label_smoothing must be in [0, 1], got {label_smoothing}")
    if x.ndim == 0:
        raise ValueError(f"{op}: input must have a class dimension, got a 0-d tensor")
    C = x.shape[0] if x.ndim == 1 else x.shape[1]
    w = _class_weight(weight, C, x, op)
    if is_float(t.dtype):
        if t.shape != x.shape:
            raise TypeError(
                f"{op}: a floating-point target is read as class probabilities and must have the "
                f"input's shape {x.shape}, got {t.shape} (class indices must be integers)"
            )
        if ignore_index >= 0:
            raise ValueError(f"{op}: ignore_index is not supported with probability targets")
        t = cast(t, x.dtype)
        unbatched = x.ndim == 1
        if unbatched:
            x, t = x.reshape(1, C), t.reshape(1, C)
        out = L.CrossEntropyProbs.apply(
            x, t, weight=w, label_smoothing=float(label_smoothing), reduction=reduction
        )
    else:
        if not np.issubdtype(t.dtype, np.integer):
            raise TypeError(f"{op}: target must hold class indices (integers), got {t.dtype}")
        x, t, unbatched = _batched(x, t, op)
        _class_targets(t, x, C, ignore_index, op)
        out = L.CrossEntropy.apply(
            x,
            t,
            weight=w,
            ignore_index=int(ignore_index),
            label_smoothing=float(label_smoothing),
            reduction=reduction,
        )
    if unbatched and reduction == "none":
        out = out.reshape(())
    return out


def nll_loss(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    ignore_index: int = -100,
    reduction: str = "mean",
) -> Tensor:
    """Negative log-likelihood ``-w[y] input[y]`` of log-probabilities (e.g. from log_softmax).

    ``nll_loss(log_softmax(x, 1), y)`` equals ``cross_entropy(x, y)``; the fused cross-entropy
    is faster and stabler.

    Args:
        input: log-probabilities, (N, C), (N, C, d1, ...) or (C,).
        target: class indices (integers), (N,), (N, d1, ...) or ().
        weight, ignore_index, reduction: as for :func:`cross_entropy` (weighted mean).

    Shape: output () or, for 'none', the target's shape.
    """
    op = "nll_loss"
    x = _input(input, op)
    t = _target(target, op)
    reduction = _reduction(reduction, op, x)
    if not np.issubdtype(t.dtype, np.integer):
        raise TypeError(f"{op}: target must hold class indices (integers), got {t.dtype}")
    x, t, unbatched = _batched(x, t, op)
    C = x.shape[1]
    w = _class_weight(weight, C, x, op)
    _class_targets(t, x, C, ignore_index, op)
    out = L.NLLLoss.apply(x, t, weight=w, ignore_index=int(ignore_index), reduction=reduction)
    if unbatched and reduction == "none":
        out = out.reshape(())
    return out


def multi_margin_loss(
    input: Tensor,
    target: Tensor,
    p: int = 1,
    margin: float = 1.0,
    weight: Tensor | None = None,
    reduction: str = "mean",
) -> Tensor:
    """The multiclass hinge (SVM) loss on class scores:
    ``l = sum_{j != y} w[y] max(0, margin - x_y + x_j)^p / C``.

    cs231n's multiclass SVM loss is ``sum_{j != y} max(0, x_j - x_y + 1)``: the same with
    margin 1 and p = 1, but without the division by the number of classes C (so this loss is
    cs231n's / C, and its gradients too).

    Args:
        input: scores (N, C) or (C,).
        target: class indices (N,) or ().
        p: 1 (hinge) or 2 (squared hinge).
        margin: the required gap between the true score and every other score.
        weight: per-class weights (C,) (a constant), multiplying the true class's terms.

    Shape: output () or, for 'none', (N,) or ().
    """
    op = "multi_margin_loss"
    x = _input(input, op)
    t = _target(target, op)
    reduction = _reduction(reduction, op, x)
    if p not in (1, 2):
        raise ValueError(f"{op}: only p == 1 and p == 2 are supported, got {p}")
    if x.ndim > 2:
        raise ValueError(f"{op}: expected input of shape (N, C) or (C,), got {x.shape}")
    if not np.issubdtype(t.dtype, np.integer):
        raise TypeError(f"{op}: target must hold class indices (integers), got {t.dtype}")
    x, t, unbatched = _batched(x, t, op)
    C = x.shape[1]
    w = _class_weight(weight, C, x, op)
    _class_targets(t, x, C, None, op)
    out = L.MultiMarginLoss.apply(
        x, t, p=int(p), margin=float(margin), weight=w, reduction=reduction
    )
    if unbatched and reduction == "none":
        out = out.reshape(())
    return out
