"""Training: the ``Trainer`` fit loop, callbacks (``GradientStats`` among them), metrics,
checkpoints, the learning-rate range test ``lr_find`` (a library: the TOML configs,
the run builder and search of the command line live in :mod:`backprop.app`).

>>> from backprop.train import Trainer, EarlyStopping, ModelCheckpoint
>>> trainer = Trainer(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters()),
...                   metrics=["accuracy"], callbacks=[EarlyStopping(patience=3)])
>>> history = trainer.fit(train_loader, val_loader, epochs=20)
"""

from . import metrics
from .callbacks import (
    Callback,
    CSVLogger,
    EarlyStopping,
    GradientClipping,
    History,
    JSONLinesLogger,
    LambdaCallback,
    LRSchedulerCallback,
    ModelCheckpoint,
    NaNGuard,
    NonFiniteLossError,
    ProgressBar,
)
from .checkpoint import (
    Checkpoint,
    CheckpointError,
    load_checkpoint,
    read_checkpoint,
    save_checkpoint,
)
from .gradient_stats import GradientStats
from .lr_find import LRFindResult, lr_find
from .metrics import (
    Accuracy,
    ConfusionMatrix,
    MeanAbsoluteError,
    MeanSquaredError,
    PrecisionRecallF1,
    TopKAccuracy,
    accuracy,
    confusion_matrix,
    precision_recall_f1,
    top_k_accuracy,
)
from .trainer import Trainer

__all__ = [
    "Trainer", "metrics", "Callback", "History", "EarlyStopping", "ModelCheckpoint",
    "LRSchedulerCallback", "CSVLogger", "JSONLinesLogger", "NaNGuard", "NonFiniteLossError",
    "GradientClipping", "LambdaCallback", "ProgressBar", "Checkpoint", "CheckpointError",
    "save_checkpoint", "load_checkpoint", "read_checkpoint", "Accuracy", "TopKAccuracy",
    "ConfusionMatrix", "PrecisionRecallF1", "MeanAbsoluteError", "MeanSquaredError", "accuracy",
    "top_k_accuracy", "confusion_matrix", "precision_recall_f1", "GradientStats", "lr_find",
    "LRFindResult",
]  # fmt: skip
