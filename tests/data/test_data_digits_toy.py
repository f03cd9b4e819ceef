"""The bundled 8x8 digits and the 2-D toy problems."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

import backprop
from backprop.data import (
    DataLoader,
    Digits,
    Toy2D,
    make_blobs,
    make_circles,
    make_moons,
    make_spirals,
    make_xor,
)
from backprop.data.datasets.toy import TOY_DATASETS

# ------------------------------------------------------------------------ Digits
needs_sklearn = pytest.mark.skipif(
    importlib.util.find_spec("sklearn") is None, reason="the 8x8 digits ship with scikit-learn"
)


@needs_sklearn
def test_digits_split_sizes_and_values():
    train, test, full = Digits(train=True), Digits(train=False), Digits(train=None)
    assert (len(train), len(test), len(full)) == (1438, 359, 1797)
    image, label = train[0]
    assert image.shape == (1, 8, 8) and image.dtype == np.float32
    assert isinstance(label, np.int64)
    assert full.data.dtype == np.uint8 and full.data.max() == 16
    x, _ = full.get_batch(np.arange(1797))
    assert x.min() == 0.0 and x.max() == 1.0
    # stratified: every class has ~20% of its images in the test part
    ratio = np.bincount(test.targets, minlength=10) / np.bincount(full.targets, minlength=10)
    assert np.all(np.abs(ratio - 0.2) < 0.01)


@needs_sklearn
def test_digits_split_is_deterministic_and_disjoint():
    a, b = Digits(train=True), Digits(train=True)
    np.testing.assert_array_equal(a.data, b.data)
    backprop.manual_seed(123)  # the library seed does not move the split
    np.testing.assert_array_equal(Digits(train=False).targets, Digits(train=False).targets)
    train, test, full = Digits(True), Digits(False), Digits(None)
    rows = {r.tobytes() for r in full.data}
    both = [r.tobytes() for r in np.concatenate([train.data, test.data])]
    assert sorted(both) == sorted(r.tobytes() for r in full.data) and len(rows) > 1700
    other = Digits(train=True, seed=1)
    assert not np.array_equal(other.targets, train.targets)
    with pytest.raises(ValueError, match="test_fraction"):
        Digits(test_fraction=0.0)


def test_digits_match_scikit_learn():
    datasets = pytest.importorskip("sklearn.datasets")
    ref = datasets.load_digits()
    full = Digits(train=None)
    np.testing.assert_array_equal(full.data, ref.images.astype(np.uint8))
    np.testing.assert_array_equal(full.targets, ref.target)


@needs_sklearn
def test_digits_loader_epoch():
    backprop.manual_seed(0)
    loader = DataLoader(Digits(), batch_size=128, shuffle=True)
    assert loader.uses_batch_fetch
    labels = np.concatenate([y.data for _, y in loader])
    assert len(labels) == 1438
    np.testing.assert_array_equal(np.bincount(labels), np.bincount(Digits().targets))


# ------------------------------------------------------------------------ toy sets
@pytest.mark.parametrize("name", sorted(TOY_DATASETS))
def test_toy_shapes_balance_and_seed(name):
    make = TOY_DATASETS[name]
    x, y = make(n=301, seed=0)
    assert x.shape == (301, 2) and x.dtype == np.float32
    assert y.shape == (301,) and y.dtype == np.int64
    counts = np.bincount(y)
    assert counts.max() - counts.min() <= 1
    x2, y2 = make(n=301, seed=0)
    np.testing.assert_array_equal(x, x2)
    np.testing.assert_array_equal(y, y2)
    assert not np.array_equal(make(n=301, seed=1)[0], x)
    backprop.manual_seed(4)
    a = make(n=50)
    backprop.manual_seed(4)
    np.testing.assert_array_equal(a[0], make(n=50)[0])
    assert not np.all(np.diff(y) >= 0)  # shuffled, not grouped by class
    with pytest.raises(ValueError, match="n must be"):
        make(n=0, seed=0)
    with pytest.raises(ValueError, match="noise"):
        make(n=10, noise=-1.0, seed=0)


def test_toy_geometry_without_noise():
    x, y = make_circles(200, noise=0.0, seed=0, factor=0.3)
    r = np.linalg.norm(x, axis=1)
    np.testing.assert_allclose(r[y == 0], 1.0, rtol=1e-6)
    np.testing.assert_allclose(r[y == 1], 0.3, rtol=1e-6)
    x, y = make_moons(100, noise=0.0, seed=0)
    np.testing.assert_allclose(np.linalg.norm(x[y == 0], axis=1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(x[y == 1] - [1.0, 0.5], axis=1), 1.0, rtol=1e-6)
    assert np.all(x[y == 0, 1] >= -1e-6) and np.all(x[y == 1, 1] <= 0.5 + 1e-6)
    x, y = make_xor(400, noise=0.0, seed=0)
    np.testing.assert_array_equal(y, (x[:, 0] > 0) != (x[:, 1] > 0))
    assert np.abs(x).max() <= 1.0
    x, y = make_spirals(300, noise=0.0, seed=0, classes=3)
    assert set(y.tolist()) == {0, 1, 2} and np.linalg.norm(x, axis=1).max() <= 1.0 + 1e-6
    centers = np.array([[5.0, 5.0], [-5.0, -5.0]])
    x, y = make_blobs(400, noise=0.1, seed=0, centers=centers)
    for k in range(2):
        np.testing.assert_allclose(x[y == k].mean(0), centers[k], atol=0.05)
        assert abs(x[y == k].std() - 0.1) < 0.02
    assert len(set(make_blobs(30, seed=0, centers=5)[1].tolist())) == 5


def test_toy_dataset_wrapper():
    ds = Toy2D("spirals", n=90, noise=0.1, seed=0, classes=3)
    assert len(ds) == 90 and ds.classes == ["0", "1", "2"]
    x, y = ds[5]
    assert x.shape == (2,) and x.dtype == np.float32 and y.dtype == np.int64
    xb, yb = next(iter(DataLoader(ds, batch_size=32, shuffle=True)))
    assert xb.shape == (32, 2) and xb.dtype == np.float32 and yb.dtype == np.int64
    with pytest.raises(ValueError, match="kind must be one of"):
        Toy2D("swiss roll")
    with pytest.raises(TypeError, match="seed"):
        make_moons(10, seed="a")
