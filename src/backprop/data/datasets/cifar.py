"""CIFAR-10 from the binary version of the official archive (no pickle)."""

from __future__ import annotations

import gzip
import os
import tarfile
import zlib
from collections.abc import Callable
from pathlib import Path, PurePosixPath, PureWindowsPath

import numpy as np

from ...fileio import atomic_write
from ..download import default_root, download_url
from ._vision import ImageDataset

__all__ = ["CIFAR10", "MAX_ARCHIVE_BYTES", "MAX_BATCH_BYTES"]

_RECORD = 1 + 3 * 32 * 32  # one label byte, then 1024 red, 1024 green, 1024 blue bytes
# Bounds on what a file may make us read, allocate or write (module attributes: raise them for a
# larger data set). The official archive inflates to 185 MB; a batch file holds 30.7 MB.
MAX_ARCHIVE_BYTES = 1 << 30  # of tar stream, after decompression
MAX_BATCH_BYTES = 256 << 20  # per batch file (read into memory, or extracted from the archive)
_MAX_MEMBERS = 1000  # the archive has 8; every member's header is kept in memory by tarfile
_MAX_READ = 1 << 20  # one tar header (a pax or GNU long-name record) is read whole: bound it
_DEFLATE_MAX_RATIO = 1040  # gzip inflates at most ~1032-fold (plus its header and trailer)
_GZIP_MAGIC = b"\x1f\x8b"


def read_cifar_bin(path: str | os.PathLike, num_classes: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """Parse one CIFAR-10 binary batch file into uint8 images ``(N, 3, 32, 32)`` and labels.

    Raises:
        ValueError: naming the file, if its size is not a whole number of 3,073-byte records or
            a label is out of range.
    """
    path = Path(path)
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        if size == 0 or size % _RECORD:
            raise ValueError(
                f"CIFAR10: {path} has {size:,} bytes, not a whole number of {_RECORD}-byte records"
            )
        if size > MAX_BATCH_BYTES:
            raise ValueError(
                f"CIFAR10: {path} has {size:,} bytes, more than the {MAX_BATCH_BYTES:,} allowed "
                f"for one batch file (backprop.data.datasets.cifar.MAX_BATCH_BYTES)"
            )
        raw = np.fromfile(f, dtype=np.uint8, count=size)
    if raw.size != size:  # the file shrank meanwhile
        raise ValueError(f"CIFAR10: {path} was truncated while being read")
    raw = raw.reshape(-1, _RECORD)
    labels = raw[:, 0].astype(np.int64)
    if labels.max() >= num_classes:
        raise ValueError(f"CIFAR10: {path} has label {labels.max()}, outside 0..{num_classes - 1}")
    return raw[:, 1:].reshape(-1, 3, 32, 32), labels


def _unsafe(member: tarfile.TarInfo) -> str | None:
    """Why extracting this member could write outside the destination, or None if it is safe."""
    name = member.name.replace("\\", "/")
    if name.startswith("/") or PureWindowsPath(member.name).drive:
        return "an absolute path"
    if ".." in PurePosixPath(name).parts:
        return "a '..' path component"
    if member.issym() or member.islnk():
        return "a link"
    if not (member.isfile() or member.isdir()):
        return "a special file"
    return None


class _Bounded:
    """A read-only view of a (decompressed) tar stream that refuses to go past ``limit`` bytes
    or to read more than ``_MAX_READ`` bytes at once (tarfile reads a pax header whole)."""

    def __init__(self, f, limit: int, archive: Path) -> None:
        self.f, self.limit, self.archive = f, limit, archive

    def _refuse(self, why: str) -> ValueError:
        return ValueError(f"CIFAR10: refusing to read archive {self.archive}: {why}")

    def read(self, n: int = -1) -> bytes:
        if n is None or n < 0 or n > _MAX_READ:
            raise self._refuse(f"a tar record asks for {n:,} bytes at once (at most {_MAX_READ:,})")
        pos = self.f.tell()
        data = self.f.read(min(n, self.limit + 1 - pos))
        if pos + len(data) > self.limit:
            raise self._refuse(f"it inflates to more than {self.limit:,} bytes")
        return data

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        target = offset + (self.f.tell() if whence == os.SEEK_CUR else 0)
        if whence not in (os.SEEK_SET, os.SEEK_CUR) or target > self.limit:
            raise self._refuse(f"a tar header points past {self.limit:,} bytes")
        return self.f.seek(target)

    def tell(self) -> int:
        return self.f.tell()


def _open_stream(f, archive: Path):
    """The tar stream in ``f`` (gzip-compressed or plain) and the most bytes it may hold."""
    size = os.fstat(f.fileno()).st_size
    compressed = f.read(2) == _GZIP_MAGIC
    f.seek(0)
    limit = min(MAX_ARCHIVE_BYTES, size * _DEFLATE_MAX_RATIO if compressed else size)
    stream = gzip.GzipFile(fileobj=f, mode="rb") if compressed else f
    return _Bounded(stream, limit, archive)


def safe_extract(archive: Path, dest: Path, wanted: dict[str, str]) -> None:
    """Extract members of a tar(.gz) archive by name, refusing any unsafe member.

    Only regular files named in ``wanted`` (archive name -> file name in ``dest``) are written,
    each through :func:`backprop.fileio.atomic_write`; ``tarfile.extract`` is never used, so no
    member can choose where it lands. An archive holding an absolute path, a ``..`` component, a
    link or a device raises ValueError naming the member, before anything is written: every
    member header is read and checked first (a pass over the archive), then the files extracted.

    Reading is bounded: the tar stream may inflate to at most 1040 times the archive's size and
    :data:`MAX_ARCHIVE_BYTES`, hold at most 1,000 members, no tar record is read whole past
    1 MiB, and no extracted file may exceed :data:`MAX_BATCH_BYTES`; past any bound, a
    ValueError names the archive before more is inflated, allocated or written.
    """
    found = set()
    try:
        with (
            open(archive, "rb") as raw,
            tarfile.open(fileobj=_open_stream(raw, archive), mode="r:") as tar,
        ):
            members = []
            while (member := tar.next()) is not None:  # headers only; a truncated archive fails
                members.append(member)
                if len(members) > _MAX_MEMBERS:
                    raise ValueError(
                        f"CIFAR10: refusing to read archive {archive}: more than {_MAX_MEMBERS} "
                        f"members"
                    )
            # ...or here: tar stops at its end-of-archive blocks, but gzip checks its CRC-32 and
            # length only at the end of the stream, so read to the end.
            while tar.fileobj.read(_MAX_READ):
                pass
            for member in members:
                why = _unsafe(member)
                if why is None and member.name in wanted and member.size > MAX_BATCH_BYTES:
                    why = f"{member.size:,} bytes, more than the {MAX_BATCH_BYTES:,} allowed"
                if why is not None:
                    raise ValueError(
                        f"CIFAR10: refusing to extract {archive}: member {member.name!r} is {why}"
                    )
            dest.mkdir(parents=True, exist_ok=True)
            for member in members:
                if not member.isfile() or member.name not in wanted:
                    continue
                src = tar.extractfile(member)
                with atomic_write(dest / wanted[member.name], within=dest) as out:
                    while chunk := src.read(_MAX_READ):
                        out.write(chunk)
                found.add(member.name)
    except (tarfile.TarError, EOFError, gzip.BadGzipFile, zlib.error) as e:
        raise ValueError(f"CIFAR10: cannot read archive {archive}: {e}") from e
    missing = sorted(set(wanted) - found)
    if missing:
        raise ValueError(f"CIFAR10: archive {archive} lacks {missing}")


class CIFAR10(ImageDataset):
    """CIFAR-10: 32x32 colour photographs in 10 classes (Krizhevsky, 2009).

    - Items: ``(image, label)``, image float32 ``(3, 32, 32)`` (RGB, channels first) in [0, 1],
      label int64 in 0..9 (``classes``: airplane, automobile, bird, cat, deer, dog, frog, horse,
      ship, truck). ``data`` holds the raw uint8 pixels as ``(N, 3, 32, 32)`` (channels first,
      as stored in the binary files; torchvision's is ``(N, 32, 32, 3)``).
    - Size: 50,000 training images (5 batches) and 10,000 test images; 162 MB archive.
    - Source: https://www.cs.toronto.edu/~kriz/cifar.html, the "binary version". Cite:
      A. Krizhevsky, "Learning Multiple Layers of Features from Tiny Images", tech. report,
      University of Toronto, 2009. Free to use with this citation.

    Files: ``root/cifar-10-batches-bin/*.bin`` (or the ``.bin`` files directly in ``root``); if
    only ``root/cifar-10-binary.tar.gz`` is there, its six batch files are extracted first
    (safely: no member may escape the folder). Downloads are verified against the published md5.

    Args:
        root: the folder; default ``$BACKPROP_DATA`` or ``~/.cache/backprop``.
        train: the training batches (True) or the test batch (False).
        download: fetch the archive into ``root`` if neither batches nor archive are there.
        transform: applied to each image (a float32 ``(3, 32, 32)`` array).
        target_transform: applied to each label.
    """

    mirrors: list[str] = ["https://www.cs.toronto.edu/~kriz/"]
    filename = "cifar-10-binary.tar.gz"
    md5 = "c32a1d4ab5d03f1284b67883e8d87530"
    base_folder = "cifar-10-batches-bin"
    train_list = [f"data_batch_{k}.bin" for k in range(1, 6)]
    test_list = ["test_batch.bin"]
    classes = [
        "airplane", "automobile", "bird", "cat", "deer",
        "dog", "frog", "horse", "ship", "truck",
    ]  # fmt: skip

    def __init__(
        self,
        root: str | os.PathLike | None = None,
        train: bool = True,
        download: bool = False,
        transform: Callable | None = None,
        target_transform: Callable | None = None,
    ) -> None:
        explicit = root is not None
        self.root = Path(root).expanduser() if explicit else default_root()
        self.train = bool(train)
        names = self.train_list if self.train else self.test_list
        folder = self._locate(names, explicit, download)
        parts = [read_cifar_bin(folder / n, len(self.classes)) for n in names]
        images = np.concatenate([p[0] for p in parts]) if len(parts) > 1 else parts[0][0]
        labels = np.concatenate([p[1] for p in parts])
        super().__init__(
            images,
            labels,
            max_value=255,
            transform=transform,
            target_transform=target_transform,
        )

    def _locate(self, names: list[str], explicit: bool, download: bool) -> Path:
        batches = self.root / self.base_folder
        folders = [batches, self.root] if explicit else [batches]
        for folder in folders:
            if all((folder / n).is_file() for n in names):
                return folder
        archive = self.root / self.filename
        if not archive.is_file():
            if not download:
                raise FileNotFoundError(
                    f"CIFAR10: no {names[0]}... in {' or '.join(map(str, folders))} and no "
                    f"{self.filename} in {self.root}; pass download=True, or put the archive "
                    f"there by hand (from {self.mirrors[0]}{self.filename})"
                )
            urls = [m.rstrip("/") + "/" + self.filename for m in self.mirrors]
            download_url(urls, self.root, self.filename, md5=self.md5)
        every = self.train_list + self.test_list
        safe_extract(archive, batches, {f"{self.base_folder}/{n}": n for n in every})
        return batches

    def extra_repr(self) -> str:
        return f"split: {'train' if self.train else 'test'}, root: {self.root}"
