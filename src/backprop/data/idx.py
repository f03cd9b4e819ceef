"""Reading IDX files, the format of MNIST and Fashion-MNIST (plain or gzip-compressed).

An IDX file is a 4-byte magic number (two zero bytes, a type code, the number of dimensions), one
big-endian uint32 per dimension, then the values in row-major order. See
http://yann.lecun.com/exdb/mnist/ (section "THE IDX FILE FORMAT").

Every size the header claims is checked against the bytes actually present before any array is
made, and decompression never produces more than the header promised plus one byte, so a corrupt
or hostile header can neither allocate a huge buffer nor make us inflate a gzip bomb.
"""

from __future__ import annotations

import math
import os
import sys
import zlib
from pathlib import Path

import numpy as np

__all__ = ["read_idx", "parse_idx", "IDX_DTYPES"]

# type code -> dtype (big-endian, as stored)
IDX_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_GZIP_MAGIC = b"\x1f\x8b"


def _check_magic(magic: bytes, name: str) -> tuple[np.dtype, int]:
    if len(magic) < 4:
        raise ValueError(f"read_idx: {name} is too short to be an IDX file ({len(magic)} bytes)")
    if magic[0] != 0 or magic[1] != 0 or magic[2] not in IDX_DTYPES or not 1 <= magic[3] <= 8:
        raise ValueError(
            f"read_idx: {name} has a wrong magic number 0x{magic[:4].hex()} (expected 0x0000TTNN "
            f"with type TT in {sorted(f'{k:02x}' for k in IDX_DTYPES)} and 1 <= NN <= 8 dimensions)"
        )
    return IDX_DTYPES[magic[2]], magic[3]


def _payload_size(header: bytes, ndim: int, dtype: np.dtype, name: str) -> tuple[tuple, int]:
    if len(header) < 4 * ndim:
        raise ValueError(
            f"read_idx: {name} ends inside its header ({len(header)} of {4 * ndim} dimension bytes)"
        )
    shape = tuple(int(d) for d in np.frombuffer(header, ">u4", count=ndim))
    # Python ints: an absurd header cannot overflow the product.
    return shape, math.prod(shape) * dtype.itemsize


def _size_error(name: str, shape: tuple, expected: int, actual: str) -> ValueError:
    return ValueError(
        f"read_idx: {name}: the header says shape {shape} ({expected:,} bytes of data) but the "
        f"file holds {actual} bytes of data"
    )


def parse_idx(buffer: bytes | bytearray | memoryview, name: str = "<buffer>") -> np.ndarray:
    """Decode an uncompressed IDX file held in memory (zero-copy: the array views ``buffer``).

    Args:
        buffer: the whole file.
        name: what to call it in error messages (usually its path).

    Returns:
        A read-only array in native byte order (uint8 for MNIST), with the header's shape.

    Raises:
        ValueError: wrong magic number, or a header that disagrees with the data length.
    """
    mv = memoryview(buffer).cast("B")
    dtype, ndim = _check_magic(bytes(mv[:4]), name)
    shape, nbytes = _payload_size(bytes(mv[4 : 4 + 4 * ndim]), ndim, dtype, name)
    start = 4 + 4 * ndim
    if len(mv) - start != nbytes:
        raise _size_error(name, shape, nbytes, f"{len(mv) - start:,}")
    arr = np.frombuffer(mv, dtype=dtype, offset=start).reshape(shape)
    if dtype.itemsize > 1:
        arr = arr.astype(dtype.newbyteorder("="))
    return arr


def _gunzip_idx(raw: bytes, name: str) -> np.ndarray:
    d = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)  # gzip container
    try:
        magic = d.decompress(raw, 4)
        dtype, ndim = _check_magic(magic, name)
        header = d.decompress(d.unconsumed_tail, 4 * ndim)
        shape, nbytes = _payload_size(header, ndim, dtype, name)
        # At most one byte more than promised: enough to detect a lying header, and memory
        # stays bounded by the header-promised size and by the real data, whichever is smaller.
        body = d.decompress(d.unconsumed_tail, min(nbytes + 1, sys.maxsize))
    except zlib.error as e:
        raise ValueError(f"read_idx: {name} is not a valid gzip file ({e})") from None
    if len(body) > nbytes:
        raise _size_error(name, shape, nbytes, "more than that")
    if len(body) < nbytes:
        raise _size_error(name, shape, nbytes, f"{len(body):,}")
    if not d.eof:
        try:  # a stream that stops without its end marker is a truncated download
            rest = d.decompress(d.unconsumed_tail, 1)
        except zlib.error as e:
            raise ValueError(f"read_idx: {name} is not a valid gzip file ({e})") from None
        if rest:
            raise _size_error(name, shape, nbytes, "more than that")
        if not d.eof:
            raise ValueError(f"read_idx: {name} is a truncated gzip file")
    arr = np.frombuffer(body, dtype=dtype).reshape(shape)
    if dtype.itemsize > 1:
        arr = arr.astype(dtype.newbyteorder("="))
    return arr


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file, gzip-compressed (detected from its content) or plain.

    Args:
        path: the file, e.g. ``train-images-idx3-ubyte.gz``.

    Returns:
        A read-only NumPy array with the header's shape and dtype (native byte order).

    Raises:
        ValueError: naming the file, for a wrong magic number, a header that disagrees with the
            file's length, or a corrupt gzip stream.

    Example:
        >>> images = read_idx("t10k-images-idx3-ubyte.gz")  # (10000, 28, 28) uint8
    """
    path = Path(path)
    with open(path, "rb") as f:
        head = f.read(2)
        if head == _GZIP_MAGIC:
            return _gunzip_idx(head + f.read(), str(path))
        # Plain file: check the header against the file size before reading the data.
        rest = f.read(2 + 4 * 8)
        magic = head + rest[:2]
        dtype, ndim = _check_magic(magic, str(path))
        shape, nbytes = _payload_size(rest[2 : 2 + 4 * ndim], ndim, dtype, str(path))
        actual = os.fstat(f.fileno()).st_size - (4 + 4 * ndim)
        if actual != nbytes:
            raise _size_error(str(path), shape, nbytes, f"{actual:,}")
        f.seek(4 + 4 * ndim)
        arr = np.fromfile(f, dtype=dtype, count=math.prod(shape)).reshape(shape)
    if dtype.itemsize > 1:
        arr = arr.astype(dtype.newbyteorder("="))
    arr.flags.writeable = False
    return arr
