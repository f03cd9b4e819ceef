"""``DistributedSampler``: each rank's share of a dataset, PyTorch's rule for padding and
sharding.

The ranks agree on the order without talking: it is drawn from ``seed + epoch`` (call
``set_epoch`` at every epoch), never from the process's generator. The permutation is NumPy's
(PCG64), so its numbers differ from torch's for the same seed; the shards' construction is the
same.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np

from ..data.sampler import Sampler

__all__ = ["DistributedSampler"]


class DistributedSampler(Sampler):
    """The indices of rank ``rank``'s shard, ``len(dataset) / num_replicas`` of them.

    Without ``drop_last`` the list is padded with its own first indices to a multiple of
    ``num_replicas`` (so a few examples are seen twice per epoch); with it, the tail is dropped.

    Args:
        dataset: a map-style dataset (only its length is used).
        num_replicas, rank: default to the job's world size and this process's rank.
        shuffle: a fresh permutation each epoch (from ``seed + epoch``).
        seed: shared by every rank.
        drop_last: drop the tail instead of padding.
    """

    def __init__(
        self, dataset, num_replicas: int | None = None, rank: int | None = None,
        shuffle: bool = True, seed: int = 0, drop_last: bool = False,
    ):  # fmt: skip
        from . import rank as _rank
        from . import world_size

        num_replicas = world_size() if num_replicas is None else num_replicas
        rank = _rank() if rank is None else rank
        if isinstance(num_replicas, bool) or not isinstance(num_replicas, int) or num_replicas < 1:
            raise ValueError(f"DistributedSampler: num_replicas must be >= 1, got {num_replicas!r}")
        if isinstance(rank, bool) or not isinstance(rank, int) or not 0 <= rank < num_replicas:
            raise ValueError(
                f"DistributedSampler: invalid rank {rank!r}, rank should be in the interval "
                f"[0, {num_replicas - 1}]"
            )
        self.dataset = dataset
        self.num_replicas, self.rank = num_replicas, rank
        self.shuffle, self.seed, self.drop_last = bool(shuffle), int(seed), bool(drop_last)
        self.epoch = 0
        n = len(dataset)
        if self.drop_last and n % num_replicas:
            self.num_samples = math.ceil((n - num_replicas) / num_replicas)
        else:
            self.num_samples = math.ceil(n / num_replicas)
        self.total_size = self.num_samples * num_replicas

    def set_epoch(self, epoch: int) -> None:
        """Use the permutation of ``epoch`` (call it before each epoch's loop, on every rank)."""
        self.epoch = int(epoch)

    def __iter__(self) -> Iterator[int]:
        n = len(self.dataset)
        if self.shuffle:
            indices = np.random.default_rng(self.seed + self.epoch).permutation(n)
        else:
            indices = np.arange(n)
        if self.drop_last:
            indices = indices[: self.total_size]
        else:
            pad = self.total_size - n
            if pad > 0:
                repeats = math.ceil(pad / n) if n else 0
                indices = np.concatenate([indices, np.tile(indices, repeats)[:pad]])
        return iter(indices[self.rank : self.total_size : self.num_replicas].tolist())

    def __len__(self) -> int:
        return self.num_samples
