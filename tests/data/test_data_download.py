"""Downloads against a local HTTP server on 127.0.0.1 (never the internet)."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from backprop.data import MNIST, DownloadError, check_integrity, download_url
from backprop.data.download import default_root, file_digest

T10K_IMAGES = "t10k-images-idx3-ubyte.gz"
T10K_IMAGES_MD5 = "9fb629c4189551a2d022fa330f9573f3"


def _md5(path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def _leftovers(folder) -> list[str]:
    return sorted(p.name for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def test_good_download_through_mnist(tmp_path, mnist_copy, serve, monkeypatch):
    server = serve(mnist_copy)
    monkeypatch.setattr(MNIST, "mirrors", [server.url("good")])
    cache = tmp_path / "cache"
    test = MNIST(cache, train=False, download=True)
    raw = cache / "MNIST" / "raw"
    assert _leftovers(raw) == ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]
    assert _md5(raw / T10K_IMAGES) == T10K_IMAGES_MD5
    assert len(test) == 10_000 and test.targets[0] == 7
    # a second construction finds the files and makes no request
    hits = len(server.hits)
    assert len(MNIST(cache, train=False, download=True)) == 10_000
    assert len(server.hits) == hits


def test_corrupted_copy_is_rejected_and_leaves_nothing(tmp_path, mnist_copy, serve, monkeypatch):
    server = serve(mnist_copy)
    monkeypatch.setattr(MNIST, "mirrors", [server.url("corrupt")])
    cache = tmp_path / "cache"
    with pytest.raises(DownloadError, match="checksum mismatch") as e:
        MNIST(cache, train=False, download=True)
    assert server.url("corrupt") + T10K_IMAGES in str(e.value)
    assert _leftovers(cache) == []
    # a corrupt mirror is skipped in favour of a good one
    monkeypatch.setattr(MNIST, "mirrors", [server.url("corrupt"), server.url("good")])
    assert len(MNIST(cache, train=False, download=True)) == 10_000


def test_connection_dropped_half_way_leaves_nothing(tmp_path, mnist_copy, serve):
    server = serve(mnist_copy)
    folder = tmp_path / "cache"
    with pytest.raises(DownloadError, match="IncompleteRead") as e:
        download_url(server.url("drop") + T10K_IMAGES, folder, T10K_IMAGES, md5=T10K_IMAGES_MD5)
    assert _leftovers(folder) == []
    assert str(folder) in str(e.value)
    # a dropped connection is transient: retried on the same URL before giving up
    assert server.hits.count("/drop/" + T10K_IMAGES) == 3


def test_server_down_gives_a_clear_error(tmp_path, dead_url, monkeypatch):
    monkeypatch.setattr(MNIST, "mirrors", [dead_url, dead_url.replace("good", "other")])
    cache = tmp_path / "cache"
    with pytest.raises(DownloadError) as e:
        MNIST(cache, train=False, download=True)
    msg = str(e.value)
    assert dead_url + T10K_IMAGES in msg and "other/" + T10K_IMAGES in msg  # every URL tried
    assert "Connection refused" in msg or "refused" in msg.lower()
    assert str(cache / "MNIST" / "raw") in msg and "by hand" in msg  # where to put the file
    assert _leftovers(cache) == []


def test_retry_on_transient_error_and_next_mirror_on_404(tmp_path, mnist_copy, serve):
    server = serve(mnist_copy)
    got = download_url(
        [server.url("missing") + T10K_IMAGES, server.url("flaky") + T10K_IMAGES],
        tmp_path,
        T10K_IMAGES,
        md5=T10K_IMAGES_MD5.upper(),
    )
    assert _md5(got) == T10K_IMAGES_MD5
    assert server.hits == [
        "/missing/" + T10K_IMAGES,  # 404: not retried
        "/flaky/" + T10K_IMAGES,  # 503: retried
        "/flaky/" + T10K_IMAGES,
    ]


def test_sha256_and_overwrite(tmp_path, mnist_copy, serve):
    server = serve(mnist_copy)
    sha = hashlib.sha256((mnist_copy / T10K_IMAGES).read_bytes()).hexdigest()
    target = tmp_path / T10K_IMAGES
    target.write_bytes(b"stale")
    download_url(server.url("good") + T10K_IMAGES, tmp_path, T10K_IMAGES, sha256=sha)
    assert file_digest(target, "sha256") == sha
    assert check_integrity(target, md5=T10K_IMAGES_MD5, sha256=sha)
    assert not check_integrity(target, md5="0" * 32)
    assert not check_integrity(tmp_path / "absent")
    with pytest.raises(DownloadError, match="sha256"):
        download_url(server.url("good") + T10K_IMAGES, tmp_path, "x.gz", sha256="0" * 64)
    assert not (tmp_path / "x.gz").exists()


def test_arguments_and_default_root(tmp_path, monkeypatch):
    with pytest.raises(ValueError, match="no URL"):
        download_url([], tmp_path, "f")
    with pytest.raises(ValueError, match="retries"):
        download_url("http://127.0.0.1:1/f", tmp_path, "f", retries=-1)
    monkeypatch.setenv("BACKPROP_DATA", str(tmp_path / "d"))
    assert default_root() == tmp_path / "d"
    monkeypatch.delenv("BACKPROP_DATA")
    assert default_root().parts[-2:] == (".cache", "backprop")


def test_train_subset_fails_published_checksum(tmp_path, mnist_copy, serve, monkeypatch):
    # The shared train files are a 20,000-image subset: a download of them must be rejected
    # (published md5), while the same files given as root= load (see test_data_mnist).
    server = serve(mnist_copy)
    monkeypatch.setattr(MNIST, "mirrors", [server.url("good")])
    with pytest.raises(DownloadError, match="checksum mismatch"):
        MNIST(tmp_path / "cache", train=True, download=True)
    assert _leftovers(tmp_path / "cache") == []
    assert len(MNIST(mnist_copy, train=True)) == 20_000
    assert np.all(MNIST(mnist_copy, train=True).targets < 10)
