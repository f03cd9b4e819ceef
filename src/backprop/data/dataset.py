"""Datasets and splits, after ``torch.utils.data``: ``Dataset``, ``TensorDataset``, ``Subset``,
``ConcatDataset``, ``random_split``, plus stratified splits.

A map-style dataset is anything with ``__len__`` and ``__getitem__(i)``. A dataset that holds whole
arrays can also say ``supports_batching`` and implement ``get_batch(indices)``: the items at
``indices`` already stacked (the structure of one item, each array with a leading batch dimension).
The :class:`~backprop.data.DataLoader` then fetches a batch with one fancy-indexing operation
instead of collating it item by item, which is what makes loading nearly free next to training.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .. import random as _random
from ..tensor import Tensor

__all__ = [
    "Dataset",
    "TensorDataset",
    "Subset",
    "ConcatDataset",
    "random_split",
    "stratified_split",
    "stratified_indices",
    "train_val_split",
    "dataset_labels",
]


class Dataset:
    """Base class of map-style datasets: subclasses define ``__getitem__`` and ``__len__``.

    Optionally, a subclass that can fetch many items at once sets ``supports_batching`` to True
    and implements :meth:`get_batch`; ``dataset[i]`` and ``get_batch([i])`` must agree (up to
    random draws of random transforms).

    ``a + b`` concatenates two datasets (a :class:`ConcatDataset`).
    """

    def __getitem__(self, index: int):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must define __len__")

    def __add__(self, other: Dataset) -> ConcatDataset:
        return ConcatDataset([self, other])

    @property
    def supports_batching(self) -> bool:
        """Whether :meth:`get_batch` is available (False unless a subclass says otherwise)."""
        return False

    def get_batch(self, indices: np.ndarray):
        """The items at ``indices`` (a 1-D int array), stacked along a new first dimension.

        Returns the structure of one item (a tuple, usually ``(inputs, targets)``) whose arrays
        carry a leading batch dimension.
        """
        raise NotImplementedError(f"{type(self).__name__} does not support get_batch")


def _index(i, n: int, who: str) -> int:
    """A Python int in [0, n) from an int-like, negative counting from the end."""
    try:
        i = operator.index(i)
    except TypeError:
        raise TypeError(f"{who}: index must be an int, got {type(i).__name__}") from None
    if not -n <= i < n:
        raise IndexError(f"{who}: index {i} is out of range for {n} items")
    return i + n if i < 0 else i


def _as_array(x) -> np.ndarray:
    return x.data if isinstance(x, Tensor) else np.asarray(x)


class TensorDataset(Dataset):
    """Samples are rows of the given tensors (or arrays), which share their first dimension.

    Items are tuples of Tensors, as in PyTorch; the arrays are kept (not copied) in ``arrays``
    and, wrapped, in ``tensors``.

    Example:
        >>> ds = TensorDataset(backprop.randn(100, 3), backprop.zeros(100, dtype=backprop.int64))
        >>> x, y = ds[0]                       # Tensors of shapes (3,) and ()
    """

    def __init__(self, *tensors) -> None:
        if not tensors:
            raise ValueError("TensorDataset: give at least one tensor")
        arrays = tuple(_as_array(t) for t in tensors)
        for k, a in enumerate(arrays):
            if a.ndim == 0:
                raise ValueError(f"TensorDataset: tensor {k} is 0-d; each needs a first dimension")
        sizes = [a.shape[0] for a in arrays]
        if len(set(sizes)) != 1:
            raise ValueError(f"TensorDataset: tensors have different first dimensions {sizes}")
        self.arrays = arrays
        self.tensors = tuple(Tensor._make(a, False, None) for a in arrays)

    def __len__(self) -> int:
        return self.arrays[0].shape[0]

    def __getitem__(self, index: int) -> tuple:
        i = _index(index, len(self), "TensorDataset")
        return tuple(Tensor._make(np.asarray(a[i]), False, None) for a in self.arrays)

    @property
    def supports_batching(self) -> bool:
        return True

    def get_batch(self, indices: np.ndarray) -> tuple:
        return tuple(a[indices] for a in self.arrays)

    def __repr__(self) -> str:
        shapes = ", ".join(str(a.shape) for a in self.arrays)
        return f"TensorDataset({shapes})"


class Subset(Dataset):
    """The items of ``dataset`` at ``indices`` (in that order).

    Args:
        dataset: the full dataset.
        indices: a sequence or 1-D array of ints in ``[0, len(dataset))``.
    """

    def __init__(self, dataset, indices) -> None:
        idx = np.asarray(_as_array(indices))
        if idx.size == 0:
            idx = idx.astype(np.int64).reshape(0)
        if idx.ndim != 1 or idx.dtype.kind not in "iu":
            raise TypeError(
                f"Subset: indices must be a 1-D sequence of ints, got {idx.dtype} of shape "
                f"{idx.shape}"
            )
        n = len(dataset)
        if idx.size and (idx.min() < -n or idx.max() >= n):
            raise IndexError(
                f"Subset: indices range over [{idx.min()}, {idx.max()}] but the dataset has {n} "
                "items"
            )
        self.dataset = dataset
        self.indices = np.where(idx < 0, idx + n, idx).astype(np.int64)

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, index: int):
        return self.dataset[int(self.indices[_index(index, len(self), "Subset")])]

    @property
    def supports_batching(self) -> bool:
        return bool(getattr(self.dataset, "supports_batching", False))

    def get_batch(self, indices: np.ndarray):
        return self.dataset.get_batch(self.indices[indices])

    def __repr__(self) -> str:
        return f"Subset({self.dataset!r}, {len(self)} items)"


def _map(fn, tree):
    """Apply ``fn`` to every array leaf of a nested tuple/list/dict."""
    if isinstance(tree, Mapping):
        return {k: _map(fn, v) for k, v in tree.items()}
    if isinstance(tree, tuple) and hasattr(tree, "_fields"):  # namedtuple
        return type(tree)(*(_map(fn, v) for v in tree))
    if isinstance(tree, (tuple, list)):
        return type(tree)(_map(fn, v) for v in tree)
    return fn(tree)


def _zip_concat(trees: list):
    """Concatenate matching leaves of several same-structured batches along the first axis."""
    first = trees[0]
    if isinstance(first, Mapping):
        return {k: _zip_concat([t[k] for t in trees]) for k in first}
    if isinstance(first, tuple) and hasattr(first, "_fields"):
        return type(first)(*(_zip_concat(list(p)) for p in zip(*trees)))
    if isinstance(first, (tuple, list)):
        return type(first)(_zip_concat(list(p)) for p in zip(*trees))
    return np.concatenate([_as_array(t) for t in trees])


class ConcatDataset(Dataset):
    """Several datasets one after the other.

    Attributes:
        datasets: the list of datasets.
        cumulative_sizes: ``cumulative_sizes[k]`` is the number of items in datasets ``0..k``.
    """

    def __init__(self, datasets: Sequence) -> None:
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: give at least one dataset")
        self.cumulative_sizes = np.cumsum([len(d) for d in self.datasets]).tolist()

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, index: int):
        i = _index(index, len(self), "ConcatDataset")
        k = int(np.searchsorted(self.cumulative_sizes, i, side="right"))
        start = self.cumulative_sizes[k - 1] if k else 0
        return self.datasets[k][i - start]

    @property
    def supports_batching(self) -> bool:
        return all(getattr(d, "supports_batching", False) for d in self.datasets)

    def get_batch(self, indices: np.ndarray):
        indices = np.asarray(indices)
        which = np.searchsorted(self.cumulative_sizes, indices, side="right")
        starts = np.array([0, *self.cumulative_sizes[:-1]], dtype=np.int64)
        parts, positions = [], []
        for k in np.unique(which):
            sel = np.flatnonzero(which == k)
            parts.append(self.datasets[k].get_batch(indices[sel] - starts[k]))
            positions.append(sel)
        if len(parts) == 1:
            return parts[0]
        inverse = np.argsort(np.concatenate(positions), kind="stable")
        return _map(lambda a: a[inverse], _zip_concat(parts))

    def __repr__(self) -> str:
        return f"ConcatDataset({len(self.datasets)} datasets, {len(self)} items)"


# ----------------------------------------------------------------------------- splits
def _resolve_lengths(lengths: Sequence, n: int, who: str) -> list[int]:
    """Integer sizes from ``lengths``: ints summing to ``n``, or fractions summing to 1.

    Fractions are floored and the remainder given one by one to the first splits, as PyTorch does.
    """
    lengths = list(lengths)
    if not lengths:
        raise ValueError(f"{who}: lengths is empty")
    if all(isinstance(x, (int, np.integer)) and not isinstance(x, bool) for x in lengths):
        if any(x < 0 for x in lengths) or sum(lengths) != n:
            raise ValueError(
                f"{who}: lengths {lengths} must be non-negative and sum to the dataset size {n}"
            )
        return [int(x) for x in lengths]
    fracs = [float(x) for x in lengths]
    if any(not 0.0 <= f <= 1.0 for f in fracs) or not math.isclose(sum(fracs), 1.0, abs_tol=1e-6):
        raise ValueError(
            f"{who}: lengths {lengths} must be ints summing to {n} or fractions in [0, 1] "
            "summing to 1"
        )
    sizes = [math.floor(n * f) for f in fracs]
    for k in range(n - sum(sizes)):
        sizes[k % len(sizes)] += 1
    return sizes


def _generator(generator, who: str) -> np.random.Generator:
    """``generator`` (a ``backprop.Generator`` or a NumPy one) or the library's."""
    return _random.resolve(generator, who)


def random_split(dataset, lengths: Sequence, generator=None) -> list:
    """Split ``dataset`` at random into non-overlapping :class:`Subset` s of the given sizes.

    Args:
        dataset: the dataset to split.
        lengths: sizes summing to ``len(dataset)``, or fractions summing to 1 (e.g. ``[0.8, 0.2]``).
        generator: a ``numpy.random.Generator``; default: ``backprop.random.generator()``, so
            ``backprop.manual_seed(n)`` fixes the split.

    Returns:
        A list of Subsets, one per length.
    """
    n = len(dataset)
    sizes = _resolve_lengths(lengths, n, "random_split")
    perm = _generator(generator, "random_split").permutation(n)
    ends = np.cumsum(sizes)
    return [Subset(dataset, perm[e - s : e]) for s, e in zip(sizes, ends)]


def dataset_labels(dataset) -> np.ndarray:
    """The class label of every item, without loading inputs when the dataset exposes them.

    Uses ``dataset.targets`` when present (torchvision's convention), looks through Subset and
    ConcatDataset, takes the last array of a TensorDataset, and otherwise reads ``dataset[i][1]``.
    """
    if isinstance(dataset, Subset):
        return dataset_labels(dataset.dataset)[dataset.indices]
    if isinstance(dataset, ConcatDataset):
        return np.concatenate([dataset_labels(d) for d in dataset.datasets])
    targets = getattr(dataset, "targets", None)
    if targets is not None:
        return np.asarray(_as_array(targets))
    if isinstance(dataset, TensorDataset):
        if len(dataset.arrays) < 2:
            raise ValueError("dataset_labels: a TensorDataset needs (inputs, labels) tensors")
        return dataset.arrays[-1]
    return np.asarray([_as_array(dataset[i][1]) for i in range(len(dataset))])


def stratified_indices(
    labels, lengths: Sequence, generator: np.random.Generator | None = None
) -> list[np.ndarray]:
    """Index arrays of a stratified split of ``labels``: every part keeps the class proportions.

    The sizes of the parts are exactly those asked for; each class is shared out within one item
    of its proportional share for two parts (within two for more). The indices of each part come
    in random order.

    Args:
        labels: 1-D array of class labels (any values ``np.unique`` can sort).
        lengths: sizes or fractions, as in :func:`random_split`.
        generator: a ``numpy.random.Generator`` (default: ``backprop.random.generator()``).
    """
    y = np.asarray(_as_array(labels))
    if y.ndim != 1:
        raise ValueError(f"stratified_split: labels must be 1-D, got shape {y.shape}")
    n = len(y)
    sizes = _resolve_lengths(lengths, n, "stratified_split")
    gen = _generator(generator, "stratified_split")
    _, codes = np.unique(y, return_inverse=True)
    perm = gen.permutation(n)
    grouped = perm[np.argsort(codes[perm], kind="stable")]  # by class, shuffled within class
    # Deal the parts out evenly along the class-grouped list: part k owns the positions nearest
    # to (j + 1/2) * n / sizes[k], so any run of one class gets each part in proportion.
    ideal = np.concatenate([(np.arange(s) + 0.5) / s for s in sizes if s])
    part = np.concatenate([np.full(s, k) for k, s in enumerate(sizes) if s]).astype(np.int64)
    dealt = part[np.argsort(ideal, kind="stable")] if n else part
    return [gen.permutation(grouped[dealt == k]) for k in range(len(sizes))]


def stratified_split(
    dataset, lengths: Sequence, labels=None, generator: np.random.Generator | None = None
) -> list:
    """Like :func:`random_split`, but every part keeps the class proportions of ``dataset``.

    Args:
        dataset: the dataset to split.
        lengths: sizes summing to ``len(dataset)``, or fractions summing to 1.
        labels: the label of each item (default: :func:`dataset_labels`).
        generator: a ``numpy.random.Generator`` (default: ``backprop.random.generator()``).

    Returns:
        A list of Subsets, one per length.

    Example:
        >>> train, val = stratified_split(mnist, [0.9, 0.1])
    """
    y = dataset_labels(dataset) if labels is None else np.asarray(_as_array(labels))
    if len(y) != len(dataset):
        raise ValueError(f"stratified_split: {len(y)} labels for a dataset of {len(dataset)} items")
    return [Subset(dataset, idx) for idx in stratified_indices(y, lengths, generator)]


def train_val_split(
    dataset,
    val_fraction: float = 0.1,
    *,
    stratify: bool = True,
    labels=None,
    generator: np.random.Generator | None = None,
) -> tuple[Any, Any]:
    """Hold out a validation set: ``(train, val)`` Subsets, stratified by class by default.

    Args:
        dataset: the training data to split.
        val_fraction: the share of items for validation, in (0, 1).
        stratify: keep class proportions in both parts (needs labels; see
            :func:`dataset_labels`); False for a plain random split.
        labels: the label of each item, if the dataset does not expose them.
        generator: a ``numpy.random.Generator`` (default: ``backprop.random.generator()``).
    """
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"train_val_split: val_fraction must be in (0, 1), got {val_fraction}")
    n = len(dataset)
    n_val = round(n * val_fraction)
    lengths = [n - n_val, n_val]
    if stratify:
        train, val = stratified_split(dataset, lengths, labels=labels, generator=generator)
    else:
        train, val = random_split(dataset, lengths, generator=generator)
    return train, val
