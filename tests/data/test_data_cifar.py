"""CIFAR-10's binary format on small synthetic archives: parsing, safe extraction, download."""

from __future__ import annotations

import hashlib
import io
import tarfile

import numpy as np
import pytest

from backprop.data import CIFAR10, DataLoader, DownloadError
from backprop.data.datasets.cifar import read_cifar_bin

NAMES = [f"data_batch_{k}.bin" for k in range(1, 6)] + ["test_batch.bin"]


def _records(n: int, seed: int) -> tuple[bytes, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, n, dtype=np.uint8)
    images = rng.integers(0, 256, (n, 3, 32, 32), dtype=np.uint8)
    raw = np.concatenate([labels[:, None], images.reshape(n, -1)], 1).tobytes()
    return raw, images, labels


def _add(tar: tarfile.TarFile, name: str, data: bytes, **info) -> None:
    ti = tarfile.TarInfo(name)
    ti.size = len(data)
    for k, v in info.items():
        setattr(ti, k, v)
    tar.addfile(ti, io.BytesIO(data))


def _archive(path, extra=None) -> dict:
    """A cifar-10-binary.tar.gz with 3 records per batch; returns name -> (images, labels)."""
    content = {}
    with tarfile.open(path, "w:gz") as tar:
        dir_info = tarfile.TarInfo("cifar-10-batches-bin")
        dir_info.type = tarfile.DIRTYPE
        tar.addfile(dir_info)
        for k, name in enumerate(NAMES):
            raw, images, labels = _records(3, k)
            _add(tar, f"cifar-10-batches-bin/{name}", raw)
            content[name] = (images, labels)
        _add(tar, "cifar-10-batches-bin/batches.meta.txt", b"airplane\nautomobile\n")
        if extra:
            extra(tar)
    return content


def test_parse_extract_and_load(tmp_path):
    content = _archive(tmp_path / "cifar-10-binary.tar.gz")
    train = CIFAR10(tmp_path, train=True)
    assert len(train) == 15 and train.data.shape == (15, 3, 32, 32)
    expect = np.concatenate([content[n][0] for n in NAMES[:5]])
    np.testing.assert_array_equal(train.data, expect)
    np.testing.assert_array_equal(train.targets, np.concatenate([content[n][1] for n in NAMES[:5]]))
    image, label = train[4]
    assert image.shape == (3, 32, 32) and image.dtype == np.float32
    np.testing.assert_array_equal(image, expect[4] / np.float32(255))  # channels first: R, G, B
    assert sorted(p.name for p in (tmp_path / "cifar-10-batches-bin").iterdir()) == sorted(NAMES)
    test = CIFAR10(tmp_path, train=False)
    np.testing.assert_array_equal(test.targets, content["test_batch.bin"][1])
    xb, yb = next(iter(DataLoader(test, batch_size=2)))
    assert xb.shape == (2, 3, 32, 32) and yb.dtype == np.int64
    assert train.classes[0] == "airplane" and train.class_to_idx["truck"] == 9


def test_batches_without_archive_and_missing(tmp_path):
    for name in NAMES:
        (tmp_path / name).write_bytes(_records(2, 0)[0])
    assert len(CIFAR10(tmp_path, train=True)) == 10  # .bin files directly in root
    with pytest.raises(FileNotFoundError, match="download=True"):
        CIFAR10(tmp_path / "empty", train=False)


def test_malformed_batch_files(tmp_path):
    bad = tmp_path / "bad.bin"
    bad.write_bytes(bytes(3073 * 2 - 1))
    with pytest.raises(ValueError, match=r"bad\.bin has 6,145 bytes"):
        read_cifar_bin(bad)
    raw = bytearray(_records(2, 0)[0])
    raw[3073] = 10  # label of the second record
    bad.write_bytes(bytes(raw))
    with pytest.raises(ValueError, match=r"bad\.bin has label 10"):
        read_cifar_bin(bad)


@pytest.mark.parametrize(
    "member, why",
    [
        ("/tmp/evil.bin", "an absolute path"),
        ("cifar-10-batches-bin/../../evil.bin", "a '..' path component"),
        ("cifar-10-batches-bin/link", "a link"),
    ],
)
def test_unsafe_archive_members_are_refused(tmp_path, member, why):
    root = tmp_path / "root"
    root.mkdir()

    def evil(tar):
        if why == "a link":
            _add(tar, member, b"", type=tarfile.SYMTYPE, linkname="/etc/passwd")
        else:
            _add(tar, member, b"pwned")

    _archive(root / "cifar-10-binary.tar.gz", extra=evil)
    with pytest.raises(ValueError, match=f"member '{member}' is {why}"):
        CIFAR10(root, train=True)
    assert not (tmp_path / "evil.bin").exists()
    assert not any(p.name.endswith((".part", ".bptmp")) for p in root.rglob("*"))


def test_truncated_archive(tmp_path):
    path = tmp_path / "cifar-10-binary.tar.gz"
    _archive(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="cannot read archive"):
        CIFAR10(tmp_path, train=True)


def test_download_verifies_md5(tmp_path, serve, monkeypatch):
    site = tmp_path / "site"
    site.mkdir()
    _archive(site / "cifar-10-binary.tar.gz")
    md5 = hashlib.md5((site / "cifar-10-binary.tar.gz").read_bytes()).hexdigest()
    server = serve(site)
    monkeypatch.setattr(CIFAR10, "mirrors", [server.url("good")])
    with pytest.raises(DownloadError, match="checksum mismatch"):
        CIFAR10(tmp_path / "cache", train=False, download=True)  # the published md5
    assert not any((tmp_path / "cache").iterdir())
    monkeypatch.setattr(CIFAR10, "md5", md5)
    test = CIFAR10(tmp_path / "cache", train=False, download=True)
    assert len(test) == 3
