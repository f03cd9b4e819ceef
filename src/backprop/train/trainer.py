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

In a data-parallel job (``mpiexec -n W``, a model wrapped in
:class:`~backprop.distributed.DistributedDataParallel`, each rank's training data its shard),
the same loop runs on every rank with a process group: see ``process_group`` below.
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
from .metrics import Mean, Metric, get_metric, sync_metrics
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
        process_group: the processes of a data-parallel job (an object with ``rank``,
            ``world_size``, ``all_reduce(array, op)``, ``all_gather_object(obj)`` and
            ``broadcast_object(obj)``, e.g. :func:`backprop.distributed.process_group`); default:
            the job's, when ``model`` is a ``DistributedDataParallel``, else none. With more than
            one process, every rank runs ``fit`` and the Trainer:

            - sums the training loss and metrics over the ranks at each epoch's end (their sums
              and counts: :func:`~backprop.train.metrics.sync_metrics`), and the validation
              ones when the validation data is sharded too (its loader's sampler has
              ``num_replicas > 1``; otherwise every rank evaluated the whole set), then gives
              every rank rank 0's epoch logs, so early stopping and plateau schedules decide
              identically everywhere;
            - all-reduces three numbers per batch (loss sum, batch size, a stop flag): the batch
              logs hold the loss and size over all ranks, a NaN loss on any rank stops every
              rank before the step, and a Ctrl-C (or ``request_interrupt``) on any rank stops
              every rank after the same batch; a ``stop_training`` set on any rank ends every
              rank's training after the epoch;
            - calls ``set_epoch(epoch)`` on the training loader's sampler at each epoch;
            - gathers every rank's random state (and mid-epoch position) at each epoch's end and
              interruption, so a checkpoint written by rank 0 resumes every rank exactly;
              :meth:`load_checkpoint` refuses a checkpoint from another number of processes.

            Printing and files are the caller's choice: give rank 0 alone the progress bar
            (``verbose``) and the callbacks that write (checkpoints, loggers).

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
        process_group=None,
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
        self.process_group = _resolve_group(process_group, model)
        # With several processes: None, or every rank's random state and mid-epoch position,
        # gathered at the last epoch end or interruption (what rank 0's checkpoints hold).
        self._rank_states: list[dict] | None = None

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

        A sampler with ``set_epoch`` on ``train_data`` (a ``DistributedSampler``) is told the
        epoch before each one, so its shuffle changes per epoch and replays on resume.

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
        if self.examples_per_epoch is not None and self._world > 1:
            self.examples_per_epoch *= self._world  # the batch logs count every rank's examples
        logs: dict[str, Any] = {}
        callbacks.on_train_begin({})
        with self._sigint_to_flag():
            while self.epoch < epochs and not self.stop_training:
                callbacks.on_epoch_begin(self.epoch, {})
                logs = self._train_epoch(train_data, callbacks)
                if self.interrupted:
                    self._gather_rank_states()
                    callbacks.on_interrupt(logs)
                    break
                if val_data is not None:
                    val = self.evaluate(val_data, callbacks=callbacks)
                    logs.update({f"val_{k}": v for k, v in val.items()})
                logs["lr"] = float(self.optimizer.param_groups[0]["lr"])
                if self._world > 1:  # the same numbers on every rank: the same decisions
                    logs = self.process_group.broadcast_object(logs)
                self.epoch += 1
                self._gather_rank_states()
                callbacks.on_epoch_end(self.epoch - 1, logs)
                if self._world > 1:
                    self._sync_epoch_flags()
                if self._state.interrupt_requested:  # Ctrl-C during validation: stop here
                    self._state.stop_at_epoch_end()
                    callbacks.on_interrupt(logs)
                    break
        callbacks.on_train_end(logs)
        return self.history

    def _train_epoch(self, data: Iterable, callbacks: CallbackList) -> dict[str, float]:
        """One pass over ``data``: forward, loss, backward, step for every batch."""
        self.model.train()
        sampler = getattr(data, "sampler", None)
        if callable(getattr(sampler, "set_epoch", None)):
            sampler.set_epoch(self.epoch)  # before the epoch's order is drawn (or replayed)
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
            local = {"loss": loss.item(), "size": _batch_size(y)}
            logs, stop = (self._sync_batch(local) if self._world > 1 else
                          (dict(local), False))  # fmt: skip
            callbacks.on_before_optimizer_step(batch, logs)
            self.optimizer.step()
            self.global_step += 1
            loss_avg.update(local["loss"], local["size"])
            for m in metrics:
                m.update(output, y)
            callbacks.on_train_batch_end(batch, logs)
            # Ctrl-C: stop here, between two batches. With several ranks the all-reduced flag
            # decides, so all stop after the same batch (a Ctrl-C that came after this batch's
            # all-reduce waits for the next one).
            if stop if self._world > 1 else self._state.interrupt_requested:
                self._state.request_interrupt()  # (on the ranks that did not get it)
                # Calling fit again continues from here, as resuming from the checkpoint would.
                self._state.stop_after(batch, loss_avg, metrics, data)
                break
        self.current_batch = None
        if not ran:
            raise ValueError(
                f"Trainer.fit: the training data yielded no batch in epoch {self.epoch} (an "
                f"empty dataset, or drop_last=True with fewer items than batch_size)"
            )
        return self._results_over_ranks(loss_avg, metrics, sharded=True)

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

        In a job of several processes with sharded ``data`` (its sampler has
        ``num_replicas > 1``), the loss and metrics (``extra_metrics`` included) are summed over
        the ranks; every rank must call it.

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
        results = self._results_over_ranks(
            loss_avg, metrics, sharded=_is_sharded(data), extra=extra_metrics
        )
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
        :func:`backprop.fileio.atomic_write`).

        With several processes (called on rank 0 alone, by ``ModelCheckpoint``), the file holds
        every rank's random state and position as gathered at the last epoch end or
        interruption of ``fit``: the gathering is a collective, so it happens in ``fit`` on
        every rank, never in here."""
        trainer_state: dict[str, Any] = {
            "history": self.history.state_dict(),
            "callbacks": {
                key: cb.state_dict()
                for key, cb in zip(self.callbacks.keys(), self.callbacks)
                if not isinstance(cb, History)  # saved once, above
            },
            "stop_training": bool(self.stop_training),
            "partial": self._state.position(),
        }
        rng = rng_state(self._train_data)
        if self._world > 1:
            if self._rank_states is None:
                raise ValueError(
                    f"Trainer.save_checkpoint: in a job of {self._world} processes a checkpoint "
                    f"holds every rank's random state, gathered by fit at each epoch end and "
                    f"interruption; save from a callback (ModelCheckpoint) during fit"
                )
            states = self._rank_states
            rng, trainer_state["partial"] = states[0]["rng"], states[0]["partial"]
            trainer_state["world"] = {
                "size": self._world,
                "rng": [s["rng"] for s in states],
                "partial": [s["partial"] for s in states],
            }
        return _ckpt.save_checkpoint(
            path,
            _unwrapped(self.model),
            self.optimizer,
            self.scheduler,
            epoch=self.epoch,
            global_step=self.global_step,
            metadata=metadata,
            trainer=trainer_state,
            best=best,
            rng=rng,
            within=within,
        )

    def load_checkpoint(self, path) -> _ckpt.Checkpoint:
        """Restore a checkpoint written by :meth:`save_checkpoint`, RNG states included, so that
        ``fit`` continues as if never interrupted.

        The model, optimiser and scheduler must be built as for the saved run (the same
        architecture, optimiser class and parameter groups); pass the same kind of training
        loader to ``fit``: if it has its own shuffling generator, its state is restored there.

        In a job of several processes, every rank loads the same file and takes its own random
        state and position from it.

        Raises:
            CheckpointError: the file is bad, does not fit the model/optimiser/scheduler, or was
                written by a job of another number of processes.
        """
        ckpt = _ckpt.read_checkpoint(path)
        rank = self.process_group.rank if self._world > 1 else 0
        state = _checked_state(ckpt, self._world, rank)  # before anything is modified
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
                if state["rng"]:
                    set_rng_state(state["rng"], None)
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
        self._state.restore(state["partial"], state["rng"])
        self.stop_training = state["stop_training"]
        return ckpt

    # ------------------------------------------------------------------ several processes
    @property
    def _world(self) -> int:
        return 1 if self.process_group is None else self.process_group.world_size

    def _sync_batch(self, local: dict) -> tuple[dict, bool]:
        """The batch logs over every rank (loss weighted by size; NaN if any rank's loss is) and
        whether any rank asked to stop, in one all-reduce."""
        n = local["size"]
        buf = np.array([local["loss"] * n, n, float(self._state.interrupt_requested)])
        self.process_group.all_reduce(buf, "sum")
        return {"loss": float(buf[0] / buf[1]), "size": int(buf[1])}, bool(buf[2] > 0)

    def _sync_epoch_flags(self) -> None:
        """Any rank's Ctrl-C during validation or ``stop_training`` applies to every rank."""
        buf = np.array([float(self._state.interrupt_requested), float(bool(self.stop_training))])
        self.process_group.all_reduce(buf, "max")
        if buf[0] > 0:
            self._state.request_interrupt()
        if buf[1] > 0 and not self.stop_training:
            self.stop_training = True
            self.stop_reason = self.stop_reason or "stopped by another rank"

    def _results_over_ranks(
        self, loss_avg: Mean, metrics: list[Metric], sharded: bool, extra: Sequence[Metric] = ()
    ) -> dict[str, float]:
        """The results of every rank's examples (sums over ranks) when the data was sharded;
        the loss and metric objects themselves keep this rank's sums (``extra`` are summed in
        place)."""
        if self._world > 1 and sharded:
            loss_avg, metrics = copy.deepcopy(loss_avg), copy.deepcopy(metrics)
            sync_metrics(
                [loss_avg, *metrics, *extra], lambda a: self.process_group.all_reduce(a, "sum")
            )
        return _results(loss_avg, metrics)

    def _gather_rank_states(self) -> None:
        if self._world > 1:
            mine = {"rng": rng_state(self._train_data), "partial": self._state.position()}
            self._rank_states = self.process_group.all_gather_object(mine)

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
def _checked_state(ckpt, world_size: int = 1, rank: int = 0) -> dict:
    """The Trainer part of a checkpoint for this rank, with its layout checked (a clear error,
    not a KeyError deep inside ``fit``, for a file that was tampered with) and the number of
    processes that wrote it compared with ``world_size``."""
    state = ckpt.trainer or {}

    def bad(what: str):
        return _ckpt.CheckpointError(f"{ckpt.path}: corrupted trainer state: {what}")

    world = state.get("world")
    saved = world.get("size") if isinstance(world, dict) else 1
    if world is not None and not (
        isinstance(saved, int)
        and not isinstance(saved, bool)
        and saved > 1
        and all(
            isinstance(world.get(k), list) and len(world[k]) == saved for k in ("rng", "partial")
        )
    ):
        raise bad("the ranks' states")
    if saved != world_size:
        who = "a single process" if saved == 1 else f"a job of {saved} processes"
        how = "without mpiexec (or with mpiexec -n 1)" if saved == 1 else f"with mpiexec -n {saved}"
        raise _ckpt.CheckpointError(
            f"{ckpt.path}: written by {who}, and this job has {world_size}: resume it {how}; "
            f"each rank's data shard and random state do not carry over to another number of "
            f"processes"
        )
    rng, partial = (ckpt.rng, state.get("partial")) if world is None else (
        world["rng"][rank], world["partial"][rank])  # fmt: skip

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
    if partial is not None and not check_position(partial, rng):
        raise bad("the position in the interrupted epoch")
    if rng is not None and not (isinstance(rng, dict) and isinstance(rng.get("backprop"), dict)):
        raise bad("random generator state")
    return {
        "history": history,
        "callbacks": callbacks,
        "partial": partial,
        "rng": rng,
        "stop_training": bool(state.get("stop_training", False)),
    }


def _resolve_group(group, model):
    """The process group a Trainer uses: the one given, or the job's for a DDP model."""
    if group is None:
        from ..distributed.ddp import DistributedDataParallel

        if isinstance(model, DistributedDataParallel):
            from ..distributed import process_group

            group = process_group()
    if group is None:
        return None
    for attr in ("rank", "world_size", "all_reduce", "all_gather_object", "broadcast_object"):
        if not hasattr(group, attr):
            raise TypeError(
                f"Trainer: process_group must have {attr} (see backprop.distributed."
                f"process_group()), got {type(group).__name__}"
            )
    return group


def _unwrapped(model):
    """The model itself, without a DistributedDataParallel around it (what checkpoints name)."""
    from ..distributed.ddp import DistributedDataParallel

    return model.module if isinstance(model, DistributedDataParallel) else model


def _is_sharded(data) -> bool:
    """Whether ``data`` is this rank's share of a dataset (a DistributedSampler's loader)."""
    replicas = getattr(getattr(data, "sampler", None), "num_replicas", 1)
    return isinstance(replicas, int) and replicas > 1


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
    sampler = getattr(data, "sampler", None)
    try:
        if sampler is not None and hasattr(sampler, "__len__"):
            n = len(sampler)  # a shard or a subset: what one epoch visits
        else:
            n = len(dataset) if dataset is not None else None
    except TypeError:
        return None
    if n is not None and getattr(data, "drop_last", False):
        n -= n % data.batch_size
    return n
