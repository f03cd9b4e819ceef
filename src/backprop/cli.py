"""The ``backprop`` command line (also ``python -m backprop``).

    backprop train [--config FILE] [--set KEY=VALUE ...] [--overfit-batch N]
    backprop resume RUN_DIR [--epochs N] [--set KEY=VALUE ...]
    backprop eval RUN_DIR_OR_CHECKPOINT [--dataset NAME] [--split test|val|train] [--set ...]
    backprop predict CHECKPOINT INPUT ... [--top K]
    backprop search CONFIG (--grid | --random N) [--jobs J] [--executor local|mpi]
    backprop models
    backprop summary MODEL [--input-shape C H W]

Exit codes: 0 success, 1 a failure while running (bad checkpoint, diverged training, missing
data, a full disk, out of memory, every search trial failed), 2 a usage or configuration error
(reported before anything runs; also a bare ``backprop`` without a command), 130 interrupted by
Ctrl-C (training writes a resumable checkpoint first). Errors a user can cause or fix (files that
cannot be read or written, malformed or tampered files, sizes too large for memory) are one line
on stderr naming the file or setting, without a traceback; ``backprop --debug COMMAND ...`` prints
the traceback too.
"""

from __future__ import annotations

import argparse
import errno
import inspect
import json
import os
import sys
import textwrap
import tomllib
import traceback
from pathlib import Path

import numpy as np

from . import models
from .app import inputs
from .app.components import AUGMENTATIONS, LOSSES, OPTIMIZERS, SCHEDULERS
from .app.config import Config, apply_overrides, load_config, parse_overrides, validate
from .app.datasets import DATASETS
from .app.errors import ConfigError, DataError, UsageError
from .app.resume import resume_run
from .app.runlock import allocate_run_dir
from .app.runner import (
    build_data,
    build_loss,
    config_of,
    evaluate_model,
    is_classifier,
    make_run_dir,
    open_checkpoint,
    run_job,
    train_run,
)
from .app.search import (
    format_params,
    format_table,
    grid_trials,
    parse_space,
    random_trials,
    run_search,
)
from .autograd.grad_mode import no_grad
from .data import transforms as T
from .data.download import DownloadError
from .fileio import UnsafePathError
from .serialization import SerializationError
from .tensor import Tensor
from .train.callbacks import NonFiniteLossError
from .train.checkpoint import CheckpointError
from .train.metrics import metric_names
from .train.trainer import Trainer

__all__ = ["main", "build_parser", "UsageError"]

EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130

# Errors a user can cause or fix, matched by type: one line on stderr (no traceback) and this
# exit code. Usage and config errors are found before anything runs; the others while running.
# OSError covers a full disk, permissions, a file where a folder should be, a vanished file;
# MemoryError a size too large for this machine (NumPy's "Unable to allocate").
_USER_ERRORS: tuple[tuple[tuple[type[BaseException], ...], int], ...] = (
    ((ConfigError, UsageError, UnsafePathError), EXIT_USAGE),  # a linked folder: the user's
    (
        (SerializationError, DataError, DownloadError, NonFiniteLossError, OSError, MemoryError),
        EXIT_FAILURE,
    ),
)  # fmt: skip

# What to do about an OSError, by errno (the message names the file and the system's reason).
_OS_HINTS = {
    errno.ENOSPC: "the disk is full: free some space or choose another out_dir",
    errno.EDQUOT: "the disk quota is exceeded: free some space or choose another out_dir",
    errno.EROFS: "a read-only file system: remount it writable or write elsewhere",
}


# ---------------------------------------------------------------------------------- helpers
def _print_err(msg: str) -> None:
    print(f"backprop: error: {msg}", file=sys.stderr, flush=True)


def _error_line(e: BaseException) -> str:
    """One line for a user error: the file and the reason for an OSError, the cause of a
    MemoryError, the message of the others."""
    if isinstance(e, MemoryError):
        why = str(e) or "an allocation failed"
        return (
            f"out of memory: {why} (a smaller model, batch_size or dataset.eval_batch_size "
            f"needs less)"
        )
    if isinstance(e, UnsafePathError):  # its message names the path and what is wrong with it
        return e.message.removeprefix("atomic_write: ")
    if isinstance(e, OSError) and e.filename is not None and e.strerror:
        where = f"{e.filename}" + (f" -> {e.filename2}" if e.filename2 is not None else "")
        if e.errno == errno.EEXIST and not os.path.isdir(e.filename):  # (mkdir of a file)
            return f"{where}: exists and is not a folder"
        hint = _OS_HINTS.get(e.errno)
        return f"{where}: {e.strerror}" + (f" ({hint})" if hint else "")
    if isinstance(e, OSError) and e.errno in _OS_HINTS:  # written without naming its file
        return f"{e.strerror or e} ({_OS_HINTS[e.errno]})"
    return str(e) or type(e).__name__


def _verbose(args) -> int:
    return 0 if getattr(args, "quiet", False) else 1


def _pct(v) -> str:
    return f"{100 * v:.2f}%" if isinstance(v, float) else str(v)


def _report_run(result, run_dir: Path | None) -> None:
    if result.stop_reason and not result.interrupted:
        print(f"Stopped: {result.stop_reason}")
    if result.test is not None:
        t = result.test
        # Name the metric: early stopping may restore another epoch by another monitor.
        which = (
            f" (the best checkpoint: epoch {result.best_epoch}, by {result.best_monitor})"
            if result.best_epoch
            else ""
        )
        line = f"Test accuracy: {_pct(t['accuracy'])}" if "accuracy" in t else "Test"
        line += "".join(  # the other scalar metrics (bits_per_token, mae, ...)
            f", {k} {v:.4f}" for k, v in t.items()
            if k not in ("loss", "accuracy", "macro_f1") and isinstance(v, float)
        )  # fmt: skip
        print(f"{line}, loss {t['loss']:.4f}{which}")
    print(f"Time: {result.seconds:.1f}s")
    if run_dir is not None:
        print(f"Run folder: {run_dir}")


def _existing(path: str) -> Path:
    if not Path(path).exists():
        raise UsageError(f"no such file or folder: {path}")
    return Path(path)


def _new_folder(make, cfg, what: str) -> Path:
    """``make(cfg)``, a folder under ``out_dir``; one that cannot be created there (a file, a
    device such as /dev/null, no permission, a full disk) is a config error naming out_dir."""
    try:
        return make(cfg)
    except OSError as e:
        raise ConfigError(
            f"out_dir = {cfg.out_dir!r}: cannot create the {what} there: {_error_line(e)}"
        ) from None


def _discard_if_unused(folder: Path) -> None:
    """Remove ``folder`` (made by this command) when nothing was written in it: it holds only
    empty files (a released lock) and empty folders. A folder with any content is kept."""
    try:
        entries = list(os.scandir(folder))
        for entry in entries:
            if entry.is_symlink() or not (entry.is_file() or entry.is_dir()):
                return
            if entry.is_file() and entry.stat().st_size > 0:
                return
            if entry.is_dir() and any(os.scandir(entry.path)):
                return
        for entry in entries:
            (os.rmdir if entry.is_dir() else os.unlink)(entry.path)
        os.rmdir(folder)
    except OSError:
        pass  # (best effort: the error that brought us here is the one to report)


def _interrupted(run_dir: Path) -> int:
    print(
        f"\nInterrupted: saved a resumable checkpoint in "
        f"{run_dir / 'checkpoints' / 'last.safetensors'}"
        f"\nContinue with: backprop resume {run_dir}",
        flush=True,
    )
    return EXIT_INTERRUPTED


# ---------------------------------------------------------------------------------- commands
def cmd_train(args) -> int:
    """``backprop train``: a run folder from a config, or an ``--overfit-batch`` check."""
    overrides = list(args.set or [])
    if args.epochs is not None:
        overrides.append(f"epochs={args.epochs}")
    if args.name is not None:
        overrides.append(f"name={json.dumps(args.name)}")
    if args.out_dir is not None:
        overrides.append(f"out_dir={json.dumps(args.out_dir)}")
    if args.overfit_batch is not None and args.epochs is None:
        overrides.append("epochs=100")  # stops as soon as it reaches 100%
    cfg = load_config(args.config, overrides)
    if args.overfit_batch is not None:
        return _overfit(cfg, args)
    run_dir = _new_folder(make_run_dir, cfg, "run folder")
    print(f"Run folder: {run_dir}")
    try:
        result = train_run(cfg, run_dir, verbose=_verbose(args))
    except BaseException:
        _discard_if_unused(run_dir)  # refused before training: leave no empty run folder behind
        raise
    if result.interrupted:
        return _interrupted(run_dir)
    _report_run(result, run_dir)
    return EXIT_OK


def _overfit(cfg, args) -> int:
    """The lectures' debugging rule: a working model fits a handful of examples perfectly."""
    n = args.overfit_batch
    if n < 1:
        raise UsageError(f"--overfit-batch must be positive, got {n}")
    if "accuracy" not in cfg.metrics:
        cfg.metrics.append("accuracy")
    print(
        f"Overfitting {n} training examples with {cfg.model.name} ({cfg.epochs} epochs at most)..."
    )
    result = train_run(cfg, None, verbose=_verbose(args), overfit=n)
    acc = result.overfit_accuracy
    if result.interrupted:
        print("Interrupted.")
        return EXIT_INTERRUPTED
    epochs_run = len(result.history.get("loss", []))
    if acc is not None and acc >= 1.0:
        print(
            f"OK: training accuracy reached 100% on {n} examples (in eval mode, after epoch "
            f"{epochs_run})."
        )
    else:
        print(
            f"WARNING: training accuracy is {_pct(acc)} on only {n} examples "
            f"after {epochs_run} epochs. A working model and "
            f"optimiser should fit a handful of examples perfectly: check the learning rate, "
            f"the labels and the loss, or the model's capacity.",
            file=sys.stderr,
        )
    return EXIT_OK


def cmd_resume(args) -> int:
    """``backprop resume``: continue a run from its last checkpoint (or finish it), after
    checking the whole run folder (app/resume.py)."""
    run_dir = Path(args.run_dir)
    outcome = resume_run(
        run_dir, epochs=args.epochs, overrides=list(args.set or []), verbose=_verbose(args),
        say=lambda line: print(line, flush=True),
    )  # fmt: skip
    result = outcome.result
    if result is None:
        print(outcome.message)
        return EXIT_OK
    if result.interrupted:
        return _interrupted(run_dir)
    _report_run(result, run_dir)
    return EXIT_OK


def cmd_eval(args) -> int:
    """``backprop eval``: score a checkpoint on a split of its dataset (or another one)."""
    path, model, ckpt = open_checkpoint(_existing(args.target))
    cfg = _eval_config(args, ckpt)
    saved = ckpt.metadata.get("data", {})
    data = build_data(cfg)
    if list(data.info["input_shape"]) != list(saved.get("input_shape", [])):
        raise UsageError(
            f"dataset {cfg.dataset.name!r} has inputs of shape {tuple(data.info['input_shape'])} "
            f"but the model was trained on {tuple(saved.get('input_shape', []))}"
        )
    # The model's own normalisation, not one refitted on another dataset.
    _renormalise(data, saved)
    loader = {"test": data.test, "val": data.val, "train": data.train}[args.split]
    trainer = Trainer(model, build_loss(cfg), metrics=cfg.metrics, verbose=0)
    info = {**data.info, "classes": saved.get("classes", data.info["classes"])}
    results = evaluate_model(trainer, loader, info, is_classifier(cfg))
    results["checkpoint"] = str(path)
    results["epoch"] = ckpt.epoch
    if args.json:
        print(json.dumps(results))
        return EXIT_OK
    print(f"Checkpoint: {path} (epoch {ckpt.epoch}, {ckpt.model_class})")
    print(
        f"Data: {cfg.dataset.name}, {args.split} split, {data.info['sizes'][args.split]} examples"
    )
    _print_eval(results)
    return EXIT_OK


def _eval_config(args, ckpt):
    """The checkpoint's config with ``--dataset``/``--root`` and the ``--set dataset.KEY=VALUE``
    overrides applied, without augmentation."""
    overrides = parse_overrides(list(args.set or []))
    for key, _ in overrides:
        if not key.startswith("dataset."):
            raise UsageError(
                f"eval --set {key}: eval changes dataset settings only (dataset.root, "
                f"dataset.download, dataset.eval_batch_size, ...); the model is the checkpoint's"
            )
    cfg = config_of(ckpt)
    if args.dataset is not None:
        cfg.dataset.name = args.dataset
        cfg.dataset.options = {}
    if args.root is not None:
        cfg.dataset.root = args.root
    if overrides:
        cfg = Config.from_dict(apply_overrides(cfg.to_dict(), overrides))
    cfg.dataset.augment = []
    if args.split == "val" and cfg.dataset.val_fraction == 0:
        raise UsageError("this run held out no validation data (dataset.val_fraction = 0)")
    try:
        validate(cfg)
    except ValueError as e:
        raise UsageError(str(e)) from None
    return cfg


def _print_eval(results: dict) -> None:
    for k, v in results.items():
        if isinstance(v, float):
            print(f"  {k}: {_pct(v) if 'acc' in k else f'{v:.4f}'}")
    if "per_class" not in results:
        return
    print("\n  class        precision  recall     f1  support")
    for name, r in results["per_class"].items():
        print(
            f"  {name[:10]:<10}  {r['precision']:>9.3f}  {r['recall']:>6.3f}  "
            f"{r['f1']:>5.3f}  {r['support']:>7d}"
        )
    cm = np.asarray(results["confusion_matrix"])
    print("\n  confusion matrix (rows: true class, columns: predicted)")
    w = max(3, len(str(cm.max())) + 1)
    for row in cm:
        print("  " + "".join(f"{v:>{w}d}" for v in row))


def _renormalise(data, saved: dict) -> None:
    """Make the eval loaders use the normalisation the model was trained with."""
    if saved.get("mean") is None:
        return
    norm = T.Normalize(saved["mean"], saved["std"])
    for loader in (data.train, data.val, data.test):
        if loader is not None:
            loader.dataset.transform = norm


def cmd_predict(args) -> int:
    """``backprop predict``: the top classes of each input (images or ``.npy`` arrays)."""
    path, model, ckpt = open_checkpoint(_existing(args.checkpoint))
    info = ckpt.metadata.get("data", {})
    shape = tuple(info.get("input_shape", ()))
    classes = info.get("classes") or [str(i) for i in range(info.get("num_classes", 0))]
    names, batches = [], []
    for item in args.inputs:
        x, labels = inputs.read_input(Path(item), shape, info, args.invert)
        names += labels
        batches.append(x)
    x = _normalised(np.concatenate(batches).astype(np.float32), info)
    with no_grad():
        logits = model(Tensor._make(x, False, None)).data.astype(np.float64)
    if logits.ndim != 2 or len(classes) != logits.shape[1]:
        raise CheckpointError(
            f"{path}: the model gives outputs of shape {logits.shape[1:]} but the checkpoint "
            f"names {len(classes)} classes"
        )
    bad = ~np.isfinite(logits).all(axis=1)
    if bad.any():  # NaN/inf weights (a damaged or tampered file), or inputs far off the scale
        raise CheckpointError(
            f"{path}: the model's outputs for {names[int(np.argmax(bad))]} are NaN or infinite "
            f"(weights holding NaN/inf, or inputs far outside the training data's scale)"
        )
    z = logits - logits.max(axis=1, keepdims=True)
    probs = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    k = max(1, min(args.top, probs.shape[1]))
    if args.json:
        out = [
            {
                "input": n,
                "class": classes[int(p.argmax())],
                "probabilities": {classes[j]: float(p[j]) for j in np.argsort(-p)[:k]},
            }
            for n, p in zip(names, probs)
        ]
        print(json.dumps(out))
        return EXIT_OK
    for n, p in zip(names, probs):
        top = np.argsort(-p)[:k]
        rest = "  ".join(f"{classes[j]}: {p[j]:.3f}" for j in top[1:])
        print(f"{n}: {classes[top[0]]} (p={p[top[0]]:.3f}){'   ' + rest if rest else ''}")
    return EXIT_OK


def _normalised(x: np.ndarray, info: dict) -> np.ndarray:
    """``x`` standardised with the training data's mean and std (per channel) when it was."""
    if info.get("mean") is None:
        return x
    mean = np.asarray(info["mean"], np.float32)
    std = np.asarray(info["std"], np.float32)
    extra = (1,) * (x.ndim - 1 - mean.ndim)
    return (x - mean.reshape(mean.shape + extra)) / std.reshape(std.shape + extra)


def cmd_search(args) -> int:
    """``backprop search``: a grid or random search over the config's ``[search.space]``."""
    cfg = load_config(args.config, list(args.set or []))
    if cfg.search is None:
        raise ConfigError(f"{args.config}: no [search] section (see `backprop search --help`)")
    with open(args.config, "rb") as f:
        raw = apply_overrides(tomllib.load(f), parse_overrides(list(args.set or [])))
    space = parse_space(cfg.search.space)
    if args.grid:
        trials = grid_trials(space)
    else:
        trials = random_trials(space, args.random, seed=cfg.search.seed)
    if args.jobs < 1:
        raise UsageError(f"--jobs must be >= 1, got {args.jobs}")
    out_dir = _new_folder(_new_search_dir, cfg, "search folder")
    # MPI workers may be on other machines: only local processes are bounded by the cores here.
    cores = (os.cpu_count() or 1) if args.executor == "local" else len(trials)
    jobs = max(1, min(args.jobs, len(trials), cores))
    kind = "grid" if args.grid else "random"
    print(
        f"{kind.capitalize()} search: {len(trials)} trials, {jobs} worker(s), ranking by "
        f"{cfg.search.metric}; folder {out_dir}",
        flush=True,
    )

    def progress(row, done, total):
        if _verbose(args):
            value = f"{row['value']:.4f}" if row["status"] == "ok" else row["status"]
            print(
                f"  [{done}/{total}] trial {row['trial']}: {cfg.search.metric} {value} "
                f"({format_params(row['params'])}; {row['seconds']:.1f}s)",
                flush=True,
            )

    try:
        result = run_search(
            cfg, raw, trials, out_dir, jobs=jobs, progress=progress, executor=args.executor
        )
    except BaseException:
        _discard_if_unused(out_dir)  # a trial config refused before any trial ran
        raise
    print()
    print(format_table(result))
    print(f"\nResults: {out_dir / 'results.csv'}")
    if result.best_config is not None:
        print(f"Best configuration: {result.best_config}")
        print(f"Train it with: backprop train --config {result.best_config}")
        return EXIT_OK
    _print_err(
        f"every one of the {len(result.rows)} trials failed (their errors are above and in "
        f"{out_dir / 'results.csv'})"
    )
    return EXIT_FAILURE


def _new_search_dir(cfg) -> Path:
    """``<out_dir>/<name>-search`` (``-2``, ``-3``... appended if taken), created."""
    return allocate_run_dir(cfg.out_dir, f"{cfg.run_name()}-search")


def cmd_export(args) -> int:
    """``backprop export RUN_OR_CHECKPOINT model.onnx``: the run's model as an ONNX file."""
    from .app.export import export_checkpoint

    shape = tuple(args.input_shape) if args.input_shape else None
    if not str(args.output).endswith(".onnx"):
        raise UsageError(f"export: the output file must end in .onnx, got {args.output!r}")
    try:
        out = export_checkpoint(
            args.target, args.output, opset=args.opset, dynamic_batch=not args.static_batch,
            input_shape=shape,
        )  # fmt: skip
    except ImportError as e:
        raise UsageError(f"export needs onnx: pip install 'backprop[onnx]' ({e})") from e
    except ValueError as e:
        raise UsageError(f"export: {e}") from e
    print(f"Wrote {out} (opset {args.opset}).")
    return EXIT_OK


def cmd_models(args) -> int:
    """``backprop models``: the zoo, with each model's input shape and first doc line."""
    names = models.list_models()
    width = max(len(n) for n in names)
    print(f"{len(names)} models (backprop train --set model.name=NAME):")
    for name in names:
        builder = models.get_model_builder(name)
        doc = (inspect.getdoc(builder) or "").strip().splitlines()
        first = doc[0].replace("``", "").rstrip(":.") if doc else ""
        if len(first) > 64:
            first = first[:61].rsplit(" ", 1)[0] + "..."
        shape = models.default_input_shape(name)
        shape_s = "x".join(map(str, shape)) if shape else "-"
        print(f"  {name:<{width}}  {shape_s:>11}  {first}")
    return EXIT_OK


def cmd_summary(args) -> int:
    """``backprop summary``: a zoo model's layer table."""
    if args.model not in models.list_models():
        raise UsageError(
            f"unknown model {args.model!r}; registered: {', '.join(models.list_models())}"
        )
    shape = tuple(args.input_shape) if args.input_shape else models.default_input_shape(args.model)
    if shape is None:
        raise UsageError(f"{args.model} has no default input shape; pass --input-shape")
    model = models.get_model(args.model)
    try:
        text = models.summary(model, shape)
    except (TypeError, ValueError, MemoryError) as e:  # an --input-shape the model cannot take
        shape_s = " ".join(map(str, shape))
        why = f"too large for this machine's memory ({e})" if isinstance(e, MemoryError) else e
        raise UsageError(f"summary {args.model} --input-shape {shape_s}: {why}") from None
    print(text)
    return EXIT_OK


# ---------------------------------------------------------------------------------- parser
def _wrap(text: str, width: int = 79) -> str:
    """Wrap each paragraph of a help text, keeping indented (example) lines as they are."""
    out = []
    for para in text.split("\n\n"):
        lines = para.split("\n")
        if any(line.startswith("  ") for line in lines):
            out.append(lines[0] if len(lines) == 1 else "\n".join(lines))
        else:
            out.append(textwrap.fill(" ".join(lines), width))
    return "\n\n".join(out)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # exit 2 with one line, as argparse does, plus a hint
        self.print_usage(sys.stderr)
        _print_err(f"{message} (see `{self.prog} --help`)")
        raise SystemExit(EXIT_USAGE)


def _components_help() -> str:
    """The names each config section accepts, read from the registries."""
    rows = [
        ("dataset.name", DATASETS.names()), ("optimizer.name", OPTIMIZERS.names()),
        ("scheduler.name", SCHEDULERS.names()), ("loss.name", LOSSES.names()),
        ("dataset.augment", AUGMENTATIONS.names()), ("metrics", [*metric_names(), "top<k>"]),
    ]  # fmt: skip
    width = max(len(key) for key, _ in rows)
    lines = ["Components (model.name: see `backprop models`):"]
    for key, names in rows:
        lines += textwrap.wrap(
            ", ".join(names), 77, initial_indent=f"  {key:<{width}}  ",
            subsequent_indent=" " * (width + 4),
        )  # fmt: skip
    return "\n".join(lines)


_DEBUG_HELP = "on an error, print the traceback too (for a bug report)"


def _subparser(sub, name: str, help_: str, description: str, func):
    sp = sub.add_parser(
        name, help=help_, description=_wrap(description),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    sp.set_defaults(func=func)
    # Also accepted after the command; SUPPRESS keeps a `backprop --debug train` from being
    # reset by the subcommand's default.
    sp.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=_DEBUG_HELP)
    return sp


def _quiet(sp) -> None:
    sp.add_argument("-q", "--quiet", action="store_true", help="no progress or epoch lines")


def _overrides(sp, help_: str) -> None:
    sp.add_argument("--set", "-s", action="append", metavar="KEY=VALUE", help=help_)


def _parser_train(sub) -> None:
    sp = _subparser(
        sub, "train", "train a model (default: a small CNN on the 8x8 digits)",
        "Train a model from a TOML config (defaults: a small CNN on the embedded 8x8 digits, "
        "about 98% test accuracy in well under a minute).\n\nWrites runs/<name>/: "
        "config.toml, history.csv, checkpoints/{best,last}.safetensors, results.json, "
        "curves.png, confusion.png.\n\nExamples:\n  backprop train\n  backprop train --config "
        "examples/lenet5_mnist.toml\n  backprop train --set optimizer.lr=0.01 --set "
        "epochs=5\n  backprop train --overfit-batch 32\n\n" + _components_help(),
        cmd_train,
    )  # fmt: skip
    sp.add_argument("--config", "-c", metavar="FILE", help="a TOML config (see examples/)")
    _overrides(sp, "override a config key, e.g. optimizer.lr=0.01 (repeatable)")
    sp.add_argument("--epochs", type=int, help="shortcut for --set epochs=N")
    sp.add_argument("--name", help="the run folder name (default: <model>-<dataset>-<time>)")
    sp.add_argument("--out-dir", help="where run folders go (default: runs)")
    sp.add_argument(
        "--overfit-batch", type=int, metavar="N",
        help="debug: train on N examples only and check that training accuracy "
        "reaches 100%% (nothing is written)",
    )  # fmt: skip
    _quiet(sp)


def _parser_resume(sub) -> None:
    sp = _subparser(
        sub, "resume", "continue an interrupted or finished run",
        "Continue training a run from its last checkpoint. The result is bit-identical to "
        "a run that was never interrupted (same seed, same config). A run whose training "
        "is complete but that has no results.json (killed at the end) is finished: test "
        "score, plots, results.json. Every checkpoint must belong to the run and "
        "config.toml must be as the run wrote it; change settings with --set.",
        cmd_resume,
    )  # fmt: skip
    sp.add_argument("run_dir", metavar="RUN_DIR", help="a run folder (runs/<name>)")
    sp.add_argument(
        "--epochs", type=int, help="the new total number of epochs (default: the config's)"
    )
    _overrides(sp, "change a config key for the rest of the run, e.g. optimizer.lr=0.01")
    _quiet(sp)


def _parser_eval(sub) -> None:
    sp = _subparser(
        sub, "eval", "evaluate a checkpoint on a dataset",
        "Evaluate a run's best checkpoint (or a given checkpoint file): loss, metrics, "
        "per-class precision/recall/F1 and the confusion matrix.",
        cmd_eval,
    )  # fmt: skip
    sp.add_argument("target", metavar="RUN_DIR_OR_CHECKPOINT")
    sp.add_argument(
        "--dataset", help="another dataset with the same input shape (default: the run's)"
    )
    sp.add_argument("--root", help="the dataset folder (MNIST, CIFAR-10)")
    sp.add_argument("--split", choices=("test", "val", "train"), default="test")
    _overrides(sp, "change a dataset setting, e.g. dataset.download=true (repeatable)")
    sp.add_argument("--json", action="store_true", help="print the results as JSON")


def _parser_predict(sub) -> None:
    sp = _subparser(
        sub, "predict", "classify images or .npy arrays with a checkpoint",
        "Print the predicted class and its probability for each input. Inputs are images "
        "(PNG; grayscale for digit models, dark-on-light pictures are inverted) or .npy "
        "arrays of one input or a batch, in the dataset's [0, 1] scale (integer arrays are "
        "divided by the dataset's maximum pixel value).",
        cmd_predict,
    )  # fmt: skip
    sp.add_argument("checkpoint", metavar="CHECKPOINT", help="a checkpoint file or a run folder")
    sp.add_argument("inputs", metavar="INPUT", nargs="+", help="image or .npy files")
    sp.add_argument("--top", type=int, default=3, help="how many classes to show (default 3)")
    sp.add_argument(
        "--invert", choices=("auto", "yes", "no"), default="auto",
        help="invert images (default: when the border is light)",
    )  # fmt: skip
    sp.add_argument("--json", action="store_true", help="print the predictions as JSON")


def _parser_search(sub) -> None:
    sp = _subparser(
        sub, "search", "hyper-parameter search (grid or random) in parallel",
        "Run a grid or random search over the [search.space] of CONFIG, trials in worker "
        "processes; print the results sorted by the validation metric and write the best "
        "configuration as best.toml.\n\nExample space:\n  [search]\n  metric = "
        '"val_accuracy"\n  [search.space]\n  "optimizer.lr" = { dist = "loguniform", '
        'low = 1e-4, high = 1e-1, num = 4 }\n  "model.dropout" = [0.0, 0.25, 0.5]',
        cmd_search,
    )  # fmt: skip
    sp.add_argument("config", metavar="CONFIG", help="a TOML config with a [search] section")
    how = sp.add_mutually_exclusive_group(required=True)
    how.add_argument("--grid", action="store_true", help="every combination")
    how.add_argument("--random", type=int, metavar="N", help="N random configurations")
    sp.add_argument("--jobs", "-j", type=int, default=1, help="worker processes (default 1)")
    sp.add_argument(
        "--executor", choices=("local", "mpi"), default="local",
        help="where trials run: local worker processes (default), or MPI workers spawned by "
        "mpi4py.futures (launch the search with mpiexec -n 1)",
    )  # fmt: skip
    _overrides(sp, "override a key of the base config")
    _quiet(sp)


def _parser_models(sub) -> None:
    _subparser(
        sub, "models", "list the model zoo",
        "List the registered models, their default input shapes, and what they are.",
        cmd_models,
    )  # fmt: skip


def _parser_summary(sub) -> None:
    sp = _subparser(
        sub, "summary", "a model's layers, shapes, parameters and multiply-adds",
        "Print the summary table of a zoo model.", cmd_summary,
    )  # fmt: skip
    sp.add_argument("model", metavar="MODEL")
    sp.add_argument(
        "--input-shape", type=int, nargs="+", metavar="D",
        help="per-example input shape, e.g. 1 28 28",
    )  # fmt: skip


def _parser_export(sub) -> None:
    sp = _subparser(
        sub, "export", "a trained model as an ONNX file (checked by onnx's checker)",
        "Export the model of a `backprop train` run (its best checkpoint, else its last) or of "
        "a checkpoint file to ONNX, for ONNX Runtime and other serving runtimes. The file "
        "records the training normalisation and class names in its metadata.\n\nExample:\n"
        "  backprop export runs/digits model.onnx",
        cmd_export,
    )  # fmt: skip
    sp.add_argument("target", metavar="RUN_OR_CHECKPOINT")
    sp.add_argument("output", metavar="OUTPUT.onnx")
    sp.add_argument("--opset", type=int, default=20, help="ONNX opset, 17 to 22 (default 20)")
    sp.add_argument(
        "--static-batch", action="store_true", help="a fixed batch axis instead of a dynamic one"
    )
    sp.add_argument(
        "--input-shape", type=int, nargs="+", metavar="D",
        help="per-example input shape, when the checkpoint does not record one",
    )  # fmt: skip


# One parser function per subcommand, in the order `backprop --help` lists them.
_PARSERS = (
    _parser_train, _parser_resume, _parser_eval, _parser_predict, _parser_search,
    _parser_export, _parser_models, _parser_summary,
)  # fmt: skip


def build_parser() -> argparse.ArgumentParser:
    """The ``backprop`` argument parser with every subcommand."""
    from . import __version__

    p = _Parser(
        prog="backprop",
        description="Train, evaluate and use neural networks built with backprop.",
        epilog=_wrap(
            "Run `backprop COMMAND --help` for the options of a command. With no config, "
            "`backprop train` trains a small CNN on the 8x8 digits (no download needed)."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--version", action="version", version=f"backprop {__version__}")
    p.add_argument("--debug", action="store_true", help=_DEBUG_HELP)
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for add in _PARSERS:
        add(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code. Under ``mpiexec -n W``, rank 0 runs the
    command (folders, files, output) and the other ranks train with it: see
    :func:`backprop.app.runner.run_job`."""
    return run_job(lambda: _main(argv), _job_error)


def _job_error(e: BaseException) -> int:
    """An error on a rank other than 0 of an MPI job: one line naming the rank (a traceback for
    a bug), and its exit code."""
    from .distributed import rank

    for types, code in _USER_ERRORS:
        if isinstance(e, types):
            _print_err(f"rank {rank()}: {e}")
            return code
    import traceback

    traceback.print_exception(e)
    return EXIT_FAILURE


def _main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code (a bare ``backprop``: the help, exit 2)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    debug = getattr(args, "debug", False)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        if debug:
            traceback.print_exc()
        print("\nInterrupted.", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as e:
        for types, code in _USER_ERRORS:
            if isinstance(e, types):
                if debug:
                    traceback.print_exc()
                _print_err(_error_line(e))
                return code
        raise


if __name__ == "__main__":
    sys.exit(main())
