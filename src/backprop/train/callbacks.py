"""Callbacks: code that runs at fixed points of :meth:`Trainer.fit`, with Keras' hook names.

A callback subclasses :class:`Callback` and overrides the hooks it needs. Each hook gets a ``logs``
dict: after a batch ``{"loss": ..., "size": ...}``, after an epoch the epoch's metrics
``{"loss", "accuracy", "val_loss", "val_accuracy", "lr", ...}``. ``self.trainer`` is the running
:class:`~backprop.train.Trainer` (its ``model``, ``optimizer``, ``epoch``, ``global_step``;
setting ``trainer.stop_training = True`` ends training after the current epoch).

Callbacks run in the order of their ``order`` attribute (then in the order given): anything that
adds to the logs (order 0) runs before the learning-rate schedule (10) and early stopping (20),
which run before :class:`History` (80), the loggers (90) and :class:`ModelCheckpoint` (100), so a
checkpoint holds the state *after* every other callback has seen the epoch.

A callback with state (early stopping's counters, the best score) saves it through
``state_dict()`` / ``load_state_dict()``, so that a resumed run behaves as an uninterrupted one.

Example:
    >>> trainer = Trainer(model, loss_fn, opt, metrics=["accuracy"], callbacks=[
    ...     EarlyStopping(monitor="val_loss", patience=3, restore_best_weights=True),
    ...     ModelCheckpoint("runs/a/checkpoints", monitor="val_accuracy"),
    ...     CSVLogger("runs/a/history.csv"),
    ... ])
"""

from __future__ import annotations

import csv
import inspect
import json
import math
import os
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from ..fileio import atomic_write

__all__ = [
    "Callback",
    "CallbackList",
    "TrainerView",
    "History",
    "EarlyStopping",
    "ModelCheckpoint",
    "LRSchedulerCallback",
    "CSVLogger",
    "JSONLinesLogger",
    "NaNGuard",
    "NonFiniteLossError",
    "GradientClipping",
    "LambdaCallback",
    "ProgressBar",
    "monitor_mode",
]


class TrainerView(Protocol):
    """What callbacks may read and set on the running Trainer (its public state).

    ``current_batch`` is the ``(inputs, targets)`` pair being trained on (None between batches);
    ``forward(x)`` runs the model on a batch's inputs as the Trainer does; ``examples_per_epoch``
    is the number of training examples per epoch, or None when the data cannot tell.
    """

    model: Any
    loss_fn: Callable
    optimizer: Any
    history: History
    epoch: int
    global_step: int
    stop_training: bool
    stop_reason: str | None
    current_batch: tuple | None
    examples_per_epoch: int | None

    def forward(self, x) -> Any: ...

    def save_checkpoint(
        self, path, metadata: dict | None = None, best: dict | None = None, within=None
    ): ...


class Callback:
    """Base class: every hook does nothing. Override the ones you need.

    Attributes:
        trainer: the Trainer running the callback (set by ``set_trainer``).
        order: when the callback runs relative to the others (lower first).
    """

    order: int = 0
    trainer: TrainerView

    def set_trainer(self, trainer: TrainerView) -> None:
        self.trainer = trainer

    def on_train_begin(self, logs: dict | None = None) -> None: ...
    def on_train_end(self, logs: dict | None = None) -> None: ...
    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None: ...
    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None: ...
    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None: ...

    def on_before_optimizer_step(self, batch: int, logs: dict | None = None) -> None:
        """After ``loss.backward()``, before ``optimizer.step()`` (not a Keras hook): where
        gradients can be inspected or clipped."""

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None: ...
    def on_test_begin(self, logs: dict | None = None) -> None: ...
    def on_test_end(self, logs: dict | None = None) -> None: ...

    def on_interrupt(self, logs: dict | None = None) -> None:
        """Training stopped on Ctrl-C, between two batches (not a Keras hook)."""

    def state_dict(self) -> dict:
        """The state a resumed run needs (empty for stateless callbacks)."""
        return {}

    def load_state_dict(self, state: dict) -> None:
        """Restore what :meth:`state_dict` returned."""


class CallbackList:
    """The callbacks of one run, sorted by ``order``, called together: each hook of
    :class:`Callback` is written out here and calls that hook of every callback in turn."""

    def __init__(self, callbacks: Iterable[Callback], trainer: TrainerView) -> None:
        callbacks = list(callbacks)
        for cb in callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(
                    f"Trainer: callbacks must be Callback instances, got {type(cb).__name__}"
                )
        self.callbacks = sorted(callbacks, key=lambda c: c.order)  # stable: ties keep their order
        for cb in self.callbacks:
            cb.set_trainer(trainer)

    def __iter__(self):
        return iter(self.callbacks)

    def __len__(self) -> int:
        return len(self.callbacks)

    def keys(self) -> list[str]:
        """A stable name per callback (its position and class), for checkpoints."""
        return [f"{i}:{type(cb).__name__}" for i, cb in enumerate(self.callbacks)]

    def on_train_begin(self, logs: dict | None = None) -> None:
        for cb in self.callbacks:
            cb.on_train_begin(logs)

    def on_train_end(self, logs: dict | None = None) -> None:
        for cb in self.callbacks:
            cb.on_train_end(logs)

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        for cb in self.callbacks:
            cb.on_epoch_begin(epoch, logs)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        for cb in self.callbacks:
            cb.on_epoch_end(epoch, logs)

    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        for cb in self.callbacks:
            cb.on_train_batch_begin(batch, logs)

    def on_before_optimizer_step(self, batch: int, logs: dict | None = None) -> None:
        for cb in self.callbacks:
            cb.on_before_optimizer_step(batch, logs)

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        for cb in self.callbacks:
            cb.on_train_batch_end(batch, logs)

    def on_test_begin(self, logs: dict | None = None) -> None:
        for cb in self.callbacks:
            cb.on_test_begin(logs)

    def on_test_end(self, logs: dict | None = None) -> None:
        for cb in self.callbacks:
            cb.on_test_end(logs)

    def on_interrupt(self, logs: dict | None = None) -> None:
        for cb in self.callbacks:
            cb.on_interrupt(logs)


# ---------------------------------------------------------------------------------- history
class History(Callback):
    """Records every epoch's logs; always attached, returned by ``fit``.

    Attributes:
        epoch: the epoch indices recorded (0-based).
        history: ``{"loss": [...], "val_loss": [...], ...}``, one value per recorded epoch (NaN
            where an epoch lacks a key).
    """

    order = 80

    def __init__(self) -> None:
        self.epoch: list[int] = []
        self.rows: list[dict[str, float]] = []

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.epoch.append(epoch)
        self.rows.append({k: float(v) for k, v in (logs or {}).items() if _is_number(v)})

    @property
    def history(self) -> dict[str, list[float]]:
        keys: list[str] = []
        for row in self.rows:
            keys.extend(k for k in row if k not in keys)
        return {k: [row.get(k, math.nan) for row in self.rows] for k in keys}

    def __getitem__(self, key: str) -> list[float]:
        return self.history[key]

    def __len__(self) -> int:
        return len(self.rows)

    def state_dict(self) -> dict:
        return {"epoch": list(self.epoch), "rows": [dict(r) for r in self.rows]}

    def load_state_dict(self, state: dict) -> None:
        epochs, rows = state["epoch"], state["rows"]
        if not all(_is_count(e) for e in epochs):
            raise ValueError("History.load_state_dict: epochs must be ints >= 0")
        for row in rows:  # a file's values: a string here would fail in CSVLogger or a plot
            if not isinstance(row, dict) or not all(
                isinstance(k, str) and _is_number(v) for k, v in row.items()
            ):
                raise ValueError(f"History.load_state_dict: a row of non-numbers: {row!r:.60}")
        self.epoch = [int(e) for e in epochs]
        self.rows = [{k: float(v) for k, v in r.items()} for r in rows]

    def __repr__(self) -> str:
        return f"History({len(self)} epochs: {', '.join(self.history)})"


def _is_number(v) -> bool:
    return isinstance(v, (int, float, np.number)) and not isinstance(v, (bool, np.complexfloating))


def _is_count(v, nullable: bool = False) -> bool:
    """An int >= 0 (or None when ``nullable``): an epoch, a patience counter."""
    if v is None:
        return nullable
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= 0


def _check_state(who: str, state: dict, numbers=(), counts=(), optional_counts=()) -> None:
    """Refuse a saved callback state (it may come from a file) whose values have the wrong
    kind, with a ValueError naming the entry, rather than a TypeError at the next epoch."""
    rules = [(k, _is_number, "a number") for k in numbers]
    rules += [(k, _is_count, "an int >= 0") for k in counts]
    rules += [
        (k, lambda v: _is_count(v, nullable=True), "an int >= 0 or None") for k in optional_counts
    ]
    for key, ok, what in rules:
        if not ok(state[key]):
            raise ValueError(
                f"{who}.load_state_dict: {key!r} must be {what}, got {state[key]!r:.40}"
            )


# ---------------------------------------------------------------------------------- monitoring
def monitor_mode(monitor: str, mode: str = "auto", who: str = "monitor_mode") -> str:
    """``"min"`` or ``"max"`` for ``monitor``: ``mode`` itself unless it is ``"auto"``, then max
    for accuracies and scores (``*acc*``, f1, precision, recall, auc), min otherwise (losses,
    errors).

    Raises:
        ValueError: a mode other than auto/min/max (the message starts with ``who``).
    """
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"{who}: mode must be 'auto', 'min' or 'max', got {mode!r}")
    if mode != "auto":
        return mode
    # Keras' rule: accuracies and scores go up, losses and errors go down.
    name = monitor.removeprefix("val_")
    return "max" if ("acc" in name or name in ("f1", "precision", "recall", "auc")) else "min"


def _get_monitored(logs: dict | None, monitor: str, who: str) -> float:
    logs = logs or {}
    if monitor not in logs:
        hint = " (pass val_data to fit, or monitor a training metric)" if "val_" in monitor else ""
        raise ValueError(
            f"{who}: monitored metric {monitor!r} is not in the logs; available: "
            f"{', '.join(sorted(logs)) or 'none'}{hint}"
        )
    return float(logs[monitor])


class _Best:
    """The best value of a monitored metric so far, with min/max and ``min_delta``."""

    def __init__(self, mode: str, min_delta: float = 0.0) -> None:
        self.mode = mode
        self.min_delta = abs(min_delta)
        self.value = math.inf if mode == "min" else -math.inf

    def improves(self, current: float) -> bool:
        if math.isnan(current):
            return False
        if self.mode == "min":
            return current < self.value - self.min_delta
        return current > self.value + self.min_delta


class EarlyStopping(Callback):
    """Stop training when a monitored metric has stopped improving.

    After each epoch the monitored value counts as an improvement when it beats the best so far by
    more than ``min_delta`` (a value equal to the best, or better by ``min_delta`` or less, is no
    improvement); after ``patience`` epochs in a row without one, training stops (the lectures'
    early stopping: watch the validation error, stop when it starts to rise).

    With ``restore_best_weights``, the end of a completed ``fit`` puts back the weights of the
    best epoch. A ``fit`` interrupted by Ctrl-C restores nothing: the model keeps the weights it
    had when it stopped (what the interrupt's checkpoint holds, and what calling ``fit`` again
    continues from).

    Args:
        monitor: the metric to watch (``"val_loss"``, ``"val_accuracy"``...).
        mode: ``"min"``, ``"max"``, or ``"auto"`` (max for accuracies, min otherwise).
        patience: epochs without improvement before stopping.
        min_delta: the smallest change that counts as an improvement.
        restore_best_weights: at the end of training, put back the weights of the best epoch.
        start_from_epoch: epochs to wait before counting (warm-up).
        verbose: print a line when the best weights are restored.

    Attributes:
        stopped_epoch: the epoch (0-based) after which training stopped, or None.
        best_epoch: the epoch of the best value.
    """

    order = 20

    def __init__(
        self,
        monitor: str = "val_loss",
        mode: str = "auto",
        patience: int = 0,
        min_delta: float = 0.0,
        restore_best_weights: bool = False,
        start_from_epoch: int = 0,
        verbose: bool = False,
    ) -> None:
        if not isinstance(patience, int) or patience < 0:
            raise ValueError(f"EarlyStopping: patience must be an int >= 0, got {patience!r}")
        self.monitor = monitor
        self.mode = monitor_mode(monitor, mode, "EarlyStopping")
        self.patience = patience
        self.min_delta = min_delta
        self.restore_best_weights = restore_best_weights
        self.start_from_epoch = start_from_epoch
        self.verbose = verbose
        self._reset()

    def _reset(self) -> None:
        self.wait = 0
        self.best = _Best(self.mode, self.min_delta)
        self.best_epoch: int | None = None
        self.best_weights: dict[str, np.ndarray] | None = None
        self.stopped_epoch: int | None = None
        self._interrupted = False

    def on_train_begin(self, logs: dict | None = None) -> None:
        self._interrupted = False

    def on_interrupt(self, logs: dict | None = None) -> None:
        self._interrupted = True  # keep the weights: they are the state training continues from

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if epoch < self.start_from_epoch:
            return
        current = _get_monitored(logs, self.monitor, "EarlyStopping")
        if self.best.improves(current):
            self.best.value, self.best_epoch, self.wait = current, epoch, 0
            if self.restore_best_weights:
                self.best_weights = {
                    k: v.data.copy() for k, v in self.trainer.model.state_dict().items()
                }
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            self.trainer.stop_training = True
            self.trainer.stop_reason = (
                f"early stopping after epoch {epoch + 1}: {self.monitor} has not improved for "
                f"{self.wait} epochs (the last improvement: {self.best.value:.4g} at epoch "
                f"{self.best_epoch + 1})"
                if self.best_epoch is not None
                else f"early stopping after epoch {epoch + 1}: {self.monitor} never improved"
            )

    def on_train_end(self, logs: dict | None = None) -> None:
        if self._interrupted:
            return
        if self.restore_best_weights and self.best_weights is not None:
            self.trainer.model.load_state_dict(self.best_weights)
            if self.verbose:
                print(
                    f"Early stopping: restored the weights of epoch {self.best_epoch + 1}, its "
                    f"best {self.monitor} ({self.best.value:.4g})"
                )

    def state_dict(self) -> dict:
        return {
            "wait": self.wait,
            "best": self.best.value,
            "best_epoch": self.best_epoch,
            "best_weights": self.best_weights,
            "stopped_epoch": self.stopped_epoch,
        }

    def load_state_dict(self, state: dict) -> None:
        _check_state(
            "EarlyStopping", state, numbers=("best",), counts=("wait",),
            optional_counts=("best_epoch", "stopped_epoch"),
        )  # fmt: skip
        weights = state["best_weights"]
        if weights is not None and not (
            isinstance(weights, dict)
            and all(isinstance(v, np.ndarray) and v.dtype.kind in "biuf" for v in weights.values())
        ):
            raise ValueError(
                "EarlyStopping.load_state_dict: 'best_weights' must map names to arrays"
            )
        model = getattr(getattr(self, "trainer", None), "model", None)
        if weights is not None and model is not None:
            want = {k: (t.data.shape, t.data.dtype) for k, t in model.state_dict().items()}
            if {k: (v.shape, v.dtype) for k, v in weights.items()} != want:
                raise ValueError(
                    "EarlyStopping.load_state_dict: 'best_weights' do not fit the model (other "
                    "names, shapes or dtypes)"
                )
        self.wait = state["wait"]
        self.best.value = float(state["best"])
        self.best_epoch = state["best_epoch"]
        self.best_weights = state["best_weights"]
        self.stopped_epoch = state["stopped_epoch"]


class ModelCheckpoint(Callback):
    """Save resumable checkpoints: the last epoch's and/or the best one's.

    Files (safetensors, see :mod:`backprop.train.checkpoint`), written atomically in ``dirpath``:
    ``last.safetensors`` after every epoch (and on Ctrl-C: the state between two batches, from
    which ``resume`` continues), ``best.safetensors`` when the monitored metric improves.

    Args:
        dirpath: the folder for the checkpoint files.
        monitor: the metric deciding "best".
        mode: ``"min"``, ``"max"`` or ``"auto"``.
        save_best: keep ``best.safetensors``.
        save_last: keep ``last.safetensors``.
        metadata: extra JSON-serialisable information stored in every checkpoint (the model's
            name and options, the config, the data's normalisation constants...).
        within: a trusted root folder (the run folder): no folder from it down to ``dirpath``
            may be a symlink (see :func:`backprop.fileio.atomic_write`).
    """

    order = 100

    def __init__(
        self,
        dirpath: str | os.PathLike,
        monitor: str = "val_loss",
        mode: str = "auto",
        save_best: bool = True,
        save_last: bool = True,
        metadata: dict | None = None,
        within: str | os.PathLike | None = None,
    ) -> None:
        self.dirpath = Path(dirpath)
        self.within = None if within is None else Path(within)
        self.monitor = monitor
        self.mode = monitor_mode(monitor, mode, "ModelCheckpoint")
        self.save_best = save_best
        self.save_last = save_last
        self.metadata = dict(metadata or {})
        self.best = _Best(self.mode)
        self.best_epoch: int | None = None

    @property
    def last_path(self) -> Path:
        return self.dirpath / "last.safetensors"

    @property
    def best_path(self) -> Path:
        return self.dirpath / "best.safetensors"

    def _best_info(self) -> dict:
        return {
            "monitor": self.monitor,
            "mode": self.mode,
            "value": self.best.value,
            "epoch": self.best_epoch,
        }

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if self.save_best:
            current = _get_monitored(logs, self.monitor, "ModelCheckpoint")
            if self.best.improves(current):
                self.best.value, self.best_epoch = current, epoch
                self._save(self.best_path)
        if self.save_last:
            self._save(self.last_path)

    def on_interrupt(self, logs: dict | None = None) -> None:
        if self.save_last:
            self._save(self.last_path)

    def _save(self, path: Path) -> None:
        self.trainer.save_checkpoint(
            path, metadata=self.metadata, best=self._best_info(), within=self.within
        )

    def state_dict(self) -> dict:
        return {"best": self.best.value, "best_epoch": self.best_epoch}

    def load_state_dict(self, state: dict) -> None:
        _check_state("ModelCheckpoint", state, numbers=("best",), optional_counts=("best_epoch",))
        self.best.value = float(state["best"])
        self.best_epoch = state["best_epoch"]


# ---------------------------------------------------------------------------------- schedules
def _takes_metric(scheduler) -> bool:
    try:
        params = inspect.signature(scheduler.step).parameters
    except (TypeError, ValueError):
        return False
    return "metrics" in params or "metric" in params


class LRSchedulerCallback(Callback):
    """Step a learning-rate scheduler after every epoch or every batch.

    A scheduler whose ``step`` takes a metric (``ReduceLROnPlateau``) is fed ``logs[monitor]``
    after each epoch (the lectures' "halve the learning rate when the validation error stops
    improving": ``ReduceLROnPlateau(opt, factor=0.5)`` with ``monitor="val_loss"``).

    Args:
        scheduler: an ``optim.lr_scheduler`` scheduler.
        interval: ``"epoch"`` or ``"step"`` (every optimiser step, for warm-up or one-cycle
            schedules).
        monitor: the metric given to a plateau scheduler.

    The scheduler's own state is saved in checkpoints by the Trainer (``trainer.scheduler``).
    """

    order = 10

    def __init__(self, scheduler, interval: str = "epoch", monitor: str = "val_loss") -> None:
        if interval not in ("epoch", "step"):
            raise ValueError(
                f"LRSchedulerCallback: interval must be 'epoch' or 'step', got {interval!r}"
            )
        if not callable(getattr(scheduler, "step", None)):
            raise TypeError(
                f"LRSchedulerCallback: expected a scheduler with step(), got "
                f"{type(scheduler).__name__}"
            )
        self.scheduler = scheduler
        self.takes_metric = _takes_metric(scheduler)
        if self.takes_metric and interval == "step":
            raise ValueError(
                f"LRSchedulerCallback: {type(scheduler).__name__} needs a metric and can only "
                f"step per epoch"
            )
        self.interval = interval
        self.monitor = monitor

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        if self.interval == "step":
            self.scheduler.step()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if self.interval != "epoch":
            return
        if self.takes_metric:
            self.scheduler.step(_get_monitored(logs, self.monitor, type(self.scheduler).__name__))
        else:
            self.scheduler.step()


# ---------------------------------------------------------------------------------- loggers
class CSVLogger(Callback):
    """Write each epoch's logs as a row of a CSV file (``epoch`` first, 1-based, then the keys).

    The file is rewritten from the trainer's history when training begins, so a resumed run
    continues the same file without duplicated or missing rows. Every write is atomic
    (:func:`backprop.fileio.atomic_write`: a random exclusive temporary, never a symlink).

    Args:
        path: the CSV file.
        within: a trusted root folder (the run folder), as for :class:`ModelCheckpoint`.
    """

    order = 90

    def __init__(self, path: str | os.PathLike, within: str | os.PathLike | None = None) -> None:
        self.path = Path(path)
        self.within = None if within is None else Path(within)

    def _write(self, rows: list[tuple[int, dict]]) -> None:
        keys: list[str] = []
        for _, row in rows:
            keys.extend(k for k in row if k not in keys)
        with atomic_write(self.path, "w", newline="", within=self.within) as f:
            w = csv.writer(f)
            w.writerow(["epoch", *keys])
            for epoch, row in rows:
                w.writerow([epoch + 1, *(_fmt(row.get(k, math.nan)) for k in keys)])

    def on_train_begin(self, logs: dict | None = None) -> None:
        h = self.trainer.history
        self._write(list(zip(h.epoch, h.rows)))

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        # Rewriting the whole (small) file keeps the header right if a new key appears.
        h = self.trainer.history
        self._write(list(zip(h.epoch, h.rows)))


def _fmt(v: float) -> str:
    return repr(float(v))


class JSONLinesLogger(Callback):
    """One JSON object per epoch (``{"epoch": 1, "loss": ..., ...}``) per line of a file.

    The file is written from the trainer's history, atomically, when training begins and after
    every epoch (resume-safe: a resumed run continues the same file; a crash never leaves half
    a line).

    Args:
        path: the ``.jsonl`` file.
        within: a trusted root folder (the run folder), as for :class:`ModelCheckpoint`.
    """

    order = 90

    def __init__(self, path: str | os.PathLike, within: str | os.PathLike | None = None) -> None:
        self.path = Path(path)
        self.within = None if within is None else Path(within)

    def _write(self) -> None:
        h = self.trainer.history
        with atomic_write(self.path, "w", within=self.within) as f:
            for epoch, row in zip(h.epoch, h.rows):
                f.write(json.dumps({"epoch": epoch + 1, **row}) + "\n")

    def on_train_begin(self, logs: dict | None = None) -> None:
        self._write()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self._write()  # History (order 80) has recorded this epoch already


# ---------------------------------------------------------------------------------- safety
class NonFiniteLossError(RuntimeError):
    """The loss became NaN or infinite; the message names the epoch, step and value."""


class NaNGuard(Callback):
    """Stop training as soon as the loss is NaN or infinite, before the step that would spread it
    into the weights. Always attached by the Trainer (``nan_guard=False`` to drop it). In a job
    of several processes the batch loss it sees is the one over all ranks, so every rank stops
    at the same batch.

    Raises :class:`NonFiniteLossError` naming the epoch, the batch, the global step and the value.
    When ``explain=True`` and :func:`backprop.autograd.detect_anomaly` is available, the failing
    batch is run again under anomaly detection to name the op that produced the first NaN/Inf.
    """

    order = -100

    def __init__(self, explain: bool = True) -> None:
        self.explain = explain

    def on_before_optimizer_step(self, batch: int, logs: dict | None = None) -> None:
        loss = (logs or {}).get("loss")
        if loss is None or math.isfinite(loss):
            return
        t = self.trainer
        msg = (
            f"the training loss is {loss} at epoch {t.epoch + 1}, batch {batch + 1} (global step "
            f"{t.global_step + 1}); the weights were left as they were before this step"
        )
        cause = self._explain() if self.explain else None
        msg += (
            f".\n{cause}"
            if cause
            else (". Lower the learning rate, check the inputs for NaN, or clip gradients.")
        )
        raise NonFiniteLossError(msg)

    def _explain(self) -> str | None:
        from .. import autograd

        detect = getattr(autograd, "detect_anomaly", None)
        batch = self.trainer.current_batch
        if detect is None or batch is None:
            return None
        x, y = batch
        # The model itself, not its DistributedDataParallel: each rank explains its own batch
        # without a collective (the other ranks may be explaining theirs, or nothing).
        from ..distributed.ddp import DistributedDataParallel

        model = self.trainer.model
        if isinstance(model, DistributedDataParallel):
            model = model.module
        try:
            with detect():
                output = model(*x) if isinstance(x, (tuple, list)) else model(x)
                loss = self.trainer.loss_fn(output, y)
                loss.backward()
        except Exception as e:  # the anomaly report is the explanation we want
            return f"Anomaly detection: {e}"
        finally:
            self.trainer.optimizer.zero_grad()
        return None


class GradientClipping(Callback):
    """Clip the gradients' global norm (``nn.utils.clip_grad_norm_``) before each step.

    Args:
        max_norm: the largest allowed norm of all gradients together.
    """

    order = -50

    def __init__(self, max_norm: float) -> None:
        if isinstance(max_norm, bool) or not isinstance(max_norm, (int, float, np.number)):
            raise TypeError(
                f"GradientClipping: max_norm must be a number, got {type(max_norm).__name__} "
                f"{max_norm!r:.40}"
            )
        if not max_norm > 0:
            raise ValueError(f"GradientClipping: max_norm must be positive, got {max_norm!r}")
        self.max_norm = float(max_norm)

    def on_before_optimizer_step(self, batch: int, logs: dict | None = None) -> None:
        from ..nn.utils import clip_grad_norm_

        norm = clip_grad_norm_(self.trainer.model.parameters(), self.max_norm)
        if logs is not None:
            logs["grad_norm"] = float(norm)


class LambdaCallback(Callback):
    """A callback from plain functions, as in Keras::

        LambdaCallback(on_epoch_end=lambda epoch, logs: print(epoch, logs["loss"]))

    Any hook name of :class:`Callback` may be given; ``order`` sets when it runs (default 0:
    before schedules, early stopping and checkpoints, so it may add entries to the logs).
    """

    def __init__(self, order: int = 0, **hooks: Callable) -> None:
        valid = {n for n in dir(Callback) if n.startswith("on_")}
        for name, fn in hooks.items():
            if name not in valid:
                raise ValueError(
                    f"LambdaCallback: unknown hook {name!r}; allowed: {', '.join(sorted(valid))}"
                )
            if not callable(fn):
                raise TypeError(f"LambdaCallback: {name} must be callable")
            setattr(self, name, fn)
        self.order = order


# ---------------------------------------------------------------------------------- progress
class ProgressBar(Callback):
    """A tqdm bar per epoch (examples done, running loss, throughput) and one line per epoch.

    The bar is drawn only when ``stream`` is a terminal and tqdm is installed; the per-epoch line
    is always printed (to stdout), so a log file still shows the metrics.

    Args:
        epochs: the total number of epochs (for "Epoch 3/10").
        bar: force the bar on or off (None: only on a terminal).
    """

    order = 95

    def __init__(self, epochs: int | None = None, bar: bool | None = None, stream=None) -> None:
        self.epochs = epochs
        self.stream = stream if stream is not None else sys.stderr
        self.use_bar = bar
        self._bar = None
        self._t0 = self._t_train = 0.0

    def _make_bar(self, epoch: int):
        use = self.use_bar
        if use is None:
            use = hasattr(self.stream, "isatty") and self.stream.isatty()
        if not use:
            return None
        try:
            from tqdm.auto import tqdm  # imported only when a bar is drawn
        except ImportError:
            return None
        total = self.trainer.examples_per_epoch
        return tqdm(
            total=total, desc=self._title(epoch), unit="ex", leave=False, file=self.stream,
            unit_scale=bool(total and total >= 100_000), dynamic_ncols=True,
        )  # fmt: skip

    def _title(self, epoch: int) -> str:
        return f"Epoch {epoch + 1}/{self.epochs}" if self.epochs else f"Epoch {epoch + 1}"

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._bar = self._make_bar(epoch)
        self._t0 = self._t_train = time.perf_counter()
        self._seen = 0
        self._loss_sum = 0.0

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        n = int((logs or {}).get("size", 0))
        self._seen += n
        self._t_train = time.perf_counter()
        self._loss_sum += float((logs or {}).get("loss", math.nan)) * n
        if self._bar is not None:
            self._bar.update(n)
            self._bar.set_postfix(loss=f"{self._loss_sum / max(self._seen, 1):.4f}", refresh=False)

    def _close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self._close()
        dt = time.perf_counter() - self._t0
        parts = [f"{k} {_short(v)}" for k, v in (logs or {}).items() if _is_number(v)]
        train_dt = self._t_train - self._t0  # throughput of training alone, not validation
        rate = f", {self._seen / train_dt:,.0f} ex/s" if train_dt > 0 and self._seen else ""
        print(f"{self._title(epoch)}: {', '.join(parts)} ({dt:.1f}s{rate})", flush=True)

    def on_interrupt(self, logs: dict | None = None) -> None:
        self._close()

    def on_train_end(self, logs: dict | None = None) -> None:
        self._close()


def _short(v: float) -> str:
    v = float(v)
    return f"{v:.3g}" if v != 0 and (abs(v) < 1e-3 or abs(v) >= 1e4) else f"{v:.4f}"
