"""From a :class:`~backprop.app.config.Config` to a finished run: data, model, optimiser,
schedule, callbacks, training, test score, plots. The command line (``backprop train``, ``resume``,
``eval``, ``predict``) and the hyper-parameter search are thin layers over these functions.

A run folder ``runs/<name>/`` holds::

    config.toml              the config used (every default written out)
    history.csv              one row per epoch: loss, metrics, val_*, lr
    checkpoints/last.safetensors   the end of the last epoch (resume from it)
    checkpoints/best.safetensors   the best epoch by checkpoint.monitor (its test score is reported)
    curves.png, confusion.png
    results.json             the test metrics, per-class precision/recall/F1, confusion matrix
                             (written last: a run without it is not finished)
    run.json                 the run's identity: run id, model signature, optimiser, the
                             checksum of config.toml (see :mod:`backprop.app.runrecord`)
    .lock                    the lock held by the process working in the folder
                             (see :mod:`backprop.app.runlock`)
"""

from __future__ import annotations

import copy
import datetime
import inspect
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .. import data as D
from .. import models
from .. import random as _random
from ..autograd.grad_mode import no_grad
from ..data import transforms as T
from ..distributed import _mpi
from ..fileio import atomic_write, remove_stale_temporaries
from ..tensor import Tensor
from ..train import checkpoint as _ckpt
from ..train.callbacks import Callback, CSVLogger, EarlyStopping, ModelCheckpoint
from ..train.metrics import ConfusionMatrix, precision_recall_f1
from ..train.trainer import Trainer
from . import runrecord
from .components import AUGMENTATIONS, LOSSES, OPTIMIZERS, SCHEDULERS
from .config import Config
from .datasets import DATASETS, default_mnist_root, project_root
from .errors import ConfigError, DataError
from .runlock import RunLock, allocate_run_dir

__all__ = [
    "DataError",
    "DataBundle",
    "RunResult",
    "default_mnist_root",
    "build_data",
    "build_model",
    "build_optimizer",
    "build_scheduler",
    "build_loss",
    "make_run_dir",
    "train_run",
    "run_job",
    "finish_run",
    "load_model",
    "evaluate_model",
    "find_checkpoint",
    "remove_stale_run_temporaries",
    "config_of",
    "is_classifier",
    "model_options",
    "project_root",
]


# ---------------------------------------------------------------------------------- data
class _MapInputs:
    """A dataset whose inputs go through ``transform`` (whole batches at once when it can)."""

    def __init__(self, base, transform) -> None:
        self.base = base
        self.transform = transform

    def __len__(self) -> int:
        return len(self.base)

    def __getitem__(self, i):
        x, y = self.base[i]
        return (x if self.transform is None else self.transform(x)), y

    @property
    def supports_batching(self) -> bool:
        return bool(getattr(self.base, "supports_batching", False)) and T.is_batchable(
            self.transform
        )

    def get_batch(self, indices):
        x, y = self.base.get_batch(indices)
        return (x if self.transform is None else self.transform.apply_batch(x)), y


@dataclass
class DataBundle:
    """The loaders of a run and what a checkpoint must remember about the data."""

    train: Any
    val: Any
    test: Any
    info: dict[str, Any] = field(default_factory=dict)


def _base_datasets(cfg: Config):
    """The registered builder's :class:`~backprop.app.datasets.DatasetParts` for ``cfg``."""
    entry = DATASETS.get(cfg.dataset.name, "dataset.name")
    try:
        return entry.target(cfg.dataset)
    except ConfigError:
        raise
    except MemoryError as e:  # dataset.n = 10**11 for a toy set
        raise ConfigError(_too_large("dataset", cfg.dataset.name, cfg.dataset.options, e)) from None
    except (TypeError, ValueError) as e:
        if _is_too_large(e):  # NumPy's "array is too big" for a size past any machine's memory
            raise ConfigError(
                _too_large("dataset", cfg.dataset.name, cfg.dataset.options, e)
            ) from None
        if isinstance(e, ValueError) and entry.info.get("files"):
            raise DataError(f"dataset ({cfg.dataset.name}): {e}") from None  # a bad file: exit 1
        # A dataset option out of range (test_fraction 1.5, n = -10): a config error, exit 2.
        raise ConfigError(f"dataset ({cfg.dataset.name}): {e}") from None


def _is_too_large(e: BaseException) -> bool:
    """NumPy's refusals of a size no machine has (not a MemoryError: a ValueError)."""
    text = str(e)
    return isinstance(e, ValueError) and (
        "array is too big" in text or "Maximum allowed" in text  # dimension / size exceeded
    )


def _too_large(section: str, name: str, options: dict, e: BaseException) -> str:
    """The message for a component whose options ask for more memory than there is."""
    parts = [
        f"{section}.{k} = {list(v) if isinstance(v, tuple) else v!r}" for k, v in options.items()
    ]
    given = ", ".join(parts) or "its defaults"
    return f"{section} ({name}): too large for this machine's memory with {given} ({e})"


def _augmentation(cfg: Config) -> list:
    out = []
    for i, aug in enumerate(cfg.dataset.augment):
        where = f"dataset.augment[{i}]"
        cls = AUGMENTATIONS.get(aug["name"], f"{where}.name").target
        try:
            out.append(cls(**{k: v for k, v in aug.items() if k != "name"}))
        except (TypeError, ValueError) as e:
            raise ConfigError(f"{where} ({aug['name']}): {e}") from None
    return out


def build_data(cfg: Config, *, overfit: int | None = None) -> DataBundle:
    """The train/validation/test loaders of ``cfg`` and the data's description.

    The validation part is split off the training set with ``dataset.split_seed`` (stratified);
    normalisation statistics come from the training part only; augmentation applies to training
    batches only. The loaders shuffle with ``backprop.random`` (seeded by ``cfg.seed``).

    Args:
        overfit: train on the first ``overfit`` training examples, without augmentation, and
            "validate" on the same examples in eval mode (the lectures' debugging rule: a model
            that cannot reach 100% on a handful of examples has a bug).
    """
    d = cfg.dataset
    full, test, classes, raw_max = _base_datasets(cfg)
    facts = DATASETS.get(d.name, "dataset.name").info  # stratify / normalize: False for text
    gen = np.random.default_rng(d.split_seed)
    if d.val_fraction > 0 and overfit is None:
        train_part, val_part = D.train_val_split(
            full, d.val_fraction, stratify=facts.get("stratify", True), generator=gen
        )
    else:
        train_part, val_part = full, None
    if overfit is not None:
        if not 1 <= overfit <= len(train_part):
            raise ConfigError(
                f"--overfit-batch must be in [1, {len(train_part)}] (the training examples), "
                f"got {overfit}"
            )
        train_part = D.Subset(train_part, np.arange(overfit))
        val_part = train_part
    elif d.limit:
        train_part = D.Subset(train_part, np.arange(min(d.limit, len(train_part))))
    mean = std = None
    eval_tf = None
    if d.normalize and facts.get("normalize", True):  # token ids are not normalised
        mean, std = T.compute_mean_std(train_part, per="channel")
        eval_tf = T.Normalize(mean, std)
    augment = [] if overfit is not None else _augmentation(cfg)
    train_tf = (
        T.Compose([*augment, eval_tf])
        if augment and eval_tf
        else (T.Compose(augment) if augment else eval_tf)
    )
    train_ds = _MapInputs(train_part, train_tf)
    batch = min(cfg.batch_size, len(train_ds))
    loaders = DataBundle(
        train=D.DataLoader(train_ds, batch_size=batch, shuffle=True),
        val=None if val_part is None else D.DataLoader(
            _MapInputs(val_part, eval_tf), batch_size=d.eval_batch_size),
        test=D.DataLoader(_MapInputs(test, eval_tf), batch_size=d.eval_batch_size),
    )  # fmt: skip
    x0 = np.asarray(full[0][0])
    loaders.info = {
        "name": d.name,
        "input_shape": list(x0.shape),
        "num_classes": len(classes),
        "classes": classes,
        "mean": None if mean is None else np.asarray(mean).tolist(),
        "std": None if std is None else np.asarray(std).tolist(),
        "raw_max": raw_max,
        "sizes": {
            "train": len(train_ds),
            "val": 0 if val_part is None else len(val_part),
            "test": len(test),
        },  # fmt: skip
    }
    return loaders


# ---------------------------------------------------------------------------------- model etc.
def model_options(cfg: Config, info: dict) -> dict[str, Any]:
    """The model's options with ``num_classes``, ``in_channels`` and ``image_size`` filled in from
    the data when the model takes them and the config does not set them."""
    builder = models.get_model_builder(cfg.model.name)
    params = inspect.signature(builder).parameters
    opts = dict(cfg.model.options)
    shape = info["input_shape"]
    auto = {"num_classes": info["num_classes"]}
    if len(shape) == 3:
        auto["in_channels"] = shape[0]
        if shape[1] == shape[2]:
            auto["image_size"] = shape[1]
    for k, v in auto.items():
        if k in params and k not in opts:
            opts[k] = v
    return opts


def build_model(cfg: Config, info: dict, options: dict | None = None):
    """Build the model and check, with one small forward pass, that it fits the data."""
    opts = model_options(cfg, info) if options is None else options
    try:
        model = models.get_model(cfg.model.name, **opts)
    except (TypeError, ValueError, MemoryError) as e:  # MemoryError: model.sizes = [64, 10**11]
        if isinstance(e, MemoryError) or _is_too_large(e):
            raise ConfigError(_too_large("model", cfg.model.name, cfg.model.options, e)) from None
        raise ConfigError(f"model ({cfg.model.name}): {e}") from None
    dtype = getattr(model, "input_dtype", np.float32)  # int64 ids for a language model
    x = Tensor._make(np.zeros((2, *info["input_shape"]), dtype), False, None)
    model.eval()
    try:
        with no_grad():
            out = model(x)
    except MemoryError as e:
        raise ConfigError(_too_large("model", cfg.model.name, cfg.model.options, e)) from None
    except (TypeError, ValueError) as e:
        raise ConfigError(
            f"model ({cfg.model.name}) does not fit dataset {info['name']!r} (inputs of shape "
            f"{tuple(info['input_shape'])}, {info['num_classes']} classes): {e}"
        ) from None
    finally:
        model.train()
    if is_classifier(cfg) and tuple(out.shape) != (2, info["num_classes"]):
        raise ConfigError(
            f"model ({cfg.model.name}) gives outputs of shape {tuple(out.shape)[1:]} per example, "
            f"but dataset {info['name']!r} has {info['num_classes']} classes"
        )
    return model


def is_classifier(cfg: Config) -> bool:
    """Whether the run's loss takes class scores (the test report adds per-class figures)."""
    return bool(LOSSES.get(cfg.loss.name, "loss.name").info.get("classifier"))


def build_optimizer(cfg: Config, model):
    """The registered optimiser over ``model.parameters()`` with the config's lr and options."""
    cls = OPTIMIZERS.get(cfg.optimizer.name, "optimizer.name").target
    try:
        return cls(model.parameters(), lr=cfg.optimizer.lr, **cfg.optimizer.options)
    except (TypeError, ValueError) as e:
        raise ConfigError(f"optimizer ({cfg.optimizer.name}): {e}") from None


def build_scheduler(cfg: Config, optimizer, steps_per_epoch: int):
    """The registered schedule (None for ``"none"``); ``T_max`` defaults to the run's length."""
    s = cfg.scheduler
    entry = SCHEDULERS.get(s.name, "scheduler.name")
    if entry.target is None:
        return None
    opts = dict(s.options)
    if "T_max" in entry.info.get("auto", ()) and "T_max" not in opts:
        opts["T_max"] = cfg.epochs * (steps_per_epoch if s.interval == "step" else 1)
    try:
        return entry.target(optimizer, **opts)
    except (TypeError, ValueError) as e:
        raise ConfigError(f"scheduler ({s.name}): {e}") from None


def build_loss(cfg: Config):
    """The registered loss with the config's options."""
    cls = LOSSES.get(cfg.loss.name, "loss.name").target
    try:
        return cls(**cfg.loss.options)
    except (TypeError, ValueError) as e:
        raise ConfigError(f"loss ({cfg.loss.name}): {e}") from None


def _data_parallel(cfg: Config, loader, model, job):
    """``backprop train`` under ``mpiexec -n W``: this rank's share of the training data (a
    DistributedSampler seeded by ``cfg.seed``, ``batch_size / W`` per rank, so that
    ``batch_size`` stays the global batch) and the model in a DistributedDataParallel. Ranks
    above 0 then draw their own random streams (dropout masks, augmentation); rank 0 keeps the
    single-process one."""
    from ..distributed import DistributedDataParallel, DistributedSampler

    world, batch = job.world_size, loader.batch_size
    if batch % world:
        raise ConfigError(
            f"batch_size = {batch} is the global batch of the {world} processes and must be a "
            f"multiple of {world} (each process takes batch_size / {world})"
        )
    sampler = DistributedSampler(
        loader.dataset, num_replicas=world, rank=job.rank, shuffle=True, seed=cfg.seed
    )
    loader = D.DataLoader(loader.dataset, batch_size=batch // world, sampler=sampler)
    model = DistributedDataParallel(model)
    if job.rank > 0:
        _random.manual_seed(int(np.random.SeedSequence([cfg.seed, job.rank]).generate_state(1)[0]))
    return loader, model


# ---------------------------------------------------------------------------------- runs
def make_run_dir(cfg: Config) -> Path:
    """A new folder ``<out_dir>/<name>`` (``<model>-<dataset>-<date>-<time>`` when unnamed;
    ``-2``, ``-3``... appended if taken), created atomically: two processes started at once
    never get the same folder (see :func:`~backprop.app.runlock.allocate_run_dir`)."""
    base = cfg.name or f"{cfg.run_name()}-{datetime.datetime.now():%Y%m%d-%H%M%S}"
    return allocate_run_dir(cfg.out_dir, base)


def remove_stale_run_temporaries(run_dir: Path) -> list[str]:
    """Delete the temporaries a crashed (``kill -9``) process left in a run folder and its
    ``checkpoints/``: only :func:`~backprop.fileio.atomic_write`'s own names, only those of
    processes that are gone. Returns the names removed."""
    removed = []
    for folder in (run_dir, run_dir / "checkpoints"):
        removed += remove_stale_temporaries(folder, within=run_dir)
    return removed


@dataclass
class RunResult:
    """What a finished (or interrupted) run produced."""

    run_dir: Path | None
    history: dict[str, list[float]]
    test: dict[str, Any] | None = None
    best_epoch: int | None = None
    best_monitor: str | None = None  # the metric that chose the best checkpoint
    interrupted: bool = False
    stop_reason: str | None = None
    overfit_accuracy: float | None = None
    seconds: float = 0.0
    trainer: Trainer | None = None


def train_run(
    cfg: Config,
    run_dir: Path | None,
    *,
    verbose: int = 1,
    overfit: int | None = None,
    resume: bool = False,
    epochs: int | None = None,
    test: bool = True,
    plots: bool = True,
    handle_sigint: bool = True,
    distributed: bool | None = None,
    run_id: str | None = None,
) -> RunResult:
    """Train ``cfg`` in ``run_dir`` (None: nothing written), then score the best checkpoint on
    the test set and draw the plots.

    Under ``mpiexec -n W`` (``distributed``: None detects it, False refuses it, as a search trial
    must), this is rank 0's call: the other ranks train with it (see :func:`run_job`: they
    receive ``cfg``, write nothing and skip the test), each on its shard of the training data
    with the model in a DistributedDataParallel; ``batch_size`` is the global batch.

    The process holds the run folder's lock throughout (:class:`~backprop.app.runlock.RunLock`:
    a second process is refused). A new run writes ``config.toml`` and ``run.json`` (its
    identity) before training; a resumed one checks that the last checkpoint is of this run and
    rewrites ``config.toml`` only when ``cfg`` changed it (``backprop resume`` checks the whole
    folder first: :func:`backprop.app.resume.resume_run`).

    Args:
        verbose: 0 silent; 1 progress bar and per-epoch lines.
        overfit: train on this many examples and report whether training accuracy reaches 100%.
        resume: continue from ``run_dir/checkpoints/last.safetensors``.
        epochs: the total number of epochs (default ``cfg.epochs``).
        test: score the test set at the end.
        plots: write ``curves.png`` and ``confusion.png``.
        handle_sigint: Ctrl-C stops training cleanly with a checkpoint (False: it raises
            KeyboardInterrupt, as a search wants).
        distributed: train with the other ranks of an MPI job (None: when launched by one).
        run_id: a new run's id (default: a fresh one); ``resume`` passes the run's own when it
            starts over a run killed in its first epoch, whose checkpoints (if any) keep it.

    Raises:
        RunLockedError: another process works in ``run_dir``.
        RunMismatchError: (resume) the last checkpoint is of another run; nothing is written.
    """
    job = _job(distributed, overfit)
    if job is not None:  # rank 0 of an MPI job: the other ranks train with this call
        _lead_job(job, cfg, run_dir, resume, epochs, handle_sigint)
    if run_dir is None:
        result = _train_run(
            cfg, None, verbose, overfit, resume, epochs, test, plots, handle_sigint, job
        )
    else:
        Path(run_dir).mkdir(parents=True, exist_ok=True)  # (a library caller may name a new one)
        with RunLock(run_dir, "resume" if resume else "train"):
            result = _train_run(
                cfg, Path(run_dir), verbose, overfit, resume, epochs, test, plots, handle_sigint,
                job, run_id=run_id,
            )  # fmt: skip
    _job_state["busy"] = False
    return result


def _train_run(
    cfg, run_dir, verbose, overfit, resume, epochs, test, plots, handle_sigint, job=None,
    resume_from=None, run_id=None,
):  # fmt: skip
    t0 = time.perf_counter()
    record = None
    if run_dir is not None:
        remove_stale_run_temporaries(run_dir)
        record = runrecord.read_record(run_dir) if resume else None
    _random.manual_seed(cfg.seed)
    data = build_data(cfg, overfit=overfit)
    model = build_model(cfg, data.info)
    optimizer = build_optimizer(cfg, model)
    if job is not None:
        data.train, model = _data_parallel(cfg, data.train, model, job)
    identity = runrecord.RunIdentity(
        record["run_id"] if record else None if resume else run_id or runrecord.new_run_id(),
        cfg.model.name, runrecord.state_signature(model.state_dict()), type(optimizer).__name__,
    )  # fmt: skip
    meta = {
        "config": cfg.to_dict(),
        "model": {"name": cfg.model.name, "options": model_options(cfg, data.info)},
        "data": data.info,
    }
    if identity.run_id is not None:
        meta["run_id"] = identity.run_id
    callbacks, ckpt_cb = _run_callbacks(cfg, run_dir, meta, verbose, overfit)
    trainer = Trainer(
        model, build_loss(cfg), optimizer, metrics=cfg.metrics, callbacks=callbacks,
        scheduler=build_scheduler(cfg, optimizer, len(data.train)),
        scheduler_interval=cfg.scheduler.interval, scheduler_monitor=cfg.scheduler.monitor,
        grad_clip_norm=cfg.grad_clip_norm or None, verbose=verbose, handle_sigint=handle_sigint,
    )  # fmt: skip
    if resume_from is not None:  # another rank of a job: rank 0 checked the run folder
        trainer.load_checkpoint(resume_from)
    if resume:
        if ckpt_cb is None or not ckpt_cb.last_path.is_file():
            raise FileNotFoundError(f"no checkpoint to resume from in {run_dir}/checkpoints")
        last = _load_own_checkpoint(trainer, ckpt_cb, record, identity)
        _record_config(run_dir, cfg, record, last)
    elif run_dir is not None:
        text = cfg.to_toml()
        with atomic_write(run_dir / "config.toml", "w", within=run_dir) as f:
            f.write(text)
        runrecord.write_record(run_dir, identity, text)
    trainer.fit(data.train, data.val, epochs=cfg.epochs if epochs is None else epochs)
    result = RunResult(
        run_dir,
        trainer.history.history,
        interrupted=trainer.interrupted,
        stop_reason=trainer.stop_reason,
        trainer=trainer,
    )
    if overfit is not None:
        result.overfit_accuracy = trainer.evaluate(data.train).get("accuracy")
    elif not trainer.interrupted and test:
        _test_best(cfg, trainer, ckpt_cb, data, result)
    if run_dir is not None and plots and not trainer.interrupted and len(trainer.history):
        _plots(run_dir, trainer.history.history, result.test, data.info, cfg)
    if result.test is not None and run_dir is not None:
        _write_results(run_dir, result, data.info)  # last: the mark of a finished run
    result.seconds = time.perf_counter() - t0
    return result


def _load_own_checkpoint(trainer: Trainer, ckpt_cb, record: dict | None, identity):
    """Resume ``trainer`` from the last checkpoint after checking that it is of this run (the
    record's identity, or for a folder without ``run.json`` the model and optimiser built);
    new checkpoints keep its run id. Returns the checkpoint."""
    ckpt = _ckpt.read_checkpoint(ckpt_cb.last_path)
    found = runrecord.identity_of_checkpoint(ckpt)
    if record is not None:
        expected, source = runrecord.record_identity(record), "its run.json records"
    else:
        expected = runrecord.RunIdentity(
            found.run_id, identity.model, identity.signature, identity.optimizer
        )
        source = "the config builds"
    if found != expected:
        raise runrecord.RunMismatchError(
            f"{ckpt.path} does not belong to this run: the checkpoint is {found}; {source} "
            f"{expected}. Nothing was changed"
        )
    trainer.load_checkpoint(ckpt_cb.last_path)
    if found.run_id is not None:
        ckpt_cb.metadata["run_id"] = found.run_id
    return ckpt


def _record_config(run_dir: Path, cfg: Config, record: dict | None, ckpt) -> None:
    """Make ``config.toml`` say ``cfg`` (and ``run.json`` hold its checksum) when it does not:
    an edit made in the file since the run wrote it is refused, never overwritten (see
    :func:`~backprop.app.runrecord.check_config_edits`)."""
    try:
        recorded = config_of(ckpt)
    except (KeyError, TypeError, ValueError) as e:
        raise _ckpt.CheckpointError(
            f"{ckpt.path}: no usable config in the checkpoint ({e})"
        ) from None
    if not runrecord.check_config_edits(run_dir, record, recorded, cfg):
        return
    text = cfg.to_toml()
    if record is not None:  # the checksum first: a kill in between leaves no false "edited"
        record["config_sha256"] = runrecord.config_sha256(text)
        runrecord.write_record(
            run_dir, runrecord.record_identity(record), text, record.get("created", "")
        )
    with atomic_write(run_dir / "config.toml", "w", within=run_dir) as f:
        f.write(text)


def finish_run(cfg: Config, run_dir: str | os.PathLike, *, verbose: int = 1) -> RunResult:
    """Finish a run whose training is complete but whose ``results.json`` is missing (the
    process was killed after its last checkpoint): score the best checkpoint on the test set,
    draw the plots and write ``results.json``, as the end of :func:`train_run` does.

    The lock is held throughout; the last checkpoint must be of this run (see
    :func:`train_run`). ``backprop resume`` calls it for such a run.
    """
    run_dir = Path(run_dir)
    with RunLock(run_dir, "resume"):
        t0 = time.perf_counter()
        remove_stale_run_temporaries(run_dir)
        record = runrecord.read_record(run_dir)
        _random.manual_seed(cfg.seed)
        data = build_data(cfg)
        model = build_model(cfg, data.info)
        optimizer = build_optimizer(cfg, model)
        identity = runrecord.RunIdentity(
            None, cfg.model.name, runrecord.state_signature(model.state_dict()),
            type(optimizer).__name__,
        )  # fmt: skip
        callbacks, ckpt_cb = _run_callbacks(cfg, run_dir, {}, 0, None)
        trainer = Trainer(
            model, build_loss(cfg), optimizer, metrics=cfg.metrics, callbacks=callbacks,
            scheduler=build_scheduler(cfg, optimizer, len(data.train)),
            scheduler_interval=cfg.scheduler.interval, scheduler_monitor=cfg.scheduler.monitor,
            verbose=0,
        )  # fmt: skip
        if not ckpt_cb.last_path.is_file():
            raise FileNotFoundError(f"no checkpoint to finish from in {run_dir}/checkpoints")
        last = _load_own_checkpoint(trainer, ckpt_cb, record, identity)
        _record_config(run_dir, cfg, record, last)
        for cb in trainer.callbacks:  # what the end of fit did after the last checkpoint
            if isinstance(cb, EarlyStopping) and cb.restore_best_weights and cb.best_weights:
                trainer.model.load_state_dict(cb.best_weights)
        result = RunResult(run_dir, trainer.history.history, trainer=trainer)
        result.stop_reason = trainer.stop_reason
        _test_best(cfg, trainer, ckpt_cb, data, result)
        if len(trainer.history):
            _plots(run_dir, trainer.history.history, result.test, data.info, cfg)
        _write_results(run_dir, result, data.info)
        result.seconds = time.perf_counter() - t0
        return result


def _run_callbacks(
    cfg: Config, run_dir: Path | None, meta: dict, verbose: int, overfit: int | None
) -> tuple[list[Callback], ModelCheckpoint | None]:
    """The callbacks of a run (early stopping, checkpoints, the history file), and the
    checkpoint callback (None when nothing is written)."""
    if overfit is not None:
        return [_StopAtFullAccuracy()], None
    callbacks: list[Callback] = []
    es = cfg.early_stopping
    if es.enabled:
        callbacks.append(
            EarlyStopping(
                es.monitor, es.mode, es.patience, es.min_delta, es.restore_best_weights,
                # The test scores best.safetensors when there is one: a line saying that early
                # stopping restored another epoch's weights would name weights not tested.
                verbose=verbose > 0 and (run_dir is None or not cfg.checkpoint.save_best),
            )
        )  # fmt: skip
    if run_dir is None:
        return callbacks, None
    c = cfg.checkpoint
    ckpt_cb = ModelCheckpoint(
        run_dir / "checkpoints", c.monitor, c.mode, c.save_best, c.save_last, metadata=meta,
        within=run_dir,
    )  # fmt: skip
    return [*callbacks, ckpt_cb, CSVLogger(run_dir / "history.csv", within=run_dir)], ckpt_cb


def _test_best(cfg: Config, trainer: Trainer, ckpt_cb, data: DataBundle, result: RunResult):
    """Score the best checkpoint (the last weights when there is none) on the test set."""
    if ckpt_cb is not None and ckpt_cb.best_path.is_file():
        best = _ckpt.load_checkpoint(ckpt_cb.best_path, trainer.model)
        result.best_epoch = best.epoch
        result.best_monitor = ckpt_cb.monitor
    result.test = evaluate_model(trainer, data.test, data.info, is_classifier(cfg))


class _StopAtFullAccuracy(Callback):
    """--overfit-batch: stop once the eval-mode accuracy on the training subset is 100%.

    The trainer evaluates that subset as its validation data; the logs name those figures
    ``train_eval_loss``, ``train_eval_accuracy``..., not ``val_*``: they are of training examples.
    (Order 15: after the learning-rate schedule, which watches them as ``val_*``, and before the
    history and the progress lines.)"""

    order = 15

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs = logs if logs is not None else {}
        for key in [k for k in logs if k.startswith("val_")]:
            logs["train_eval_" + key.removeprefix("val_")] = logs.pop(key)
        if logs.get("train_eval_accuracy", 0.0) >= 1.0:
            self.trainer.stop_training = True
            self.trainer.stop_reason = f"training accuracy reached 100% at epoch {epoch + 1}"


def evaluate_model(
    trainer: Trainer, loader, info: dict, classification: bool = True
) -> dict[str, Any]:
    """Loss and metrics on ``loader`` in one pass; for a classifier also the confusion matrix,
    per-class precision/recall/F1 and their macro average."""
    if not classification:
        return trainer.evaluate(loader)
    cm = ConfusionMatrix(info["num_classes"])
    metrics: dict[str, Any] = trainer.evaluate(loader, extra_metrics=[cm])
    prf = precision_recall_f1(cm.matrix)
    metrics["confusion_matrix"] = cm.matrix.tolist()
    metrics["per_class"] = {
        name: {"precision": float(prf["precision"][i]), "recall": float(prf["recall"][i]),
               "f1": float(prf["f1"][i]), "support": int(prf["support"][i])}
        for i, name in enumerate(info["classes"])
    }  # fmt: skip
    metrics["macro_f1"] = float(np.mean(prf["f1"]))
    return metrics


def _write_results(run_dir: Path, result: RunResult, info: dict) -> None:
    payload = {"test": result.test, "best_epoch": result.best_epoch, "data": info}
    with atomic_write(run_dir / "results.json", "w", within=run_dir) as f:
        json.dump(payload, f, indent=1)


def _plots(run_dir: Path, history: dict, test: dict | None, info: dict, cfg: Config) -> None:
    from ..viz import plot_confusion_matrix, plot_history

    plot_history(history, run_dir / "curves.png", title=f"{cfg.model.name} on {info['name']}")
    if test is not None and "confusion_matrix" in test:
        plot_confusion_matrix(
            np.asarray(test["confusion_matrix"]), info["classes"], run_dir / "confusion.png",
            title=f"{cfg.model.name} on {info['name']} (test)",
        )  # fmt: skip


# ---------------------------------------------------------------------------------- inference
def find_checkpoint(path: str | Path, prefer: str = "best") -> Path:
    """A checkpoint file from a file path or a run folder (its best, else last, checkpoint).

    Of a run folder, every checkpoint is first checked to belong to the run (and a file inside
    a run's ``checkpoints/`` is checked against the run's ``run.json``): a file of another run
    raises :class:`~backprop.app.runrecord.RunMismatchError`.
    """
    return _locate(path, prefer)[0]


def open_checkpoint(path: str | Path, prefer: str = "best"):
    """:func:`find_checkpoint` then :func:`load_model`, reading the file once: the checkpoint
    read to check a run folder's identity is the one loaded.

    Returns:
        ``(checkpoint path, model in eval mode, checkpoint)``.
    """
    found, ckpt = _locate(path, prefer)
    model, ckpt = load_model(found if ckpt is None else ckpt)
    return found, model, ckpt


def _locate(path: str | Path, prefer: str) -> tuple[Path, _ckpt.Checkpoint | None]:
    """:func:`find_checkpoint`'s file, and the checkpoint already read from it to check its
    run's identity (None where nothing was read)."""
    path = Path(path)
    if path.is_dir():
        folder = path / "checkpoints" if (path / "checkpoints").is_dir() else path
        order = ["best", "last"] if prefer == "best" else ["last", "best"]
        for name in order:
            if (folder / f"{name}.safetensors").is_file():
                read = {}
                if folder != path:  # a run folder
                    read = runrecord.check_checkpoints(path, runrecord.read_record(path))
                return folder / f"{name}.safetensors", read.get(name)
        raise FileNotFoundError(f"no checkpoint (best/last.safetensors) in {folder}")
    if not path.exists():
        raise FileNotFoundError(f"no such file or folder: {path}")
    run = path.parent.parent
    if path.parent.name == "checkpoints" and (run / runrecord.RECORD_NAME).is_file():
        read = runrecord.check_checkpoints(run, runrecord.read_record(run), [path])
        return path, read.get(path.stem)
    return path, None


def load_model(path: str | Path | _ckpt.Checkpoint):
    """Rebuild the model a checkpoint was trained as (from its metadata) and load its weights.

    ``path``: the checkpoint file, or a checkpoint already read from it.

    Returns:
        ``(model in eval mode, checkpoint)``.
    """
    ckpt = path if isinstance(path, _ckpt.Checkpoint) else _ckpt.read_checkpoint(path)
    path = ckpt.path
    meta = ckpt.metadata
    try:
        cfg = Config.from_dict(meta["config"])
        opts = meta["model"]["options"]
        if not isinstance(opts, dict):
            raise TypeError(f"model options are a {type(opts).__name__}, not a table")
        _check_data_info(meta.get("data", {}))
    except (KeyError, TypeError, ValueError) as e:
        raise _ckpt.CheckpointError(
            f"{path}: the checkpoint has no usable config/model metadata ({e}); it was not written "
            f"by `backprop train`. Build the model yourself and use load_checkpoint()"
        ) from None
    try:
        model = models.get_model(cfg.model.name, **opts)
    except (TypeError, ValueError) as e:
        raise _ckpt.CheckpointError(
            f"{path}: the model options in the checkpoint do not build a {cfg.model.name}: {e}"
        ) from None
    _ckpt.check_model_state(model, ckpt.model_state, str(path), ckpt.model_class)
    model.load_state_dict(ckpt.model_state)
    model.eval()
    return model, ckpt


def _check_data_info(info) -> None:
    """The data description a checkpoint carries (what ``predict`` and ``eval`` read from it):
    a file can hold anything that is valid JSON, so check the types before they are used."""

    def numbers(v) -> bool:
        if isinstance(v, list):
            return all(numbers(x) for x in v)
        return isinstance(v, (int, float)) and not isinstance(v, bool)

    if not isinstance(info, dict):
        raise TypeError(f"'data' is a {type(info).__name__}, not a table")
    shape = info.get("input_shape", [])
    if not isinstance(shape, list) or not all(
        isinstance(d, int) and not isinstance(d, bool) and 1 <= d <= 1 << 16 for d in shape
    ):
        raise ValueError(f"data.input_shape {shape!r:.60} is not a list of positive sizes")
    classes = info.get("classes")
    if classes is not None and (
        not isinstance(classes, list) or not all(isinstance(c, str) for c in classes)
    ):
        raise ValueError("data.classes is not a list of names")
    n = info.get("num_classes", 0)
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"data.num_classes {n!r:.40} is not a count")
    mean, std = info.get("mean"), info.get("std")
    if (mean is None) != (std is None):
        raise ValueError("data.mean and data.std must be given together")
    if mean is not None:
        if not (numbers(mean) and numbers(std)):
            raise ValueError("data.mean and data.std must be numbers or lists of numbers")
        m, sd = np.asarray(mean, dtype=np.float64), np.asarray(std, dtype=np.float64)
        if m.shape != sd.shape or not np.all(sd > 0) or not np.all(np.isfinite(m)):
            raise ValueError("data.mean/std: different shapes, or a std that is not positive")
    raw_max = info.get("raw_max")
    if raw_max is not None and (not numbers(raw_max) or isinstance(raw_max, list) or raw_max <= 0):
        raise ValueError(f"data.raw_max {raw_max!r:.40} is not a positive number")


def config_of(ckpt: _ckpt.Checkpoint) -> Config:
    """The validated config a checkpoint was trained with (a fresh copy)."""
    return Config.from_dict(copy.deepcopy(ckpt.metadata["config"]))


# ---------------------------------------------------------------------------------- MPI jobs
# A command under ``mpiexec -n W`` (W > 1) runs on rank 0 alone (:func:`run_job`): it makes the
# folders, writes the files and prints. The other ranks wait for rank 0's train_run calls and
# train with each one (never writing); at the end rank 0 hands them its exit code.
_job_state = {"busy": False}  # rank 0 is inside a train_run that the other ranks joined


def _job(distributed: bool | None, overfit: int | None):
    """The job's process group when this is a run of several processes, else None."""
    if distributed is False or (distributed is None and not _mpi.launched_by_mpi()):
        return None
    from ..distributed import process_group

    job = process_group()
    if job.world_size == 1:
        return None
    if overfit is not None:
        raise ConfigError(
            f"--overfit-batch checks a model in one process; launch it without mpiexec (this "
            f"job has {job.world_size})"
        )
    return job


def _lead_job(job, cfg: Config, run_dir, resume: bool, epochs, handle_sigint: bool) -> None:
    if job.rank != 0:
        raise RuntimeError(
            f"train_run: rank {job.rank} of an MPI job called train_run; only rank 0 runs the "
            f"command (the others serve it: backprop.app.runner.run_job)"
        )
    last = Path(run_dir) / "checkpoints" / "last.safetensors" if resume and run_dir else None
    order = {"cfg": cfg, "resume_from": last, "epochs": epochs, "handle_sigint": handle_sigint}
    job.broadcast_object(("train_run", order))
    _job_state["busy"] = True


def run_job(command, on_error) -> int:
    """Run ``command()`` (which returns an exit code) as an MPI job: on rank 0 it runs as in one
    process; the other ranks serve its :func:`train_run` calls and return its exit code. In a
    single process (no launcher, or ``mpiexec -n 1``), just ``command()``.

    An error on a rank other than 0 is passed to ``on_error(exc)`` (which prints it and returns
    the exit code), then ends the whole job (MPI_Abort): rank 0 may be waiting in a collective.
    An error on rank 0 while the others train (outside a clean return of train_run) ends the job
    too; otherwise rank 0 hands them its exit code.
    """
    from ..distributed import abort

    job = _job(None, None)
    if job is None:
        return command()
    if job.rank > 0:
        while True:
            kind, order = job.broadcast_object(None)
            if kind == "exit":
                return order
            try:
                _train_run(
                    order["cfg"], None, 0, None, False, order["epochs"], False, False,
                    order["handle_sigint"], job, order["resume_from"],
                )  # fmt: skip
            except Exception as e:
                abort(on_error(e))
            except KeyboardInterrupt:
                abort(130)
    try:
        code = command()
    except BaseException:
        if _job_state["busy"]:
            raise  # (the abort hook ends the job)
        job.broadcast_object(("exit", 1))
        raise
    if _job_state["busy"]:
        abort(code)
    job.broadcast_object(("exit", code))
    return code
