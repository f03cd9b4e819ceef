"""Metrics: accuracy, top-k accuracy, confusion matrix, per-class precision/recall/F1, MAE, MSE.

Each metric has a functional form for one batch (``accuracy(output, target)``) and a streaming form
(``Accuracy()``) that accumulates over batches with ``update(output, target)`` and gives the result
for everything seen with ``compute()``, so an epoch's accuracy is exact however the data was
batched.
Streaming metrics keep only sums and counts (a confusion matrix at most), never the outputs, so
the processes of a data-parallel job get the metric of all their examples by summing those
(:func:`sync_metrics`, one all-reduce).

Language-model outputs are logits ``(N, T, V)`` over a vocabulary, class dimension last (how a
GPT returns them), against token ids ``(N, T)``: :class:`TokenAccuracy` and :class:`BitsPerToken`
(the held-out loss in bits; bits per character for a character model).

Classification outputs are logits or probabilities, ``(N, C)`` (or ``(N, C, d1, ...)`` with targets
``(N, d1, ...)``, PyTorch's layout); the prediction is the arg-max over the class dimension. A
binary output of the same shape as its 0/1 target is thresholded (at 0, for logits, by default).

Example:
    >>> acc = Accuracy()
    >>> for x, y in loader:
    ...     acc.update(model(x), y)
    >>> acc.compute()
    0.975
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np

from ..tensor import Tensor

__all__ = [
    "Metric",
    "Mean",
    "Accuracy",
    "TopKAccuracy",
    "ConfusionMatrix",
    "PrecisionRecallF1",
    "MeanAbsoluteError",
    "MeanSquaredError",
    "TokenAccuracy",
    "BitsPerToken",
    "accuracy",
    "top_k_accuracy",
    "confusion_matrix",
    "precision_recall_f1",
    "mean_absolute_error",
    "mean_squared_error",
    "get_metric",
    "register_metric",
    "sync_metrics",
    "metric_names",
]


def _np(x) -> np.ndarray:
    return x.data if isinstance(x, Tensor) else np.asarray(x)


def _predicted_classes(output, target, threshold: float, where: str):
    """(predicted, true) integer class arrays of the same shape, from an output and a target."""
    out, tgt = _np(output), _np(target)
    if out.ndim == tgt.ndim + 1:  # (N, C, ...) scores against (N, ...) class indices
        if not np.issubdtype(tgt.dtype, np.integer):
            raise TypeError(f"{where}: class-index targets must be integers, got {tgt.dtype}")
        if out.shape[:1] + out.shape[2:] != tgt.shape:
            raise ValueError(
                f"{where}: output shape {out.shape} does not match target shape {tgt.shape} "
                f"(expected the output to be the target's shape with a class dim at 1)"
            )
        return out.argmax(axis=1), tgt
    if out.shape != tgt.shape:
        raise ValueError(
            f"{where}: output shape {out.shape} and target shape {tgt.shape} do not match "
            f"(expected (N, C) scores with (N,) class indices, or equal shapes)"
        )
    if out.ndim >= 2 and out.shape[1] > 1:  # one-hot or soft targets
        return out.argmax(axis=1), tgt.argmax(axis=1)
    return (out > threshold).astype(np.int64), (tgt > 0.5).astype(np.int64)


# ---------------------------------------------------------------------------------- functional
def accuracy(output, target, threshold: float = 0.0) -> float:
    """The fraction of examples whose predicted class is the target.

    Args:
        output: scores ``(N, C, ...)`` (logits or probabilities), or binary scores shaped like
            the target.
        target: class indices ``(N, ...)``, one-hot ``(N, C)``, or 0/1 labels.
        threshold: for binary outputs, the score above which the prediction is 1 (0 for logits,
            0.5 for probabilities).
    """
    pred, true = _predicted_classes(output, target, threshold, "accuracy")
    return float((pred == true).mean()) if pred.size else float("nan")


def top_k_accuracy(output, target, k: int = 5) -> float:
    """The fraction of examples whose target is among the ``k`` highest scores.

    Shape:
        output: ``(N, C)``; target: ``(N,)`` class indices.
    """
    out, tgt = _np(output), _np(target)
    if out.ndim != 2 or tgt.shape != out.shape[:1]:
        raise ValueError(
            f"top_k_accuracy: expected output (N, C) and target (N,), got {out.shape} and "
            f"{tgt.shape}"
        )
    if not 1 <= k <= out.shape[1]:
        raise ValueError(f"top_k_accuracy: k must be in [1, {out.shape[1]}], got {k}")
    # Ties are broken towards the true class's favour as PyTorch's topk would not guarantee;
    # counting the classes that score strictly higher is exact and needs no sort.
    true_score = np.take_along_axis(out, tgt[:, None].astype(np.intp), axis=1)
    hits = (out > true_score).sum(axis=1) < k
    return float(hits.mean()) if hits.size else float("nan")


def confusion_matrix(output, target, num_classes: int | None = None) -> np.ndarray:
    """Counts ``cm[i, j]`` of examples of true class ``i`` predicted as class ``j``.

    ``output`` may be scores (as for :func:`accuracy`) or predicted class indices shaped like the
    target. Rows are true classes, columns predictions (scikit-learn's convention).

    Returns:
        an int64 array ``(num_classes, num_classes)``.
    """
    out, tgt = _np(output), _np(target)
    if out.shape == tgt.shape and np.issubdtype(out.dtype, np.integer):
        pred, true = out, tgt
    else:
        pred, true = _predicted_classes(out, tgt, 0.0, "confusion_matrix")
    pred, true = pred.reshape(-1).astype(np.int64), true.reshape(-1).astype(np.int64)
    if num_classes is None:
        num_classes = int(max(pred.max(initial=-1), true.max(initial=-1))) + 1
    for name, a in (("target", true), ("prediction", pred)):
        if a.size and (a.min() < 0 or a.max() >= num_classes):
            raise ValueError(
                f"confusion_matrix: {name} class {int(a.min() if a.min() < 0 else a.max())} "
                f"outside [0, {num_classes})"
            )
    cm = np.bincount(true * num_classes + pred, minlength=num_classes * num_classes)
    return cm.reshape(num_classes, num_classes).astype(np.int64)


def precision_recall_f1(cm: np.ndarray, average: str | None = None) -> dict[str, Any]:
    """Per-class precision, recall and F1 from a confusion matrix.

    precision_c = TP / (TP + FP) (column c), recall_c = TP / (TP + FN) (row c), F1 their harmonic
    mean; 0 where undefined (no prediction / no example of the class), as scikit-learn does.

    Args:
        cm: a confusion matrix, rows true and columns predicted.
        average: None (per-class arrays plus ``support``), ``"macro"`` (unweighted mean over
            classes), ``"weighted"`` (by support) or ``"micro"`` (global counts: equals accuracy).

    Returns:
        ``{"precision", "recall", "f1"}`` (and ``"support"`` per class when ``average`` is None).
    """
    cm = np.asarray(cm, dtype=np.float64)
    tp = np.diag(cm)
    pred_count, support = cm.sum(axis=0), cm.sum(axis=1)
    if average == "micro":
        p = r = f = float(tp.sum() / cm.sum()) if cm.sum() else 0.0
        return {"precision": p, "recall": r, "f1": f}
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(pred_count > 0, tp / pred_count, 0.0)
        r = np.where(support > 0, tp / support, 0.0)
        f = np.where(p + r > 0, 2 * p * r / (p + r), 0.0)
    if average is None:
        return {"precision": p, "recall": r, "f1": f, "support": support.astype(np.int64)}
    if average == "macro":
        w = np.full(len(tp), 1.0 / len(tp)) if len(tp) else np.zeros(0)
    elif average == "weighted":
        w = support / support.sum() if support.sum() else np.zeros_like(support)
    else:
        raise ValueError(
            f"precision_recall_f1: average must be None, 'macro', 'weighted' or 'micro', "
            f"got {average!r}"
        )
    return {"precision": float(w @ p), "recall": float(w @ r), "f1": float(w @ f)}


def _regression(output, target, where: str) -> tuple[np.ndarray, np.ndarray]:
    out, tgt = _np(output), _np(target)
    if out.shape != tgt.shape:
        if out.size == tgt.size:  # (N, 1) against (N,): a common and harmless mismatch
            tgt = tgt.reshape(out.shape)
        else:
            raise ValueError(f"{where}: output shape {out.shape} != target shape {tgt.shape}")
    return out.astype(np.float64), tgt.astype(np.float64)


def mean_absolute_error(output, target) -> float:
    """mean(|output - target|) over every element."""
    out, tgt = _regression(output, target, "mean_absolute_error")
    return float(np.abs(out - tgt).mean())


def mean_squared_error(output, target) -> float:
    """mean((output - target)^2) over every element (no 1/2, as MSELoss)."""
    out, tgt = _regression(output, target, "mean_squared_error")
    return float(np.square(out - tgt).mean())


# ---------------------------------------------------------------------------------- streaming
class Metric:
    """A metric accumulated over batches: ``reset()``, ``update(output, target)``, ``compute()``.

    ``compute()`` returns a float, or a dict of floats (each logged under its own name). The state
    is a few sums (``state_dict()`` / ``load_state_dict()`` save it in checkpoints).

    ``sum_states`` names the attributes that are sums over the examples seen (numbers or arrays):
    summed over processes they give the metric of every process's examples (see
    :func:`sync_metrics`). A subclass with other state lists its own.
    """

    name: str = "metric"
    higher_is_better: bool = True
    sum_states: tuple[str, ...] = ("total", "count")

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.total = 0.0
        self.count = 0

    def update(self, output, target) -> None:
        raise NotImplementedError

    def compute(self) -> float | dict[str, float]:
        return self.total / self.count if self.count else float("nan")

    def state_dict(self) -> dict:
        return {k: v for k, v in vars(self).items() if k not in ("name",)}

    def load_state_dict(self, state: dict) -> None:
        for k, v in state.items():
            setattr(self, k, v)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"


class Mean(Metric):
    """The (weighted) mean of the values given to ``update(value, weight)``, e.g. a batch loss
    weighted by the batch size."""

    higher_is_better = False

    def __init__(self, name: str = "loss") -> None:
        self.name = name
        super().__init__()

    def update(self, value, weight: float = 1.0) -> None:
        self.total += float(_np(value)) * weight
        self.count += weight


class Accuracy(Metric):
    """Streaming :func:`accuracy`."""

    name = "accuracy"

    def __init__(self, threshold: float = 0.0) -> None:
        self.threshold = threshold
        super().__init__()

    def update(self, output, target) -> None:
        pred, true = _predicted_classes(output, target, self.threshold, "Accuracy")
        self.total += float((pred == true).sum())
        self.count += int(pred.size)


class TopKAccuracy(Metric):
    """Streaming :func:`top_k_accuracy`; logged as ``top{k}_accuracy``."""

    def __init__(self, k: int = 5) -> None:
        if not isinstance(k, int) or k < 1:
            raise ValueError(f"TopKAccuracy: k must be a positive int, got {k!r}")
        self.k = k
        self.name = f"top{k}_accuracy"
        super().__init__()

    def update(self, output, target) -> None:
        n = len(_np(target))
        self.total += top_k_accuracy(output, target, self.k) * n
        self.count += n


class MeanAbsoluteError(Metric):
    """Streaming :func:`mean_absolute_error` (over elements); logged as ``mae``."""

    name = "mae"
    higher_is_better = False

    def update(self, output, target) -> None:
        out, tgt = _regression(output, target, "MeanAbsoluteError")
        self.total += float(np.abs(out - tgt).sum())
        self.count += int(out.size)


class MeanSquaredError(Metric):
    """Streaming :func:`mean_squared_error` (over elements); logged as ``mse``."""

    name = "mse"
    higher_is_better = False

    def update(self, output, target) -> None:
        out, tgt = _regression(output, target, "MeanSquaredError")
        self.total += float(np.square(out - tgt).sum())
        self.count += int(out.size)


class ConfusionMatrix(Metric):
    """Streaming :func:`confusion_matrix`; ``compute()`` returns the int64 matrix (not logged)."""

    name = "confusion_matrix"
    sum_states = ("matrix",)

    def __init__(self, num_classes: int) -> None:
        if not isinstance(num_classes, int) or num_classes < 1:
            raise ValueError(f"ConfusionMatrix: num_classes must be >= 1, got {num_classes!r}")
        self.num_classes = num_classes
        super().__init__()

    def reset(self) -> None:
        self.matrix = np.zeros((self.num_classes, self.num_classes), dtype=np.int64)

    def update(self, output, target) -> None:
        self.matrix += confusion_matrix(output, target, self.num_classes)

    def compute(self) -> np.ndarray:
        return self.matrix.copy()


class PrecisionRecallF1(ConfusionMatrix):
    """Streaming :func:`precision_recall_f1`. With ``average`` ('macro', 'weighted', 'micro') it
    logs ``precision``, ``recall`` and ``f1``; with ``average=None`` it returns per-class arrays."""

    name = "precision_recall_f1"

    def __init__(self, num_classes: int, average: str | None = "macro") -> None:
        self.average = average
        super().__init__(num_classes)

    def compute(self) -> dict[str, Any]:
        return precision_recall_f1(self.matrix, self.average)


def _token_scores(output, target, where: str) -> tuple[np.ndarray, np.ndarray]:
    """(scores (M, V), ids (M,)) from logits ``(..., V)`` and ids ``(...)``."""
    out, tgt = _np(output), _np(target)
    if out.shape[:-1] != tgt.shape or out.ndim < 2:
        raise ValueError(
            f"{where}: expected logits (..., V) with token ids of the leading shape, got "
            f"{out.shape} and {tgt.shape}"
        )
    if not np.issubdtype(tgt.dtype, np.integer):
        raise TypeError(f"{where}: token ids must be integers, got {tgt.dtype}")
    return out.reshape(-1, out.shape[-1]), tgt.reshape(-1)


class TokenAccuracy(Metric):
    """The fraction of positions whose most likely next token is the target: logits
    ``(..., V)`` (class dimension last) against ids ``(...)``."""

    name = "token_accuracy"

    def update(self, output, target) -> None:
        scores, ids = _token_scores(output, target, "TokenAccuracy")
        self.total += float((scores.argmax(axis=1) == ids).sum())
        self.count += int(ids.size)


class BitsPerToken(Metric):
    """The mean negative log2-likelihood of the targets, from logits ``(..., V)`` and ids
    ``(...)``: the cross-entropy in bits (bits per character for a character model), computed
    in float64 with a stable log-sum-exp."""

    name = "bits_per_token"
    higher_is_better = False

    def update(self, output, target) -> None:
        scores, ids = _token_scores(output, target, "BitsPerToken")
        z = scores.astype(np.float64)
        z -= z.max(axis=1, keepdims=True)
        nll = np.log(np.exp(z).sum(axis=1)) - z[np.arange(len(ids)), ids]
        self.total += float(nll.sum() / np.log(2.0))
        self.count += int(ids.size)


# ---------------------------------------------------------------------------------- processes
def sync_metrics(metrics, all_reduce: Callable[[np.ndarray], Any]) -> None:
    """Replace the sums of ``metrics`` by their totals over the processes of a job, in place, with
    one call ``all_reduce(buffer)`` that sums a float64 array over the processes in place (such as
    ``lambda a: backprop.distributed.all_reduce(a, "sum")``). Afterwards every process's
    ``compute()`` gives the metric of all the examples every process saw.

    Every process must call it at the same point with the same kinds of metrics in the same order
    (the buffers must line up). Integer counts stay integers; they are exact up to 2**53.
    """
    parts = [
        np.asarray(getattr(m, name), dtype=np.float64).reshape(-1)
        for m in metrics
        for name in m.sum_states
    ]
    if not parts:
        return
    buf = np.concatenate(parts)
    all_reduce(buf)
    offset = 0
    for m in metrics:
        for name in m.sum_states:
            old = getattr(m, name)
            size = np.size(old)
            values = buf[offset : offset + size]
            offset += size
            if isinstance(old, np.ndarray):
                new = values.reshape(old.shape).astype(old.dtype)
            elif isinstance(old, (int, np.integer)) and not isinstance(old, bool):
                new = int(round(float(values[0])))
            else:
                new = float(values[0])
            setattr(m, name, new)


# ---------------------------------------------------------------------------------- by name
# name -> (factory(num_classes) -> Metric, aliases); the order is the order error messages list.
_METRICS: dict[str, Callable[[int | None], Metric]] = {}
_ALIASES: dict[str, str] = {}


def register_metric(name: str, factory: Callable[[int | None], Metric], *aliases: str) -> None:
    """Make ``name`` (and ``aliases``) usable in ``Trainer(metrics=[...])`` and in configs.

    Args:
        name: the metric's name (what the logs call it).
        factory: ``factory(num_classes)`` -> a fresh :class:`Metric` (``num_classes`` may be
            None when the caller does not know it; raise ValueError if it is needed).
        aliases: other names for it.

    Example:
        >>> register_metric("mape", lambda num_classes: MeanAbsolutePercentageError())
    """
    for n in (name, *aliases):
        if not isinstance(n, str) or not n:
            raise ValueError(f"register_metric: names must be non-empty strings, got {n!r}")
        if _ALIASES.get(n, name) != name:
            raise ValueError(f"register_metric: {n!r} already names the metric {_ALIASES[n]!r}")
    _METRICS[name] = factory
    _ALIASES.update(dict.fromkeys((name, *aliases), name))


def _f1(num_classes: int | None) -> Metric:
    if num_classes is None:
        raise ValueError("get_metric: 'f1' needs num_classes")
    return PrecisionRecallF1(num_classes)


register_metric("accuracy", lambda num_classes: Accuracy(), "acc")
register_metric("top5_accuracy", lambda num_classes: TopKAccuracy(5))
register_metric("mae", lambda num_classes: MeanAbsoluteError(), "mean_absolute_error")
register_metric("mse", lambda num_classes: MeanSquaredError(), "mean_squared_error")
register_metric("f1", _f1, "precision_recall_f1")
register_metric("token_accuracy", lambda num_classes: TokenAccuracy())
register_metric("bits_per_token", lambda num_classes: BitsPerToken(), "bits_per_char")


def metric_names() -> tuple[str, ...]:
    """The registered metric names, those registered after import included (``top{k}_accuracy``
    for any k is accepted besides them)."""
    return tuple(_METRICS)


def get_metric(spec: str | Metric, num_classes: int | None = None) -> Metric:
    """A metric from a registered name (``"accuracy"`` or ``"acc"``, ``"mae"``, ``"mse"``,
    ``"f1"``: macro precision/recall/F1, which needs ``num_classes``; see
    :func:`register_metric`) or ``"top{k}_accuracy"``; a Metric is returned as is."""
    if isinstance(spec, Metric):
        return spec
    if not isinstance(spec, str):
        raise TypeError(f"get_metric: expected a name or a Metric, got {type(spec).__name__}")
    if spec in _ALIASES:
        return _METRICS[_ALIASES[spec]](num_classes)
    if m := re.fullmatch(r"top_?(\d+)(_accuracy)?", spec):
        return TopKAccuracy(int(m.group(1)))
    names = ", ".join(_METRICS)
    raise ValueError(f"unknown metric {spec!r}; allowed: {names} (or top<k>)")
