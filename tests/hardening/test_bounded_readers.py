"""Every reader bounds what a file declares by the file's size and a documented cap.

Crafted files (gzip bombs with lying headers, zero-size tensors with enormous dimensions, tar
records that ask for gigabytes, truncated files) must fail with a clean ValueError naming the
file, never a MemoryError or NumPy's "array is too big", and within bounded memory: the gzip
bomb's memory is measured as the growth of the peak RSS of a fresh process.
"""

from __future__ import annotations

import gzip
import io
import json
import struct
import subprocess
import sys
import tarfile
import textwrap
import tracemalloc
import zlib
from pathlib import Path

import numpy as np
import pytest

from backprop import serialization
from backprop.data import download
from backprop.data.datasets import cifar
from backprop.data.datasets.cifar import read_cifar_bin, safe_extract
from backprop.data.idx import MAX_IDX_BYTES, read_idx
from backprop.serialization import SerializationError

MiB = 1 << 20


def _gzip_of_zeros(path: Path, header: bytes, zeros_mib: int) -> int:
    """Write a valid gzip file of ``header`` + ``zeros_mib`` MiB of zeros; returns the inflated
    size. Built from one flushed deflate block repeated, so that making a 1.5 GB bomb costs
    neither 1.5 GB of memory nor its compression time."""
    chunk = bytes(MiB)
    c = zlib.compressobj(9, zlib.DEFLATED, -15)  # raw deflate; the gzip framing is written here
    first = c.compress(header + chunk) + c.flush(zlib.Z_FULL_FLUSH)
    again = c.compress(chunk) + c.flush(zlib.Z_FULL_FLUSH)  # a full flush forgets the history,
    assert again == c.compress(chunk) + c.flush(zlib.Z_FULL_FLUSH)  # so every repeat is equal
    crc = zlib.crc32(header + chunk)
    for _ in range(zeros_mib - 1):
        crc = zlib.crc32(chunk, crc)
    total = len(header) + zeros_mib * MiB
    with open(path, "wb") as f:
        f.write(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff")
        f.write(first)
        for _ in range(zeros_mib - 1):
            f.write(again)
        f.write(c.flush())
        f.write(struct.pack("<II", crc, total & 0xFFFFFFFF))
    return total


def _idx_header(*shape: int) -> bytes:
    return bytes([0, 0, 0x08, len(shape)]) + struct.pack(f">{len(shape)}I", *shape)


# ------------------------------------------------------------------------------ gzip bombs
_MEASURE = textwrap.dedent(
    """
    import json, resource, sys
    from backprop.data.idx import read_idx

    def status(key):  # kB, from /proc/self/status
        with open("/proc/self/status") as f:
            return next(int(l.split()[1]) for l in f if l.startswith(key + ":")) * 1024

    out = {}
    for path in sys.argv[1:]:
        try:  # reset the peak (VmHWM) to the current RSS, where the kernel lets us
            with open("/proc/self/clear_refs", "w") as f:
                f.write("5")
            exact = True
        except OSError:
            exact = False
        before = status("VmRSS")
        try:
            read_idx(path)
            err = None
        except BaseException as e:  # MemoryError included: reported, not hidden
            err = [type(e).__name__, str(e)]
        # without the reset, the process's lifetime peak minus the RSS before: an upper bound
        if exact:
            peak = status("VmHWM")
        else:
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        out[path] = {"error": err, "grown_bytes": peak - before, "exact": exact}
    print(json.dumps(out))
    """
)


@pytest.mark.skipif(sys.platform != "linux", reason="ru_maxrss is in KiB on Linux only")
def test_gzip_bombs_with_lying_headers_fail_within_100_mb(tmp_path):
    bombs = {
        # 1.5 MB inflating to 1.5 GB, the header declaring half of that: the reader must stop
        # one byte past the declared 784 MB without holding it
        "longer": (_idx_header(1_000_000, 28, 28), 1500),
        # the header declaring 957 MB (under the cap and the 1040x bound) of a 944 MB stream
        "shorter": (_idx_header(1_220_000, 28, 28), 900),
        # declaring 3.4 GB: past the cap, refused before inflating anything
        "past the cap": (_idx_header(4_300_000, 28, 28), 1500),
    }
    paths = []
    for label, (header, mib) in bombs.items():
        path = tmp_path / f"bomb-{label.replace(' ', '-')}.gz"
        inflated = _gzip_of_zeros(path, header, mib)
        assert path.stat().st_size < 1.6e6  # the "1.5 MB gzip"
        if label == "shorter":  # passes the up-front bounds: only the stream can refuse it
            assert inflated < 1_220_000 * 784 + 16 < path.stat().st_size * 1032
        paths.append(str(path))
    res = subprocess.run(
        [sys.executable, "-c", _MEASURE, *paths], capture_output=True, text=True, timeout=120
    )
    assert res.returncode == 0, res.stderr
    report = json.loads(res.stdout)
    for path in paths:
        err, grown = report[path]["error"], report[path]["grown_bytes"]
        assert err is not None and err[0] == "ValueError", (path, err)
        assert path in err[1], err  # names the file
        assert "read_idx" in err[1] and "array is too big" not in err[1], err
        assert grown < 100 * MiB, f"{Path(path).name}: peak RSS grew by {grown / MiB:.0f} MiB"
        how = "exact peak" if report[path]["exact"] else "upper bound"
        print(f"\n{Path(path).name}: peak RSS grew by {grown / MiB:.1f} MiB ({how})")


def test_a_large_valid_gzip_is_verified_then_read(tmp_path):
    # 100 MiB declared, above the 64 MiB verify-first threshold: two inflation passes.
    path = tmp_path / "large.gz"
    _gzip_of_zeros(path, _idx_header(100, 1024, 1024), 100)
    arr = read_idx(path)
    assert arr.shape == (100, 1024, 1024) and arr.dtype == np.uint8 and not arr.any()
    assert not arr.flags.writeable


def test_idx_declared_size_is_bounded_by_the_gzip_size(tmp_path):
    # 2,000 x 28 x 28 = 1.5 MB declared by a file of a few hundred bytes: refused at once
    path = tmp_path / "small.gz"
    path.write_bytes(gzip.compress(_idx_header(2000, 28, 28) + bytes(100), mtime=0))
    with pytest.raises(ValueError, match=r"small\.gz.*cannot inflate to more than"):
        read_idx(path)


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize(
    "shape", [(0, 2**32 - 1, 2**32 - 1), (2**32 - 1, 0), (0,) * 7 + (2**32 - 1,), (0, 70000, 70000)]
)
def test_idx_zero_size_with_huge_dimensions(tmp_path, gz, shape):
    data = _idx_header(*shape)
    path = tmp_path / ("z.gz" if gz else "z.idx")
    path.write_bytes(gzip.compress(data, mtime=0) if gz else data)
    if np.prod([d for d in shape if d], dtype=object) <= MAX_IDX_BYTES:
        assert read_idx(path).shape == shape  # a legitimately empty array
        return
    with pytest.raises(ValueError, match=r"MAX_IDX_BYTES") as e:
        read_idx(path)
    assert str(path) in str(e.value) and "array is too big" not in str(e.value)


def test_idx_truncated_and_lying_plain_headers(tmp_path):
    good = _idx_header(3, 4, 4) + bytes(range(48))
    path = tmp_path / "t.idx"
    cases = [good[:cut] for cut in range(len(good))] + [
        _idx_header(2**32 - 1, 4, 4) + bytes(48),  # lying: more than present
        _idx_header(1, 4, 4) + bytes(48),  # lying: less than present
    ]
    for blob in cases:
        for content in (blob, gzip.compress(blob, mtime=0)):
            path.write_bytes(content)
            with pytest.raises(ValueError) as e:
                read_idx(path)
            assert str(path) in str(e.value), e.value
    # a gzip stream cut anywhere after its header is refused too (the CRC and length trailer)
    gz = gzip.compress(good, mtime=0)
    for cut in range(10, len(gz)):
        path.write_bytes(gz[:cut])
        with pytest.raises(ValueError, match=str(path).replace(".", r"\.")):
            read_idx(path)


# ------------------------------------------------------------------------------ safetensors
def _safetensors(header: dict, data: bytes = b"") -> bytes:
    raw = json.dumps(header).encode()
    return struct.pack("<Q", len(raw)) + raw + data


@pytest.mark.parametrize(
    "shape",
    [[0, 2**62, 2**62], [0, 2**63 - 1], [2**64, 0], [0] + [2**40] * 10, [0, 2**41]],
)
def test_zero_size_tensors_with_huge_dimensions_are_refused(tmp_path, shape):
    path = tmp_path / "zero.safetensors"
    path.write_bytes(_safetensors({"t": {"dtype": "F32", "shape": shape, "data_offsets": [0, 0]}}))
    for read in (serialization.load_file, serialization.load, serialization.read_metadata):
        with pytest.raises(SerializationError, match="non-zero dimensions") as e:
            read(path)
        assert str(path) in str(e.value) and "array is too big" not in str(e.value)


def test_legitimate_zero_size_tensors_still_load(tmp_path):
    path = tmp_path / "ok.safetensors"
    serialization.save_file({"a": np.zeros((0, 1000), np.float32), "b": np.ones(3)}, path)
    out = serialization.load_file(path)
    assert out["a"].shape == (0, 1000) and out["b"].tolist() == [1, 1, 1]


def test_safetensors_truncated_or_lying_never_allocate(tmp_path):
    good = tmp_path / "good.safetensors"
    serialization.save({"w": np.arange(1000, dtype=np.float32), "step": 3}, good)
    data = good.read_bytes()
    (n,) = struct.unpack("<Q", data[:8])
    bad = tmp_path / "bad.safetensors"
    cases = [data[:cut] for cut in (0, 7, 8, 9, n, n + 8, n + 9, len(data) - 1)]
    cases += [struct.pack("<Q", size) + data[8:] for size in (2**63, 2**40, 17 << 20)]
    header = json.loads(data[8 : 8 + n])
    header["t.w"]["shape"] = [2**30, 2**30]  # declares 4 EiB within 4,000 bytes
    cases.append(_safetensors(header, data[8 + n :]))
    for blob in cases:
        bad.write_bytes(blob)
        tracemalloc.start()
        try:
            with pytest.raises(SerializationError) as e:
                serialization.load(bad)
        finally:
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
        assert str(bad) in str(e.value)
        assert peak < 10 * len(data) + MiB, peak


# ------------------------------------------------------------------------------ CIFAR archives
def _tar_gz(path: Path, members: list[tuple[tarfile.TarInfo, bytes | None]], fmt=None) -> None:
    with tarfile.open(path, "w:gz", format=fmt or tarfile.DEFAULT_FORMAT) as tar:
        for info, data in members:
            tar.addfile(info, None if data is None else io.BytesIO(data))


def _file(name: str, size: int, **kw) -> tarfile.TarInfo:
    ti = tarfile.TarInfo(name)
    ti.size = size
    for k, v in kw.items():
        setattr(ti, k, v)
    return ti


def _bounded_extract(archive: Path, dest: Path) -> ValueError:
    tracemalloc.start()
    try:
        with pytest.raises(ValueError) as e:
            safe_extract(archive, dest, {"cifar-10-batches-bin/test_batch.bin": "test_batch.bin"})
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert peak < 16 * MiB, f"{archive.name}: peak {peak / MiB:.0f} MiB"
    assert str(archive) in str(e.value) and "CIFAR10" in str(e.value), e.value
    assert not (dest / "test_batch.bin").exists()
    return e.value


def test_tar_pax_header_asking_for_gigabytes_is_refused(tmp_path):
    # A pax record is read whole by tarfile: one declaring 200 MB (of compressible data) would
    # be 200 MB of memory; it is refused at the read.
    archive = tmp_path / "pax.tar.gz"
    pax = _file("x", 0)
    pax.type = tarfile.XHDTYPE
    pax.size = 200 * MiB
    with gzip.open(archive, "wb") as f:
        f.write(pax.tobuf(tarfile.USTAR_FORMAT))
        for _ in range(200):
            f.write(bytes(MiB))
    err = _bounded_extract(archive, tmp_path / "out")
    assert "at once" in str(err)


def test_tar_with_too_many_members_is_refused(tmp_path):
    archive = tmp_path / "many.tar.gz"
    _tar_gz(archive, [(_file(f"m{i}", 0), b"") for i in range(1200)])
    err = _bounded_extract(archive, tmp_path / "out")
    assert "more than 1000 members" in str(err)


def test_tar_member_past_the_batch_cap_is_refused_before_extraction(tmp_path, monkeypatch):
    monkeypatch.setattr(cifar, "MAX_BATCH_BYTES", 3 * MiB)
    archive = tmp_path / "big.tar.gz"
    _tar_gz(archive, [(_file("cifar-10-batches-bin/test_batch.bin", 4 * MiB), bytes(4 * MiB))])
    err = _bounded_extract(archive, tmp_path / "out")
    assert "more than the 3,145,728 allowed" in str(err)
    assert not (tmp_path / "out").exists()  # nothing created for a refused archive


def test_tar_stream_past_the_archive_cap_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(cifar, "MAX_ARCHIVE_BYTES", 2 * MiB)
    archive = tmp_path / "bomb.tar.gz"
    _tar_gz(archive, [(_file("filler", 8 * MiB), bytes(8 * MiB))])
    err = _bounded_extract(archive, tmp_path / "out")
    assert "2,097,152" in str(err)


def test_tar_member_declaring_more_than_the_archive_holds(tmp_path):
    archive = tmp_path / "lying.tar.gz"
    info = _file("cifar-10-batches-bin/test_batch.bin", 3073 * 10**6)  # 3 GB declared
    with gzip.open(archive, "wb") as f:
        f.write(info.tobuf())
        f.write(bytes(3073))
    _bounded_extract(archive, tmp_path / "out")


def test_cifar_batch_files_truncated_or_past_the_cap(tmp_path, monkeypatch):
    path = tmp_path / "test_batch.bin"
    rec = bytes(3073 * 2)
    for cut in (0, 1, 3072, 3074, len(rec) - 1):
        path.write_bytes(rec[:cut])
        with pytest.raises(ValueError, match="whole number") as e:
            read_cifar_bin(path)
        assert str(path) in str(e.value)
    monkeypatch.setattr(cifar, "MAX_BATCH_BYTES", 3073)
    path.write_bytes(rec)
    with pytest.raises(ValueError, match="MAX_BATCH_BYTES"):
        read_cifar_bin(path)


# ------------------------------------------------------------------------------ downloads
class _FakeResponse:
    def __init__(self, body: bytes, length: int | None):
        self.body = io.BytesIO(body)
        self.headers = {} if length is None else {"Content-Length": str(length)}

    def read(self, n: int) -> bytes:
        return self.body.read(n)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


@pytest.mark.parametrize(
    "body, length, why",
    [
        (b"x" * 10_000, 10_000, "announces 10,000 bytes"),  # refused from Content-Length
        (b"x" * 5000, None, "runs past"),  # no Content-Length: cut off at the cap
    ],
)
def test_downloads_past_max_bytes_are_refused_and_leave_nothing(
    tmp_path, monkeypatch, body, length, why
):
    monkeypatch.setattr(
        download.urllib.request, "urlopen", lambda req, timeout: _FakeResponse(body, length)
    )
    with pytest.raises(download.DownloadError, match=why):
        download.download_url("http://example.invalid/f", tmp_path, "f.bin", max_bytes=1000)
    assert list(tmp_path.iterdir()) == []
    # under the cap, the same body is written
    ok = download.download_url("http://example.invalid/f", tmp_path, "f.bin", max_bytes=10**6)
    assert ok.read_bytes() == body and [p.name for p in tmp_path.iterdir()] == ["f.bin"]
