"""Where a fit stands, for Ctrl-C and exact resume: one small object, :class:`ResumeState`.

Resuming is bit-identical to never stopping because three things are restored exactly:

- the epoch's batch order: a data loader draws its shuffle when an epoch starts, so the random
  state *at the start of the epoch* is kept, and a resumed epoch replays that draw;
- what follows the interruption (dropout masks, augmentation): the random state *at the
  interruption* is set once the finished batches have been skipped;
- the running loss and metric averages of the batches already done.

The Trainer asks this object for each epoch's batches (:meth:`ResumeState.epoch_batches`),
records an interruption between two batches (:meth:`ResumeState.stop_after`), and saves
:meth:`ResumeState.position` in checkpoints; :meth:`ResumeState.restore` reads it back.

Example:
    >>> state = ResumeState()
    >>> state.begin_fit(loader)
    >>> batches, first = state.epoch_batches(loader, loss_avg, metrics)   # first == 0
    >>> state.request_interrupt()                 # Ctrl-C: fit stops after the current batch
    >>> state.stop_after(3, loss_avg, metrics, loader)
    >>> state.position()["batch"]
    4
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import random as _random
from .checkpoint import CheckpointError, restore_global_rng

__all__ = ["ResumeState", "rng_state", "set_rng_state", "check_position"]


def rng_state(data) -> dict:
    """The random states that decide what happens next: the library's generator, and the data
    loader's own shuffling generator when it has one."""
    state: dict[str, Any] = {"backprop": _random.get_rng_state()}
    gen = getattr(data, "generator", None)
    if isinstance(gen, np.random.Generator):
        state["loader"] = gen.bit_generator.state
    return state


def set_rng_state(state: dict, data) -> None:
    """Restore what :func:`rng_state` returned (the loader's part only when ``data`` has a
    generator); a malformed state is a :class:`CheckpointError`."""
    restore_global_rng(state["backprop"])
    gen = getattr(data, "generator", None)
    if "loader" in state and isinstance(gen, np.random.Generator):
        try:
            gen.bit_generator.state = state["loader"]
        except (TypeError, ValueError, KeyError) as e:
            raise CheckpointError(f"invalid data-loader generator state: {e}") from None


def check_position(position, rng) -> bool:
    """Whether a saved mid-epoch position (and the checkpoint's RNG state) has the layout
    :meth:`ResumeState.restore` needs: a file that was tampered with is refused before use."""
    return (
        isinstance(position, dict)
        and isinstance(position.get("batch"), int)
        and not isinstance(position["batch"], bool)
        and position["batch"] >= 1
        and isinstance(position.get("rng_epoch_start"), dict)
        and isinstance(position["rng_epoch_start"].get("backprop"), dict)
        and isinstance(position.get("loss"), dict)
        and isinstance(position.get("metrics"), list)
        and isinstance(rng, dict)
    )


class ResumeState:
    """The interrupt flag and the position inside an interrupted epoch.

    Attributes:
        interrupt_requested: set by :meth:`request_interrupt` (Ctrl-C); ``fit`` stops after the
            current batch (or at the end of the current validation pass).
        interrupted: whether the last ``fit`` was stopped that way.
    """

    def __init__(self) -> None:
        self.interrupt_requested = False
        self.interrupted = False
        self._position: dict | None = None  # where the interruption left the epoch (saved)
        self._resume: dict | None = None  # where the next epoch starts: position + RNG state
        self._pending_rng: dict | None = None  # a checkpoint's RNG state, for the loader
        self._epoch_start_rng: dict | None = None

    def request_interrupt(self) -> None:
        """Ask ``fit`` to stop after the current batch."""
        self.interrupt_requested = True

    def begin_fit(self, data) -> None:
        """A new ``fit`` call on ``data``: clear the flags and hand a checkpoint's RNG state to
        the loader (a mid-epoch resume sets it itself when the epoch starts)."""
        if self._pending_rng is not None:
            if self._resume is None:
                set_rng_state(self._pending_rng, data)
            self._pending_rng = None
        self.interrupt_requested = self.interrupted = False
        self._position = None

    def epoch_batches(self, data, loss_avg, metrics: list) -> tuple[Any, int]:
        """An iterator over this epoch's batches and the index of the first one.

        A fresh epoch remembers the RNG state at its start. After an interruption it replays
        the epoch's shuffle, skips the batches already done, and restores the running averages
        (``loss_avg`` and ``metrics`` are loaded in place) and the RNG state of the moment.

        Raises:
            CheckpointError: the data has fewer batches than the interrupted epoch had done.
        """
        resume, self._resume = self._resume, None
        if resume is None:
            self._epoch_start_rng = rng_state(data)
            return iter(data), 0
        self._epoch_start_rng = resume["rng_epoch_start"]
        set_rng_state(self._epoch_start_rng, data)  # the same shuffle as the interrupted epoch
        it = iter(data)
        for done in range(resume["batch"]):
            if next(it, None) is None:
                raise CheckpointError(
                    f"Trainer: the checkpoint stopped after batch {resume['batch']} of an epoch, "
                    f"but the training data has only {done} batches: resume with the same data"
                )
        set_rng_state(resume["rng"], data)  # what follows: dropout masks, augmentation
        loss_avg.load_state_dict(resume["loss"])
        for m, s in zip(metrics, resume["metrics"]):
            m.load_state_dict(s)
        return it, resume["batch"]

    def stop_after(self, batch: int, loss_avg, metrics: list, data) -> None:
        """Record an interruption after batch ``batch`` (0-based) of the current epoch: what a
        checkpoint saves, and where the next ``fit`` on this Trainer continues."""
        self.interrupted = True
        self._position = {
            "batch": batch + 1,
            "rng_epoch_start": self._epoch_start_rng,
            "loss": loss_avg.state_dict(),
            "metrics": [m.state_dict() for m in metrics],
        }
        self._resume = {**self._position, "rng": rng_state(data)}

    def stop_at_epoch_end(self) -> None:
        """Record an interruption at an epoch boundary (Ctrl-C during validation)."""
        self.interrupted = True

    def position(self) -> dict | None:
        """The mid-epoch position to save in a checkpoint (None unless interrupted mid-epoch)."""
        return self._position if self.interrupted else None

    def restore(self, position: dict | None, rng: dict | None) -> None:
        """Continue from a checkpoint: its mid-epoch ``position`` (or None: at an epoch boundary)
        and its ``rng`` state (applied to the loader when ``fit`` gets it)."""
        self._pending_rng = rng
        self._resume = None if position is None else {**position, "rng": rng}
