"""Checkpoints: everything needed to evaluate a model or resume its training, in one safe file.

A checkpoint is one safetensors file (see :mod:`backprop.serialization`): the tensors (model
parameters and buffers, optimiser moments, early stopping's best weights) in the safetensors part,
everything else (epoch, step, learning rates, scheduler counters, history, RNG states, the
config, the data's normalisation constants) as JSON in its header. It is written atomically and
checksummed; it is never a pickle, so loading one cannot run code.

Loading checks the file (truncation, corruption, a pickle in disguise), its layout (the expected
fields with the expected types), and the model: every parameter and buffer name, shape and dtype
must match, and any mismatch is reported in one error that names the model the checkpoint came
from. Nothing is copied into the model unless everything matches.

Example:
    >>> save_checkpoint("model.safetensors", model, opt, epoch=5, metadata={"model": "lenet5"})
    >>> ckpt = load_checkpoint("model.safetensors", model, opt)
    >>> ckpt.epoch
    5
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import random as _random
from .. import serialization
from ..serialization import SerializationError
from ..tensor import Tensor

__all__ = [
    "CheckpointError",
    "Checkpoint",
    "save_checkpoint",
    "read_checkpoint",
    "load_checkpoint",
    "check_model_state",
    "apply_checkpoint",
    "FORMAT",
    "FORMAT_VERSION",
]

FORMAT = "backprop-checkpoint"
FORMAT_VERSION = 1


class CheckpointError(SerializationError):
    """A checkpoint cannot be used: corrupted, of another format, or for another model."""


@dataclass
class Checkpoint:
    """The contents of a checkpoint file.

    Attributes:
        path: where it was read from.
        model_state: parameter/buffer name -> Tensor.
        model_class: the class name of the model that was saved.
        optimizer_state: the optimiser's ``state_dict()`` (or None).
        optimizer_class: its class name (or None).
        scheduler_state: the scheduler's ``state_dict()`` (or None).
        epoch: completed epochs.
        global_step: optimiser steps taken.
        metadata: the free-form information given when saving (model name and options, config,
            normalisation constants...).
        rng: the random generators' states when saved.
        trainer: the Trainer's own state (history, callbacks, mid-epoch position), or None.
        best: the best monitored metric (``{"monitor", "mode", "value", "epoch"}``) or None.
        backprop_version: the library version that wrote it.
    """

    path: Path
    model_state: dict[str, Tensor]
    model_class: str
    optimizer_state: dict | None = None
    optimizer_class: str | None = None
    scheduler_state: dict | None = None
    epoch: int = 0
    global_step: int = 0
    metadata: dict = field(default_factory=dict)
    rng: dict | None = None
    trainer: dict | None = None
    best: dict | None = None
    backprop_version: str = ""


def _version() -> str:
    from .. import __version__

    return __version__


def save_checkpoint(
    path: str | os.PathLike,
    model,
    optimizer=None,
    scheduler=None,
    *,
    epoch: int = 0,
    global_step: int = 0,
    metadata: dict | None = None,
    trainer: dict | None = None,
    best: dict | None = None,
    rng: dict | None = None,
    within: str | os.PathLike | None = None,
) -> Path:
    """Write a checkpoint atomically (a crash mid-write leaves the previous file intact).

    Args:
        path: the file to write (``.safetensors``).
        model: the Module whose ``state_dict()`` (parameters and persistent buffers) is saved.
        optimizer: an optimiser whose ``state_dict()`` is saved too.
        scheduler: a learning-rate scheduler whose ``state_dict()`` is saved too.
        epoch: completed epochs.
        global_step: optimiser steps taken.
        metadata: JSON-like information (numbers, strings, lists, dicts; arrays allowed) to keep
            with the weights: model name and options, config, normalisation constants.
        trainer: the Trainer's state (used by :meth:`Trainer.save_checkpoint`).
        best: the best monitored metric.
        rng: random states; default: ``{"backprop": backprop.random.get_rng_state()}``.
        within: a trusted root folder (the run folder): no folder from it down to ``path``'s
            may be a symlink (see :func:`backprop.fileio.atomic_write`).

    Returns:
        the path written.
    """
    obj = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "backprop_version": _version(),
        "model_class": type(model).__name__,
        "model": dict(model.state_dict()),
        "optimizer_class": None if optimizer is None else type(optimizer).__name__,
        "optimizer": None if optimizer is None else optimizer.state_dict(),
        "scheduler": None if scheduler is None else scheduler.state_dict(),
        "epoch": int(epoch),
        "global_step": int(global_step),
        "metadata": dict(metadata or {}),
        "rng": rng if rng is not None else {"backprop": _random.get_rng_state()},
        "trainer": trainer,
        "best": best,
    }
    path = Path(path)
    serialization.save(obj, path, metadata={"format": FORMAT}, within=within)
    return path


# (field, accepted types, may be None)
_LAYOUT: list[tuple[str, tuple, bool]] = [
    ("format_version", (int,), False),
    ("backprop_version", (str,), False),
    ("model_class", (str,), False),
    ("model", (dict,), False),
    ("optimizer_class", (str,), True),
    ("optimizer", (dict,), True),
    ("scheduler", (dict,), True),
    ("epoch", (int,), False),
    ("global_step", (int,), False),
    ("metadata", (dict,), False),
    ("rng", (dict,), True),
    ("trainer", (dict,), True),
    ("best", (dict,), True),
]


def read_checkpoint(path: str | os.PathLike) -> Checkpoint:
    """Read and validate a checkpoint file without applying it to anything.

    Raises:
        CheckpointError: (a ValueError) not a checkpoint, truncated, corrupted (checksum), a
            pickle (refused unread), or fields of the wrong type.
        FileNotFoundError: no such file.
    """
    path = Path(path)
    if path.is_dir():
        raise CheckpointError(f"{path}: is a folder; give a checkpoint file (.safetensors)")
    try:
        obj = serialization.load(path)
    except SerializationError as e:
        raise CheckpointError(str(e)) from None
    if not isinstance(obj, dict) or obj.get("format") != FORMAT:
        raise CheckpointError(
            f"{path}: a safetensors file, but not a backprop checkpoint (no format={FORMAT!r}); "
            f"load plain weights with backprop.serialization.load"
        )
    for name, types, nullable in _LAYOUT:
        v = obj.get(name)
        ok = (v is None and nullable) or (
            isinstance(v, types) and not (isinstance(v, bool) and bool not in types)
        )
        if not ok:
            raise CheckpointError(
                f"{path}: corrupted checkpoint: field {name!r} is {type(v).__name__}, expected "
                f"{' or '.join(t.__name__ for t in types)}{' or None' if nullable else ''}"
            )
    if obj["format_version"] > FORMAT_VERSION:
        raise CheckpointError(
            f"{path}: checkpoint format version {obj['format_version']} is newer than this "
            f"backprop ({_version()}, format {FORMAT_VERSION}); upgrade backprop"
        )
    for k, v in obj["model"].items():
        if not isinstance(v, Tensor):
            raise CheckpointError(
                f"{path}: corrupted checkpoint: model entry {k!r} is not a tensor"
            )
    if obj["epoch"] < 0 or obj["global_step"] < 0:
        raise CheckpointError(f"{path}: corrupted checkpoint: negative epoch or step")
    return Checkpoint(
        path=path,
        model_state=obj["model"],
        model_class=obj["model_class"],
        optimizer_state=obj["optimizer"],
        optimizer_class=obj["optimizer_class"],
        scheduler_state=obj["scheduler"],
        epoch=obj["epoch"],
        global_step=obj["global_step"],
        metadata=obj["metadata"],
        rng=obj["rng"],
        trainer=obj["trainer"],
        best=obj["best"],
        backprop_version=obj["backprop_version"],
    )


def check_model_state(
    model, state: dict[str, Tensor], source: str = "checkpoint", saved_class: str | None = None
) -> None:
    """Raise :class:`CheckpointError` unless ``state`` has exactly ``model``'s names, shapes and
    dtypes; the message lists every difference."""
    target = model.state_dict()
    missing = [k for k in target if k not in state]
    unexpected = [k for k in state if k not in target]
    problems = []
    if missing:
        problems.append(f"missing from the checkpoint: {', '.join(missing)}")
    if unexpected:
        problems.append(f"not in the model: {', '.join(unexpected)}")
    for k, t in target.items():
        if k not in state:
            continue
        a = state[k].data if isinstance(state[k], Tensor) else np.asarray(state[k])
        if a.shape != t.data.shape:
            problems.append(
                f"{k}: shape {tuple(a.shape)} in the checkpoint, {tuple(t.data.shape)} in the model"
            )
        elif a.dtype != t.data.dtype:
            problems.append(f"{k}: dtype {a.dtype} in the checkpoint, {t.data.dtype} in the model")
    if problems:
        saved = f" (saved from a {saved_class})" if saved_class else ""
        raise CheckpointError(
            f"{source}{saved} does not fit this {type(model).__name__}:\n  " + "\n  ".join(problems)
        )


def load_checkpoint(
    path: str | os.PathLike,
    model=None,
    optimizer=None,
    scheduler=None,
    *,
    restore_rng: bool = False,
) -> Checkpoint:
    """Read a checkpoint and load it into the objects given.

    The model's names, shapes and dtypes are checked first; nothing is modified unless they all
    match.

    Args:
        path: the checkpoint file.
        model: a Module of the same architecture (or None: just read).
        optimizer: an optimiser over that model's parameters, to restore its state.
        scheduler: a scheduler, to restore its state.
        restore_rng: also set ``backprop.random``'s generator to its saved state (what resuming
            needs for bit-identical continuation).

    Returns:
        the :class:`Checkpoint` read.

    Raises:
        CheckpointError: bad file, or a model/optimiser/scheduler it does not fit.
    """
    ckpt = read_checkpoint(path)
    apply_checkpoint(ckpt, model, optimizer, scheduler, restore_rng=restore_rng)
    return ckpt


def apply_checkpoint(
    ckpt: Checkpoint, model=None, optimizer=None, scheduler=None, *, restore_rng: bool = False
) -> None:
    """Load a :class:`Checkpoint` already read (see :func:`load_checkpoint`)."""
    if model is not None:
        check_model_state(model, ckpt.model_state, str(ckpt.path), ckpt.model_class)
    if optimizer is not None:
        if ckpt.optimizer_state is None:
            raise CheckpointError(f"{ckpt.path}: holds no optimiser state")
        if ckpt.optimizer_class != type(optimizer).__name__:
            raise CheckpointError(
                f"{ckpt.path}: holds the state of a {ckpt.optimizer_class} optimiser, not of a "
                f"{type(optimizer).__name__}"
            )
    if scheduler is not None and ckpt.scheduler_state is None:
        raise CheckpointError(f"{ckpt.path}: holds no scheduler state")
    # All or nothing: the optimiser and scheduler states (which can still be refused) go first,
    # undone if either is; the model, already checked name by name, last.
    undo = [(o, o.state_dict()) for o in (optimizer, scheduler) if o is not None]
    try:
        if optimizer is not None:
            optimizer.load_state_dict(ckpt.optimizer_state)
        if scheduler is not None:
            scheduler.load_state_dict(ckpt.scheduler_state)
    except (KeyError, ValueError, TypeError, IndexError, AttributeError) as e:
        for obj, state in undo:
            obj.load_state_dict(state)
        raise CheckpointError(
            f"{ckpt.path}: the optimiser/scheduler state does not fit: {e}"
        ) from e
    if model is not None:
        model.load_state_dict(ckpt.model_state)
    if restore_rng and ckpt.rng and "backprop" in ckpt.rng:
        restore_global_rng(ckpt.rng["backprop"])


def restore_global_rng(state: dict) -> None:
    """Set ``backprop.random``'s generator to ``state`` (in place, so holders of the generator
    keep drawing from it); a malformed state is a :class:`CheckpointError`."""
    try:
        _random.set_rng_state(state)
    except (TypeError, ValueError, KeyError) as e:
        raise CheckpointError(f"invalid random-generator state in checkpoint: {e}") from None
