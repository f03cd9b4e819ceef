"""`Trainer`: the fit loop (Keras' ``fit`` convenience, PyTorch's transparency).

Everything the Trainer does is this loop, plus callbacks, metrics and checkpoints around it.
Copy it when you need a custom one::

    for epoch in range(epochs):
        model.train()                                  # dropout on, batch norm uses the batch
        for x, y in train_loader:                      # one mini-batch
            loss = loss_fn(model(x), y)                # 1. forward and loss
            optimizer.zero_grad()                      # 2. forget the last batch's gradients
            loss.backward()                            # 3. backward: d loss / d every parameter
            optimizer.step()                           # 4. update the parameters
        model.eval()                                   # dropout off, batch norm uses its averages
        with backprop.no_grad():                       # no graph: faster, less memory
            val_loss = sum(loss_fn(model(x), y).item() * len(y) for x, y in val_loader) / n_val
        scheduler.step()                               # e.g. decay the learning rate

The Trainer adds: streaming metrics, a validation pass, a History (always), callbacks (early
stopping, checkpoints, schedules, loggers, a NaN guard), a progress bar, exact resume, and Ctrl-C
handling (the first Ctrl-C finishes the current batch, saves a resumable checkpoint through
``ModelCheckpoint`` and returns; a second one interrupts at once).
"""

from __future__ import annotations

import contextlib
import copy
import signal
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import numpy as np

from .. import random as _random
from ..autograd.grad_mode import no_grad
from ..tensor import Tensor
from . import checkpoint as _ckpt
from .callbacks import (
    Callback,
    CallbackList,
    GradientClipping,
    History,
    LRSchedulerCallback,
    NaNGuard,
    ProgressBar,
)
from .metrics import Mean, Metric, get_metric
from .resume import ResumeState, check_position, rng_state, set_rng_state

__all__ = ["Trainer"]


class Trainer:
    """Train, evaluate and run a model.

    Args:
        model: the Module to train.
        loss_fn: ``loss_fn(output, target) -> scalar Tensor`` (e.g. ``nn.CrossEntropyLoss()``),
            averaged over the batch.
        optimizer: an optimiser over ``model.parameters()``; None for a Trainer that only
            evaluates and predicts (``fit`` then refuses to run).
        metrics: metric names (``"accuracy"``, ``"top5_accuracy"``, ``"mae"``, ``"mse"``) or
            :class:`~backprop.train.metrics.Metric` objects, computed on training and validation
            data.
        callbacks: :class:`~backprop.train.callbacks.Callback` objects.
        scheduler: a learning-rate scheduler, stepped after every epoch (``scheduler_interval=
            "step"``: after every batch); a ``ReduceLROnPlateau`` is fed ``scheduler_monitor``.
        scheduler_interval: ``"epoch"`` or ``"step"``.
        scheduler_monitor: the metric fed to a plateau scheduler (default ``"val_loss"``).
        grad_clip_norm: clip the gradients' global norm to this before each step.
        verbose: 0 silent; 1 a progress bar (on a terminal) and one line per epoch.
        nan_guard: stop with :class:`~backprop.train.callbacks.NonFiniteLossError` when the loss
            becomes NaN or infinite.
        handle_sigint: turn Ctrl-C during ``fit`` into a clean stop with a checkpoint.

    Attributes:
        history: the :class:`~backprop.train.callbacks.History` (always attached).
        epoch: epochs completed.
        global_step: optimiser steps taken.
        stop_training: set by a callback to end training after the current epoch.
        stop_reason: why training stopped early (or None).
        interrupted: whether the last ``fit`` was stopped by Ctrl-C.
        current_batch: the ``(inputs, targets)`` being trained on (None between batches).
        examples_per_epoch: the training examples per epoch (None when unknown).

    Example:
        >>> trainer = Trainer(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters()),
        ...                   metrics=["accuracy"])
        >>> history = trainer.fit(train_loader, val_loader, epochs=10)
        >>> trainer.evaluate(test_loader)
        {'loss': 0.071, 'accuracy': 0.978}
    """

    def __init__(
        self,
        model,
        loss_fn: Callable,
        optimizer=None,
        metrics: Sequence[str | Metric] = (),
        callbacks: Iterable[Callback] = (),
        scheduler=None,
        scheduler_interval: str = "epoch",
        scheduler_monitor: str = "val_loss",
        grad_clip_norm: float | None = None,
        verbose: int = 1,
        nan_guard: bool = True,
        handle_sigint: bool = True,
    ) -> None:
        if not (callable(model) and hasattr(model, "train") and hasattr(model, "eval")):
            raise TypeError(
                f"Trainer: model must be a Module (callable, with train() and eval()), got "
                f"{type(model).__name__}"
            )
        if not callable(loss_fn):
            raise TypeError(f"Trainer: loss_fn must be callable, got {type(loss_fn).__name__}")
        if optimizer is not None and not (
            hasattr(optimizer, "step") and hasattr(optimizer, "zero_grad")
        ):
            raise TypeError(
                "Trainer: optimizer must have step() and zero_grad(), got "
                f"{type(optimizer).__name__}"
            )
        if isinstance(metrics, (str, Metric)):
            metrics = [metrics]
        self.model = model
        self.loss_fn = loss_fn
        self.optimizer = optimizer
        self.metrics: list[Metric] = [get_metric(m) for m in metrics]
        self.scheduler = scheduler
        self.verbose = int(verbose)
        self.handle_sigint = handle_sigint
        self.history = History()
        internal: list[Callback] = [self.history]
        if nan_guard:
            internal.append(NaNGuard())
        if grad_clip_norm is not None:
            internal.append(GradientClipping(grad_clip_norm))
        if scheduler is not None:
            internal.append(LRSchedulerCallback(scheduler, scheduler_interval, scheduler_monitor))
        self.user_callbacks = list(callbacks)
        for cb in self.user_callbacks:
            if isinstance(cb, LRSchedulerCallback) and self.scheduler is None:
                self.scheduler = cb.scheduler
        self._internal = internal
        self.callbacks = CallbackList([*internal, *self.user_callbacks], self)
        self.epoch = 0
        self.global_step = 0
        self.stop_training = False
        self.stop_reason: str | None = None
        self.current_batch = None
        self.examples_per_epoch: int | None = None
        self._state = ResumeState()  # Ctrl-C and the position inside an interrupted epoch
        self._train_data = None

    @property
    def interrupted(self) -> bool:
        """Whether the last ``fit`` was stopped by Ctrl-C (or :meth:`request_interrupt`)."""
        return self._state.interrupted

    def forward(self, x):
        """The model's output for one batch of inputs (a tuple or list: several arguments)."""
        return self.model(*x) if isinstance(x, (tuple, list)) else self.model(x)

    # ------------------------------------------------------------------ the loop
    def fit(
        self, train_data: Iterable, val_data: Iterable | None = None, epochs: int = 1
    ) -> History:
        """Train until ``epochs`` epochs are complete (counting those already done: after
        ``load_checkpoint`` it continues where the checkpoint left off).

        Args:
            train_data: a re-iterable of ``(inputs, targets)`` batches (a DataLoader).
            val_data: validation batches, evaluated after every epoch (``val_*`` metrics).
            epochs: the total number of epochs.

        Returns:
            the :class:`History`.
        """
        if not isinstance(epochs, int) or isinstance(epochs, bool) or epochs < 0:
            raise ValueError(f"Trainer.fit: epochs must be an int >= 0, got {epochs!r}")
        if self.optimizer is None:
            raise ValueError(
                "Trainer.fit: this Trainer has no optimizer (it can evaluate and predict); pass "
                "one to Trainer(model, loss_fn, optimizer) to train"
            )
        _check_data(train_data, "train_data")
        if val_data is not None:
            _check_data(val_data, "val_data")
        self._train_data = train_data
        self._state.begin_fit(train_data)
        self.stop_training, self.stop_reason = False, None
        callbacks = self.callbacks
        if self.verbose > 0:
            callbacks = CallbackList([*callbacks, ProgressBar(epochs)], self)
        self.examples_per_epoch = _num_examples(train_data)
        logs: dict[str, Any] = {}
        callbacks.on_train_begin({})
        with self._sigint_to_flag():
            while self.epoch < epochs and not self.stop_training:
                callbacks.on_epoch_begin(self.epoch, {})
                logs = self._train_epoch(train_data, callbacks)
                if self.interrupted:
                    callbacks.on_interrupt(logs)
                    break
                if val_data is not None:
                    val = self.evaluate(val_data, callbacks=callbacks)
                    logs.update({f"val_{k}": v for k, v in val.items()})
                logs["lr"] = float(self.optimizer.param_groups[0]["lr"])
                self.epoch += 1
                callbacks.on_epoch_end(self.epoch - 1, logs)
                if self._state.interrupt_requested:  # Ctrl-C during validation: stop here
                    self._state.stop_at_epoch_end()
                    callbacks.on_interrupt(logs)
                    break
        callbacks.on_train_end(logs)
        return self.history

    def _train_epoch(self, data: Iterable, callbacks: CallbackList) -> dict[str, float]:
        """One pass over ``data``: forward, loss, backward, step for every batch."""
        self.model.train()
        loss_avg, metrics = Mean("loss"), [_fresh(m) for m in self.metrics]
        batches, start = self._state.epoch_batches(data, loss_avg, metrics)
        ran = start > 0  # (a resumed epoch may have no batch left)
        for batch, (x, y) in enumerate(_pairs(batches), start=start):
            ran = True
            callbacks.on_train_batch_begin(batch, {})
            self.current_batch = (x, y)
            output = self.forward(x)
            loss = _checked_loss(self.loss_fn(output, y))
            self.optimizer.zero_grad()
            loss.backward()
            logs = {"loss": loss.item(), "size": _batch_size(y)}
            callbacks.on_before_optimizer_step(batch, logs)
            self.optimizer.step()
            self.global_step += 1
            loss_avg.update(logs["loss"], logs["size"])
            for m in metrics:
                m.update(output, y)
            callbacks.on_train_batch_end(batch, logs)
            if self._state.interrupt_requested:  # Ctrl-C: stop here, between two batches
                # Calling fit again continues from here, as resuming from the checkpoint would.
                self._state.stop_after(batch, loss_avg, metrics, data)
                break
        self.current_batch = None
        if not ran:
            raise ValueError(
                f"Trainer.fit: the training data yielded no batch in epoch {self.epoch} (an "
                f"empty dataset, or drop_last=True with fewer items than batch_size)"
            )
        return _results(loss_avg, metrics)

    # ------------------------------------------------------------------ evaluation
    def evaluate(
        self,
        data: Iterable,
        callbacks: CallbackList | None = None,
        extra_metrics: Sequence[Metric] = (),
    ) -> dict[str, float]:
        """The mean loss and the metrics over ``data``, in eval mode and without a graph.

        Args:
            data: ``(inputs, targets)`` batches.
            callbacks: callbacks whose ``on_test_begin`` / ``on_test_end`` are called.
            extra_metrics: more metric objects to update in the same pass (e.g. a
                ``ConfusionMatrix``); read them with their ``compute()`` afterwards.

        Returns:
            ``{"loss": ..., "accuracy": ..., ...}``
        """
        _check_data(data, "evaluate")
        was_training = self.model.training
        self.model.eval()
        loss_avg, metrics = Mean("loss"), [_fresh(m) for m in self.metrics]
        for m in extra_metrics:
            m.reset()
        if callbacks is not None:
            callbacks.on_test_begin({})
        try:
            with no_grad():
                for x, y in _pairs(data):
                    output = self.forward(x)
                    loss = _checked_loss(self.loss_fn(output, y))
                    loss_avg.update(loss.item(), _batch_size(y))
                    for m in (*metrics, *extra_metrics):
                        m.update(output, y)
        finally:
            self.model.train(was_training)
        if loss_avg.count == 0:
            raise ValueError("Trainer.evaluate: the data yielded no batch (an empty dataset?)")
        results = _results(loss_avg, metrics)
        if callbacks is not None:
            callbacks.on_test_end(results)
        return results

    def predict(self, data: Iterable) -> Tensor:
        """The model's outputs for every batch of ``data``, concatenated (eval mode, no graph).

        ``data`` yields inputs, or ``(inputs, targets)`` pairs whose targets are ignored.
        """
        was_training = self.model.training
        self.model.eval()
        outputs = []
        try:
            with no_grad():
                for batch in data:
                    x = batch[0] if isinstance(batch, (tuple, list)) and len(batch) == 2 else batch
                    out = self.forward(x)
                    outputs.append(out.data if isinstance(out, Tensor) else np.asarray(out))
        finally:
            self.model.train(was_training)
        if not outputs:
            raise ValueError("Trainer.predict: the data yielded no batch")
        return Tensor._make(np.concatenate(outputs), False, None)

    # ------------------------------------------------------------------ checkpoints
    def save_checkpoint(
        self, path, metadata: dict | None = None, best: dict | None = None, within=None
    ):
        """Write a checkpoint of everything needed to resume exactly: model, optimiser,
        scheduler, epoch and step, history, callback states, RNG states (and, after Ctrl-C, the
        position inside the interrupted epoch). ``within``: a trusted root folder (see
        :func:`backprop.fileio.atomic_write`)."""
        return _ckpt.save_checkpoint(
            path,
            self.model,
            self.optimizer,
            self.scheduler,
            epoch=self.epoch,
            global_step=self.global_step,
            metadata=metadata,
            trainer={
                "history": self.history.state_dict(),
                "callbacks": {
                    key: cb.state_dict()
                    for key, cb in zip(self.callbacks.keys(), self.callbacks)
                    if not isinstance(cb, History)  # saved once, above
                },
                "stop_training": bool(self.stop_training),
                "partial": self._state.position(),
            },
            best=best,
            rng=rng_state(self._train_data),
            within=within,
        )

    def load_checkpoint(self, path) -> _ckpt.Checkpoint:
        """Restore a checkpoint written by :meth:`save_checkpoint`, RNG states included, so that
        ``fit`` continues as if never interrupted.

        The model, optimiser and scheduler must be built as for the saved run (the same
        architecture, optimiser class and parameter groups); pass the same kind of training
        loader to ``fit``: if it has its own shuffling generator, its state is restored there.

        Raises:
            CheckpointError: the file is bad, or does not fit the model/optimiser/scheduler.
        """
        ckpt = _ckpt.read_checkpoint(path)
        state = _checked_state(ckpt)  # before anything is modified
        # All or nothing: a checkpoint refused half-way leaves the trainer as it was.
        undo = {
            "callbacks": [copy.deepcopy(cb.state_dict()) for cb in self.callbacks],
            "rng": _random.get_rng_state(),
        }
        try:
            saved = state["callbacks"]
            try:
                for key, cb in zip(self.callbacks.keys(), self.callbacks):
                    if isinstance(cb, History):  # (saved once, as "history")
                        continue
                    if saved.get(key):
                        cb.load_state_dict(saved[key])
                self.history.load_state_dict(state["history"])
                if ckpt.rng:
                    set_rng_state(ckpt.rng, None)
            except (KeyError, TypeError, ValueError, AttributeError) as e:
                raise _ckpt.CheckpointError(
                    f"{ckpt.path}: corrupted trainer state ({e!r})"
                ) from None
            _ckpt.apply_checkpoint(ckpt, self.model, self.optimizer, self.scheduler)
        except BaseException:
            for cb, cb_state in zip(self.callbacks, undo["callbacks"]):
                cb.load_state_dict(cb_state)
            _ckpt.restore_global_rng(undo["rng"])
            raise
        self.epoch, self.global_step = ckpt.epoch, ckpt.global_step
        # The loader's part of the RNG state is applied when fit gets the loader.
        self._state.restore(state["partial"], ckpt.rng)
        self.stop_training = state["stop_training"]
        return ckpt

    # ------------------------------------------------------------------ Ctrl-C
    def request_interrupt(self) -> None:
        """Ask ``fit`` to stop after the current batch, as Ctrl-C does."""
        self._state.request_interrupt()

    @contextlib.contextmanager
    def _sigint_to_flag(self):
        if not self.handle_sigint or threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = signal.getsignal(signal.SIGINT)

        def handler(signum, frame):
            self.request_interrupt()
            signal.signal(signal.SIGINT, previous)  # a second Ctrl-C interrupts at once

        signal.signal(signal.SIGINT, handler)
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, previous)


# ---------------------------------------------------------------------------------- helpers
def _checked_state(ckpt) -> dict:
    """The Trainer part of a checkpoint, with its layout checked (a clear error, not a KeyError
    deep inside ``fit``, for a file that was tampered with)."""
    state = ckpt.trainer or {}

    def bad(what: str):
        return _ckpt.CheckpointError(f"{ckpt.path}: corrupted trainer state: {what}")

    history = state.get("history", {"epoch": [], "rows": []})
    if not (
        isinstance(history, dict)
        and isinstance(history.get("epoch"), list)
        and isinstance(history.get("rows"), list)
        and all(isinstance(e, int) for e in history["epoch"])
        and all(isinstance(r, dict) for r in history["rows"])
        and len(history["epoch"]) == len(history["rows"])
    ):
        raise bad("history")
    callbacks = state.get("callbacks") or {}
    if not isinstance(callbacks, dict):
        raise bad("callbacks")
    partial = state.get("partial")
    if partial is not None and not check_position(partial, ckpt.rng):
        raise bad("the position in the interrupted epoch")
    if ckpt.rng is not None and not isinstance(ckpt.rng.get("backprop"), dict):
        raise bad("random generator state")
    return {
        "history": history,
        "callbacks": callbacks,
        "partial": partial,
        "stop_training": bool(state.get("stop_training", False)),
    }


def _fresh(metric: Metric) -> Metric:
    m = copy.deepcopy(metric)
    m.reset()
    return m


def _results(loss_avg: Mean, metrics: list[Metric]) -> dict[str, float]:
    out = {"loss": loss_avg.compute()}
    for m in metrics:
        value = m.compute()
        if isinstance(value, dict):
            out.update({k: float(v) for k, v in value.items() if np.ndim(v) == 0})
        elif np.ndim(value) == 0:
            out[m.name] = float(value)
    return out


def _check_data(data, where: str) -> None:
    if (
        isinstance(data, (tuple, list))
        and len(data) == 2
        and isinstance(data[0], (Tensor, np.ndarray))
    ):
        raise TypeError(
            f"Trainer: {where} looks like an (inputs, targets) pair of arrays; wrap it in a "
            f"DataLoader(TensorDataset(x, y), batch_size=...)"
        )
    if not hasattr(data, "__iter__"):
        raise TypeError(
            f"Trainer: {where} must be an iterable of (inputs, targets) batches (a DataLoader), "
            f"got {type(data).__name__}"
        )
    # Not iter(data) is data: creating a DataLoader iterator draws its shuffle from the RNG.
    if isinstance(data, Iterator):
        raise TypeError(
            f"Trainer: {where} is an iterator, which would be exhausted after one epoch; pass a "
            f"DataLoader or a list of batches"
        )


def _checked_loss(loss) -> Tensor:
    """The loss_fn's result, which backward() and the logs need as a one-element Tensor."""
    if not isinstance(loss, Tensor):
        raise TypeError(
            f"Trainer: loss_fn must return a Tensor (to call backward() on), got "
            f"{type(loss).__name__}"
        )
    if loss.data.size != 1:
        raise ValueError(
            f"Trainer: loss_fn returned a tensor of shape {loss.shape}; it must return one number "
            f"(a loss with reduction='mean' or 'sum')"
        )
    return loss


def _pairs(batches):
    for batch in batches:
        if not isinstance(batch, (tuple, list)) or len(batch) != 2:
            raise TypeError(
                f"Trainer: each batch must be an (inputs, targets) pair, got "
                f"{type(batch).__name__}"
                + (f" of length {len(batch)}" if hasattr(batch, "__len__") else "")
            )
        yield batch


def _batch_size(y) -> int:
    shape = getattr(y, "shape", None)
    if shape:
        return int(shape[0])
    return len(y) if hasattr(y, "__len__") else 1


def _num_examples(data) -> int | None:
    dataset = getattr(data, "dataset", None)
    try:
        n = len(dataset) if dataset is not None else None
    except TypeError:
        return None
    if n is not None and getattr(data, "drop_last", False):
        n -= n % data.batch_size
    return n
