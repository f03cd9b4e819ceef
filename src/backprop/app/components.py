"""The tables of components a config may name: optimisers, schedules, losses, augmentations.

Each family is one :class:`~backprop.app.registry.Registry`; a row is a config name, the class it
builds, a one-line summary, and the facts the application needs about it. Datasets have their own
table in :mod:`backprop.app.datasets` (each needs a small builder), models register themselves in
:mod:`backprop.models` (``@register_model``) and metrics in :mod:`backprop.train.metrics`
(``register_metric``).

Adding a component is one row here, after the class exists in its library package::

    OPTIMIZERS.register("lion", optim.Lion, summary="sign of a momentum average (Chen et al.)")

Config validation then accepts ``[optimizer] name = "lion"`` and checks its options against
``optim.Lion``'s signature, the builder constructs it, and ``backprop train --help`` lists it.

Facts per family (the ``info`` of an entry):

- schedulers: ``auto`` names options filled in from the run when not given (``T_max``: the
  number of epochs, or steps with ``interval = "step"``); ``epoch_only`` marks a schedule fed a
  metric after each epoch (``"plateau"``).
- losses: ``classifier`` marks losses that take class scores and integer targets (the test
  report then adds the confusion matrix and per-class precision/recall/F1).
"""

from __future__ import annotations

from .. import nn, optim
from ..data import augment as A
from ..optim import lr_scheduler as S
from .registry import Registry

__all__ = ["OPTIMIZERS", "SCHEDULERS", "LOSSES", "AUGMENTATIONS", "TokenCrossEntropyLoss"]

# Each optimiser is built as cls(model.parameters(), lr=cfg.optimizer.lr, **options).
OPTIMIZERS = Registry("optimizer")
OPTIMIZERS.register("sgd", optim.SGD, summary="SGD with momentum, Nesterov, weight decay")
OPTIMIZERS.register("adam", optim.Adam, summary="Adam (amsgrad available)")
OPTIMIZERS.register("adamw", optim.AdamW, summary="Adam with decoupled weight decay")
OPTIMIZERS.register("rmsprop", optim.RMSprop, summary="RMSprop (centred available)")
OPTIMIZERS.register("adagrad", optim.Adagrad, summary="Adagrad")
OPTIMIZERS.register("adadelta", optim.Adadelta, summary="Adadelta")

# Each schedule is built as cls(optimizer, **options).
SCHEDULERS = Registry("scheduler")
SCHEDULERS.register("none", None, summary="a constant learning rate")
SCHEDULERS.register("step", S.StepLR, summary="multiply by gamma every step_size epochs")
SCHEDULERS.register("multistep", S.MultiStepLR, summary="multiply by gamma at each milestone")
SCHEDULERS.register("exponential", S.ExponentialLR, summary="multiply by gamma every epoch")
SCHEDULERS.register(
    "cosine", S.CosineAnnealingLR, summary="cosine annealing over T_max", auto=("T_max",)
)
SCHEDULERS.register("linear", S.LinearLR, summary="linear warm-up over total_iters")
SCHEDULERS.register(
    "plateau", S.ReduceLROnPlateau, summary="multiply by factor when the monitor stalls",
    epoch_only=True,
)  # fmt: skip


class TokenCrossEntropyLoss(nn.CrossEntropyLoss):
    """Cross-entropy of a language model's logits ``(N, T, V)`` (class dimension last, as a
    GPT returns them) against token ids ``(N, T)``: PyTorch users write it as
    ``F.cross_entropy(logits.view(-1, V), y.view(-1))``, which is what this does."""

    def forward(self, input, target):
        return super().forward(input.reshape(-1, input.shape[-1]), target.reshape(-1))


# Each loss is built as cls(**options) and called as loss(model(x), y).
LOSSES = Registry("loss")
LOSSES.register("cross_entropy", nn.CrossEntropyLoss, summary="softmax cross-entropy on logits",
                classifier=True)  # fmt: skip
LOSSES.register("nll", nn.NLLLoss, summary="negative log-likelihood of log-probabilities",
                classifier=True)  # fmt: skip
LOSSES.register("token_cross_entropy", TokenCrossEntropyLoss,
                summary="cross-entropy of language-model logits (N, T, V)")  # fmt: skip
LOSSES.register("mse", nn.MSELoss, summary="mean squared error")
LOSSES.register("l1", nn.L1Loss, summary="mean absolute error")
LOSSES.register("huber", nn.HuberLoss, summary="Huber loss (quadratic near 0, then linear)")
LOSSES.register("bce_with_logits", nn.BCEWithLogitsLoss, summary="binary cross-entropy on logits")
LOSSES.register("multi_margin", nn.MultiMarginLoss, summary="multiclass hinge (SVM) loss",
                classifier=True)  # fmt: skip

# Training-only random transforms, each built as cls(**options) from a [[dataset.augment]] table.
AUGMENTATIONS = Registry("augmentation")
AUGMENTATIONS.register("random_shift", A.RandomShift, summary="shift by whole pixels")
AUGMENTATIONS.register("random_crop", A.RandomCrop, summary="pad, then crop a random window")
AUGMENTATIONS.register("random_affine", A.RandomAffine, summary="rotate, translate and scale")
AUGMENTATIONS.register(
    "random_horizontal_flip", A.RandomHorizontalFlip, summary="mirror left-right"
)
