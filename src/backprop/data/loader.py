"""``DataLoader``: mini-batches over a dataset, shuffled reproducibly, collated into Tensors."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence

import numpy as np

from .. import random as _random
from ..tensor import Tensor

__all__ = ["DataLoader", "default_collate", "default_convert"]


def _to_tensor(arr: np.ndarray, who: str) -> Tensor:
    """Wrap an array: floats become float32, integers int64, booleans stay bool."""
    kind = arr.dtype.kind
    if kind == "f":
        arr = arr.astype(np.float32, copy=False)
    elif kind in "iu":
        arr = arr.astype(np.int64, copy=False)
    elif kind != "b":
        raise TypeError(f"{who}: cannot batch values of dtype {arr.dtype}")
    # (not np.ascontiguousarray, which turns a 0-d array into a 1-d one)
    return Tensor._make(arr if arr.flags.c_contiguous else arr.copy(), False, None)


def default_convert(batch):
    """Turn the arrays of an already-stacked batch into Tensors, recursing into tuples/dicts.

    Floats become float32, integers int64 (the rule of :func:`default_collate`); strings pass
    through.
    """
    if isinstance(batch, Tensor):
        return _to_tensor(batch.data, "default_convert")
    if isinstance(batch, (np.ndarray, np.generic)):
        return _to_tensor(np.asarray(batch), "default_convert")
    if isinstance(batch, (str, bytes)):
        return batch
    if isinstance(batch, Mapping):
        return {k: default_convert(v) for k, v in batch.items()}
    if isinstance(batch, tuple) and hasattr(batch, "_fields"):
        return type(batch)(*(default_convert(v) for v in batch))
    if isinstance(batch, (tuple, list)):
        return type(batch)(default_convert(v) for v in batch)
    return batch


def default_collate(batch: Sequence):
    """Stack a list of items into a batch of Tensors.

    Arrays, Tensors and numbers are stacked along a new first dimension into a Tensor (floats as
    float32, integers as int64, booleans as bool); tuples, lists, namedtuples and dicts are
    collated field by field; strings are returned as a list.

    Args:
        batch: the items, e.g. ``[(image, label), (image, label), ...]``.

    Example:
        >>> x, y = default_collate([(np.zeros((1, 2)), 3), (np.ones((1, 2)), 4)])
        >>> x.shape, x.dtype, y.dtype
        ((2, 1, 2), dtype('float32'), dtype('int64'))
    """
    if len(batch) == 0:
        raise ValueError("default_collate: cannot collate an empty batch")
    elem = batch[0]
    if isinstance(elem, (Tensor, np.ndarray, np.generic, bool, int, float)):
        arrays = [b.data if isinstance(b, Tensor) else np.asarray(b) for b in batch]
        shapes = {a.shape for a in arrays}
        if len(shapes) > 1:
            raise ValueError(
                f"default_collate: items have different shapes {sorted(shapes)}; use a transform "
                "that gives every item one shape, or a custom collate_fn"
            )
        return _to_tensor(np.stack(arrays), "default_collate")
    if isinstance(elem, (str, bytes)):
        return list(batch)
    if isinstance(elem, Mapping):
        return {k: default_collate([d[k] for d in batch]) for k in elem}
    if isinstance(elem, (tuple, list)):
        sizes = {len(b) for b in batch}
        if len(sizes) > 1:
            raise ValueError(f"default_collate: items have different lengths {sorted(sizes)}")
        fields = [default_collate(list(samples)) for samples in zip(*batch)]
        if hasattr(elem, "_fields"):  # namedtuple
            return type(elem)(*fields)
        return type(elem)(fields)
    raise TypeError(
        f"default_collate: items must be arrays, Tensors, numbers, strings, tuples, lists or "
        f"dicts, got {type(elem).__name__}"
    )


class DataLoader:
    """Iterate over a dataset in mini-batches.

    Each ``iter(loader)`` is one epoch: every item exactly once, in order, or in a fresh random
    order when ``shuffle=True``. That order is drawn when the iterator is created, from
    ``generator`` if given, else from ``backprop.random.generator()``, so
    ``backprop.manual_seed(n)`` makes the sequence of epochs reproducible.

    Batches are collated into Tensors (floats as float32, integers as int64; see
    :func:`default_collate`). When ``collate_fn`` is not given and the dataset can fetch whole
    batches (``dataset.supports_batching``: TensorDataset, MNIST, CIFAR10, Digits, their
    Subsets...), a batch is taken with one fancy-indexing operation on the dataset's arrays
    instead of item by item: same values, many times faster.

    Args:
        dataset: a map-style dataset (``__len__`` and ``__getitem__``).
        batch_size: items per batch (positive).
        shuffle: reshuffle at every epoch.
        drop_last: drop the last batch when it is smaller than ``batch_size``.
        collate_fn: turns a list of items into a batch (default: :func:`default_collate`).
        generator: a ``backprop.Generator`` (or ``numpy.random.Generator``) for shuffling
            (default: the library's).
        sampler, batch_sampler: the indices to visit (see ``backprop.data.sampler``), as in
            PyTorch; exclusive with ``shuffle`` (and, for ``batch_sampler``, with
            ``batch_size``/``drop_last``). ``batch_size=None`` yields single items.
        num_workers, pin_memory, timeout, worker_init_fn, prefetch_factor, persistent_workers:
            accepted so that PyTorch code runs unchanged; loading always runs in this process.

    Example:
        >>> loader = DataLoader(MNIST(train=True), batch_size=64, shuffle=True)
        >>> for images, labels in loader:  # (64, 1, 28, 28) float32, (64,) int64
        ...     ...
    """

    def __init__(
        self,
        dataset,
        batch_size: int | None = 1,
        shuffle: bool | None = None,
        sampler=None,
        batch_sampler=None,
        num_workers: int = 0,
        collate_fn: Callable | None = None,
        pin_memory: bool = False,
        drop_last: bool = False,
        timeout: float = 0,
        worker_init_fn: Callable | None = None,
        generator=None,
        *,
        prefetch_factor: int | None = None,
        persistent_workers: bool = False,
    ) -> None:
        name = "DataLoader"
        if batch_size is not None:
            if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)):
                raise TypeError(f"{name}: batch_size must be an int or None, got {batch_size!r}")
            if batch_size < 1:
                raise ValueError(f"{name}: batch_size must be positive, got {batch_size}")
        _random.resolve(generator, name)  # a clear TypeError for anything else
        if not (hasattr(dataset, "__len__") and hasattr(dataset, "__getitem__")):
            raise TypeError(
                f"{name}: dataset must be a map-style dataset (with __len__ and __getitem__), "
                f"got {type(dataset).__name__}"
            )
        if collate_fn is not None and not callable(collate_fn):
            raise TypeError(f"{name}: collate_fn must be callable, got {collate_fn!r}")
        if isinstance(num_workers, bool) or not isinstance(num_workers, int) or num_workers < 0:
            raise ValueError(f"{name}: num_workers must be a non-negative int, got {num_workers!r}")
        # PyTorch's exclusions between the ways of choosing indices.
        if sampler is not None and shuffle:
            raise ValueError(f"{name}: sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError(
                    f"{name}: batch_sampler option is mutually exclusive with batch_size, "
                    f"shuffle, sampler, and drop_last"
                )
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError(
                f"{name}: batch_size=None option disables auto-batching and is mutually "
                f"exclusive with drop_last"
            )
        self.dataset = dataset
        self.batch_size = None if batch_size is None else int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.collate_fn = collate_fn
        self.generator = generator
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        # Accepted for PyTorch code: loading runs in this process (NumPy batches are fetched
        # whole, see uses_batch_fetch), so there are no workers to start or pin memory for.
        self.num_workers = num_workers
        self.pin_memory = bool(pin_memory)
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.prefetch_factor = prefetch_factor
        self.persistent_workers = bool(persistent_workers)

    def __len__(self) -> int:
        """The number of batches per epoch (of items, with ``batch_size=None``)."""
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        n = len(self.sampler) if self.sampler is not None else len(self.dataset)
        if self.batch_size is None:
            return n
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    @property
    def uses_batch_fetch(self) -> bool:
        """Whether batches are fetched whole (``dataset.get_batch``) rather than item by item."""
        return self.collate_fn is None and bool(getattr(self.dataset, "supports_batching", False))

    def __iter__(self) -> Iterator:
        if self.batch_sampler is not None:
            return self._from_index_lists(iter(self.batch_sampler))
        if self.sampler is not None:
            order = np.fromiter((int(i) for i in self.sampler), dtype=np.int64)
        elif self.shuffle:
            order = _random.resolve(self.generator, "DataLoader").permutation(len(self.dataset))
        else:
            order = np.arange(len(self.dataset))
        if self.batch_size is None:
            return self._items(order)
        # The order is fixed here, when the iterator is created, not at the first next().
        return self._batches(order, self.uses_batch_fetch)

    def _batches(self, order: np.ndarray, whole: bool) -> Iterator:
        bs = self.batch_size
        stop = len(order) - len(order) % bs if self.drop_last else len(order)
        dataset = self.dataset
        collate = self.collate_fn or default_collate
        for start in range(0, stop, bs):
            idx = order[start : start + bs]
            if whole:
                yield default_convert(dataset.get_batch(idx))
            else:
                yield collate([dataset[int(i)] for i in idx])

    def _from_index_lists(self, batches) -> Iterator:
        whole = self.uses_batch_fetch
        collate = self.collate_fn or default_collate
        for idx in batches:
            if whole:
                yield default_convert(self.dataset.get_batch(np.asarray(idx, dtype=np.int64)))
            else:
                yield collate([self.dataset[int(i)] for i in idx])

    def _items(self, order) -> Iterator:
        convert = self.collate_fn or default_convert
        for i in order:
            yield convert(self.dataset[int(i)])

    def __repr__(self) -> str:
        return (
            f"DataLoader({type(self.dataset).__name__}, batch_size={self.batch_size}, "
            f"shuffle={self.shuffle}, drop_last={self.drop_last})"
        )
