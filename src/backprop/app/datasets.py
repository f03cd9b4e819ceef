"""The datasets a config may name, each a small builder registered in :data:`DATASETS`.

A builder takes the ``[dataset]`` section (a :class:`~backprop.app.config.DatasetConfig`) and
returns :class:`DatasetParts`: the full training set (the validation part is split off it later),
the test set, the class names, and the largest raw pixel value (what ``predict`` divides integer
inputs by; None for data that is not pixels). Registering it with its own options and their
defaults is all a new dataset needs::

    @DATASETS.register("kmnist", options={}, files=True, summary="Kuzushiji-MNIST (28x28)")
    def _kmnist(d: DatasetSection) -> DatasetParts:
        return _vision(d, D.KMNIST)

``files=True`` marks data read from files: a ValueError while reading it is a
:class:`~backprop.app.errors.DataError` (exit 1: a bad file), not a configuration error (exit 2).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple, Protocol

import numpy as np

from .. import data as D
from ..data.datasets.toy import TOY_DATASETS
from ..data.text import TextWindows, load_char_text
from .registry import Registry

__all__ = ["DATASETS", "DatasetParts", "DatasetSection", "default_mnist_root", "project_root"]


class DatasetSection(Protocol):
    """What a builder reads of the ``[dataset]`` section (a ``DatasetConfig``)."""

    name: str
    root: str
    download: bool
    split_seed: int
    options: dict[str, Any]


class DatasetParts(NamedTuple):
    """What a dataset builder returns."""

    train: Any  # the full training set (before the validation split)
    test: Any
    classes: list[str]
    raw_max: float | None  # the largest raw pixel value (integer inputs are divided by it)


DATASETS = Registry("dataset")


def project_root() -> Path | None:
    """The source checkout this package runs from (``src/backprop`` two levels down), if any."""
    root = Path(__file__).resolve().parents[3]
    return root if (root / "pyproject.toml").is_file() else None


def default_mnist_root() -> Path | None:
    """``../shared/data/mnist`` beside the project (or the current folder) when it exists."""
    for base in (Path.cwd(), project_root()):
        if base is not None:
            candidate = (base / ".." / "shared" / "data" / "mnist").resolve()
            if (candidate / "t10k-images-idx3-ubyte.gz").is_file():
                return candidate
    return None


@DATASETS.register(
    "digits", options={"test_fraction": 0.2}, files=False,
    summary="8x8 handwritten digits, embedded (no download)",
)  # fmt: skip
def _digits(d: DatasetSection) -> DatasetParts:
    tf = d.options.get("test_fraction", 0.2)
    return DatasetParts(
        D.Digits(train=True, test_fraction=tf),
        D.Digits(train=False, test_fraction=tf),
        [str(i) for i in range(10)],
        16,
    )


def _vision(d: DatasetSection, cls, default_root: Path | None = None) -> DatasetParts:
    root: Path | None = Path(d.root).expanduser() if d.root else default_root
    try:
        train = cls(root=root, train=True, download=d.download)
        test = cls(root=root, train=False, download=d.download)
    except FileNotFoundError as e:
        raise FileNotFoundError(
            f"{e}\n(in a config: set dataset.root to the folder holding the files, or "
            f"dataset.download = true; from the command line: --set dataset.download=true)"
        ) from None
    return DatasetParts(train, test, [str(c) for c in cls.classes], 255)


@DATASETS.register("mnist", options={}, files=True, summary="MNIST digits (28x28)")
def _mnist(d: DatasetSection) -> DatasetParts:
    return _vision(d, D.MNIST, default_mnist_root())


@DATASETS.register("fashion_mnist", options={}, files=True, summary="Fashion-MNIST (28x28)")
def _fashion_mnist(d: DatasetSection) -> DatasetParts:
    return _vision(d, D.FashionMNIST)


@DATASETS.register("cifar10", options={}, files=True, summary="CIFAR-10 (3x32x32)")
def _cifar10(d: DatasetSection) -> DatasetParts:
    return _vision(d, D.CIFAR10)


def _toy(d: DatasetSection) -> DatasetParts:
    """A 2-D toy problem with a fixed, stratified test split (``dataset.split_seed``)."""
    opts = d.options
    full = D.Toy2D(d.name, n=opts.get("n", 1000), noise=opts.get("noise", 0.2), seed=d.split_seed)
    n_test = round(len(full) * opts.get("test_fraction", 0.2))
    train_idx, test_idx = D.stratified_indices(
        full.targets, [len(full) - n_test, n_test], generator=np.random.default_rng(d.split_seed)
    )
    return DatasetParts(
        D.Subset(full, np.sort(train_idx)), D.Subset(full, np.sort(test_idx)),
        list(full.classes), None,
    )  # fmt: skip


# Every generator of backprop.data's toy table is a dataset (a new one there needs no edit here).
for _name in TOY_DATASETS:
    DATASETS.register(
        _name, _toy, options={"n": 1000, "noise": 0.2, "test_fraction": 0.2}, files=False,
        summary=f"2-D toy problem ({_name})",
    )  # fmt: skip


def default_text_path() -> Path | None:
    """``examples/data/poems.txt`` of the source checkout, when there is one."""
    root = project_root()
    path = None if root is None else root / "examples" / "data" / "poems.txt"
    return path if path is not None and path.is_file() else None


@DATASETS.register(
    "text", options={"path": "", "block": 64}, files=True, stratify=False, normalize=False,
    summary="characters of a text file as next-character windows (default: examples' poems)",
)  # fmt: skip
def _text(d: DatasetSection) -> DatasetParts:
    """Windows of ``block`` characters (inputs and the targets one character ahead) for a
    language model such as ``gpt``. The held-out part (every tenth block of 1,000 characters,
    as in examples/char_lm.py and gpt_char.py) is the test set; the classes are the alphabet.
    Windows do not overlap, so the validation split the runner takes off the training windows
    shares no input character with them."""
    given = d.options.get("path", "")
    path = Path(given).expanduser() if given else default_text_path()
    if path is None:
        raise FileNotFoundError("dataset text: set dataset.path to a UTF-8 text file")
    block = d.options.get("block", 64)
    corpus = load_char_text(path)
    return DatasetParts(
        TextWindows(corpus.train_ids, block), TextWindows(corpus.val_ids, block),
        list(corpus.vocab), None,
    )  # fmt: skip
