"""Samplers and the DataLoader's sampler/batch_sampler/batch_size=None forms, as torch's."""

import numpy as np
import pytest
import torch

import backprop as bp
from backprop.utils.data import (
    BatchSampler,
    DataLoader,
    RandomSampler,
    SequentialSampler,
    SubsetRandomSampler,
    TensorDataset,
    WeightedRandomSampler,
)


def _ds(lib, n=10):
    return lib.utils.data.TensorDataset(lib.arange(n), lib.arange(n) * 10)


def _batches(loader):
    return [[np.asarray(t).tolist() for t in b] for b in loader]


@pytest.mark.parametrize(
    "kw",
    [
        {"batch_size": 3},
        {"batch_size": 3, "drop_last": True},
        {"batch_size": None},
        {"batch_size": 4, "num_workers": 2, "pin_memory": True},
    ],
)
def test_deterministic_forms_match_torch(kw):
    got = _batches(bp.utils.data.DataLoader(_ds(bp), **kw))
    want = _batches(torch.utils.data.DataLoader(_ds(torch), **kw))
    assert got == want


def test_sequential_and_batch_samplers_match_torch():
    for lib in (bp, torch):
        ds = _ds(lib)
        seq = lib.utils.data.SequentialSampler(ds)
        bs = lib.utils.data.BatchSampler(seq, 4, drop_last=False)
        assert list(bs) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]] and len(bs) == 3
        loader = lib.utils.data.DataLoader(ds, batch_sampler=bs)
        assert len(loader) == 3
        assert _batches(loader)[-1] == [[8, 9], [80, 90]]


def test_random_samplers_are_permutations_and_reproducible():
    ds = _ds(bp, 12)
    a = list(RandomSampler(ds, generator=bp.Generator().manual_seed(3)))
    b = list(RandomSampler(ds, generator=bp.Generator().manual_seed(3)))
    assert a == b and sorted(a) == list(range(12))
    assert len(list(RandomSampler(ds, replacement=True, num_samples=30))) == 30
    sub = list(SubsetRandomSampler([5, 7, 9]))
    assert sorted(sub) == [5, 7, 9]
    loader = DataLoader(ds, batch_size=5, sampler=RandomSampler(ds))
    seen = np.concatenate([x.numpy() for x, _ in loader])
    assert sorted(seen.tolist()) == list(range(12)) and len(loader) == 3


def test_weighted_sampler_balances_classes():
    w = [0.0] * 5 + [1.0] * 5
    idx = list(WeightedRandomSampler(w, 2000, generator=bp.Generator().manual_seed(0)))
    assert min(idx) >= 5 and len(idx) == 2000


def test_exclusive_options_are_refused_as_in_torch():
    ds = TensorDataset(bp.arange(4))
    for kw in (
        {"sampler": SequentialSampler(ds), "shuffle": True},
        {"batch_sampler": BatchSampler(SequentialSampler(ds), 2, False), "batch_size": 2},
        {"batch_size": None, "drop_last": True},
    ):
        with pytest.raises(ValueError):
            DataLoader(ds, **kw)
        tds = torch.utils.data.TensorDataset(torch.arange(4))
        tkw = dict(kw)
        for k in ("sampler", "batch_sampler"):
            if k in tkw:
                tkw[k] = (
                    torch.utils.data.SequentialSampler(tds)
                    if k == "sampler"
                    else torch.utils.data.BatchSampler(
                        torch.utils.data.SequentialSampler(tds), 2, False
                    )
                )
        with pytest.raises(ValueError):
            torch.utils.data.DataLoader(tds, **tkw)


def test_generator_objects_are_accepted_by_loader_and_random_split():
    ds = _ds(bp, 20)
    g1, g2 = bp.Generator().manual_seed(9), bp.Generator().manual_seed(9)
    a = _batches(DataLoader(ds, batch_size=5, shuffle=True, generator=g1))
    b = _batches(DataLoader(ds, batch_size=5, shuffle=True, generator=g2))
    assert a == b
    s1 = bp.utils.data.random_split(ds, [15, 5], generator=bp.Generator().manual_seed(1))
    s2 = bp.utils.data.random_split(ds, [15, 5], generator=bp.Generator().manual_seed(1))
    assert list(s1[1].indices) == list(s2[1].indices)
    with pytest.raises(TypeError, match="generator"):
        DataLoader(ds, generator=42)
