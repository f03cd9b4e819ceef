"""Datasets, splits, collation and the DataLoader."""

from __future__ import annotations

from collections import namedtuple

import numpy as np
import pytest

import backprop
from backprop import Tensor
from backprop.data import (
    ConcatDataset,
    DataLoader,
    Dataset,
    Subset,
    TensorDataset,
    dataset_labels,
    default_collate,
    random_split,
    stratified_split,
    train_val_split,
)
from backprop.data import transforms as T


class Plain:
    """A duck-typed dataset (no base class, no batching): items are (x, i)."""

    def __init__(self, n: int):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if not 0 <= i < self.n:
            raise IndexError(i)
        return np.full(2, i, dtype=np.float64), i


def _ids(loader) -> list[int]:
    """The item ids of one epoch, in order (the label is the id)."""
    return [int(v) for _, y in loader for v in y.data]


def _tensor_ds(n: int = 23) -> TensorDataset:
    x = np.arange(n * 2, dtype=np.float32).reshape(n, 2)
    return TensorDataset(x, np.arange(n))


# ------------------------------------------------------------------------ every item once per epoch
@pytest.mark.parametrize("make", [_tensor_ds, lambda: Plain(23)], ids=["batched", "item-by-item"])
@pytest.mark.parametrize("batch_size", [1, 4, 5, 23, 50])
def test_every_item_exactly_once_per_epoch(make, batch_size):
    loader = DataLoader(make(), batch_size=batch_size, shuffle=True)
    orders = []
    for _ in range(3):
        ids = _ids(loader)
        assert sorted(ids) == list(range(23))
        orders.append(ids)
    if batch_size < 23:
        assert orders[0] != orders[1] or orders[1] != orders[2]  # reshuffled between epochs
    assert len(loader) == -(-23 // batch_size)


def test_no_shuffle_is_in_order():
    assert _ids(DataLoader(_tensor_ds(), batch_size=4)) == list(range(23))


def test_uses_batch_fetch_only_when_possible():
    assert DataLoader(_tensor_ds()).uses_batch_fetch
    assert not DataLoader(Plain(3)).uses_batch_fetch
    assert not DataLoader(_tensor_ds(), collate_fn=default_collate).uses_batch_fetch


# ------------------------------------------------------------------------ reproducible order
def test_same_seed_same_order():
    loader = DataLoader(_tensor_ds(), batch_size=4, shuffle=True)
    backprop.manual_seed(7)
    a = [_ids(loader) for _ in range(3)]
    backprop.manual_seed(7)
    b = [_ids(loader) for _ in range(3)]
    assert a == b
    backprop.manual_seed(8)
    assert [_ids(loader) for _ in range(3)] != a


def test_explicit_generator():
    ds = _tensor_ds()
    a = _ids(DataLoader(ds, 4, shuffle=True, generator=np.random.default_rng(3)))
    b = _ids(DataLoader(ds, 4, shuffle=True, generator=np.random.default_rng(3)))
    assert a == b and sorted(a) == list(range(23))
    backprop.manual_seed(0)
    # an explicit generator leaves the library's stream alone
    before = backprop.random.get_rng_state()
    _ids(DataLoader(ds, 4, shuffle=True, generator=np.random.default_rng(3)))
    assert backprop.random.get_rng_state() == before


def test_order_is_drawn_when_the_iterator_is_created():
    loader = DataLoader(_tensor_ds(), batch_size=4, shuffle=True)
    backprop.manual_seed(1)
    expected = _ids(loader)
    backprop.manual_seed(1)
    it = iter(loader)
    backprop.manual_seed(999)  # reseeding after iter() must not change this epoch
    assert [int(v) for _, y in it for v in y.data] == expected


# ------------------------------------------------------------------------ drop_last
@pytest.mark.parametrize("fetch", ["batched", "item-by-item"])
def test_drop_last(fetch):
    ds = _tensor_ds(23)
    kw = {} if fetch == "batched" else {"collate_fn": default_collate}
    loader = DataLoader(ds, batch_size=5, drop_last=True, shuffle=True, **kw)
    assert len(loader) == 4
    sizes = [len(y) for _, y in loader]
    assert sizes == [5, 5, 5, 5]
    ids = _ids(loader)
    assert len(set(ids)) == 20
    keep = DataLoader(ds, batch_size=5, drop_last=False)
    assert [len(y) for _, y in keep] == [5, 5, 5, 5, 3] and len(keep) == 5
    assert len(DataLoader(ds, batch_size=30, drop_last=True)) == 0
    assert list(DataLoader(ds, batch_size=30, drop_last=True)) == []


# ------------------------------------------------------------------------ collation
def test_collate_dtypes():
    items = [
        (np.zeros((2, 2), np.float64), np.int32(3), 1.5, 2, True),
        (np.ones((2, 2), np.float64), np.int32(4), 2.5, 3, False),
    ]
    x, a, f, i, b = default_collate(items)
    for t in (x, a, f, i, b):
        assert isinstance(t, Tensor) and not t.requires_grad
    assert x.shape == (2, 2, 2) and x.dtype == np.float32
    assert a.dtype == np.int64 and a.data.tolist() == [3, 4]
    assert f.dtype == np.float32 and f.data.tolist() == [1.5, 2.5]
    assert i.dtype == np.int64 and b.dtype == np.bool_
    u8 = default_collate([np.array([1, 2], np.uint8)] * 3)
    assert u8.dtype == np.int64 and u8.shape == (3, 2)
    f16 = default_collate([np.array([1, 2], np.float16)] * 3)
    assert f16.dtype == np.float32


def test_collate_structures():
    Pair = namedtuple("Pair", "x y")
    out = default_collate([Pair(np.ones(2), 1), Pair(np.zeros(2), 0)])
    assert isinstance(out, Pair) and out.x.shape == (2, 2) and out.y.dtype == np.int64
    d = default_collate([{"img": np.ones(3), "name": "a"}, {"img": np.ones(3), "name": "b"}])
    assert d["img"].shape == (2, 3) and d["name"] == ["a", "b"]
    lst = default_collate([[np.ones(1), 2], [np.ones(1), 3]])
    assert isinstance(lst, list) and lst[1].data.tolist() == [2, 3]
    t = default_collate([backprop.tensor([1.0, 2.0]), backprop.tensor([3.0, 4.0])])
    assert t.dtype == np.float32 and t.data.tolist() == [[1, 2], [3, 4]]


def test_collate_errors():
    with pytest.raises(ValueError, match=r"different shapes"):
        default_collate([np.ones(2), np.ones(3)])
    with pytest.raises(ValueError, match="empty"):
        default_collate([])
    with pytest.raises(TypeError, match="default_collate"):
        default_collate([object(), object()])
    with pytest.raises(TypeError, match="cannot batch"):
        default_collate([np.array(["a"]), np.array(["b"])])


def test_custom_collate_fn():
    loader = DataLoader(_tensor_ds(6), batch_size=4, collate_fn=lambda items: len(items))
    assert list(loader) == [4, 2]


def test_batched_and_item_by_item_agree():
    ds = _tensor_ds(23)
    a = list(DataLoader(ds, batch_size=6))
    b = list(DataLoader(ds, batch_size=6, collate_fn=default_collate))
    for (xa, ya), (xb, yb) in zip(a, b):
        assert xa.dtype == xb.dtype == np.float32 and ya.dtype == yb.dtype == np.int64
        np.testing.assert_array_equal(xa.data, xb.data)
        np.testing.assert_array_equal(ya.data, yb.data)


def test_loader_argument_checks():
    ds = _tensor_ds()
    with pytest.raises(ValueError, match="batch_size"):
        DataLoader(ds, batch_size=0)
    with pytest.raises(TypeError, match="batch_size"):
        DataLoader(ds, batch_size=2.0)
    with pytest.raises(TypeError, match="generator"):
        DataLoader(ds, generator=0)
    with pytest.raises(TypeError, match="collate_fn"):
        DataLoader(ds, collate_fn=3)


# ------------------------------------------------------------------------ datasets
def test_tensor_dataset():
    x = backprop.randn(5, 3)
    y = np.arange(5)
    ds = TensorDataset(x, y)
    xi, yi = ds[-1]
    assert isinstance(xi, Tensor) and xi.shape == (3,) and yi.item() == 4
    np.testing.assert_array_equal(xi.data, x.data[4])
    assert ds.tensors[0].data is x.data  # no copy
    with pytest.raises(ValueError, match="first dimensions"):
        TensorDataset(np.zeros(3), np.zeros(4))
    with pytest.raises(IndexError, match="out of range"):
        ds[5]


def test_subset_and_concat():
    ds = _tensor_ds(10)
    sub = Subset(ds, [7, 2, -1])
    assert len(sub) == 3 and sub[1][1].item() == 2 and sub[2][1].item() == 9
    xb, yb = sub.get_batch(np.array([2, 0]))
    assert yb.tolist() == [9, 7]
    with pytest.raises(IndexError):
        Subset(ds, [10])
    cat = ds + _tensor_ds(4)
    assert isinstance(cat, ConcatDataset) and len(cat) == 14
    assert cat[10][1].item() == 0 and cat[-1][1].item() == 3
    idx = np.array([13, 0, 11, 9, 10])
    xb, yb = cat.get_batch(idx)
    items = [cat[int(i)] for i in idx]
    np.testing.assert_array_equal(yb, [int(it[1].item()) for it in items])
    np.testing.assert_array_equal(xb, np.stack([it[0].data for it in items]))
    assert _ids(DataLoader(cat, batch_size=3)) == list(range(10)) + list(range(4))
    single = ConcatDataset([ds])
    np.testing.assert_array_equal(single.get_batch(np.array([3, 1]))[1], [3, 1])
    mixed = ConcatDataset([ds, Plain(2)])
    assert not mixed.supports_batching
    assert len(list(DataLoader(mixed, batch_size=4))) == 3


def test_base_dataset_requires_methods():
    class Empty(Dataset):
        pass

    with pytest.raises(NotImplementedError):
        Empty()[0]
    with pytest.raises(NotImplementedError):
        len(Empty())
    assert not Empty().supports_batching


# ------------------------------------------------------------------------ splits
def test_random_split():
    ds = _tensor_ds(23)
    backprop.manual_seed(0)
    parts = random_split(ds, [10, 13])
    assert [len(p) for p in parts] == [10, 13]
    ids = np.concatenate([p.indices for p in parts])
    assert sorted(ids.tolist()) == list(range(23))
    backprop.manual_seed(0)
    again = random_split(ds, [10, 13])
    assert parts[0].indices.tolist() == again[0].indices.tolist()
    fr = random_split(ds, [0.5, 0.3, 0.2], generator=np.random.default_rng(0))
    assert [len(p) for p in fr] == [12, 7, 4]  # floors 11, 6, 4; remainder 2 to the first two
    with pytest.raises(ValueError, match="sum"):
        random_split(ds, [10, 10])
    with pytest.raises(ValueError, match="fractions"):
        random_split(ds, [0.5, 0.6])


def test_stratified_split_keeps_proportions():
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(4), [500, 300, 150, 50])
    rng.shuffle(y)
    ds = TensorDataset(np.zeros((len(y), 1)), y)
    train, val, test = stratified_split(ds, [0.7, 0.2, 0.1], generator=rng)
    assert [len(p) for p in (train, val, test)] == [700, 200, 100]
    all_idx = np.concatenate([p.indices for p in (train, val, test)])
    assert sorted(all_idx.tolist()) == list(range(1000))
    for part, frac in ((train, 0.7), (val, 0.2), (test, 0.1)):
        counts = np.bincount(y[part.indices], minlength=4)
        ideal = np.array([500, 300, 150, 50]) * frac
        assert np.all(np.abs(counts - ideal) <= 1), (counts, ideal)
    # indices of a part come shuffled, not grouped by class
    assert not np.all(np.diff(y[train.indices]) >= 0)


def test_train_val_split_and_labels():
    y = np.repeat([0, 1], [90, 10])
    ds = TensorDataset(np.zeros((100, 2)), y)
    train, val = train_val_split(ds, 0.2, generator=np.random.default_rng(1))
    assert len(train) == 80 and len(val) == 20
    assert np.bincount(dataset_labels(val)).tolist() == [18, 2]
    tr, va = train_val_split(ds, 0.2, stratify=False)
    assert len(tr) == 80 and len(va) == 20
    with pytest.raises(ValueError, match="val_fraction"):
        train_val_split(ds, 1.0)
    # labels of a duck-typed dataset come from its items
    assert dataset_labels(Plain(4)).tolist() == [0, 1, 2, 3]
    assert dataset_labels(Subset(ds, [95, 0])).tolist() == [1, 0]


def test_dataset_with_unbatchable_transform_falls_back(tmp_path):
    from backprop.data import Toy2D

    class WithTransform(Toy2D):
        def __init__(self, transform):
            super().__init__("moons", n=10, seed=0)
            self.transform = transform

        @property
        def supports_batching(self):
            return T.is_batchable(self.transform)

        def __getitem__(self, i):
            x, y = super().__getitem__(i)
            return self.transform(x), y

    ds = WithTransform(T.Lambda(lambda x: x * 2))
    loader = DataLoader(ds, batch_size=4)
    assert not loader.uses_batch_fetch
    xb, _ = next(iter(loader))
    np.testing.assert_allclose(xb.data, ds.data[:4] * 2)


def test_stratified_split_bound_on_random_cases():
    from backprop.data import stratified_indices

    rng = np.random.default_rng(0)
    for _ in range(50):
        k = rng.integers(2, 8)
        sizes = rng.integers(1, 100, k)
        y = rng.permutation(np.repeat(np.arange(k), sizes))
        f = rng.uniform(0.05, 0.95)
        parts = stratified_indices(y, [f, 1 - f], generator=rng)
        assert sorted(np.concatenate(parts).tolist()) == list(range(len(y)))
        for p in parts:
            ideal = sizes * len(p) / len(y)
            assert np.all(np.abs(np.bincount(y[p], minlength=k) - ideal) < 1)


def test_import_backprop_data_stays_light():
    import subprocess
    import sys

    code = (
        "import sys, backprop.data; "
        "print([m for m in ('sklearn', 'tqdm', 'torch', 'matplotlib') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr
