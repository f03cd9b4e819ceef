"""MNIST through the real loader, from the real files; IDX validation on malformed files."""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import struct
import tracemalloc

import numpy as np
import pytest

from backprop.data import MNIST, DataLoader, FashionMNIST, default_collate, read_idx
from backprop.data import transforms as T
from backprop.data.idx import parse_idx

T10K_LABEL_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


# ------------------------------------------------------------------------ real MNIST
def test_t10k_is_the_official_test_set(mnist_dir):
    digest = hashlib.md5((mnist_dir / "t10k-images-idx3-ubyte.gz").read_bytes()).hexdigest()
    assert digest == "9fb629c4189551a2d022fa330f9573f3"
    test = MNIST(mnist_dir, train=False)
    assert len(test) == 10_000
    assert test.data.shape == (10_000, 28, 28) and test.data.dtype == np.uint8
    assert test.targets.dtype == np.int64
    assert np.bincount(test.targets).tolist() == T10K_LABEL_COUNTS
    assert test.targets[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    image, label = test[0]
    assert image.shape == (1, 28, 28) and image.dtype == np.float32 and label == 7
    assert image.min() == 0.0 and image.max() == 1.0
    # pixel statistics of the official test set: mean 0.1325, std 0.3105
    pixels = test.data.astype(np.float64) / 255
    assert abs(pixels.mean() - 0.1325) < 5e-4 and abs(pixels.std() - 0.3105) < 5e-4
    # background border is black, the centre is where the ink is
    assert test.data[:, 0, :].max() == 0 and test.data[:, :, 14].mean() > 30
    np.testing.assert_array_equal(image[0], test.data[0] / np.float32(255))


def test_train_subset(mnist_dir):
    train = MNIST(root=mnist_dir, train=True)
    assert len(train) == 20_000 and train.data.shape == (20_000, 28, 28)
    assert train.targets[:8].tolist() == [5, 0, 4, 1, 9, 2, 1, 3]
    counts = np.bincount(train.targets, minlength=10)
    assert counts.min() > 1_500 and counts.sum() == 20_000
    assert "split: train" in repr(train)


def test_loader_over_real_mnist(mnist_dir):
    test = MNIST(mnist_dir, train=False)
    loader = DataLoader(test, batch_size=256, shuffle=True)
    assert loader.uses_batch_fetch
    counts = np.zeros(10, np.int64)
    for images, labels in loader:
        assert images.dtype == np.float32 and labels.dtype == np.int64
        assert images.shape[1:] == (1, 28, 28)
        counts += np.bincount(labels.data, minlength=10)
    assert counts.tolist() == T10K_LABEL_COUNTS
    # the whole-batch path gives the same values as collating items one by one
    first = list(DataLoader(test, batch_size=50))[:3]
    slow = list(DataLoader(test, batch_size=50, collate_fn=default_collate))[:3]
    for (xa, ya), (xb, yb) in zip(first, slow):
        np.testing.assert_array_equal(xa.data, xb.data)
        np.testing.assert_array_equal(ya.data, yb.data)


def test_transforms_batch_and_item_agree(mnist_dir):
    norm = T.Compose([T.Normalize([0.1307], [0.3081]), T.Flatten()])
    test = MNIST(mnist_dir, train=False, transform=norm, target_transform=T.OneHot(10))
    x, y = test[3]
    assert x.shape == (784,) and y.shape == (10,) and y.argmax() == 0
    xb, yb = test.get_batch(np.array([3, 4]))
    np.testing.assert_allclose(xb[0], x, rtol=1e-6)
    np.testing.assert_array_equal(yb[0], y)
    test.transform = T.Compose([T.Lambda(lambda a: a), T.Flatten()])
    assert not test.supports_batching  # a plain function forces the item-by-item path
    assert next(iter(DataLoader(test, batch_size=4)))[0].shape == (4, 784)


def test_layouts_and_uncompressed_files(tmp_path, mnist_dir, monkeypatch):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for f in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        os.symlink(mnist_dir / f, raw / f)
    assert len(MNIST(tmp_path, train=False)) == 10_000  # torchvision's layout
    monkeypatch.setenv("BACKPROP_DATA", str(tmp_path))
    assert len(MNIST(train=False)) == 10_000  # the default root
    plain = tmp_path / "plain"
    plain.mkdir()
    for f in ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        with gzip.open(mnist_dir / (f + ".gz")) as src, open(plain / f, "wb") as dst:
            shutil.copyfileobj(src, dst)
    a = MNIST(plain, train=False)
    np.testing.assert_array_equal(a.data, MNIST(mnist_dir, train=False).data)
    # Fashion-MNIST is the same format, in its own folder
    fashion = tmp_path / "FashionMNIST" / "raw"
    fashion.mkdir(parents=True)
    for f in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        os.symlink(mnist_dir / f, fashion / f)
    fm = FashionMNIST(tmp_path, train=False)
    assert len(fm) == 10_000 and fm.classes[9] == "Ankle boot"


def test_missing_files_error_names_the_folders(tmp_path):
    with pytest.raises(FileNotFoundError) as e:
        MNIST(tmp_path, train=False)
    msg = str(e.value)
    assert str(tmp_path) in msg and "download=True" in msg and "t10k-images" in msg


# ------------------------------------------------------------------------ malformed IDX files
def _idx(dims, payload: bytes, type_code=0x08, magic=None) -> bytes:
    head = magic if magic is not None else bytes([0, 0, type_code, len(dims)])
    return head + struct.pack(f">{len(dims)}I", *dims) + payload


def _write(path, data: bytes, gz: bool = True):
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


@pytest.mark.parametrize("gz", [True, False], ids=["gz", "plain"])
def test_wrong_magic(tmp_path, gz):
    p = _write(tmp_path / "bad.gz", _idx([2], b"\x01\x02", magic=b"\x01\x02\x08\x01"), gz)
    with pytest.raises(ValueError, match=r"bad\.gz has a wrong magic number 0x01020801"):
        read_idx(p)
    p = _write(tmp_path / "type.gz", _idx([2], b"\x01\x02", type_code=0x07), gz)
    with pytest.raises(ValueError, match="type.gz has a wrong magic"):
        read_idx(p)


@pytest.mark.parametrize("gz", [True, False], ids=["gz", "plain"])
def test_header_disagrees_with_size(tmp_path, gz):
    short = _write(tmp_path / "short.gz", _idx([3, 2, 2], bytes(11)), gz)
    with pytest.raises(ValueError, match=r"short\.gz: the header says shape \(3, 2, 2\)"):
        read_idx(short)
    long = _write(tmp_path / "long.gz", _idx([3, 2, 2], bytes(13)), gz)
    with pytest.raises(ValueError, match=r"long\.gz: the header says shape"):
        read_idx(long)
    good = _write(tmp_path / "good.gz", _idx([3, 2, 2], bytes(range(12))), gz)
    np.testing.assert_array_equal(read_idx(good), np.arange(12).reshape(3, 2, 2))
    cut = _write(tmp_path / "cut.gz", _idx([3], b"\x01"), gz)
    with pytest.raises(ValueError, match="cut.gz"):
        read_idx(cut)


@pytest.mark.parametrize("gz", [True, False], ids=["gz", "plain"])
def test_enormous_header_allocates_nothing(tmp_path, gz):
    # 4 * 2**32 ** 3 bytes claimed, 16 present
    p = _write(tmp_path / "huge.gz", _idx([2**32 - 1] * 3, bytes(16), type_code=0x0C), gz)
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=r"huge\.gz: the header says shape \(4294967295"):
            read_idx(p)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20


def test_corrupt_and_truncated_gzip(tmp_path):
    data = gzip.compress(_idx([1000], bytes(range(250)) * 4))
    trunc = tmp_path / "trunc.gz"
    trunc.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="trunc.gz"):
        read_idx(trunc)
    flipped = bytearray(data)
    flipped[-6] ^= 0xFF  # the CRC trailer
    bad = tmp_path / "crc.gz"
    bad.write_bytes(bytes(flipped))
    with pytest.raises(ValueError, match=r"crc\.gz is not a valid gzip file"):
        read_idx(bad)


def test_other_idx_types_and_parse_idx():
    x = np.arange(6, dtype=">i2").reshape(2, 3)
    out = parse_idx(_idx([2, 3], x.tobytes(), type_code=0x0B))
    assert out.dtype == np.int16 and out.dtype.isnative
    np.testing.assert_array_equal(out, x)
    f = np.array([1.5, -2.0], ">f8")
    np.testing.assert_array_equal(parse_idx(_idx([2], f.tobytes(), type_code=0x0E)), f)
    with pytest.raises(ValueError, match="<buffer>"):
        parse_idx(b"\x00\x00")


def test_label_count_differs_from_image_count(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (10, 28, 28), dtype=np.uint8)
    _write(tmp_path / "t10k-images-idx3-ubyte.gz", _idx([10, 28, 28], images.tobytes()))
    _write(tmp_path / "t10k-labels-idx1-ubyte.gz", _idx([9], bytes(9)))
    with pytest.raises(ValueError, match=r"t10k-labels-idx1-ubyte\.gz has 9 labels but .* 10"):
        MNIST(tmp_path, train=False)
    _write(tmp_path / "t10k-labels-idx1-ubyte.gz", _idx([10], bytes([0] * 9 + [10])))
    with pytest.raises(ValueError, match="label 10"):
        MNIST(tmp_path, train=False)
    _write(tmp_path / "t10k-images-idx3-ubyte.gz", _idx([10, 28], bytes(280)))
    with pytest.raises(ValueError, match=r"t10k-images-idx3-ubyte\.gz holds uint8 data of shape"):
        MNIST(tmp_path, train=False)
