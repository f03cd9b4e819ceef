"""Loss modules: ``loss = criterion(input, target)``, wrapping ``backprop.nn.functional``.

Each takes ``reduction='mean' | 'sum' | 'none'``. Class weights are registered as buffers (so they
follow ``to(dtype)`` and appear in ``state_dict()``, as in PyTorch).
"""

from __future__ import annotations

from ..functional import loss as L
from ..tensor import Tensor
from .module import Module

__all__ = [
    "MSELoss", "L1Loss", "HuberLoss", "BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss",
    "NLLLoss", "MultiMarginLoss",
]  # fmt: skip


class _Loss(Module):
    def __init__(self, reduction: str = "mean"):
        super().__init__()
        if reduction not in ("mean", "sum", "none"):
            raise ValueError(
                f"{type(self).__name__}: reduction must be 'mean', 'sum' or 'none', got "
                f"{reduction!r}"
            )
        self.reduction = reduction


class _WeightedLoss(_Loss):
    def __init__(self, weight: Tensor | None = None, reduction: str = "mean"):
        super().__init__(reduction)
        if weight is not None and not isinstance(weight, Tensor):
            raise TypeError(f"{type(self).__name__}: weight must be a Tensor or None")
        self.register_buffer("weight", weight)


class MSELoss(_Loss):
    """Mean squared error ``mean((input - target)^2)`` (PyTorch's form; the lectures' has 1/2).

    Shape: input (*), target (*) the same -> () or (*) for 'none'.
    """

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return L.mse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    """Mean absolute error ``mean(|input - target|)``.

    Shape: input (*), target (*) the same -> () or (*) for 'none'.
    """

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return L.l1_loss(input, target, reduction=self.reduction)


class HuberLoss(_Loss):
    """Huber loss: quadratic ``d^2 / 2`` for ``|d| < delta``, linear ``delta (|d| - delta / 2)``
    beyond (robust to outliers).

    Shape: input (*), target (*) the same -> () or (*) for 'none'.
    """

    def __init__(self, reduction: str = "mean", delta: float = 1.0):
        super().__init__(reduction)
        if not delta > 0:
            raise ValueError(f"HuberLoss: delta must be positive, got {delta}")
        self.delta = float(delta)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return L.huber_loss(input, target, reduction=self.reduction, delta=self.delta)


class BCELoss(_WeightedLoss):
    """Binary cross-entropy of probabilities (logs clamped at -100, as in PyTorch).

    Prefer :class:`BCEWithLogitsLoss` on logits (stabler).

    Shape: input (*) in [0, 1], target (*) the same, in [0, 1] (else ValueError, as PyTorch
    raises) -> () or (*) for 'none'.
    """

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return L.binary_cross_entropy(input, target, weight=self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_WeightedLoss):
    """Sigmoid + binary cross-entropy in one stable op, on logits.

    Args:
        weight: per-element weights broadcasting to the input.
        reduction: 'mean', 'sum' or 'none'.
        pos_weight: positive-class weight broadcasting to the input (e.g. (C,)).

    Shape: input (*), target (*) the same -> () or (*) for 'none'.
    """

    def __init__(
        self,
        weight: Tensor | None = None,
        reduction: str = "mean",
        pos_weight: Tensor | None = None,
    ):
        super().__init__(weight, reduction)
        if pos_weight is not None and not isinstance(pos_weight, Tensor):
            raise TypeError("BCEWithLogitsLoss: pos_weight must be a Tensor or None")
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return L.binary_cross_entropy_with_logits(
            input, target, weight=self.weight, reduction=self.reduction, pos_weight=self.pos_weight
        )


class CrossEntropyLoss(_WeightedLoss):
    """Cross-entropy from logits (fused log-softmax + NLL); see ``F.cross_entropy``.

    Args:
        weight: per-class weights (C,).
        ignore_index: a target value that contributes nothing.
        reduction: 'mean' (PyTorch's weighted mean over non-ignored targets), 'sum' or 'none'.
        label_smoothing: s in [0, 1]: targets become ``(1 - s) onehot + s / C``.

    Shape:
        input (N, C), (N, C, d1, ...) or (C,); target class indices (N,), (N, d1, ...) or (), or
        class probabilities of the input's shape -> () or, for 'none', the per-sample shape.

    Example:
        >>> criterion = nn.CrossEntropyLoss()
        >>> loss = criterion(model(x), y)
    """

    def __init__(
        self,
        weight: Tensor | None = None,
        ignore_index: int = -100,
        reduction: str = "mean",
        label_smoothing: float = 0.0,
    ):
        super().__init__(weight, reduction)
        if not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(
                f"CrossEntropyLoss: label_smoothing must be in [0, 1], got {label_smoothing}"
            )
        self.ignore_index, self.label_smoothing = int(ignore_index), float(label_smoothing)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return L.cross_entropy(
            input,
            target,
            weight=self.weight,
            ignore_index=self.ignore_index,
            reduction=self.reduction,
            label_smoothing=self.label_smoothing,
        )


class NLLLoss(_WeightedLoss):
    """Negative log-likelihood of log-probabilities (pair with ``LogSoftmax(dim=1)``).

    Shape: input (N, C), (N, C, d1, ...) or (C,); target (N,), (N, d1, ...) or ().
    """

    def __init__(
        self, weight: Tensor | None = None, ignore_index: int = -100, reduction: str = "mean"
    ):
        super().__init__(weight, reduction)
        self.ignore_index = int(ignore_index)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return L.nll_loss(
            input, target, weight=self.weight, ignore_index=self.ignore_index,
            reduction=self.reduction,
        )  # fmt: skip


class MultiMarginLoss(_WeightedLoss):
    """The multiclass hinge (SVM) loss: ``sum_{j != y} w[y] max(0, margin - x_y + x_j)^p / C``.

    cs231n's SVM loss ``sum_{j != y} max(0, s_j - s_y + 1)`` is this with margin 1, p = 1 and
    without the division by the number of classes C.

    Args:
        p: 1 or 2 (squared hinge).
        margin: the required gap.
        weight: per-class weights (C,).

    Shape: input (N, C) or (C,); target (N,) or () -> () or (N,) for 'none'.
    """

    def __init__(
        self,
        p: int = 1,
        margin: float = 1.0,
        weight: Tensor | None = None,
        reduction: str = "mean",
    ):
        super().__init__(weight, reduction)
        if p not in (1, 2):
            raise ValueError(f"MultiMarginLoss: only p == 1 and p == 2 are supported, got {p}")
        self.p, self.margin = int(p), float(margin)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return L.multi_margin_loss(
            input, target, p=self.p, margin=self.margin, weight=self.weight,
            reduction=self.reduction,
        )  # fmt: skip
