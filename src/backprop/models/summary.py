"""``summary(model, input_shape)``: every layer's output shape, parameters and multiply-adds.

It runs one forward pass on a batch of zeros (batch size 1 by default, in eval mode and without
building a graph) with a pre- and a post-forward hook on every sub-module, so it sees exactly the
layers the model calls, in call order, including a layer called twice.

Multiply-adds (MACs) are counted per sample, the standard way, for the layers that do them:

- convolution: ``out_elements * (in_channels / groups) * kh * kw`` (the bias is not counted: the
  lecture's 10 filters 5x5 on 3x32x32 give 10*32*32 outputs of a 3x5x5 inner product = 768,000);
- linear (and a tied decoder): ``in_features * out_features`` per position;
- recurrent layers: ``steps * (numel(W_ih) + numel(W_hh))`` per layer and direction;
- batch/layer/group norm: one per output element (the inference form ``x * a + b``);
- RBF layers: ``in_features * num_centres`` (the squared distances);
- everything else (activations, pooling, dropout, reshapes, embeddings) counts 0.

Other layer types can be added with :func:`register_macs`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..autograd.grad_mode import no_grad
from ..nn.module import Module
from ..tensor import Tensor

__all__ = ["summary", "ModelSummary", "LayerInfo", "register_macs"]

MacRule = Callable[[Module, tuple, Any], int]
_RULES: dict[type, MacRule] = {}
_DEFAULTS_LOADED = False


def register_macs(*types: type) -> Callable[[MacRule], MacRule]:
    """Register ``rule(module, inputs, output) -> int``: the multiply-adds of one call of a module
    of one of ``types``, for the whole batch (``summary`` divides by the batch size).

    Example:
        >>> @register_macs(MyBilinear)
        ... def _bilinear(m, inputs, out):
        ...     return out.numel() * m.weight.shape[1] * m.weight.shape[2]
    """

    def decorator(rule: MacRule) -> MacRule:
        for t in types:
            _RULES[t] = rule
        return rule

    return decorator


def _conv_macs(m, inputs, out) -> int:
    # weight: (out_channels, in_channels / groups, *kernel): each output element is one inner
    # product of prod(weight.shape[1:]) terms.
    return _numel(out) * math.prod(m.weight.shape[1:])


def _linear_macs(m, inputs, out) -> int:
    return _numel(out) * m.weight.shape[1]


def _norm_macs(m, inputs, out) -> int:
    return _numel(out)


def _rnn_macs(m, inputs, out) -> int:
    # Every layer and direction runs its input and hidden matmuls once per step and sample;
    # positions = steps * batch = all but the feature dim of the input.
    x = inputs[0]
    positions = _numel(x) // x.shape[-1]
    weights = sum(p.numel() for n, p in m.named_parameters(recurse=False) if n.startswith("weight"))
    return positions * weights


def _cell_macs(m, inputs, out) -> int:
    x = inputs[0]
    rows = _numel(x) // x.shape[-1]
    return rows * (m.weight_ih.numel() + m.weight_hh.numel())


def _rbf_macs(m, inputs, out) -> int:
    # ||x - c||^2 for every (sample, centre) pair: one multiply-add per feature.
    x = inputs[0]
    return _numel(out) * x.shape[-1]


def _load_default_rules() -> None:
    """Rules for the layers of ``backprop.nn`` (looked up by name: a layer that does not exist
    in this build is simply skipped)."""
    global _DEFAULTS_LOADED
    if _DEFAULTS_LOADED:
        return
    from .. import nn

    groups = {
        _conv_macs: ("Conv1d", "Conv2d", "Conv3d"),
        _linear_macs: ("Linear",),
        _norm_macs: (
            "BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "LayerNorm", "GroupNorm",
            "InstanceNorm1d", "InstanceNorm2d",
        ),
        _rnn_macs: ("RNN", "LSTM", "GRU"),
        _cell_macs: ("RNNCell", "LSTMCell", "GRUCell"),
        _rbf_macs: ("RBF",),
    }  # fmt: skip
    for rule, names in groups.items():
        for name in names:
            cls = getattr(nn, name, None)
            if isinstance(cls, type) and cls not in _RULES:
                _RULES[cls] = rule
    _DEFAULTS_LOADED = True


def _rule_for(module: Module) -> MacRule | None:
    for cls in type(module).__mro__:
        rule = _RULES.get(cls)
        if rule is not None:
            return rule
    return None


def _numel(t) -> int:
    return int(np.prod(t.shape)) if hasattr(t, "shape") else 0


def _tensors(obj) -> list[Tensor]:
    """Every Tensor in a (possibly nested) output: RNNs return ``(out, (h, c))``."""
    if isinstance(obj, Tensor):
        return [obj]
    if isinstance(obj, (tuple, list)):
        return [t for o in obj for t in _tensors(o)]
    if isinstance(obj, dict):
        return [t for o in obj.values() for t in _tensors(o)]
    return []


def _shape_of(obj):
    if isinstance(obj, Tensor):
        return tuple(obj.shape)
    if isinstance(obj, (tuple, list)):
        return tuple(_shape_of(o) for o in obj)
    return None


def _format_shape(shape) -> str:
    if shape is None:
        return "--"
    if all(isinstance(s, int) for s in shape):
        return "[" + ", ".join(str(s) for s in shape) + "]"
    return ", ".join(_format_shape(s) for s in shape if s is not None)


@dataclass
class LayerInfo:
    """One call of one module in :func:`summary`'s table.

    Attributes:
        name: the dotted name in the model (``"features.0"``).
        type_name: the class name (``"Conv2d"``).
        depth: call nesting depth (1 for a layer the model's forward calls directly).
        output_shape: the output's shape including the batch dim; a tuple of shapes for a
            tuple output (RNNs).
        weight_shape: the shape of the module's own ``weight`` parameter, if it has one
            (PyTorch's layout: ``(out, in)`` for Linear, ``(out, in / groups, kh, kw)`` for conv).
        num_params: parameters owned directly by this module and not counted by an earlier row
            (a shared parameter is counted once).
        trainable_params: those of ``num_params`` with ``requires_grad``.
        macs: multiply-adds per sample of this call (0 for a container: see its children).
        output_bytes: bytes of the output for the whole batch.
        is_leaf: whether the module has no sub-modules.
    """

    name: str
    type_name: str
    depth: int
    output_shape: Any = None
    weight_shape: tuple | None = None
    num_params: int = 0
    trainable_params: int = 0
    macs: int = 0
    output_bytes: int = 0
    is_leaf: bool = True
    end: int = 0  # index one past this row's last descendant row (rows are in call order)


@dataclass
class ModelSummary:
    """What :func:`summary` returns; ``str()`` (or ``print``) gives the table.

    Attributes:
        rows: one :class:`LayerInfo` per module call, in call order.
        total_params: parameters of the model (shared ones once).
        trainable_params: those with ``requires_grad``.
        total_macs: multiply-adds per sample for one forward pass.
        activation_bytes: bytes of every leaf layer's output for the batch (what a training
            step keeps for backward, roughly).
        input_bytes, param_bytes: bytes of the input batch and of the parameters.
        batch_size: the batch size the forward ran with.
        max_depth: rows deeper than this are folded into their ancestor in the table (None: all).
    """

    model_name: str
    input_shapes: list
    rows: list[LayerInfo]
    total_params: int
    trainable_params: int
    total_macs: int
    activation_bytes: int
    input_bytes: int
    param_bytes: int
    batch_size: int
    max_depth: int | None = None

    @property
    def non_trainable_params(self) -> int:
        return self.total_params - self.trainable_params

    def layer(self, name: str) -> LayerInfo:
        """The first row of the module called ``name`` (``"features.0"``)."""
        for r in self.rows:
            if r.name == name:
                return r
        raise KeyError(f"summary: no layer named {name!r}")

    def leaves(self) -> list[LayerInfo]:
        """The rows of modules without sub-modules (the layers proper)."""
        return [r for r in self.rows if r.is_leaf]

    def _visible(self) -> list[tuple[LayerInfo, int, int, bool]]:
        """(row, params, macs, folded) for each displayed row, folding rows below max_depth."""
        out = []
        for i, r in enumerate(self.rows):
            if self.max_depth is not None and r.depth > self.max_depth:
                continue
            folded = self.max_depth is not None and r.depth == self.max_depth and r.end > i + 1
            if folded:
                sub = self.rows[i : r.end]
                out.append((r, sum(s.num_params for s in sub), sum(s.macs for s in sub), True))
            else:
                out.append((r, r.num_params, r.macs, False))
        return out

    def __str__(self) -> str:
        head = ("Layer (type)", "Output shape", "Weight shape", "Param #", "Mult-adds")
        body = []
        for r, params, macs, folded in self._visible():
            label = "  " * (r.depth - 1) + f"{r.name} ({r.type_name})"
            empty = not r.is_leaf and not folded
            body.append(
                (
                    label,
                    _format_shape(r.output_shape),
                    "" if r.weight_shape is None else _format_shape(r.weight_shape),
                    "--" if empty and params == 0 else f"{params:,}",
                    "--" if empty and macs == 0 else f"{macs:,}",
                )
            )
        widths = [max(len(row[i]) for row in [head, *body]) for i in range(len(head))]
        aligns = "<<<>>"

        def line(cells):
            return "  ".join(f"{c:{a}{w}}" for c, a, w in zip(cells, aligns, widths)).rstrip()

        rule = "=" * (sum(widths) + 2 * (len(widths) - 1))
        mb = 1024.0**2
        inputs = ", ".join(_format_shape(s) for s in self.input_shapes)
        lines = [
            f"{self.model_name} on input {inputs}",
            rule,
            line(head),
            rule,
            *(line(b) for b in body),
            rule,
            f"Total params: {self.total_params:,}",
            f"Trainable params: {self.trainable_params:,}",
            f"Non-trainable params: {self.non_trainable_params:,}",
            f"Total mult-adds (per sample): {self.total_macs:,}",
            rule,
            f"Input size (MB): {self.input_bytes / mb:.2f}",
            f"Activation memory, batch of {self.batch_size} (MB): {self.activation_bytes / mb:.2f}",
            f"Params size (MB): {self.param_bytes / mb:.2f}",
            rule,
        ]
        return "\n".join(lines)

    __repr__ = __str__


def _make_inputs(input_shape, input_data, batch_size: int, dtype) -> list:
    if input_data is not None:
        if input_shape is not None:
            raise ValueError("summary: give input_shape or input_data, not both")
        data = input_data if isinstance(input_data, (list, tuple)) else [input_data]
        out = []
        for d in data:
            if not isinstance(d, Tensor):
                raise TypeError(f"summary: input_data must hold Tensors, got {type(d).__name__}")
            out.append(d)
        return out
    if input_shape is None:
        raise ValueError("summary: give input_shape (per sample, without the batch dim)")
    if isinstance(input_shape, int):
        input_shape = (input_shape,)
    shapes = list(input_shape) if _is_shape_list(input_shape) else [input_shape]
    dtypes = list(dtype) if isinstance(dtype, (list, tuple)) else [dtype] * len(shapes)
    if len(dtypes) != len(shapes):
        raise ValueError(f"summary: {len(shapes)} input shapes but {len(dtypes)} dtypes")
    out = []
    for shape, dt in zip(shapes, dtypes):
        if any(not isinstance(s, (int, np.integer)) or s < 1 for s in shape):
            raise ValueError(f"summary: input_shape must hold positive ints, got {tuple(shape)}")
        dt = np.dtype(np.float32 if dt is None else dt)
        # Zeros: valid for every layer (token ids included) and draw nothing from the RNG.
        out.append(Tensor(np.zeros((batch_size, *shape), dtype=dt)))
    return out


def _is_shape_list(s) -> bool:
    return isinstance(s, (list, tuple)) and len(s) > 0 and isinstance(s[0], (list, tuple))


def summary(
    model: Module,
    input_shape: Sequence[int] | Sequence[Sequence[int]] | None = None,
    *,
    input_data: Tensor | Sequence[Tensor] | None = None,
    batch_size: int = 1,
    dtype=None,
    depth: int | None = None,
) -> ModelSummary:
    """Every layer of ``model`` with its output shape, parameter count and multiply-adds.

    Runs one forward pass on zeros of shape ``(batch_size, *input_shape)`` in eval mode without
    building a graph (the model's train/eval flags are restored afterwards) and records each
    module call with forward hooks.

    Args:
        model: any Module.
        input_shape: the per-sample input shape, without the batch dim (``(1, 28, 28)``); a
            list of shapes for a model with several inputs.
        input_data: real input Tensors instead of ``input_shape`` (batch dim included).
        batch_size: the batch size of the zeros fed in (MACs are reported per sample anyway).
        dtype: the input dtype (default float32); integer for token-id inputs. One per input
            for several inputs.
        depth: fold rows deeper than this into their ancestor in the printed table.

    Returns:
        A :class:`ModelSummary`; ``print()`` it for the table.

    Shape:
        input: ``(batch_size, *input_shape)``.

    Example:
        >>> conv = nn.Conv2d(3, 10, 5, stride=1, padding=2)
        >>> s = backprop.summary(conv, (3, 32, 32))
        >>> s.rows[0].output_shape, s.total_params, s.total_macs
        ((1, 10, 32, 32), 760, 768000)
    """
    if not isinstance(model, Module):
        raise TypeError(f"summary: expected a backprop.nn.Module, got {type(model).__name__}")
    if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"summary: batch_size must be a positive int, got {batch_size!r}")
    if depth is not None and (not isinstance(depth, int) or depth < 1):
        raise ValueError(f"summary: depth must be a positive int or None, got {depth!r}")
    _load_default_rules()
    # A model may name its input dtype (token-id models: int64), read when none is given.
    dtype = getattr(model, "input_dtype", None) if dtype is None else dtype
    inputs = _make_inputs(input_shape, input_data, int(batch_size), dtype)
    n = inputs[0].shape[0] if inputs[0].ndim else 1

    rows: list[LayerInfo] = []
    stack: list[int] = []
    counted: set[int] = set()
    handles = []

    def pre_hook(module, name):
        # Depth is call nesting (not attribute nesting): children of a ModuleList, which is
        # never called itself, sit right under the module that calls them.
        depth_ = len(stack) + 1
        stack.append(len(rows))
        rows.append(
            LayerInfo(
                name=name, type_name=type(module).__name__, depth=depth_,
                is_leaf=not any(True for _ in module.children()),
            )
        )  # fmt: skip

    def post_hook(module, args, output):
        r = rows[stack.pop()]
        r.end = len(rows)
        r.output_shape = _shape_of(output)
        weight = module._parameters.get("weight")
        r.weight_shape = None if weight is None else tuple(weight.shape)
        for p in module.parameters(recurse=False):
            if id(p) not in counted:
                counted.add(id(p))
                r.num_params += p.numel()
                r.trainable_params += p.numel() if p.requires_grad else 0
        rule = _rule_for(module)
        if rule is not None:
            r.macs = int(rule(module, args, output)) // n
        r.output_bytes = sum(t.data.nbytes for t in _tensors(output))

    # The model itself gets a row only when it is a single layer (summary(nn.Conv2d(...), ...)).
    single = not any(True for _ in model.children())
    for name, m in model.named_modules():
        if m is model and not single:
            continue

        label = name or type(m).__name__.lower()

        def pre(mod, args, label=label):
            pre_hook(mod, label)

        handles.append(m.register_forward_pre_hook(pre))
        handles.append(m.register_forward_hook(post_hook))

    modes = [(m, m.training) for m in model.modules()]
    try:
        model.eval()
        with no_grad():
            model(*inputs)
    finally:
        for h in handles:
            h.remove()
        for m, mode in modes:
            object.__setattr__(m, "training", mode)

    params = list(model.parameters())
    total = sum(p.numel() for p in params)
    trainable = sum(p.numel() for p in params if p.requires_grad)
    # A parameter the forward never reached (an unused head) still counts in the totals; it
    # shows in no row.
    return ModelSummary(
        model_name=type(model).__name__,
        input_shapes=[tuple(t.shape) for t in inputs],
        rows=rows,
        total_params=total,
        trainable_params=trainable,
        total_macs=sum(r.macs for r in rows),
        activation_bytes=sum(r.output_bytes for r in rows if r.is_leaf),
        input_bytes=sum(t.data.nbytes for t in inputs),
        param_bytes=sum(p.data.nbytes for p in params),
        batch_size=int(n),
        max_depth=depth,
    )
