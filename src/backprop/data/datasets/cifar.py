"""CIFAR-10 from the binary version of the official archive (no pickle)."""

from __future__ import annotations

import gzip
import os
import tarfile
import tempfile
import zlib
from collections.abc import Callable
from pathlib import Path, PurePosixPath, PureWindowsPath

import numpy as np

from ..download import default_root, download_url
from ._vision import ImageDataset

__all__ = ["CIFAR10"]

_RECORD = 1 + 3 * 32 * 32  # one label byte, then 1024 red, 1024 green, 1024 blue bytes


def read_cifar_bin(path: str | os.PathLike, num_classes: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """Parse one CIFAR-10 binary batch file into uint8 images ``(N, 3, 32, 32)`` and labels.

    Raises:
        ValueError: naming the file, if its size is not a whole number of 3,073-byte records or
            a label is out of range.
    """
    path = Path(path)
    size = path.stat().st_size
    if size == 0 or size % _RECORD:
        raise ValueError(
            f"CIFAR10: {path} has {size:,} bytes, not a whole number of {_RECORD}-byte records"
        )
    raw = np.fromfile(path, dtype=np.uint8).reshape(-1, _RECORD)
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


def safe_extract(archive: Path, dest: Path, wanted: dict[str, str]) -> None:
    """Extract members of a tar(.gz) archive by name, refusing any unsafe member.

    Only regular files named in ``wanted`` (archive name -> file name in ``dest``) are written,
    each through a temporary file and an atomic rename; ``tarfile.extract`` is never used, so no
    member can choose where it lands. An archive holding an absolute path, a ``..`` component, a
    link or a device raises ValueError naming the member, before anything is written: every
    member header is read and checked first (a pass over the archive), then the files extracted.
    """
    dest.mkdir(parents=True, exist_ok=True)
    found = set()
    try:
        with tarfile.open(archive, "r:*") as tar:
            members = tar.getmembers()  # headers only; a truncated archive fails here
            # ...or here: tar stops at its end-of-archive blocks, but gzip checks its CRC-32 and
            # length only at the end of the stream, so read to the end.
            while tar.fileobj.read(1 << 20):
                pass
            for member in members:
                why = _unsafe(member)
                if why is not None:
                    raise ValueError(
                        f"CIFAR10: refusing to extract {archive}: member {member.name!r} is {why}"
                    )
            for member in members:
                if not member.isfile() or member.name not in wanted:
                    continue
                src = tar.extractfile(member)
                fd, tmp = tempfile.mkstemp(prefix=".extract.", suffix=".part", dir=dest)
                try:
                    with os.fdopen(fd, "wb") as out:
                        while chunk := src.read(1 << 20):
                            out.write(chunk)
                    os.replace(tmp, dest / wanted[member.name])
                    tmp = None
                finally:
                    if tmp is not None:
                        os.unlink(tmp)
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
