"""The ``backprop`` command line (also ``python -m backprop``).

    backprop train [--config FILE] [--set KEY=VALUE ...] [--overfit-batch N]
    backprop resume RUN_DIR [--epochs N]
    backprop eval RUN_DIR_OR_CHECKPOINT [--dataset NAME] [--split test|val|train]
    backprop predict CHECKPOINT INPUT ... [--top K]
    backprop search CONFIG (--grid | --random N) [--jobs J]
    backprop models
    backprop summary MODEL [--input-shape C H W]

Exit codes: 0 success, 1 a failure while running (bad checkpoint, diverged training, missing
data), 2 a usage or configuration error (reported before anything runs), 130 interrupted by
Ctrl-C (training writes a resumable checkpoint first). Errors a user can fix are one line on
stderr, without a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

__all__ = ["main", "build_parser"]

EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


class UsageError(Exception):
    """A wrong argument, file or value given on the command line (exit code 2)."""


# ---------------------------------------------------------------------------------- helpers
def _print_err(msg: str) -> None:
    print(f"backprop: error: {msg}", file=sys.stderr, flush=True)


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
        print(f"{line}, loss {t['loss']:.4f}{which}")
    print(f"Time: {result.seconds:.1f}s")
    if run_dir is not None:
        print(f"Run folder: {run_dir}")


def _existing(path: str) -> Path:
    if not Path(path).exists():
        raise UsageError(f"no such file or folder: {path}")
    return Path(path)


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
    from .app.config import load_config
    from .app.runner import make_run_dir, train_run

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
        if args.overfit_batch < 1:
            raise UsageError(f"--overfit-batch must be positive, got {args.overfit_batch}")
        if "accuracy" not in cfg.metrics:
            cfg.metrics.append("accuracy")
        print(
            f"Overfitting {args.overfit_batch} training examples with {cfg.model.name} "
            f"({cfg.epochs} epochs at most)..."
        )
        result = train_run(cfg, None, verbose=_verbose(args), overfit=args.overfit_batch)
        acc = result.overfit_accuracy
        if result.interrupted:
            print("Interrupted.")
            return EXIT_INTERRUPTED
        if acc is not None and acc >= 1.0:
            print(
                f"OK: training accuracy reached 100% on {args.overfit_batch} examples "
                f"({result.stop_reason or f'after {cfg.epochs} epochs'})."
            )
        else:
            print(
                f"WARNING: training accuracy is {_pct(acc)} on only {args.overfit_batch} examples "
                f"after {len(result.history.get('loss', []))} epochs. A working model and "
                f"optimiser should fit a handful of examples perfectly: check the learning rate, "
                f"the labels and the loss, or the model's capacity.",
                file=sys.stderr,
            )
        return EXIT_OK
    run_dir = make_run_dir(cfg)
    print(f"Run folder: {run_dir}")
    result = train_run(cfg, run_dir, verbose=_verbose(args))
    if result.interrupted:
        return _interrupted(run_dir)
    _report_run(result, run_dir)
    return EXIT_OK


def cmd_resume(args) -> int:
    from .app.runner import config_of, train_run
    from .train.checkpoint import read_checkpoint

    run_dir = Path(args.run_dir)
    last = run_dir / "checkpoints" / "last.safetensors"
    if not run_dir.is_dir():
        raise UsageError(f"no such run folder: {run_dir}")
    if not last.is_file():
        raise UsageError(f"{run_dir} has no checkpoints/last.safetensors to resume from")
    ckpt = read_checkpoint(last)
    cfg = config_of(ckpt)
    epochs = cfg.epochs if args.epochs is None else args.epochs
    trainer_state = ckpt.trainer or {}
    partial = trainer_state.get("partial")
    mid = isinstance(partial, dict)
    if trainer_state.get("stop_training") and not mid and args.epochs is None:
        print(
            f"{run_dir} stopped early after epoch {ckpt.epoch} (early stopping); pass --epochs "
            f"to train further anyway."
        )
        return EXIT_OK
    if ckpt.epoch >= epochs and not mid:
        print(
            f"{run_dir} already completed {ckpt.epoch} of {epochs} epochs; pass --epochs to "
            f"train longer."
        )
        return EXIT_OK
    where = f"epoch {ckpt.epoch + 1}" + (f", batch {partial.get('batch', 0) + 1}" if mid else "")
    print(f"Resuming {run_dir} at {where} (of {epochs} epochs)")
    if args.epochs is not None and args.epochs != cfg.epochs:
        cfg.epochs = args.epochs  # so that the checkpoints and results record the new total
    result = train_run(cfg, run_dir, verbose=_verbose(args), resume=True, epochs=epochs)
    if result.interrupted:
        return _interrupted(run_dir)
    _report_run(result, run_dir)
    return EXIT_OK


def cmd_eval(args) -> int:
    import numpy as np

    from .app.runner import (
        build_data,
        config_of,
        evaluate_model,
        find_checkpoint,
        is_classifier,
        load_model,
    )
    from .train.trainer import Trainer

    path = find_checkpoint(_existing(args.target))
    model, ckpt = load_model(path)
    cfg = config_of(ckpt)
    if args.dataset is not None:
        cfg.dataset.name = args.dataset
        cfg.dataset.options = {}
    if args.root is not None:
        cfg.dataset.root = args.root
    cfg.dataset.augment = []
    if args.split == "val" and cfg.dataset.val_fraction == 0:
        raise UsageError("this run held out no validation data (dataset.val_fraction = 0)")
    try:
        from .app.config import validate

        validate(cfg)
    except ValueError as e:
        raise UsageError(str(e)) from None
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
    from .app.runner import build_loss

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
    for k, v in results.items():
        if isinstance(v, float):
            print(f"  {k}: {_pct(v) if 'acc' in k else f'{v:.4f}'}")
    if "per_class" in results:
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
    return EXIT_OK


def _renormalise(data, saved: dict) -> None:
    """Make the eval loaders use the normalisation the model was trained with."""
    from .data import transforms as T

    if saved.get("mean") is None:
        return
    norm = T.Normalize(saved["mean"], saved["std"])
    for loader in (data.train, data.val, data.test):
        if loader is not None:
            loader.dataset.transform = norm


def cmd_predict(args) -> int:
    import numpy as np

    from .app.runner import find_checkpoint, load_model
    from .autograd.grad_mode import no_grad
    from .tensor import Tensor

    path = find_checkpoint(_existing(args.checkpoint))
    model, ckpt = load_model(path)
    info = ckpt.metadata.get("data", {})
    shape = tuple(info.get("input_shape", ()))
    classes = info.get("classes") or [str(i) for i in range(info.get("num_classes", 0))]
    names, batches = [], []
    for item in args.inputs:
        x, labels = _read_input(Path(item), shape, info, args.invert)
        names += labels
        batches.append(x)
    x = np.concatenate(batches).astype(np.float32)
    if info.get("mean") is not None:
        mean = np.asarray(info["mean"], np.float32)
        std = np.asarray(info["std"], np.float32)
        extra = (1,) * (x.ndim - 1 - mean.ndim)
        x = (x - mean.reshape(mean.shape + extra)) / std.reshape(std.shape + extra)
    with no_grad():
        logits = model(Tensor._make(x, False, None)).data.astype(np.float64)
    if logits.ndim != 2 or len(classes) != logits.shape[1]:
        from .train.checkpoint import CheckpointError

        raise CheckpointError(
            f"{path}: the model gives outputs of shape {logits.shape[1:]} but the checkpoint "
            f"names {len(classes)} classes"
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


def _read_input(path: Path, shape: tuple, info: dict, invert: str):
    """One input file -> (batch of float32 inputs in the dataset's [0, 1] scale, names)."""
    import numpy as np

    if not path.is_file():
        raise UsageError(f"no such input file: {path}")
    if path.suffix.lower() == ".npy":
        a = _load_npy(path)
        if a.dtype.kind in "iu":
            a = a.astype(np.float32) / np.float32(info.get("raw_max") or 255)
        a = a.astype(np.float32, copy=False)
        if a.shape == shape:
            return a[None], [str(path)]
        if a.ndim == len(shape) + 1 and a.shape[1:] == shape:
            return a, [f"{path}[{i}]" for i in range(len(a))]
        if len(shape) == 3 and shape[0] == 1 and a.shape[-2:] == shape[1:] and a.ndim in (2, 3):
            a = a.reshape(-1, *shape)
            return a, ([str(path)] if len(a) == 1 else [f"{path}[{i}]" for i in range(len(a))])
        raise UsageError(
            f"{path}: array of shape {a.shape}; the model takes {shape} (or a batch (N, *{shape}))"
        )
    if len(shape) != 3:
        raise UsageError(f"{path}: this model takes arrays of shape {shape}; give a .npy file")
    return _read_image(path, shape, invert)[None], [str(path)]


def _load_npy(path: Path):
    """A plain .npy array, its header checked against the file size before anything is
    allocated (``np.load`` would allocate whatever the header claims), and never unpickled."""
    import math
    from tokenize import TokenError

    import numpy as np
    from numpy.lib import format as npy

    try:
        with open(path, "rb") as f:
            version = npy.read_magic(f)
            if version not in ((1, 0), (2, 0), (3, 0)):
                raise ValueError(f"unsupported .npy version {version}")
            read_header = npy.read_array_header_1_0 if version == (1, 0) else (
                npy.read_array_header_2_0
            )  # fmt: skip
            shape, fortran, dtype = read_header(f)
            if dtype.hasobject:
                raise ValueError("it holds Python objects (a pickle), which are never loaded")
            expected = math.prod(shape) * dtype.itemsize
            actual = os.fstat(f.fileno()).st_size - f.tell()
            if actual != expected:
                raise ValueError(
                    f"the header says shape {shape} of {dtype} ({expected:,} bytes) but the file "
                    f"holds {actual:,} bytes of data"
                )
        return np.load(path, allow_pickle=False)
    except (ValueError, EOFError, SyntaxError, TypeError, OverflowError, TokenError) as e:
        # (NumPy's header parser raises TokenError or SyntaxError on some corrupted headers.)
        raise UsageError(f"{path}: not a plain .npy array ({e})") from None


def _read_image(path: Path, shape: tuple, invert: str):
    """A PNG/JPEG -> float32 (C, H, W) in [0, 1], resized by area averaging / interpolation,
    white-on-black like MNIST and the digits (inverted when the picture is dark-on-light)."""
    import numpy as np

    try:
        import matplotlib.image as mpimg
    except ImportError:
        raise UsageError("reading images needs matplotlib (pip install matplotlib)") from None
    try:
        img = np.asarray(mpimg.imread(path), dtype=np.float32)
    except Exception as e:  # matplotlib/Pillow raise many kinds for a bad file
        raise UsageError(f"{path}: cannot read the image ({e})") from None
    if img.dtype.kind != "f" or img.max() > 1.0:
        img = img / 255.0
    if img.ndim == 3:
        if img.shape[2] == 4:  # composite transparency onto white
            img = img[..., :3] * img[..., 3:] + (1.0 - img[..., 3:])
        img = img[..., :3]
    c, h, w = shape
    if c == 1:
        img = img @ np.array([0.299, 0.587, 0.114], np.float32) if img.ndim == 3 else img
        img = img[..., None]
    elif img.ndim == 2:
        img = np.repeat(img[..., None], c, axis=2)
    img = _resize(img, h, w)
    if invert == "yes" or (invert == "auto" and c == 1 and _border_mean(img) > 0.5):
        img = 1.0 - img
    return np.clip(img.transpose(2, 0, 1), 0.0, 1.0).astype(np.float32)


def _border_mean(img) -> float:
    import numpy as np

    return float(
        np.concatenate(
            [img[0].ravel(), img[-1].ravel(), img[:, 0].ravel(), img[:, -1].ravel()]
        ).mean()
    )


def _resize(img, h: int, w: int):
    """Resize (H, W, C) by bilinear interpolation at pixel centres, after a box blur when
    shrinking a lot (so that thin strokes are averaged, not skipped)."""
    import numpy as np

    H, W = img.shape[:2]
    if (H, W) == (h, w):
        return img
    fy, fx = max(1, H // h), max(1, W // w)
    if fy > 1 or fx > 1:
        Hc, Wc = (H // fy) * fy, (W // fx) * fx
        img = img[:Hc, :Wc].reshape(Hc // fy, fy, Wc // fx, fx, -1).mean(axis=(1, 3))
        H, W = img.shape[:2]
    ys = np.clip((np.arange(h) + 0.5) * H / h - 0.5, 0, H - 1)
    xs = np.clip((np.arange(w) + 0.5) * W / w - 0.5, 0, W - 1)
    y0, x0 = np.floor(ys).astype(int), np.floor(xs).astype(int)
    y1, x1 = np.minimum(y0 + 1, H - 1), np.minimum(x0 + 1, W - 1)
    wy, wx = (ys - y0)[:, None, None], (xs - x0)[None, :, None]
    top = img[y0][:, x0] * (1 - wx) + img[y0][:, x1] * wx
    bottom = img[y1][:, x0] * (1 - wx) + img[y1][:, x1] * wx
    return (top * (1 - wy) + bottom * wy).astype(np.float32)


def cmd_search(args) -> int:
    import tomllib

    from .app.config import ConfigError, apply_overrides, load_config, parse_overrides
    from .app.search import format_table, grid_trials, parse_space, random_trials, run_search

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
    out_dir = Path(cfg.out_dir) / f"{cfg.run_name()}-search"
    k = 1
    while out_dir.exists():
        k += 1
        out_dir = Path(cfg.out_dir) / f"{cfg.run_name()}-search-{k}"
    out_dir.mkdir(parents=True)
    jobs = max(1, min(args.jobs, len(trials), os.cpu_count() or 1))
    kind = "grid" if args.grid else "random"
    print(
        f"{kind.capitalize()} search: {len(trials)} trials, {jobs} worker(s), ranking by "
        f"{cfg.search.metric}; folder {out_dir}",
        flush=True,
    )

    def progress(row, done, total):
        if _verbose(args):
            from .app.search import format_params as _fmt_params

            value = f"{row['value']:.4f}" if row["status"] == "ok" else row["status"]
            print(
                f"  [{done}/{total}] trial {row['trial']}: {cfg.search.metric} {value} "
                f"({_fmt_params(row['params'])}; {row['seconds']:.1f}s)",
                flush=True,
            )

    result = run_search(cfg, raw, trials, out_dir, jobs=jobs, progress=progress)
    print()
    print(format_table(result))
    print(f"\nResults: {out_dir / 'results.csv'}")
    if result.best_config is not None:
        print(f"Best configuration: {result.best_config}")
        print(f"Train it with: backprop train --config {result.best_config}")
        return EXIT_OK
    print("Every trial failed.", file=sys.stderr)
    return EXIT_FAILURE


def cmd_models(args) -> int:
    import inspect

    from . import models

    names = models.list_models()
    width = max(len(n) for n in names)
    print(f"{len(names)} models (backprop train --set model.name=NAME):")
    for name in names:
        builder = models._lookup(name, "models")
        doc = (inspect.getdoc(builder) or "").strip().splitlines()
        first = doc[0].replace("``", "").rstrip(":.") if doc else ""
        if len(first) > 64:
            first = first[:61].rsplit(" ", 1)[0] + "..."
        shape = models.default_input_shape(name)
        shape_s = "x".join(map(str, shape)) if shape else "-"
        print(f"  {name:<{width}}  {shape_s:>11}  {first}")
    return EXIT_OK


def cmd_summary(args) -> int:
    from . import models

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
    except (TypeError, ValueError) as e:  # an --input-shape the model cannot take
        shape_s = " ".join(map(str, shape))
        raise UsageError(f"summary {args.model} --input-shape {shape_s}: {e}") from None
    print(text)
    return EXIT_OK


# ---------------------------------------------------------------------------------- parser
def _wrap(text: str, width: int = 79) -> str:
    """Wrap each paragraph of a help text, keeping indented (example) lines as they are."""
    import textwrap

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


def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    fmt = argparse.RawDescriptionHelpFormatter
    p = _Parser(
        prog="backprop",
        description="Train, evaluate and use neural networks built with backprop.",
        epilog=_wrap(
            "Run `backprop COMMAND --help` for the options of a command. With no config, "
            "`backprop train` trains a small CNN on the 8x8 digits (no download needed)."
        ),
        formatter_class=fmt,
    )
    p.add_argument("--version", action="version", version=f"backprop {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    def add(name, help_, description, func):
        sp = sub.add_parser(name, help=help_, description=_wrap(description), formatter_class=fmt)
        sp.set_defaults(func=func)
        return sp

    def quiet(sp):
        sp.add_argument("-q", "--quiet", action="store_true", help="no progress or epoch lines")

    sp = add(
        "train",
        "train a model (default: a small CNN on the 8x8 digits)",
        "Train a model from a TOML config (defaults: a small CNN on the embedded 8x8 digits, "
        "about 98% test accuracy in well under a minute).\n\nWrites runs/<name>/: "
        "config.toml, "
        "history.csv, checkpoints/{best,last}.safetensors, results.json, curves.png, "
        "confusion.png.\n\nExamples:\n  backprop train\n  backprop train --config "
        "examples/lenet5_mnist.toml\n  backprop train --set optimizer.lr=0.01 --set "
        "epochs=5\n  backprop train --overfit-batch 32",
        cmd_train,
    )
    sp.add_argument("--config", "-c", metavar="FILE", help="a TOML config (see examples/)")
    sp.add_argument(
        "--set",
        "-s",
        action="append",
        metavar="KEY=VALUE",
        help="override a config key, e.g. optimizer.lr=0.01 (repeatable)",
    )
    sp.add_argument("--epochs", type=int, help="shortcut for --set epochs=N")
    sp.add_argument("--name", help="the run folder name (default: <model>-<dataset>-<time>)")
    sp.add_argument("--out-dir", help="where run folders go (default: runs)")
    sp.add_argument(
        "--overfit-batch",
        type=int,
        metavar="N",
        help="debug: train on N examples only and check that training accuracy "
        "reaches 100%% (nothing is written)",
    )
    quiet(sp)

    sp = add(
        "resume",
        "continue an interrupted or finished run",
        "Continue training a run from its last checkpoint. The result is bit-identical to "
        "a run that was never interrupted (same seed, same config).",
        cmd_resume,
    )
    sp.add_argument("run_dir", metavar="RUN_DIR", help="a run folder (runs/<name>)")
    sp.add_argument(
        "--epochs", type=int, help="the new total number of epochs (default: the config's)"
    )
    quiet(sp)

    sp = add(
        "eval",
        "evaluate a checkpoint on a dataset",
        "Evaluate a run's best checkpoint (or a given checkpoint file): loss, metrics, "
        "per-class precision/recall/F1 and the confusion matrix.",
        cmd_eval,
    )
    sp.add_argument("target", metavar="RUN_DIR_OR_CHECKPOINT")
    sp.add_argument(
        "--dataset", help="another dataset with the same input shape (default: the run's)"
    )
    sp.add_argument("--root", help="the dataset folder (MNIST, CIFAR-10)")
    sp.add_argument("--split", choices=("test", "val", "train"), default="test")
    sp.add_argument("--json", action="store_true", help="print the results as JSON")

    sp = add(
        "predict",
        "classify images or .npy arrays with a checkpoint",
        "Print the predicted class and its probability for each input. Inputs are images "
        "(PNG; grayscale for digit models, dark-on-light pictures are inverted) or .npy "
        "arrays of one input or a batch, in the dataset's [0, 1] scale (integer arrays are "
        "divided by the dataset's maximum pixel value).",
        cmd_predict,
    )
    sp.add_argument("checkpoint", metavar="CHECKPOINT", help="a checkpoint file or a run folder")
    sp.add_argument("inputs", metavar="INPUT", nargs="+", help="image or .npy files")
    sp.add_argument("--top", type=int, default=3, help="how many classes to show (default 3)")
    sp.add_argument(
        "--invert",
        choices=("auto", "yes", "no"),
        default="auto",
        help="invert images (default: when the border is light)",
    )
    sp.add_argument("--json", action="store_true", help="print the predictions as JSON")

    sp = add(
        "search",
        "hyper-parameter search (grid or random) in parallel",
        "Run a grid or random search over the [search.space] of CONFIG, trials in worker "
        "processes; print the results sorted by the validation metric and write the best "
        "configuration as best.toml.\n\nExample space:\n  [search]\n  metric = "
        '"val_accuracy"\n  [search.space]\n  "optimizer.lr" = { dist = "loguniform", '
        'low = 1e-4, high = 1e-1, num = 4 }\n  "model.dropout" = [0.0, 0.25, 0.5]',
        cmd_search,
    )
    sp.add_argument("config", metavar="CONFIG", help="a TOML config with a [search] section")
    how = sp.add_mutually_exclusive_group(required=True)
    how.add_argument("--grid", action="store_true", help="every combination")
    how.add_argument("--random", type=int, metavar="N", help="N random configurations")
    sp.add_argument("--jobs", "-j", type=int, default=1, help="worker processes (default 1)")
    sp.add_argument(
        "--set",
        "-s",
        action="append",
        metavar="KEY=VALUE",
        help="override a key of the base config",
    )
    quiet(sp)

    add(
        "models",
        "list the model zoo",
        "List the registered models, their default input shapes, and what they are.",
        cmd_models,
    )

    sp = add(
        "summary",
        "a model's layers, shapes, parameters and multiply-adds",
        "Print the summary table of a zoo model.",
        cmd_summary,
    )
    sp.add_argument("model", metavar="MODEL")
    sp.add_argument(
        "--input-shape",
        type=int,
        nargs="+",
        metavar="D",
        help="per-example input shape, e.g. 1 28 28",
    )
    return p


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    from .app.errors import ConfigError, DataError
    from .serialization import SerializationError

    try:
        return args.func(args)
    except (ConfigError, UsageError) as e:
        _print_err(str(e))
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("\nInterrupted.", file=sys.stderr)
        return EXIT_INTERRUPTED
    except (SerializationError, DataError, FileNotFoundError, PermissionError) as e:
        _print_err(str(e))
        return EXIT_FAILURE
    except Exception as e:
        from .train.callbacks import NonFiniteLossError

        if isinstance(e, NonFiniteLossError) or type(e).__name__ == "DownloadError":
            _print_err(str(e))
            return EXIT_FAILURE
        raise


if __name__ == "__main__":
    sys.exit(main())
