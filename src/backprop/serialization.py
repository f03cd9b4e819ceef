"""Saving and loading tensors: safetensors files with JSON metadata, atomic writes, never pickle.

The file format is `safetensors <https://github.com/huggingface/safetensors>`_ (read and written
here in pure NumPy; files interoperate with the ``safetensors`` package and with PyTorch)::

    8 bytes   N, the header size (unsigned little-endian)
    N bytes   a JSON header: {"name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]},
              ..., "__metadata__": {"key": "string", ...}}
    the rest  every tensor's bytes (little-endian, C order), back to back, at those offsets

Two things are added on top, both inside ``__metadata__``:

1. ``backprop.sha256``, a checksum of the tensor index, the other metadata and the data, so that a
   flipped bit anywhere is detected instead of silently loading a wrong weight;
2. ``backprop.tree`` (written by :func:`save`), the JSON skeleton of a nested object (dicts, lists,
   numbers, strings) whose tensor leaves live in the safetensors part. An optimiser's
   ``state_dict()`` or a whole checkpoint is saved this way: tensors to safetensors, the rest to
   JSON.

Reading is defensive: the file is never unpickled (a pickle, a PyTorch ``.pt`` zip or a ``.npy``
file is recognised by its magic bytes and refused with a clear error), the header size is checked
against the file size before anything is allocated, every entry's dtype, shape and offsets are
validated, and a truncated or corrupted file raises :class:`SerializationError` naming the file.

Every size the file declares is bounded before anything is allocated: the header by the file's
size and :data:`MAX_HEADER_BYTES`, each tensor's bytes by the data actually present (offsets must
tile the data exactly), and each tensor's element count, zero-size tensors included, by
:data:`MAX_ELEMENTS`. A crafted file therefore raises :class:`SerializationError` naming it, never
``MemoryError`` or NumPy's "array is too big".

Writing goes through :func:`backprop.fileio.atomic_write`: a temporary file created exclusively
under a random name in the destination folder (never following a symlink), fsynced, renamed over
the final name and the folder fsynced, so a crash or Ctrl-C mid-write leaves the previous file
intact. ``atomic_write`` is re-exported here for older callers.

Example:
    >>> backprop.serialization.save(model.state_dict(), "weights.safetensors")
    >>> model.load_state_dict(backprop.serialization.load("weights.safetensors"))
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import struct
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .fileio import atomic_write
from .tensor import Tensor

__all__ = [
    "SerializationError",
    "save_file",
    "load_file",
    "read_metadata",
    "save",
    "load",
    "atomic_write",
]

# safetensors dtype names <-> NumPy dtypes (little-endian). BF16 and the F8 types have no NumPy
# equivalent: such files are refused with a clear error rather than misread.
_DTYPES: dict[str, np.dtype] = {
    "BOOL": np.dtype("?"),
    "U8": np.dtype("u1"),
    "I8": np.dtype("i1"),
    "U16": np.dtype("<u2"),
    "I16": np.dtype("<i2"),
    "U32": np.dtype("<u4"),
    "I32": np.dtype("<i4"),
    "U64": np.dtype("<u8"),
    "I64": np.dtype("<i8"),
    "F16": np.dtype("<f2"),
    "F32": np.dtype("<f4"),
    "F64": np.dtype("<f8"),
}
_NAMES = {dt.newbyteorder("="): name for name, dt in _DTYPES.items()}

# A header larger than this is refused before it is read (safetensors itself allows 100 MB; our
# headers hold a tensor index plus a few KB of JSON, so 16 MiB is generous).
MAX_HEADER_BYTES = 16 << 20
# No tensor may claim more elements than this, counting only its non-zero dimensions: a tensor
# of shape (0, 2**62) holds no bytes, so the file size cannot bound it, and NumPy would fail on it
# with "array is too big". 2**40 elements is a 4 TiB float32 tensor, far past any real file.
MAX_ELEMENTS = 1 << 40
_MAX_DIMS = 64
_CHUNK = 1 << 20
_CHECKSUM_KEY = "backprop.sha256"
_TREE_KEY = "backprop.tree"


class SerializationError(ValueError):
    """A file is not valid safetensors, is truncated or corrupted, or holds the wrong data."""


# ---------------------------------------------------------------------------------- writing
def _as_array(name: str, value) -> np.ndarray:
    if isinstance(value, Tensor):
        value = value.data
    if not isinstance(value, (np.ndarray, np.generic)):
        raise TypeError(
            f"save_file: tensor {name!r} must be a Tensor or NumPy array, "
            f"got {type(value).__name__}"
        )
    arr = np.asarray(value)
    key = arr.dtype.newbyteorder("=") if arr.dtype.byteorder != "|" else arr.dtype
    if key not in _NAMES:
        raise TypeError(
            f"save_file: tensor {name!r} has dtype {arr.dtype}, which safetensors cannot store "
            f"(supported: bool, int8-64, uint8-64, float16/32/64)"
        )
    # astype, not ascontiguousarray: the latter turns 0-d arrays into 1-d ones.
    return arr.astype(_DTYPES[_NAMES[key]], order="C", copy=False)


def _index_digest(index: Mapping[str, dict], metadata: Mapping[str, str]) -> hashlib._Hash:
    """The checksum's first part: the tensor index and the metadata, in a canonical form."""
    canon = {k: [v["dtype"], v["shape"], v["data_offsets"]] for k, v in index.items()}
    meta = {k: v for k, v in metadata.items() if k != _CHECKSUM_KEY}
    h = hashlib.sha256()
    h.update(json.dumps([canon, meta], sort_keys=True, separators=(",", ":")).encode())
    return h


def _bytes(arr: np.ndarray):
    return memoryview(arr.reshape(-1)).cast("B") if arr.size else b""


def _write_data(f, arrays: list[np.ndarray]) -> None:
    """Write the tensors' bytes (a separate function so that tests can inject a failure)."""
    for arr in arrays:
        f.write(_bytes(arr))


def save_file(
    tensors: Mapping[str, Tensor | np.ndarray],
    path: str | os.PathLike,
    metadata: Mapping[str, str] | None = None,
    *,
    within: str | os.PathLike | None = None,
) -> None:
    """Write tensors (and string metadata) to a safetensors file, atomically.

    Args:
        tensors: name -> Tensor or array. Names are any non-empty strings except ``__metadata__``.
        path: the destination file (its folder is created if missing).
        metadata: extra ``str -> str`` entries for the header's ``__metadata__``.
        within: a trusted root (e.g. the run folder): no folder between it and ``path`` may be
            a symlink (see :func:`backprop.fileio.atomic_write`).

    Raises:
        TypeError: a value is not a Tensor/array or has an unsupported dtype; metadata not strings.
    """
    metadata = dict(metadata or {})
    for k, v in metadata.items():
        if not isinstance(k, str) or not isinstance(v, str):
            raise TypeError(
                f"save_file: metadata must map str to str, got {k!r}: {type(v).__name__}"
            )
    names = sorted(tensors)
    arrays, index, offset = [], {}, 0
    for name in names:
        if not isinstance(name, str) or not name or name == "__metadata__":
            raise ValueError(f"save_file: invalid tensor name {name!r}")
        arr = _as_array(name, tensors[name])
        arrays.append(arr)
        index[name] = {
            "dtype": _NAMES[
                arr.dtype.newbyteorder("=") if arr.dtype.byteorder != "|" else arr.dtype
            ],
            "shape": list(arr.shape),
            "data_offsets": [offset, offset + arr.nbytes],
        }
        offset += arr.nbytes
    # The checksum goes in the header, before the data: hash everything first.
    digest = _index_digest(index, metadata)
    for arr in arrays:
        digest.update(_bytes(arr))
    metadata[_CHECKSUM_KEY] = digest.hexdigest()
    header = json.dumps({**index, "__metadata__": metadata}, separators=(",", ":")).encode()
    header += b" " * (-len(header) % 8)  # pad so the data starts 8-byte aligned (as safetensors)
    with atomic_write(path, within=within) as f:
        f.write(struct.pack("<Q", len(header)))
        f.write(header)
        _write_data(f, arrays)


# ---------------------------------------------------------------------------------- reading
def _sniff(head: bytes) -> str | None:
    """Name the format of a file that is certainly not safetensors, from its first bytes."""
    if head[:1] == b"\x80" and len(head) > 1 and 2 <= head[1] <= 5:
        return "a Python pickle (e.g. a PyTorch .pt/.pth file saved with the legacy format)"
    if head[:4] == b"PK\x03\x04":
        return "a zip archive (e.g. a PyTorch .pt/.pth file, which holds a pickle)"
    if head[:6] == b"\x93NUMPY":
        return "a NumPy .npy file"
    if head[:1] in (b"(", b"]", b"}", b"c") and b"\n" in head[:64] or head[:2] == b"(d":
        return "a Python pickle (protocol 0/1)"
    if head[:2] == b"\x1f\x8b":
        return "a gzip file"
    return None


def _fail(path, msg: str) -> SerializationError:
    return SerializationError(f"{path}: {msg}")


def _no_duplicates(pairs):
    d = {}
    for k, v in pairs:
        if k in d:
            raise ValueError(f"duplicate key {k!r}")
        d[k] = v
    return d


def _read_header(f, path, size: int) -> tuple[dict, dict, int]:
    """Parse and validate the header; returns (index, metadata, data_start)."""
    header, n = _header_json(f, path, size)
    metadata = header.pop("__metadata__", {})
    if not isinstance(metadata, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()
    ):
        raise _fail(path, "corrupted header: __metadata__ must map strings to strings")
    data_size = size - 8 - n
    spans = sorted(_entry_span(path, name, entry, data_size) for name, entry in header.items())
    end = 0
    for b, e, name in spans:
        if b != end:
            raise _fail(
                path, f"corrupted header: tensor {name!r} does not start where the last ends"
            )
        end = e
    if end != data_size:
        raise _fail(
            path,
            f"truncated or corrupted: the tensors cover {end} bytes but the file holds {data_size}",
        )
    return header, metadata, 8 + n


def _header_json(f, path, size: int) -> tuple[dict, int]:
    """The header's JSON object and its length ``n`` in bytes: the 8-byte little-endian length,
    bounded by the file and ``MAX_HEADER_BYTES`` (a pickle or zip is named as such), then ``n``
    bytes of UTF-8 JSON without duplicate keys."""
    head = f.read(8)
    if len(head) < 8:
        raise _fail(path, f"not a safetensors file: only {size} bytes")
    (n,) = struct.unpack("<Q", head)
    if n > MAX_HEADER_BYTES or n > size - 8 or n < 2:
        kind = _sniff(head + f.read(56))
        if kind is not None:
            raise _fail(
                path,
                f"this is {kind}, not a safetensors file. backprop never unpickles files "
                f"(unpickling can run arbitrary code); convert it to safetensors first",
            )
        raise _fail(
            path,
            f"not a safetensors file or truncated: the header claims {n} bytes but the file has "
            f"{size} bytes (at most {MAX_HEADER_BYTES} allowed)",
        )
    raw = f.read(n)
    if len(raw) != n:
        raise _fail(path, "truncated header")
    if raw[:1] != b"{":
        kind = _sniff(head)
        raise _fail(path, f"not a safetensors file{f' (it is {kind})' if kind else ''}")
    try:
        header = json.loads(raw.decode("utf-8"), object_pairs_hook=_no_duplicates)
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise _fail(path, f"corrupted header (invalid JSON: {e})") from None
    if not isinstance(header, dict):
        raise _fail(path, "corrupted header: not a JSON object")
    return header, n


def _entry_span(path, name: str, entry, data_size: int) -> tuple[int, int, str]:
    """One tensor's header entry checked (a known dtype, a bounded shape, offsets inside the
    ``data_size`` data bytes spanning exactly the shape's bytes); returns (begin, end, name)."""
    if not isinstance(entry, dict) or set(entry) != {"dtype", "shape", "data_offsets"}:
        raise _fail(path, f"corrupted header: bad entry for tensor {name!r}")
    dtype, shape, offs = entry["dtype"], entry["shape"], entry["data_offsets"]
    if dtype not in _DTYPES:
        raise _fail(
            path,
            f"tensor {name!r} has dtype {dtype!r}, not supported (supported: {', '.join(_DTYPES)})",
        )
    if (
        not isinstance(shape, list)
        or len(shape) > _MAX_DIMS
        or not all(type(d) is int and d >= 0 for d in shape)
    ):
        raise _fail(path, f"corrupted header: tensor {name!r} has invalid shape {shape!r}")
    if (
        not isinstance(offs, list)
        or len(offs) != 2
        or not all(type(o) is int for o in offs)
        or not 0 <= offs[0] <= offs[1] <= data_size
    ):
        raise _fail(
            path,
            f"truncated or corrupted: tensor {name!r} has offsets {offs!r} outside the "
            f"{data_size} data bytes",
        )
    nbytes = math.prod(shape) * _DTYPES[dtype].itemsize
    if offs[1] - offs[0] != nbytes:
        raise _fail(
            path,
            f"corrupted header: tensor {name!r} of shape {shape} and dtype {dtype} needs "
            f"{nbytes} bytes but its offsets span {offs[1] - offs[0]}",
        )
    # A zero-size tensor holds no bytes, so the data cannot bound its other dimensions.
    if nbytes == 0 and math.prod(d for d in shape if d) > MAX_ELEMENTS:
        raise _fail(
            path,
            f"corrupted header: tensor {name!r} has shape {shape}, more than "
            f"{MAX_ELEMENTS:,} elements along its non-zero dimensions",
        )
    return offs[0], offs[1], name


def _read(path, names: set[str] | None = None) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    path = Path(path)
    try:
        f = open(path, "rb")
    except FileNotFoundError:
        raise FileNotFoundError(f"no such file: {path}") from None
    with f:
        size = os.fstat(f.fileno()).st_size
        index, metadata, start = _read_header(f, path, size)
        check = metadata.get(_CHECKSUM_KEY)
        digest = _index_digest(index, metadata) if check is not None else None
        out = {}
        # File order, so that the checksum sees the bytes in the order they were hashed.
        for name, entry in sorted(index.items(), key=lambda kv: kv[1]["data_offsets"][0]):
            dtype = _DTYPES[entry["dtype"]]
            try:
                arr = np.empty(entry["shape"], dtype=dtype)  # size validated against the file
            except MemoryError:
                raise _fail(
                    path,
                    f"not enough memory to load tensor {name!r} "
                    f"({math.prod(entry['shape']) * dtype.itemsize:,} bytes)",
                ) from None
            f.seek(start + entry["data_offsets"][0])
            buf = _bytes(arr)
            if arr.size and f.readinto(buf) != arr.nbytes:
                raise _fail(path, f"truncated while reading tensor {name!r}")
            if digest is not None:
                digest.update(buf)
            if names is None or name in names:
                out[name] = arr.astype(dtype.newbyteorder("="), copy=False)
    if digest is not None and digest.hexdigest() != check:
        raise _fail(
            path, "corrupted: the checksum does not match (a flipped bit or a partial write)"
        )
    return out, metadata


def load_file(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Read every tensor of a safetensors file as a NumPy array (name -> array).

    Raises:
        SerializationError: (a ValueError) the file is not safetensors (a pickle is recognised and
            refused without being unpickled), is truncated, or its checksum does not match.
        FileNotFoundError: no such file.
    """
    return _read(path)[0]


def read_metadata(path: str | os.PathLike) -> dict[str, str]:
    """The ``__metadata__`` of a safetensors file, reading only its header."""
    path = Path(path)
    with open(path, "rb") as f:
        return _read_header(f, path, os.fstat(f.fileno()).st_size)[1]


# ---------------------------------------------------------------------------------- nested objects
def _encode(obj, key: str, tensors: dict) -> Any:
    """The JSON skeleton of ``obj``; arrays go to ``tensors`` under a path-like name."""
    if isinstance(obj, Tensor):
        tensors[key] = obj.data
        return {"__tensor__": key}
    if isinstance(obj, np.ndarray):
        tensors[key] = obj
        return {"__ndarray__": key}
    if isinstance(obj, np.generic):
        # Kept as a NumPy scalar: float32(0.9) ** step differs from 0.9 ** step in the last bit.
        tensors[key] = np.asarray(obj)
        return {"__scalar__": key}
    if obj is None or isinstance(obj, (bool, int, str)):
        return obj
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else {"__float__": repr(obj)}
    if isinstance(obj, (list, tuple)):
        items = [_encode(v, f"{key}.{i}", tensors) for i, v in enumerate(obj)]
        return items if isinstance(obj, list) else {"__tuple__": items}
    if isinstance(obj, Mapping):
        if all(isinstance(k, str) and not k.startswith("__") for k in obj):
            return {k: _encode(v, f"{key}.{k}", tensors) for k, v in obj.items()}
        for k in obj:
            if not isinstance(k, (str, int, bool)) or k is None:
                raise TypeError(f"save: dict key {k!r} at {key!r} is not a str or int")
        return {"__items__": [[k, _encode(v, f"{key}.{k}", tensors)] for k, v in obj.items()]}
    raise TypeError(
        f"save: cannot store {type(obj).__name__} at {key!r} (only tensors, arrays, numbers, "
        f"strings, None, lists, tuples and dicts)"
    )


_MAX_DEPTH = 100  # a checkpoint's tree is a few levels deep; a deeper one is hostile


def _decode(node, tensors: dict, path, depth: int = 0) -> Any:
    if depth > _MAX_DEPTH:
        raise _fail(path, f"corrupted metadata: nested more than {_MAX_DEPTH} levels deep")
    depth += 1
    if isinstance(node, list):
        return [_decode(v, tensors, path, depth) for v in node]
    if not isinstance(node, dict):
        return node
    if len(node) == 1:
        ((tag, v),) = node.items()
        if tag in ("__tensor__", "__ndarray__", "__scalar__"):
            if not isinstance(v, str) or v not in tensors:
                raise _fail(path, f"corrupted: the metadata refers to a missing tensor {v!r}")
            arr = tensors[v]
            if tag == "__tensor__":
                return Tensor._make(arr, False, None)
            return arr if tag == "__ndarray__" else arr[()]
        if tag == "__tuple__" and isinstance(v, list):
            return tuple(_decode(x, tensors, path, depth) for x in v)
        if tag == "__float__" and v in ("inf", "-inf", "nan"):
            return float(v)
        if tag == "__items__" and isinstance(v, list):
            if not all(
                isinstance(kv, list) and len(kv) == 2 and isinstance(kv[0], (str, int)) for kv in v
            ):  # (the keys _encode writes: str, int, bool; a list key would be unhashable)
                raise _fail(path, "corrupted metadata: bad __items__ entry")
            return {k: _decode(x, tensors, path, depth) for k, x in v}
    return {k: _decode(v, tensors, path, depth) for k, v in node.items()}


def save(
    obj: Any,
    path: str | os.PathLike,
    metadata: Mapping[str, str] | None = None,
    *,
    within: str | os.PathLike | None = None,
) -> None:
    """Save a nested object of tensors, arrays, numbers, strings, lists, tuples and dicts.

    Tensors and arrays go to the safetensors part (as ``"a.b.0"`` names following their place in
    the object); everything else becomes a JSON skeleton in the header. :func:`load` rebuilds the
    object with the same types (Tensor, ndarray, NumPy scalar, tuple, int dict keys). Nothing is
    pickled, so loading a file can never run code.

    Args:
        obj: e.g. ``model.state_dict()`` or ``{"model": ..., "optimizer": opt.state_dict()}``.
        path: the destination (written atomically).
        metadata: extra ``str -> str`` header entries (readable with :func:`read_metadata`).
        within: a trusted root folder, as for :func:`save_file`.
    """
    tensors: dict[str, np.ndarray] = {}
    tree = _encode(obj, "t", tensors)
    meta = dict(metadata or {})
    meta[_TREE_KEY] = json.dumps(tree, separators=(",", ":"), allow_nan=False)
    save_file(tensors, path, meta, within=within)


def load(path: str | os.PathLike) -> Any:
    """Load an object written by :func:`save` (or a plain safetensors file: a dict of Tensors).

    Raises:
        SerializationError: not a safetensors file (pickles are refused unread), truncated,
            corrupted (checksum), or inconsistent metadata.
    """
    tensors, metadata = _read(path)
    raw = metadata.get(_TREE_KEY)
    if raw is None:
        return {k: Tensor._make(v, False, None) for k, v in tensors.items()}
    if _CHECKSUM_KEY not in metadata:
        # save() always writes one; without it (e.g. its key name hit by a flipped bit) the
        # file would load unverified.
        raise _fail(path, f"corrupted: the checksum ({_CHECKSUM_KEY}) is missing")
    try:
        tree = json.loads(raw)
        # (A tree nested a few hundred levels deep parses, but its decoding would recurse past
        # Python's limit: the same refusal.)
        return _decode(tree, tensors, path)
    except (ValueError, RecursionError) as e:
        if isinstance(e, SerializationError):
            raise
        raise _fail(path, f"corrupted metadata ({e})") from None
