"""Reading IDX files, the format of MNIST and Fashion-MNIST (plain or gzip-compressed).

An IDX file is a 4-byte magic number (two zero bytes, a type code, the number of dimensions), one
big-endian uint32 per dimension, then the values in row-major order. See
http://yann.lecun.com/exdb/mnist/ (section "THE IDX FILE FORMAT").

Every size the header declares is bounded before anything is allocated or inflated:

- by the file's size: a plain file must hold exactly the declared bytes; a gzip file cannot
  inflate to more than ``1032`` times its size (deflate's largest ratio), so a header declaring
  more is refused at once;
- by :data:`MAX_IDX_BYTES` (1 GiB; EMNIST ByClass, the largest IDX set in use, is 0.55 GB);
- by the stream itself: gzip data is inflated in 1 MiB pieces and the reading stops one byte
  past what the header declares. The gzip trailer's length field (ISIZE) is never trusted.

A declared size above :data:`_TRUSTED_BYTES` (64 MiB) is first verified by inflating the stream
into a discarded 1 MiB buffer; only a stream that delivers exactly the declared bytes is then
inflated into its array. So a gzip bomb with a lying header (1.5 MB inflating to 1.5 GB) costs a
few MB of memory before its ValueError, whatever it declares; a valid large file costs one more
inflation pass.
"""

from __future__ import annotations

import math
import os
import zlib
from pathlib import Path

import numpy as np

__all__ = ["read_idx", "parse_idx", "IDX_DTYPES", "MAX_IDX_BYTES"]

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
# The most data one IDX file may declare (a module attribute: raise it for a larger data set).
MAX_IDX_BYTES = 1 << 30
# Deflate inflates at most 1032-fold (zlib's FAQ: a 258-byte match coded in under 2 bits, at
# best); 1040 leaves room for the gzip header and trailer.
_DEFLATE_MAX_RATIO = 1040
_TRUSTED_BYTES = 64 << 20  # a declared size up to this is inflated straight into its array
_IN_CHUNK = 1 << 16  # compressed bytes read at a time
_OUT_CHUNK = 1 << 20  # inflated bytes produced at a time


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
    # Python ints: an absurd header cannot overflow the product. The non-zero dimensions count
    # too: (0, 2**32-1, 2**32-1) holds no bytes, but NumPy cannot even shape an empty array so.
    extent = math.prod(d for d in shape if d) * dtype.itemsize
    if extent > MAX_IDX_BYTES:
        what = "of data" if all(shape) else "along its non-zero dimensions"
        raise ValueError(
            f"read_idx: {name}: the header says shape {shape} ({extent:,} bytes {what}), more "
            f"than the {MAX_IDX_BYTES:,} bytes allowed (backprop.data.idx.MAX_IDX_BYTES)"
        )
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


class _Inflater:
    """Inflate a gzip file piece by piece: never more output at once than asked for."""

    def __init__(self, f, name: str) -> None:
        self.f, self.name = f, name
        self.d = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)  # gzip container

    def read(self, n: int) -> bytes:
        """Up to ``n`` inflated bytes; fewer only where the stream (or the file) ends."""
        out = []
        while n > 0 and not self.d.eof:
            data = self.d.unconsumed_tail or self.f.read(_IN_CHUNK)
            try:
                # (an empty input still lets zlib emit output it holds back)
                piece = self.d.decompress(data, n)
            except zlib.error as e:
                raise ValueError(f"read_idx: {self.name} is not a valid gzip file ({e})") from None
            if not piece and not data:
                break  # the file ended inside the stream
            out.append(piece)
            n -= len(piece)
        return b"".join(out)

    def finish(self, shape: tuple, nbytes: int) -> None:
        """Check that the stream ends right here, with a valid CRC (read one byte, no more)."""
        if self.read(1):
            raise _size_error(self.name, shape, nbytes, f"more than {nbytes:,}")
        if not self.d.eof:
            raise ValueError(f"read_idx: {self.name} is a truncated gzip file")


def _gunzip_idx(f, size: int, name: str) -> np.ndarray:
    z = _Inflater(f, name)
    magic = z.read(4)
    dtype, ndim = _check_magic(magic, name)
    shape, nbytes = _payload_size(z.read(4 * ndim), ndim, dtype, name)
    if nbytes > size * _DEFLATE_MAX_RATIO:
        raise ValueError(
            f"read_idx: {name}: the header says shape {shape} ({nbytes:,} bytes of data) but a "
            f"{size:,}-byte gzip file cannot inflate to more than {size * _DEFLATE_MAX_RATIO:,}"
        )
    start = 4 + 4 * ndim
    if nbytes > _TRUSTED_BYTES:
        # Verify first, into a discarded buffer: a lying header costs no memory.
        got = 0
        while got <= nbytes and (piece := z.read(min(_OUT_CHUNK, nbytes + 1 - got))):
            got += len(piece)
        if got != nbytes:
            raise _size_error(
                name, shape, nbytes, f"more than {nbytes:,}" if got > nbytes else f"{got:,}"
            )
        z.finish(shape, nbytes)
        f.seek(0)
        z = _Inflater(f, name)
        z.read(start)  # the header again (verified above)
    try:
        body = np.empty(nbytes, np.uint8)
    except MemoryError:
        raise ValueError(
            f"read_idx: {name}: not enough memory for shape {shape} ({nbytes:,} bytes)"
        ) from None
    got = 0
    while got < nbytes and (piece := z.read(min(_OUT_CHUNK, nbytes - got))):
        body[got : got + len(piece)] = np.frombuffer(piece, np.uint8)
        got += len(piece)
    if got < nbytes:
        raise _size_error(name, shape, nbytes, f"{got:,}")
    z.finish(shape, nbytes)
    arr = body.view(dtype).reshape(shape)
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
            file's length (or declares more than :data:`MAX_IDX_BYTES`), or a corrupt or
            truncated gzip stream. Memory is bounded by the declared size, capped as above, and
            a lying header is refused before its declared size is allocated (see the module's
            docstring).

    Example:
        >>> images = read_idx("t10k-images-idx3-ubyte.gz")  # (10000, 28, 28) uint8
    """
    path = Path(path)
    name = str(path)
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        head = f.read(2)
        if head == _GZIP_MAGIC:
            f.seek(0)
            arr = _gunzip_idx(f, size, name)
        else:
            # Plain file: check the header against the file size before reading the data.
            rest = f.read(2 + 4 * 8)
            dtype, ndim = _check_magic(head + rest[:2], name)
            shape, nbytes = _payload_size(rest[2 : 2 + 4 * ndim], ndim, dtype, name)
            actual = size - (4 + 4 * ndim)
            if actual != nbytes:
                raise _size_error(name, shape, nbytes, f"{actual:,}")
            f.seek(4 + 4 * ndim)
            arr = np.fromfile(f, dtype=dtype, count=math.prod(shape))
            if arr.size != math.prod(shape):  # the file shrank meanwhile
                raise _size_error(name, shape, nbytes, f"{arr.nbytes:,}")
            arr = arr.reshape(shape)
            if dtype.itemsize > 1:
                arr = arr.astype(dtype.newbyteorder("="))
    arr.flags.writeable = False
    return arr
