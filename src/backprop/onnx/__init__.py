"""ONNX export: a registry of rules per Module type, each emitting ONNX nodes; every exported file
is checked by ``onnx.checker`` (and, in the tests, run by ONNX Runtime).

>>> import backprop
>>> net = backprop.models.LeNet5().eval()
>>> backprop.onnx.export(net, backprop.randn(1, 1, 28, 28), "lenet5.onnx")

``onnx`` itself (the ``onnx`` extra: ``pip install backprop[onnx]``) is imported on the first call,
not by ``import backprop``. See docs/interop.md for the supported layers, opsets and how to
register a rule for your own module. Exporting a ``backprop train`` run (its model rebuilt from a
checkpoint) is application code, above this package: :func:`backprop.app.export.export_checkpoint`.
"""

from __future__ import annotations

__all__ = ["export", "register_rule", "get_rule", "UnsupportedModuleError", "ExportContext",
           "Value", "MIN_OPSET", "MAX_OPSET"]  # fmt: skip

MIN_OPSET, MAX_OPSET = 17, 22  # as backprop.onnx.core (kept here so that no onnx import is needed)


def _load():
    """The exporter and every rule module (importing them registers the rules)."""
    from . import core, rules, rules_seq, rules_zoo  # noqa: F401

    return core


def export(model, example_input, path=None, opset: int = 20, dynamic_batch: bool = True,
           input_names=None, output_names=None, dynamic_axes=None, check: bool = True,
           forward_kwargs=None):  # fmt: skip
    """Export ``model`` (in eval mode) to an ONNX file checked by ``onnx.checker``.

    Args:
        model: the Module; each module it reaches needs a rule (an unknown one raises
            :class:`UnsupportedModuleError` naming it).
        example_input: a Tensor/array, or a tuple of them (one per forward argument).
        path: the ``.onnx`` file to write (None: only return the ``onnx.ModelProto``).
        opset: 17 to 22 (GELU is one node from 20; circular padding needs 19).
        dynamic_batch: keep the batch axis (and the time axis of sequence models) dynamic.
        input_names, output_names: graph names (default ``input``/``output``, numbered).
        dynamic_axes: per input ``{axis: name}``, overriding the defaults.
        check: run ``onnx.checker.check_model(full_check=True)``.
        forward_kwargs: keyword arguments for the forward, fixed in the file (a constant
            ``attn_mask``, ``is_causal=True``).

    Returns:
        the ``onnx.ModelProto``.
    """
    return _load().export(
        model, example_input, path, opset=opset, dynamic_batch=dynamic_batch,
        input_names=input_names, output_names=output_names, dynamic_axes=dynamic_axes,
        check=check, forward_kwargs=forward_kwargs,
    )  # fmt: skip


def __getattr__(name: str):
    if name in ("register_rule", "get_rule", "UnsupportedModuleError", "ExportContext", "Value"):
        return getattr(_load(), name)
    if name == "export_checkpoint":
        raise AttributeError(
            "backprop.onnx.export_checkpoint moved to backprop.app.export.export_checkpoint "
            "(it rebuilds a training run's model: application code, above this library)"
        )
    raise AttributeError(f"module 'backprop.onnx' has no attribute {name!r}")
