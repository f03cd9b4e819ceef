"""Run configurations: dataclasses read from TOML (``tomllib``), validated before anything runs.

A config names the model, the dataset (and its transforms), the loss, the optimiser, the schedule,
the training settings and the callbacks. Every key is checked: an unknown key, a value of the wrong
type, or an unknown model/dataset/optimiser/scheduler/loss name raises :class:`ConfigError` naming
the key and the allowed values, before any data is loaded. Options of a named component (the
model's ``channels``, the optimiser's ``momentum``...) are checked against the signature of the
class they are passed to.

Example ``lenet5.toml``::

    name = "lenet5-mnist"        # run folder name (default: <model>-<dataset>-<time>)
    seed = 0
    epochs = 10
    batch_size = 64

    [model]
    name = "lenet5"              # any name of `backprop models`; other keys are its options

    [dataset]
    name = "mnist"               # root defaults to ../shared/data/mnist when present
    val_fraction = 0.1

    [optimizer]
    name = "sgd"
    lr = 0.05
    momentum = 0.9

    [scheduler]
    name = "plateau"             # ReduceLROnPlateau on val_loss: halve on a plateau
    factor = 0.5
    patience = 2

Override any key from the command line: ``--set optimizer.lr=0.01 --set model.dropout=0.5``.
"""

from __future__ import annotations

import dataclasses
import difflib
import inspect
import json
import math
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import models
from ..train.metrics import get_metric
from .components import AUGMENTATIONS, LOSSES, OPTIMIZERS, SCHEDULERS
from .datasets import DATASETS
from .errors import ConfigError
from .space import parse_space

__all__ = [
    "ConfigError",
    "Config",
    "ModelConfig",
    "DatasetConfig",
    "OptimizerConfig",
    "SchedulerConfig",
    "LossConfig",
    "EarlyStoppingConfig",
    "CheckpointConfig",
    "SearchConfig",
    "load_config",
    "parse_overrides",
    "apply_overrides",
    "to_toml",
    "OPTIMIZERS",
    "SCHEDULERS",
    "LOSSES",
    "DATASETS",
    "AUGMENTATIONS",
    "validate",
    "check_options",
    "check_value",
]


# ---------------------------------------------------------------------------------- sections
@dataclass
class ModelConfig:
    """``[model]``: a zoo model by name; every other key is an option of its constructor.
    ``num_classes``, ``in_channels`` and ``image_size`` are filled in from the dataset when the
    model takes them and the config does not set them."""

    name: str = "digits_cnn"
    # Half the zoo default's widths: as accurate on the digits (98.3-98.9% over seeds 0-3), 4x
    # fewer multiply-adds, so `backprop train` stays well under a minute on a busy 2-core machine.
    options: dict[str, Any] = field(default_factory=lambda: {"channels": [16, 32], "hidden": 64})


@dataclass
class DatasetConfig:
    """``[dataset]``: which data, how it is split, normalised and augmented.

    Attributes:
        name: one of :data:`DATASETS`.
        root: the folder holding the files (MNIST, Fashion-MNIST, CIFAR-10); "" for the default
            (for MNIST: ``../shared/data/mnist`` beside the project when it exists, else the cache
            ``$BACKPROP_DATA`` or ``~/.cache/backprop``). Relative paths are relative to the
            current folder.
        download: fetch missing files.
        val_fraction: the share of the training split held out for validation (0: none).
        normalize: standardise inputs with the per-channel mean and std of the training part.
        limit: train on the first ``limit`` examples of the training part only (0: all).
        split_seed: the seed of the train/validation split (fixed, so the split does not change
            with the training seed).
        eval_batch_size: batch size for validation and test passes.
        augment: training-only random transforms, each a table with ``name`` (one of
            :data:`AUGMENTATIONS`) and its options, e.g. ``{name = "random_shift", max_shift = 1}``.
        options: dataset-specific options: ``test_fraction`` (digits, toy sets), ``n`` and
            ``noise`` (toy sets).
    """

    name: str = "digits"
    root: str = ""
    download: bool = False
    val_fraction: float = 0.1
    normalize: bool = True
    limit: int = 0
    split_seed: int = 0
    eval_batch_size: int = 500
    augment: list[dict[str, Any]] = field(default_factory=list)
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class OptimizerConfig:
    """``[optimizer]``: one of :data:`OPTIMIZERS` with its options (``momentum``, ``betas``...)."""

    name: str = "adam"
    lr: float = 2e-3
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class SchedulerConfig:
    """``[scheduler]``: one of :data:`SCHEDULERS` with its options.

    ``interval`` is ``"epoch"`` or ``"step"``; ``monitor`` is the metric a ``"plateau"`` schedule
    watches. ``cosine`` takes ``T_max`` = the number of epochs (or steps) when not given.
    """

    name: str = "plateau"
    interval: str = "epoch"
    monitor: str = "val_loss"
    options: dict[str, Any] = field(default_factory=lambda: {"factor": 0.5, "patience": 2})


@dataclass
class LossConfig:
    """``[loss]``: one of :data:`LOSSES` with its options (``label_smoothing``...)."""

    name: str = "cross_entropy"
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class EarlyStoppingConfig:
    """``[early_stopping]``: see :class:`~backprop.train.callbacks.EarlyStopping`."""

    enabled: bool = False
    monitor: str = "val_loss"
    mode: str = "auto"
    patience: int = 5
    min_delta: float = 0.0
    restore_best_weights: bool = True


@dataclass
class CheckpointConfig:
    """``[checkpoint]``: which epoch is "best" (``best.safetensors``, used for the test score).

    The validation loss is the default judge: on a small validation set the accuracy ties at
    its maximum for many epochs, and the first of them is often not the best model.
    """

    monitor: str = "val_loss"
    mode: str = "auto"
    save_best: bool = True
    save_last: bool = True


@dataclass
class SearchConfig:
    """``[search]``: the space of a hyper-parameter search (see :mod:`backprop.app.search`)."""

    metric: str = "val_accuracy"
    mode: str = "auto"
    seed: int = 0
    space: dict[str, Any] = field(default_factory=dict)


@dataclass
class Config:
    """A whole run. The defaults are ``backprop train``'s: a small CNN on the 8x8 digits.

    Attributes:
        name: the run folder name ("" for ``<model>-<dataset>-<date>-<time>``).
        seed: seeds ``backprop.random`` (initialisation, shuffling, dropout, augmentation).
        epochs: the number of epochs.
        batch_size: the mini-batch size.
        metrics: metric names (``accuracy``, ``top5_accuracy``, ``mae``, ``mse``, ``f1``).
        out_dir: where run folders are created.
        grad_clip_norm: clip the gradients' global norm to this (0: no clipping).
    """

    name: str = ""
    seed: int = 0
    epochs: int = 15
    batch_size: int = 32
    metrics: list[str] = field(default_factory=lambda: ["accuracy"])
    out_dir: str = "runs"
    grad_clip_norm: float = 0.0
    model: ModelConfig = field(default_factory=ModelConfig)
    dataset: DatasetConfig = field(default_factory=DatasetConfig)
    optimizer: OptimizerConfig = field(default_factory=OptimizerConfig)
    scheduler: SchedulerConfig = field(default_factory=SchedulerConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    early_stopping: EarlyStoppingConfig = field(default_factory=EarlyStoppingConfig)
    checkpoint: CheckpointConfig = field(default_factory=CheckpointConfig)
    search: SearchConfig | None = None

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Config:
        """Build and validate a config from a dict (as read from TOML).

        Raises:
            ConfigError: naming the first offending key and what is allowed.
        """
        cfg = _build(cls, raw, "")
        validate(cfg)
        return cfg

    def to_dict(self) -> dict[str, Any]:
        """The config as a plain dict that :meth:`from_dict` reads back (options flattened)."""
        return _unbuild(self)

    def to_toml(self) -> str:
        return to_toml(self.to_dict())

    def run_name(self) -> str:
        return self.name or f"{self.model.name}-{self.dataset.name}"


# ---------------------------------------------------------------------------------- building
_SECTION_TYPES = {
    "model": ModelConfig, "dataset": DatasetConfig, "optimizer": OptimizerConfig,
    "scheduler": SchedulerConfig, "loss": LossConfig, "early_stopping": EarlyStoppingConfig,
    "checkpoint": CheckpointConfig, "search": SearchConfig,
}  # fmt: skip


def _all_keys() -> list[str]:
    keys = [f.name for f in dataclasses.fields(Config) if f.name not in _SECTION_TYPES]
    for sec, typ in _SECTION_TYPES.items():
        keys += [f"{sec}.{f.name}" for f in dataclasses.fields(typ) if f.name != "options"]
    return keys


# Names other libraries (Keras, papers) give to options that backprop spells as PyTorch does:
# an unknown option with one of these names is answered "did you mean ...?".
_ALIASES = {
    "learning_rate": "lr", "learningrate": "lr", "eta": "lr", "alpha": "lr",
    "beta_1": "betas", "beta_2": "betas", "beta1": "betas", "beta2": "betas",
    "epsilon": "eps", "decay": "weight_decay", "l2": "weight_decay", "wd": "weight_decay",
    "nesterov_momentum": "nesterov", "rho": "alpha", "centred": "centered",
    "step": "step_size", "drop_rate": "dropout", "dropout_rate": "dropout", "p": "dropout",
    "classes": "num_classes", "n_classes": "num_classes", "channels_in": "in_channels",
    "epoch": "epochs", "num_epochs": "epochs", "n_epochs": "epochs", "batchsize": "batch_size",
}  # fmt: skip


def _suggest(name: str, candidates: list[str]) -> str | None:
    """The candidate ``name`` was most likely meant as: a known alias, else a close spelling."""
    alias = _ALIASES.get(name.lower())
    if alias in candidates:
        return alias
    close = difflib.get_close_matches(name, candidates, n=1, cutoff=0.6)
    return close[0] if close else None


def _unknown(key: str, allowed: list[str], what: str = "key") -> ConfigError:
    known = _all_keys() + allowed
    last = key.rsplit(".", 1)[-1]
    close = [
        k for k in known if k.rsplit(".", 1)[-1] == last and k != key
    ]  # right name, wrong table
    if not close:  # an alias of a key in this table or any other (learning_rate -> optimizer.lr)
        prefix = key.rsplit(".", 1)[0] + "." if "." in key else ""
        alias = _ALIASES.get(last.lower())
        close = [k for k in (prefix + str(alias), str(alias)) if alias and k in known]
        close = close or [k for k in known if alias and k.rsplit(".", 1)[-1] == alias]
    close = close or difflib.get_close_matches(key, known, n=1, cutoff=0.75)
    hint = f" (did you mean {close[0]!r}?)" if close and close[0] != key else ""
    return ConfigError(f"unknown {what} {key!r}{hint}; allowed: {', '.join(allowed)}")


def _type_name(v) -> str:
    return {
        bool: "bool",
        int: "int",
        float: "float",
        str: "string",
        list: "array",
        tuple: "array",
        dict: "table",
    }.get(type(v), type(v).__name__)


def check_value(key: str, value: Any, default: Any) -> Any:
    """``value`` if it has the type of ``default`` (ints accepted for floats, arrays for tuples);
    raises ConfigError naming ``key`` otherwise."""
    if default is None or default is inspect.Parameter.empty:
        return value
    if isinstance(default, bool):
        ok = isinstance(value, bool)
    elif isinstance(default, int):
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif isinstance(default, float):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        value = float(value) if ok else value
    elif isinstance(default, str):
        ok = isinstance(value, str)
    elif isinstance(default, (list, tuple)):
        ok = isinstance(value, (list, tuple))
        value = (tuple if isinstance(default, tuple) else list)(value) if ok else value
    elif isinstance(default, dict):
        ok = isinstance(value, dict)
    else:
        ok = True
    if not ok:
        raise ConfigError(f"{key} must be {_type_name(default)}, got {_type_name(value)} {value!r}")
    return value


def _build(cls, raw: Any, prefix: str):
    where = prefix.rstrip(".") or "config"
    if not isinstance(raw, dict):
        raise ConfigError(f"{where} must be a table, got {_type_name(raw)} {raw!r}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    has_options = "options" in fields
    kwargs: dict[str, Any] = {}
    options: dict[str, Any] = {}
    for key, value in raw.items():
        full = prefix + key
        if key in _SECTION_TYPES and key in fields:
            kwargs[key] = _build(_SECTION_TYPES[key], value, full + ".")
        elif key in fields and key != "options":
            f = fields[key]
            default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
            kwargs[key] = check_value(full, value, default)
        elif has_options:
            options[key] = value
        else:
            allowed = [prefix + k for k in fields if k != "options"]
            raise _unknown(full, allowed)
    if has_options and ("options" not in kwargs):
        # A section given in the file has exactly the options written there (a "plateau"
        # default's factor/patience must not leak into a "step" schedule).
        kwargs["options"] = options
    return cls(**kwargs)


def _unbuild(obj) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in dataclasses.fields(obj):
        v = getattr(obj, f.name)
        if f.name == "options":
            out.update(v)
        elif dataclasses.is_dataclass(v):
            out[f.name] = _unbuild(v)
        elif v is not None:
            out[f.name] = v
    return out


# ---------------------------------------------------------------------------------- validation
def _choice(key: str, value: str, allowed) -> None:
    if value not in allowed:
        raise ConfigError(f"{key}: unknown value {value!r}; allowed: {', '.join(allowed)}")


def check_options(
    section: str, name: str, target, options: dict[str, Any], skip: tuple = (),
    own: tuple = ("name",),
) -> dict:  # fmt: skip
    """Check ``options`` (the keys of table ``section`` that configure ``name``) against the
    keyword parameters of ``target`` (a class or function): unknown names and wrong types raise
    ConfigError naming the allowed keys (``own``: the table's own keys, such as ``name`` and
    ``lr``, then the options) and the likeliest one meant; returns the options with types
    fixed."""
    try:
        sig = inspect.signature(target)
    except (TypeError, ValueError):
        return dict(options)
    params = {
        n: p
        for n, p in sig.parameters.items()
        if n not in skip and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    }
    takes_kwargs = any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values())
    out = {}
    for k, v in options.items():
        if k not in params:
            if takes_kwargs:
                out[k] = v
                continue
            allowed = [*own, *(n for n in params if n not in own)]
            meant = _suggest(k, allowed)
            hint = f" (did you mean {meant}?)" if meant else ""
            raise ConfigError(
                f"{section}.{k}: {name} has no option {k!r}{hint}; allowed: {', '.join(allowed)}"
            )
        out[k] = check_value(f"{section}.{k}", v, params[k].default)
    return out


def required_options(target, skip: tuple = ()) -> list[str]:
    try:
        sig = inspect.signature(target)
    except (TypeError, ValueError):
        return []
    return [
        n
        for n, p in sig.parameters.items()
        if n not in skip
        and p.default is p.empty
        and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    ]


def _positive(key: str, v, allow_zero: bool = False) -> None:
    if not (v > 0 or (allow_zero and v == 0)) or (isinstance(v, float) and math.isnan(v)):
        raise ConfigError(f"{key} must be {'>= 0' if allow_zero else '> 0'}, got {v!r}")


def validate(cfg: Config) -> None:
    """Check names against the registries and values against their ranges, section by section.

    Options are rewritten with their types fixed (ints given for floats become floats...).

    Raises:
        ConfigError: naming the first offending key and what is allowed.
    """
    _validate_run(cfg)
    _validate_model(cfg)
    _validate_dataset(cfg)
    _validate_optimizer(cfg)
    _validate_scheduler(cfg)
    _validate_loss(cfg)
    _validate_callbacks(cfg)
    if cfg.search is not None:
        parse_space(cfg.search.space)


def _validate_run(cfg: Config) -> None:
    """The top-level keys: counts, sizes, the seed, the run name, the metrics."""
    for key, v, zero in (
        ("epochs", cfg.epochs, True), ("batch_size", cfg.batch_size, False),
        ("grad_clip_norm", cfg.grad_clip_norm, True), ("optimizer.lr", cfg.optimizer.lr, False),
        ("dataset.limit", cfg.dataset.limit, True),
        ("dataset.eval_batch_size", cfg.dataset.eval_batch_size, False),
    ):  # fmt: skip
        _positive(key, v, zero)
    if cfg.seed < 0:
        raise ConfigError(f"seed must be >= 0, got {cfg.seed}")
    if not 0.0 <= cfg.dataset.val_fraction < 1.0:
        raise ConfigError(f"dataset.val_fraction must be in [0, 1), got {cfg.dataset.val_fraction}")
    if cfg.name and (
        os.sep in cfg.name
        or cfg.name in (".", "..")
        or "/" in cfg.name
        or "\0" in cfg.name
        or len(cfg.name.encode("utf-8", "surrogatepass")) > 200  # file systems allow 255 bytes
    ):
        raise ConfigError(f"name must be a plain folder name, got {cfg.name!r:.80}")
    if not math.isfinite(cfg.optimizer.lr):
        raise ConfigError(f"optimizer.lr must be finite, got {cfg.optimizer.lr!r}")
    for m in cfg.metrics:
        try:
            get_metric(m, num_classes=2)
        except (ValueError, TypeError) as e:
            raise ConfigError(f"metrics: {e}") from None


def _validate_model(cfg: Config) -> None:
    """``[model]``: a registered name, its options checked against its constructor."""
    _choice("model.name", cfg.model.name, models.list_models())
    builder = models.get_model_builder(cfg.model.name)
    cfg.model.options = check_options("model", cfg.model.name, builder, cfg.model.options)


def _validate_dataset(cfg: Config) -> None:
    """``[dataset]``: a registered name, its own options, and the augmentations."""
    d = cfg.dataset
    allowed_opts = DATASETS.get(d.name, "dataset.name").info["options"]
    for k, v in d.options.items():
        if k not in allowed_opts:
            own = [f.name for f in dataclasses.fields(DatasetConfig) if f.name != "options"]
            raise ConfigError(
                f"dataset.{k}: not an option of dataset {d.name!r}; allowed: "
                f"{', '.join(own + list(allowed_opts))}"
            )
        d.options[k] = check_value(f"dataset.{k}", v, allowed_opts[k])
    for i, aug in enumerate(d.augment):
        where = f"dataset.augment[{i}]"
        if not isinstance(aug, dict) or "name" not in aug:
            raise ConfigError(f"{where} must be a table with a name, got {aug!r}")
        entry = AUGMENTATIONS.get(aug["name"], f"{where}.name")
        opts = {k: v for k, v in aug.items() if k != "name"}
        check_options(where, aug["name"], entry.target, opts, skip=("generator",))


def _validate_optimizer(cfg: Config) -> None:
    """``[optimizer]``: a registered name; ``lr`` is its own key, the rest are options."""
    o = cfg.optimizer
    entry = OPTIMIZERS.get(o.name, "optimizer.name")
    o.options = check_options(
        "optimizer", o.name, entry.target, o.options, skip=("params", "lr"), own=("name", "lr")
    )


def _validate_scheduler(cfg: Config) -> None:
    """``[scheduler]``: a registered name, its options and required options, its interval."""
    s = cfg.scheduler
    entry = SCHEDULERS.get(s.name, "scheduler.name")
    _choice("scheduler.interval", s.interval, ("epoch", "step"))
    if entry.target is None:
        if s.options:
            raise ConfigError(f"scheduler ({s.name}): takes no options, got {', '.join(s.options)}")
        return
    s.options = check_options(
        "scheduler", s.name, entry.target, s.options, skip=("optimizer",),
        own=("name", "interval", "monitor"),
    )  # fmt: skip
    auto = set(entry.info.get("auto", ()))
    required = required_options(entry.target, ("optimizer",))
    missing = [k for k in required if k not in {*s.options, *auto}]
    if missing:
        raise ConfigError(f"scheduler ({s.name}): missing required option(s) {', '.join(missing)}")
    if entry.info.get("epoch_only") and s.interval != "epoch":
        raise ConfigError(f"scheduler ({s.name}): interval must be 'epoch'")


def _validate_loss(cfg: Config) -> None:
    """``[loss]``: a registered name, its options checked against the class."""
    entry = LOSSES.get(cfg.loss.name, "loss.name")
    cfg.loss.options = check_options("loss", cfg.loss.name, entry.target, cfg.loss.options)


def _validate_callbacks(cfg: Config) -> None:
    """``[early_stopping]`` and ``[checkpoint]``: modes, patience, and monitors that exist."""
    for sec in ("early_stopping", "checkpoint"):
        _choice(f"{sec}.mode", getattr(cfg, sec).mode, ("auto", "min", "max"))
    if cfg.early_stopping.patience < 0:
        raise ConfigError(
            f"early_stopping.patience must be >= 0, got {cfg.early_stopping.patience}"
        )
    s = cfg.scheduler
    epoch_metric = SCHEDULERS.get(s.name, "scheduler.name").info.get("epoch_only", False)
    logged = _logged_names(cfg)
    for key, monitor in (
        ("scheduler.monitor", s.monitor if epoch_metric else ""),
        ("early_stopping.monitor",
         cfg.early_stopping.monitor if cfg.early_stopping.enabled else ""),
        ("checkpoint.monitor", cfg.checkpoint.monitor if cfg.checkpoint.save_best else ""),
        ("search.metric", cfg.search.metric if cfg.search is not None else ""),
    ):  # fmt: skip
        if not monitor:
            continue
        if monitor.startswith("val_") and cfg.dataset.val_fraction == 0:
            raise ConfigError(
                f"{key} is {monitor!r} but dataset.val_fraction = 0 (no validation data); "
                f"monitor a training metric ('loss', 'accuracy') or hold out validation data"
            )
        if monitor not in logged:
            # Found here, not after the first epoch's training as a "not in the logs" error.
            meant = difflib.get_close_matches(monitor, logged, n=1, cutoff=0.6)
            hint = f" (did you mean {meant[0]!r}?)" if meant else ""
            raise ConfigError(
                f"{key}: {monitor!r} is not logged by this run{hint}; allowed: "
                f"{', '.join(logged)} (the metrics key adds others: metrics = ['accuracy', 'f1'])"
            )


def _logged_names(cfg: Config) -> list[str]:
    """The names an epoch's logs hold for ``cfg``: the loss, each metric's result(s) (``f1``
    logs precision, recall and f1), their ``val_`` forms when there is validation data, and
    ``lr``."""
    names = ["loss"]
    for spec in cfg.metrics:
        metric = get_metric(spec, num_classes=2)
        try:
            value = metric.compute()  # a fresh metric: only the keys matter
        except Exception:  # (a registered metric that cannot compute before an update)
            value = None
        keys = list(value) if isinstance(value, dict) else [metric.name]
        names += [k for k in keys if k not in names]
    if cfg.dataset.val_fraction > 0:
        names += [f"val_{n}" for n in names]
    return [*names, "lr"]


# ---------------------------------------------------------------------------------- files
def parse_overrides(items: list[str]) -> list[tuple[str, Any]]:
    """``["optimizer.lr=0.01", "model.name=lenet5"]`` -> ``[("optimizer.lr", 0.01), ...]``.

    Values are TOML (``0.01``, ``true``, ``[16, 32]``, ``"text"``); a bare word that is not valid
    TOML is taken as a string, so ``model.name=lenet5`` needs no quotes.
    """
    out = []
    for item in items:
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ConfigError(f"--set expects key=value, got {item!r}")
        try:
            value = tomllib.loads(f"v = {text.strip()}")["v"]
        except tomllib.TOMLDecodeError:
            value = text.strip()
        except RecursionError:
            raise ConfigError(f"--set {key}: the value is nested too deeply") from None
        out.append((key, value))
    return out


def apply_overrides(raw: dict[str, Any], overrides: list[tuple[str, Any]]) -> dict[str, Any]:
    """Set dotted keys in a raw config dict (a copy is returned)."""
    raw = json.loads(json.dumps(raw))  # a deep copy of plain data
    for key, value in overrides:
        parts = key.split(".")
        node = raw
        for p in parts[:-1]:
            child = node.setdefault(p, {})
            if not isinstance(child, dict):
                raise ConfigError(f"--set {key}: {p!r} is not a table")
            node = child
        node[parts[-1]] = value
    return raw


def load_config(path: str | os.PathLike | None = None, overrides: list[str] = ()) -> Config:
    """Read a TOML config (or the defaults when ``path`` is None), apply ``key=value``
    overrides, and validate.

    Raises:
        ConfigError: a bad file, key, value or name.
    """
    raw: dict[str, Any] = {}
    if path is not None:
        path = Path(path)
        try:
            with open(path, "rb") as f:
                raw = tomllib.load(f)
        except FileNotFoundError:
            raise ConfigError(f"config file not found: {path}") from None
        except tomllib.TOMLDecodeError as e:
            raise ConfigError(f"{path}: invalid TOML: {e}") from None
        except RecursionError:  # tomllib recurses once per level of nested arrays/tables
            raise ConfigError(f"{path}: invalid TOML: nested too deeply") from None
        except (OSError, UnicodeDecodeError) as e:
            raise ConfigError(f"{path}: cannot read: {e}") from None
    raw = apply_overrides(raw, parse_overrides(list(overrides)))
    try:
        return Config.from_dict(raw)
    except ConfigError as e:
        raise ConfigError(f"{path}: {e}" if path is not None else str(e)) from None


def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)  # a TOML basic string: same escapes
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{_toml_key(k)} = {_toml_value(x)}" for k, x in v.items()) + " }"
    raise TypeError(f"to_toml: cannot write {type(v).__name__} {v!r}")


def _toml_key(k: str) -> str:
    return k if k.replace("_", "").replace("-", "").isalnum() else json.dumps(k)


def to_toml(d: dict[str, Any]) -> str:
    """A TOML document for a dict of scalars, arrays and (one level of) tables."""
    lines = [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in d.items() if not isinstance(v, dict)]
    for k, v in d.items():
        if isinstance(v, dict):
            lines += ["", f"[{_toml_key(k)}]"]
            lines += [f"{_toml_key(kk)} = {_toml_value(vv)}" for kk, vv in v.items()]
    return "\n".join(lines) + "\n"
