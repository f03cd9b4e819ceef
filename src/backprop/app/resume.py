"""``backprop resume``: continue a run folder, or finish it, after checking all of it first.

:func:`resume_run` takes the run folder's lock, then refuses, before anything is written:

- a checkpoint of another run (``run.json``'s run id, model signature and optimiser against
  every file in ``checkpoints/``: :func:`~backprop.app.runrecord.check_checkpoints`);
- an edit of ``config.toml`` made since the run wrote it (its checksum in ``run.json``); a
  change is asked for explicitly with ``overrides`` (``--set key=value``), which rewrites the
  file and records its new checksum.

Then it trains on from the last checkpoint; or, when training is complete but ``results.json``
is missing (the process was killed after its last checkpoint), it finishes the run: the test
score, the plots and ``results.json``; or it reports that there is nothing to do. A run killed
in its first epoch (no ``last.safetensors`` yet) is started over from its recorded config, under
its own run id, when nothing would be lost: ``config.toml`` as ``run.json`` records it, and no
checkpoint past epoch 1 (a kill between the first ``best`` and ``last`` leaves an epoch-1 best).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..fileio import is_temporary
from . import runrecord
from .errors import UsageError
from .runlock import RunLock
from .runner import RunResult, config_of, finish_run, train_run

__all__ = ["ResumeOutcome", "resume_run"]


@dataclass
class ResumeOutcome:
    """What :func:`resume_run` did.

    Attributes:
        status: ``"trained"`` (training went on), ``"restarted"`` (a run killed in its first
            epoch was started over), ``"finished"`` (a complete run got its results and plots),
            ``"completed"`` or ``"stopped_early"`` (nothing to do).
        message: a line for the user when nothing was run.
        result: the run's result (None when nothing was run).
    """

    status: str
    message: str = ""
    result: RunResult | None = None


def resume_run(
    run_dir: str | os.PathLike,
    *,
    epochs: int | None = None,
    overrides: list[str] = (),
    verbose: int = 1,
    say: Callable[[str], None] | None = None,
) -> ResumeOutcome:
    """Continue (or finish) the run in ``run_dir`` from its last checkpoint.

    Args:
        run_dir: the run folder.
        epochs: the new total number of epochs (default: the config's).
        overrides: ``key=value`` config changes (``--set``); the model and the optimiser's name
            cannot change.
        verbose: 0 silent; 1 progress bar and per-epoch lines.
        say: called with one line before training or finishing starts (``print``).

    Raises:
        UsageError: no such run folder, or no ``checkpoints/last.safetensors`` and the run
            cannot be started over (see :func:`_start_over`).
        RunLockedError: another process works in the folder.
        RunMismatchError: a checkpoint of another run (nothing written).
        ConfigEditedError: ``config.toml`` was edited (nothing written).
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise UsageError(f"no such run folder: {run_dir}")
    say = say or (lambda line: None)
    with RunLock(run_dir, "resume"):
        last = run_dir / "checkpoints" / "last.safetensors"
        if not last.is_file():
            return _start_over(run_dir, epochs, list(overrides), verbose, say)
        record = runrecord.read_record(run_dir)
        ckpt = runrecord.check_checkpoints(run_dir, record)["last"]
        cfg = runrecord.resolve_resume_config(
            run_dir, record, config_of(ckpt), list(overrides), epochs
        )
        total = cfg.epochs
        more = epochs is not None or any(o.partition("=")[0].strip() == "epochs" for o in overrides)
        state = ckpt.trainer or {}
        partial = state.get("partial")
        mid = isinstance(partial, dict)
        done = not mid and (ckpt.epoch >= total or (state.get("stop_training") and not more))
        if done and not (run_dir / "results.json").is_file():
            say(f"Finishing {run_dir}: training is complete; writing its results and plots")
            return ResumeOutcome("finished", result=finish_run(cfg, run_dir, verbose=verbose))
        if done and ckpt.epoch < total:
            return ResumeOutcome(
                "stopped_early",
                f"{run_dir} stopped early after epoch {ckpt.epoch} (early stopping); pass "
                f"--epochs to train further anyway.",
            )
        if done:
            return ResumeOutcome(
                "completed",
                f"{run_dir} already completed {ckpt.epoch} of {total} epochs; pass --epochs to "
                f"train longer.",
            )
        where = f"epoch {ckpt.epoch + 1}"
        if mid:
            where += f", batch {partial.get('batch', 0) + 1}"
        say(f"Resuming {run_dir} at {where} (of {total} epochs)")
        result = train_run(cfg, run_dir, verbose=verbose, resume=True, epochs=total)
        return ResumeOutcome("trained", result=result)


# What a run folder killed in its first epoch can hold (nothing that a new start would not write
# again): the lock, the config and record, a history of at most one row, an epoch-1 best.
_EARLY = {".lock", "config.toml", "run.json", "history.csv", "checkpoints"}


def _entries(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir() if not is_temporary(p.name)}


def _killed_early(run_dir: Path) -> bool:
    """Whether ``run_dir`` holds only what a run killed in its first epoch leaves."""
    if not _entries(run_dir) <= _EARLY:
        return False
    ckpts = run_dir / "checkpoints"
    if ckpts.is_symlink() or (ckpts.exists() and not ckpts.is_dir()):
        return False
    if ckpts.is_dir() and not _entries(ckpts) <= {"best.safetensors"}:
        return False
    history = run_dir / "history.csv"
    if history.is_symlink() or (history.exists() and not history.is_file()):
        return False
    if history.is_file():
        with open(history, "rb") as f:
            if len(f.read(1 << 16).splitlines()) > 2:  # the header and epoch 1 at most
                return False
    return True


def _start_over(run_dir: Path, epochs, overrides: list[str], verbose, say) -> ResumeOutcome:
    """A run without ``last.safetensors``, killed in its first epoch: train it from the start
    under its own run id when nothing would be lost (the config is the one ``run.json``
    records, the folder holds nothing but what :func:`_killed_early` allows, its checkpoints
    belong to it and none is past epoch 1: the new start writes the same); else refuse."""
    none = f"{run_dir} has no checkpoints/last.safetensors to resume from"
    record = runrecord.read_record(run_dir)
    early = _killed_early(run_dir)
    if record is None:
        if early and not (run_dir / "checkpoints").exists():
            raise UsageError(
                f"{none}: it was stopped before it recorded its config (run.json) and holds "
                f"nothing to keep; delete it and start the run again with backprop train"
            )
        raise UsageError(none)
    data, file_cfg, _ = runrecord._read_config(run_dir / "config.toml")
    if file_cfg is None or runrecord.config_sha256(data) != record["config_sha256"]:
        raise UsageError(f"{none}, and its config.toml is not the one run.json records")
    ckpts = runrecord.check_checkpoints(run_dir, record)  # another run's file: refused
    later = [c for c in ckpts.values() if c.epoch > 1]
    if later or not early:
        raise UsageError(
            f"{none}; the folder holds more than a run stopped in its first epoch leaves"
            + (f" ({later[0].path.name} is of epoch {later[0].epoch})" if later else "")
            + ", which starting the run over would replace: restore checkpoints/last.safetensors"
        )
    cfg = runrecord.resolve_resume_config(run_dir, record, file_cfg, overrides, epochs)
    say(
        f"Starting {run_dir} over: it was stopped in its first epoch, before a checkpoint to "
        f"resume from ({cfg.epochs} epochs)"
    )
    result = train_run(cfg, run_dir, verbose=verbose, epochs=cfg.epochs, run_id=record["run_id"])
    return ResumeOutcome("restarted", result=result)
