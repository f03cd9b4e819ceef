"""Weights to and from PyTorch: state dicts, safetensors files, and what breaks on the way.

backprop's parameter and buffer names, shapes and layouts are PyTorch's (``fc1.weight`` is
(out, in); conv weights (out, in/groups, kH, kW); BatchNorm's ``running_mean``, ``running_var``
and ``num_batches_tracked``; LSTM rows i, f, g, o and GRU rows r, z, n; MultiheadAttention's
``in_proj_weight``), so a state dict moves unchanged. This module handles the edges:

- tied weights (one tensor under two names): :func:`save_weights` writes it once and records the
  alias, :func:`load_weights` restores both names (``safetensors.torch.save_file`` refuses shared
  tensors, so this is also the file a torch user can load with ``safetensors.torch.load_file``
  then ``load_state_dict(strict=False)`` plus the tie);
- float16 and bfloat16 files: loaded as float32 with a warning (NumPy has no bfloat16);
- a ``module.`` prefix (``DataParallel``) and checkpoints nesting the weights as
  ``{"model": ..., "optimizer": ...}``: :func:`unwrap_state_dict`;
- ``.pth``/``.pt`` pickles are never read here. The safe route, in the user's own PyTorch:
  ``sd = torch.load("w.pth", weights_only=True)``, then ``safetensors.torch.save_file(sd,
  "w.safetensors")``, then :func:`load_weights` in backprop.

``torch`` is imported only by :func:`to_torch` (and by :func:`from_torch` reading its tensors).
"""

from __future__ import annotations

import json
import math
import os
import struct
import warnings
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from ..nn.module import Module
from ..serialization import MAX_HEADER_BYTES, SerializationError, load_file, read_metadata
from ..serialization import save_file as _save_file
from ..tensor import Tensor

__all__ = ["to_torch", "from_torch", "save_weights", "load_weights", "unwrap_state_dict"]

_TIED_KEY = "backprop.tied"


def _arrays(obj, where: str) -> dict[str, np.ndarray]:
    """A Module's state dict or a mapping of Tensors/arrays as name -> ndarray."""
    sd = obj.state_dict() if isinstance(obj, Module) else obj
    if not isinstance(sd, Mapping):
        raise TypeError(f"{where}: expected a Module or a state dict, got {type(obj).__name__}")
    out = {}
    for k, v in sd.items():
        if isinstance(v, Tensor):
            v = v.data
        if not isinstance(v, (np.ndarray, np.generic)):
            raise TypeError(f"{where}: {k!r} is a {type(v).__name__}, not a Tensor or array")
        out[k] = np.asarray(v)
    return out


def to_torch(obj) -> dict:
    """A backprop Module's ``state_dict()`` (or a mapping of Tensors/arrays) as a dict of
    ``torch.Tensor`` for ``torch_module.load_state_dict(..., strict=True)``.

    Tensors are copied (contiguous, own memory): editing one side never changes the other. Tied
    weights stay tied: names that shared one array share one torch tensor.
    """
    import torch

    out, seen = {}, {}
    for k, a in _arrays(obj, "to_torch").items():
        key = (a.__array_interface__["data"][0], a.shape, a.strides, a.dtype.str)
        if key not in seen:
            seen[key] = torch.from_numpy(np.array(a, order="C", copy=True))
        out[k] = seen[key]
    return out


def from_torch(state_dict: Mapping, prefix: str | None = "module.") -> dict[str, np.ndarray]:
    """A PyTorch ``state_dict`` (``torch.Tensor`` values) as NumPy arrays for
    ``module.load_state_dict``; bfloat16 becomes float32 with a warning. ``prefix`` is stripped
    when every key has it (see :func:`unwrap_state_dict`)."""
    import torch

    sd = unwrap_state_dict(state_dict, prefix=prefix)
    out, bf16 = {}, []
    for k, v in sd.items():
        if not isinstance(v, torch.Tensor):
            raise TypeError(f"from_torch: {k!r} is a {type(v).__name__}, not a torch.Tensor")
        v = v.detach().cpu()
        if v.dtype == torch.bfloat16:
            bf16.append(k)
            v = v.float()
        out[k] = v.contiguous().numpy().copy()
    if bf16:
        warnings.warn(f"from_torch: {len(bf16)} bfloat16 tensor(s) converted to float32 "
                      f"({', '.join(bf16[:3])}{', ...' if len(bf16) > 3 else ''})",
                      stacklevel=2)  # fmt: skip
    return out


def unwrap_state_dict(obj, key: str | None = None, prefix: str | None = "module.") -> dict:
    """The weights inside a checkpoint, ready for ``load_state_dict``.

    Args:
        obj: a state dict, or a checkpoint dict nesting it (``{"model": sd, "optimizer": ...}``,
            ``{"state_dict": sd}``, ...).
        key: the entry holding the weights; default: ``"state_dict"``, ``"model"`` or
            ``"model_state_dict"``, whichever is there, when ``obj`` itself is not flat.
        prefix: stripped when every key starts with it (``"module."`` from DataParallel/DDP);
            None keeps the keys.

    Raises:
        ValueError: nested weights under no known key (the message lists the keys).
    """
    if not isinstance(obj, Mapping):
        raise TypeError(f"unwrap_state_dict: expected a mapping, got {type(obj).__name__}")
    sd = obj
    nested = [k for k, v in obj.items() if isinstance(v, Mapping)]
    if key is not None:
        if key not in obj or not isinstance(obj[key], Mapping):
            raise ValueError(f"unwrap_state_dict: no mapping under {key!r}; keys: {list(obj)}")
        sd = obj[key]
    elif nested:
        for k in ("state_dict", "model", "model_state_dict"):
            if k in nested:
                sd = obj[k]
                break
        else:
            raise ValueError(
                f"unwrap_state_dict: the weights are nested under one of {nested}; pass key="
            )
    if prefix and sd and all(isinstance(k, str) and k.startswith(prefix) for k in sd):
        sd = {k[len(prefix) :]: v for k, v in sd.items()}
    return dict(sd)


def save_weights(obj, path: str | os.PathLike, metadata: Mapping[str, str] | None = None) -> None:
    """Write a Module's state dict (or a mapping of Tensors/arrays) as safetensors, PyTorch's
    names and layouts; a tensor under several names (tied weights) is written once and the
    other names recorded in the metadata (``backprop.tied``), so the file loads in
    ``safetensors.torch.load_file`` as well as in :func:`load_weights`.

    Non-contiguous arrays (a transposed view) are written in C order.
    """
    arrays = _arrays(obj, "save_weights")
    by_id: dict[tuple, str] = {}
    tensors, tied = {}, {}
    for k, a in arrays.items():
        ident = (a.__array_interface__["data"][0], a.shape, a.strides, a.dtype.str)
        if a.size and ident in by_id:
            tied[k] = by_id[ident]
            continue
        by_id[ident] = k
        tensors[k] = a  # save_file writes C order (a transposed view included)
    meta = dict(metadata or {})
    if tied:
        meta[_TIED_KEY] = json.dumps(tied, sort_keys=True)
    _save_file(tensors, path, meta)


def load_weights(path: str | os.PathLike, key: str | None = None,
                 prefix: str | None = "module.") -> dict[str, np.ndarray]:  # fmt: skip
    """Read a safetensors state dict (written by :func:`save_weights`, by PyTorch's
    ``safetensors.torch.save_file`` or by :func:`backprop.serialization.save`) for
    ``module.load_state_dict``: tied names restored as one shared array, float16 and bfloat16
    converted to float32 with a warning, a ``module.`` prefix stripped.

    Never unpickles: a ``.pth`` file is refused with the safe route in the message.
    """
    try:
        arrays = load_file(path)
        meta = read_metadata(path)
    except SerializationError as e:
        if "never unpickles" in str(e):
            raise SerializationError(
                f"{e}. The safe route, in your own PyTorch: sd = torch.load(path, "
                f"weights_only=True); safetensors.torch.save_file(sd, 'weights.safetensors'); "
                f"then load_weights('weights.safetensors')"
            ) from None
        if "'BF16'" not in str(e):
            raise
        arrays, meta = _read_with_bfloat16(Path(path))
    if "backprop.tree" in meta:  # a whole checkpoint saved by backprop.save: take its weights
        from ..serialization import load

        nested = load(path)
        return {k: _as_np(v) for k, v in unwrap_state_dict(nested, key, prefix).items()}
    half = sorted(k for k, a in arrays.items() if a.dtype == np.float16)
    if half:
        warnings.warn(f"load_weights: {len(half)} float16 tensor(s) converted to float32 "
                      f"({', '.join(half[:3])}{', ...' if len(half) > 3 else ''})",
                      stacklevel=2)  # fmt: skip
        for k in half:
            arrays[k] = arrays[k].astype(np.float32)
    tied = json.loads(meta.get(_TIED_KEY, "{}"))
    for alias, source in tied.items():
        if source not in arrays:
            raise SerializationError(f"{path}: tied name {alias!r} points to missing {source!r}")
        arrays[alias] = arrays[source]
    return unwrap_state_dict(arrays, key, prefix)


def _as_np(v) -> np.ndarray:
    return v.data if isinstance(v, Tensor) else np.asarray(v)


_PLAIN = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "I64": "<i8", "I32": "<i4", "I16": "<i2",
          "I8": "i1", "U8": "u1", "BOOL": "?"}  # fmt: skip


def _read_with_bfloat16(path: Path) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """A safetensors file holding bfloat16 tensors, read defensively (sizes bounded by the file,
    offsets tiling the data) with every BF16 tensor widened to float32 (a bfloat16 is the top
    half of a float32), with a warning. No checksum: such files come from PyTorch."""
    size = path.stat().st_size
    with open(path, "rb") as f:
        head = f.read(8)
        if len(head) != 8:
            raise SerializationError(f"{path}: truncated safetensors header")
        (n,) = struct.unpack("<Q", head)
        if n > min(MAX_HEADER_BYTES, size - 8):
            raise SerializationError(f"{path}: header size {n} exceeds the file")
        try:
            header = json.loads(f.read(n))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise SerializationError(f"{path}: corrupted header ({e})") from None
        meta = header.pop("__metadata__", None) or {}
        data_size, spans, out, widened = size - 8 - n, [], {}, []
        for name, e in header.items():
            if not isinstance(e, dict) or set(e) != {"dtype", "shape", "data_offsets"}:
                raise SerializationError(f"{path}: bad entry for tensor {name!r}")
            dt, shape, (lo, hi) = e["dtype"], e["shape"], e["data_offsets"]
            if dt != "BF16" and dt not in _PLAIN:
                raise SerializationError(f"{path}: tensor {name!r} has unsupported dtype {dt!r}")
            item = 2 if dt == "BF16" else np.dtype(_PLAIN[dt]).itemsize
            if not (isinstance(shape, list) and all(type(d) is int and d >= 0 for d in shape)):
                raise SerializationError(f"{path}: bad shape for tensor {name!r}")
            if not (0 <= lo <= hi <= data_size and hi - lo == math.prod(shape) * item):
                raise SerializationError(f"{path}: bad data offsets for tensor {name!r}")
            spans.append((lo, hi))
            f.seek(8 + n + lo)
            raw = f.read(hi - lo)
            if dt == "BF16":
                bits = np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16
                out[name] = bits.view(np.float32).reshape(shape)
                widened.append(name)
            else:
                out[name] = np.frombuffer(raw, dtype=_PLAIN[dt]).reshape(shape).copy()
        spans.sort()
        if any(a[1] != b[0] for a, b in zip(spans, spans[1:])) or (
            spans and (spans[0][0] != 0 or spans[-1][1] != data_size)
        ):
            raise SerializationError(f"{path}: tensor offsets do not tile the data")
    warnings.warn(f"load_weights: {len(widened)} bfloat16 tensor(s) converted to float32",
                  stacklevel=3)  # fmt: skip
    return out, {str(k): str(v) for k, v in meta.items()}
