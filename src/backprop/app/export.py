"""Export a trained run to ONNX: what ``backprop export RUN_OR_CHECKPOINT model.onnx`` calls.

Application code: it rebuilds the run's model from its checkpoint (:mod:`backprop.app.runner`)
and hands it to :func:`backprop.onnx.export`, the library exporter, which knows nothing of runs.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from ..fileio import atomic_write
from ..models import default_input_shape
from ..onnx import export
from ..tensor import Tensor
from .runner import open_checkpoint

__all__ = ["export_checkpoint"]


def export_checkpoint(
    target: str | os.PathLike,
    output: str | os.PathLike,
    opset: int = 20,
    dynamic_batch: bool = True,
    input_shape: tuple | None = None,
) -> Path:
    """Rebuild the model of a ``backprop train`` run (its best checkpoint, else its last, or a
    given checkpoint file), load its weights and export it to ``output``.

    The file takes inputs prepared as the training data were: the checkpoint's normalisation
    (per-channel ``mean``/``std``), input shape and class names are stored in the file's
    ``metadata_props`` under ``backprop.data`` (JSON) for the serving side to read.

    Args:
        target: a run folder or a checkpoint file.
        output: the ``.onnx`` file to write.
        opset: ONNX opset (17 to 22).
        dynamic_batch: keep the batch axis dynamic.
        input_shape: the per-sample input shape, when the checkpoint does not record one.

    Returns:
        the path written.

    Raises:
        FileNotFoundError: no checkpoint there; CheckpointError: not a ``backprop train``
        checkpoint; ValueError: no input shape known.
    """
    path, model, ckpt = open_checkpoint(target)
    info = dict(ckpt.metadata.get("data", {}) or {})
    shape = input_shape or info.get("input_shape")
    if not shape:
        name = (ckpt.metadata.get("model") or {}).get("name")
        shape = default_input_shape(name) if name else None
    if not shape:
        raise ValueError(
            f"export_checkpoint: {path} records no input shape; pass input_shape=(C, H, W)"
        )
    example = Tensor(np.zeros((1, *tuple(int(s) for s in shape)), np.float32))
    proto = export(model, example, None, opset=opset, dynamic_batch=dynamic_batch)
    keep = {k: info[k] for k in ("input_shape", "mean", "std", "classes", "num_classes")
            if k in info}  # fmt: skip
    entry = proto.metadata_props.add()
    entry.key, entry.value = "backprop.data", json.dumps(keep, default=_plain)
    entry = proto.metadata_props.add()
    entry.key, entry.value = (
        "backprop.checkpoint",
        json.dumps({"file": path.name, "epoch": ckpt.epoch, "model": ckpt.model_class}),
    )
    out = Path(output)
    with atomic_write(out) as f:
        f.write(proto.SerializeToString())
    return out


def _plain(obj):
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    raise TypeError(f"export_checkpoint: cannot store {type(obj).__name__} in the metadata")
