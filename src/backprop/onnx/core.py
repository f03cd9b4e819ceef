"""The exporter: walk a model's module tree, let one rule per Module type emit ONNX nodes.

How it works:

1. ``export`` puts the model in eval mode and wraps each example input in a :class:`Value`: the
   name of a graph tensor plus the example's actual data (a backprop Tensor).
2. ``ExportContext.call(module, *values)`` finds the rule registered for the module's class (the
   first class of its MRO that has one). A rule emits nodes with ``ctx.node`` and returns the names
   of its outputs; the context then runs the module's own forward on the example data so that the
   returned :class:`Value` carries real shapes for the next rule (adaptive pooling, ceil-mode
   windows and flattening need them). Composite rules (Sequential, a ResNet block, a zoo model)
   call ``ctx.call`` on their children and return those Values.
3. The graph keeps the state-dict names for initialisers (a tied weight is written once, under its
   first name), marks the batch axis (and the time axis of sequence models) dynamic, and is
   checked by ``onnx.checker.check_model(full_check=True)``.

``onnx`` is imported here, and this module is imported only when an export is asked for, so
``import backprop`` stays light.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from ..autograd.grad_mode import no_grad
from ..nn.module import Module
from ..tensor import Tensor

__all__ = [
    "export", "register_rule", "get_rule", "Value", "ExportContext", "UnsupportedModuleError",
    "MIN_OPSET", "MAX_OPSET",
]  # fmt: skip

MIN_OPSET, MAX_OPSET = 17, 22  # LayerNormalization needs 17; ONNX Runtime 1.32 runs up to 22+

_ELEM_TYPES = {
    np.dtype(np.float32): TensorProto.FLOAT,
    np.dtype(np.float64): TensorProto.DOUBLE,
    np.dtype(np.float16): TensorProto.FLOAT16,
    np.dtype(np.int64): TensorProto.INT64,
    np.dtype(np.int32): TensorProto.INT32,
    np.dtype(np.bool_): TensorProto.BOOL,
}


class UnsupportedModuleError(TypeError):
    """A module (or a setting of one) has no ONNX rule; the message names it and the way out."""


@dataclass(frozen=True)
class Value:
    """A tensor of the graph being built: its ONNX name and the example input's data there.

    Attributes:
        name: the graph tensor's name.
        tensor: what backprop computes at this point for the example input (eval mode); its
            shape is the example's (the batch and time axes are dynamic in the file).
    """

    name: str
    tensor: Tensor

    @property
    def shape(self) -> tuple:
        return self.tensor.shape

    @property
    def ndim(self) -> int:
        return self.tensor.ndim

    @property
    def dtype(self) -> np.dtype:
        return self.tensor.dtype


# A rule: rule(ctx, module, *inputs, **kwargs) -> output names or Values (nested tuples allowed).
Rule = Callable[..., Any]
_RULES: dict[type, Rule] = {}
_AXES: dict[type, Callable[[Module], list[dict[int, str]]]] = {}


def register_rule(cls: type, axes: Callable[[Module], list[dict[int, str]]] | None = None):
    """Register the ONNX export rule for ``cls`` (and its subclasses that keep its ``forward``).

    The rule is called as ``rule(ctx, module, *inputs, **kwargs)`` with the same arguments the
    module's forward receives, :class:`Value` in place of each tensor. It emits nodes through
    ``ctx`` (``ctx.node``, ``ctx.param``, ``ctx.const``) and returns the output names (a string, or
    tuples of them shaped like the forward's result), or Values from ``ctx.call`` on children.

    Args:
        cls: a Module class.
        axes: optional ``module -> [{axis: name}, ...]``, the dynamic axes of each input when
            the module is the exported model (default: axis 0 of every input is ``"batch"``).

    Example:
        >>> @register_rule(MyScale)
        ... def _my_scale(ctx, m, x):
        ...     return ctx.node("Mul", [x.name, ctx.const(np.float32(m.factor))])
    """
    if not (isinstance(cls, type) and issubclass(cls, Module)):
        raise TypeError(f"register_rule: expected a Module class, got {cls!r}")

    def decorator(fn: Rule) -> Rule:
        _RULES[cls] = fn
        if axes is not None:
            _AXES[cls] = axes
        return fn

    return decorator


def _owner(cls: type, table: Mapping[type, Any], same_forward: bool = True) -> type | None:
    """The first class in ``cls``'s MRO with an entry in ``table``; with ``same_forward``, only
    if no class before it defines its own ``forward`` (a subclass that overrides forward
    computes something else, so the base's rule would be wrong for it)."""
    for base in cls.__mro__:
        if base in table:
            return base
        if same_forward and "forward" in vars(base):
            return None
    return None


def get_rule(module: Module) -> Rule | None:
    """The rule that exports ``module``, or None (see :func:`register_rule`)."""
    owner = _owner(type(module), _RULES)
    return None if owner is None else _RULES[owner]


def _unsupported(module: Module, path: str) -> UnsupportedModuleError:
    cls = type(module)
    where = f" (at {path!r})" if path else ""
    return UnsupportedModuleError(
        f"onnx.export: no ONNX rule for {cls.__module__}.{cls.__qualname__}{where}. Register "
        f"one: @backprop.onnx.register_rule({cls.__name__}) def rule(ctx, module, x): ... "
        f"returning the output name(s) (see docs/interop.md)"
    )


class ExportContext:
    """The graph under construction, handed to every rule.

    Attributes:
        opset: the target ONNX opset (17 to 22); rules branch on it where an op changed.
    """

    def __init__(self, model: Module, opset: int) -> None:
        self.opset = opset
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self._used: set[str] = set()
        self._params: dict[int, str] = {}  # id(tensor) -> initialiser name already written
        self._state_names: dict[int, str] = {}
        self._paths: dict[int, str] = {}
        for name, p in model.named_parameters():
            self._state_names.setdefault(id(p), name)
        for name, b in model.named_buffers():
            if b is not None:
                self._state_names.setdefault(id(b), name)
        for path, m in model.named_modules():
            self._paths.setdefault(id(m), path)
        self._scope: list[str] = []

    # ---------------------------------------------------------------- names and constants
    def fresh(self, hint: str) -> str:
        """A graph-unique name starting with ``hint`` (scoped by the current module path)."""
        base = ".".join([s for s in self._scope if s] + [hint]) or hint
        name, i = base, 1
        while name in self._used:
            name, i = f"{base}_{i}", i + 1
        self._used.add(name)
        return name

    def param(self, tensor: Tensor) -> str:
        """The initialiser holding a parameter or buffer, under its state-dict name; a tensor
        reached twice (tied weights) is written once."""
        key = id(tensor)
        if key not in self._params:
            name = self._state_names.get(key)
            if name is None or name in self._used:  # not a state tensor, or the name is taken
                name = self.fresh(name or "param")
            self._used.add(name)
            arr = _contiguous(tensor.data if isinstance(tensor, Tensor) else tensor)
            self.initializers.append(numpy_helper.from_array(arr, name))
            self._params[key] = name
        return self._params[key]

    def const(self, value, dtype=None, hint: str = "const") -> str:
        """A new initialiser holding ``value`` (a number, list or array) as ``dtype``."""
        arr = np.asarray(value, dtype=dtype)
        name = self.fresh(hint)
        self.initializers.append(numpy_helper.from_array(_contiguous(arr), name))
        return name

    def ints(self, values: Sequence[int], hint: str = "ints") -> str:
        """An int64 1-D initialiser (shapes, axes, pads, indices)."""
        return self.const(np.asarray(list(values), dtype=np.int64).reshape(-1), hint=hint)

    def scalar(self, value: float, like: Value | np.dtype, hint: str = "c") -> str:
        """A 0-D constant of ``like``'s dtype (no silent float64 in a float32 graph)."""
        dt = like.dtype if isinstance(like, Value) else np.dtype(like)
        return self.const(np.asarray(value, dtype=dt), hint=hint)

    # ---------------------------------------------------------------- nodes
    def node(self, op_type: str, inputs: Sequence[str], outputs: int = 1, **attrs):
        """Append one node; returns its output name (or a list of ``outputs`` names). An input
        named ``""`` is an omitted optional input."""
        names = [self.fresh(op_type.lower()) for _ in range(outputs)]
        attrs = {k: v for k, v in attrs.items() if v is not None}
        self.nodes.append(
            helper.make_node(op_type, list(inputs), names, name=self.fresh(op_type), **attrs)
        )
        return names[0] if outputs == 1 else names

    def reduce(self, op_type: str, x: str, axes: Sequence[int], keepdims: bool = True) -> str:
        """ReduceMean/ReduceMax/...: axes are an attribute before opset 18, an input from 18
        (ReduceSum took them as an input already at 13)."""
        if self.opset >= 18 or op_type == "ReduceSum":
            return self.node(op_type, [x, self.ints(axes, "axes")], keepdims=int(keepdims))
        return self.node(op_type, [x], axes=list(axes), keepdims=int(keepdims))

    def unsqueeze(self, x: str, axes: Sequence[int]) -> str:
        return self.node("Unsqueeze", [x, self.ints(axes, "axes")])

    def squeeze(self, x: str, axes: Sequence[int]) -> str:
        return self.node("Squeeze", [x, self.ints(axes, "axes")])

    def slice(self, x: str, starts, ends, axes, steps=None) -> str:
        inputs = [x, self.ints(starts, "starts"), self.ints(ends, "ends"), self.ints(axes, "axes")]
        if steps is not None:
            inputs.append(self.ints(steps, "steps"))
        return self.node("Slice", inputs)

    def shape_of(self, x: str, start: int | None = None, end: int | None = None) -> str:
        """``Shape(x)[start:end]`` as an int64 1-D tensor (dynamic dims included)."""
        return self.node("Shape", [x], start=start, end=end)

    def reshape(self, x: str, pieces: Sequence[str | Sequence[int]]) -> str:
        """Reshape to the concatenation of ``pieces``: int lists (0 copies the input's dim at
        that place, -1 is inferred) or names of int64 1-D tensors (from ``shape_of``)."""
        names = [p if isinstance(p, str) else self.ints(p, "shape") for p in pieces]
        shape = names[0] if len(names) == 1 else self.node("Concat", names, axis=0)
        return self.node("Reshape", [x, shape])

    def linear(self, x: str, weight: Tensor, bias: Tensor | None, transposed: bool = False):
        """``x W^T + b`` for any rank of ``x`` (MatMul then Add; ``transposed``: ``x W + b``)."""
        w = self.param(weight)
        if not transposed:
            w = self.node("Transpose", [w], perm=[1, 0])  # folded to a constant by runtimes
        y = self.node("MatMul", [x, w])
        return y if bias is None else self.node("Add", [y, self.param(bias)])

    # ---------------------------------------------------------------- values and modules
    def add(self, a: Value, b: Value) -> Value:
        """``a + b`` (broadcasting), a residual connection in composite rules."""
        return Value(self.node("Add", [a.name, b.name]), a.tensor + b.tensor)

    def call(self, module: Module, *args, **kwargs):
        """Export ``module(*args, **kwargs)``: its rule's nodes, and Values for its outputs."""
        path = self._paths.get(id(module), "")
        rule = get_rule(module)
        if rule is None:
            raise _unsupported(module, path)
        leaf = path.rsplit(".", 1)[-1] if path else type(module).__name__.lower()
        self._scope.append(leaf)
        try:
            out = rule(self, module, *args, **kwargs)
        finally:
            self._scope.pop()
        if _has_names(out):
            with no_grad():
                real = module(*_concrete(args), **_concrete(kwargs))
            return _pair(out, real, type(module).__name__)
        return out


def _contiguous(arr: np.ndarray) -> np.ndarray:
    """C order for the raw bytes (``np.ascontiguousarray`` would turn a 0-D array into 1-D)."""
    arr = np.asarray(arr)
    return arr if arr.flags.c_contiguous else arr.copy(order="C")


def _concrete(obj):
    """Values -> their example Tensors, through tuples, lists and dicts."""
    if isinstance(obj, Value):
        return obj.tensor
    if isinstance(obj, (tuple, list)):
        return type(obj)(_concrete(o) for o in obj)
    if isinstance(obj, dict):
        return {k: _concrete(v) for k, v in obj.items()}
    return obj


def _has_names(out) -> bool:
    if isinstance(out, str):
        return True
    if isinstance(out, (tuple, list)):
        return any(_has_names(o) for o in out)
    return False


def _pair(names, real, where: str):
    """Zip a rule's output names with the module's real outputs (same nesting)."""
    if isinstance(names, str):
        if not isinstance(real, Tensor):
            raise AssertionError(f"{where}: rule returned a name where forward gave {real!r}")
        return Value(names, real)
    if isinstance(names, Value):
        return names
    if names is None:
        return None
    if not isinstance(real, (tuple, list)) or len(real) != len(names):
        raise AssertionError(f"{where}: rule outputs {names!r} do not match the forward's")
    return tuple(_pair(n, r, where) for n, r in zip(names, real))


def _flatten(out) -> list[Value]:
    if isinstance(out, Value):
        return [out]
    if out is None:
        return []
    if isinstance(out, (tuple, list)):
        return [v for o in out for v in _flatten(o)]
    raise TypeError(f"onnx.export: the model returned {type(out).__name__}, not tensors")


def _as_inputs(example_input) -> list[Tensor]:
    items = example_input if isinstance(example_input, (tuple, list)) else (example_input,)
    out = []
    for i, x in enumerate(items):
        t = x if isinstance(x, Tensor) else Tensor(np.asarray(x))
        if t.dtype not in _ELEM_TYPES:
            raise TypeError(f"onnx.export: example input {i} has unsupported dtype {t.dtype}")
        out.append(t.detach())
    if not out:
        raise ValueError("onnx.export: example_input is empty")
    return out


def _default_axes(model: Module, inputs: list[Tensor]) -> list[dict[int, str]]:
    owner = _owner(type(model), _AXES, same_forward=False)
    if owner is not None:
        axes = _AXES[owner](model)
        return [axes[i] if i < len(axes) else {0: "batch"} for i in range(len(inputs))]
    return [{0: "batch"} if t.ndim else {} for t in inputs]


def _value_info(name: str, t: Tensor, axes: Mapping[int, str]):
    dims = [axes.get(a, d) for a, d in enumerate(t.shape)]
    return helper.make_tensor_value_info(name, _ELEM_TYPES[t.dtype], dims)


def export(
    model: Module,
    example_input,
    path: str | os.PathLike | None = None,
    opset: int = 20,
    dynamic_batch: bool = True,
    input_names: Sequence[str] | None = None,
    output_names: Sequence[str] | None = None,
    dynamic_axes: Sequence[Mapping[int, str]] | None = None,
    check: bool = True,
    forward_kwargs: Mapping[str, Any] | None = None,
):
    """Export ``model`` (in eval mode) to an ONNX file, checked by ``onnx.checker``.

    Args:
        model: the Module to export; every module it reaches needs a rule (see
            :func:`register_rule`); an unknown one raises :class:`UnsupportedModuleError`.
        example_input: a Tensor or array (or a tuple of them, one per forward argument) fixing
            the dtypes and the static sizes.
        path: where to write the ``.onnx`` file (None: only return the model).
        opset: the ONNX opset, 17 to 22. GELU is one ``Gelu`` node from 20 (composed from
            ``Erf``/``Tanh`` below); circular padding needs 19 (``Pad`` mode ``wrap``).
        dynamic_batch: keep the batch axis (and the time axis of sequence models) dynamic.
        input_names, output_names: graph names (default ``input``/``output``, numbered when
            there are several).
        dynamic_axes: per input, ``{axis: name}`` overriding the default dynamic axes.
        check: run ``onnx.checker.check_model(full_check=True)`` on the result.
        forward_kwargs: keyword arguments for the forward, fixed in the file (a constant
            ``attn_mask``, ``is_causal=True``, ``need_weights=False``).

    Returns:
        the ``onnx.ModelProto``.

    Example:
        >>> net = models.LeNet5()
        >>> backprop.onnx.export(net, backprop.randn(1, 1, 28, 28), "lenet5.onnx")
    """
    if isinstance(opset, bool) or not isinstance(opset, int) or not MIN_OPSET <= opset <= MAX_OPSET:
        raise ValueError(f"onnx.export: opset must be an int in [{MIN_OPSET}, {MAX_OPSET}], "
                         f"got {opset!r}")  # fmt: skip
    if not isinstance(model, Module):
        raise TypeError(f"onnx.export: model must be a Module, got {type(model).__name__}")
    inputs = _as_inputs(example_input)
    names = _input_names(input_names, len(inputs))
    axes = _input_axes(model, inputs, dynamic_axes, dynamic_batch)
    modes = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        ctx = ExportContext(model, opset)
        ctx._used.update(names)
        values = [Value(n, t) for n, t in zip(names, inputs)]
        result = _flatten(ctx.call(model, *values, **dict(forward_kwargs or {})))
    finally:
        for m, mode in modes:
            object.__setattr__(m, "training", mode)

    outs = _output_names(output_names, len(result), names)
    for v, name in zip(result, outs):
        # An Identity per output: graph outputs get the user's names whatever produced them.
        ctx.nodes.append(helper.make_node("Identity", [v.name], [name], name=ctx.fresh("out")))
    graph = helper.make_graph(
        ctx.nodes,
        type(model).__name__,
        [_value_info(n, t, a) for n, t, a in zip(names, inputs, axes)],
        [
            helper.make_tensor_value_info(n, _ELEM_TYPES[v.dtype], None)
            for n, v in zip(outs, result)
        ],
        ctx.initializers,
    )
    proto = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", opset)],
        producer_name="backprop",
        producer_version=_version(),
    )
    proto.ir_version = min(proto.ir_version, 10)  # what ONNX Runtime 1.2x/1.3x reads
    proto = _with_output_shapes(proto)
    if check:
        onnx.checker.check_model(proto, full_check=True)
    if path is not None:
        from ..fileio import atomic_write

        with atomic_write(path) as f:
            f.write(proto.SerializeToString())
    return proto


def _input_names(input_names, n_in: int) -> list[str]:
    """The graph's input names: the user's (distinct, one per input) or input / input0, ..."""
    names = list(input_names) if input_names is not None else (
        ["input"] if n_in == 1 else [f"input{i}" for i in range(n_in)]
    )  # fmt: skip
    if len(names) != n_in or len(set(names)) != n_in:
        raise ValueError(f"onnx.export: {n_in} inputs need {n_in} distinct input_names, "
                         f"got {names}")  # fmt: skip
    return names


def _input_axes(model, inputs, dynamic_axes, dynamic_batch: bool) -> list[dict]:
    """Per input, ``{axis: name}`` of its dynamic axes: given, the model's defaults, or none."""
    if dynamic_axes is not None:
        axes = [dict(a) for a in dynamic_axes]
        if len(axes) != len(inputs):
            raise ValueError(
                f"onnx.export: dynamic_axes needs one mapping per input ({len(inputs)})"
            )
        return axes
    return _default_axes(model, inputs) if dynamic_batch else [{} for _ in inputs]


def _output_names(output_names, n_out: int, input_names: list[str]) -> list[str]:
    """The graph's output names, distinct from each other and from the inputs'."""
    outs = list(output_names) if output_names is not None else (
        ["output"] if n_out == 1 else [f"output{i}" for i in range(n_out)]
    )  # fmt: skip
    if len(outs) != n_out or len(set(outs) | set(input_names)) != n_out + len(input_names):
        raise ValueError(f"onnx.export: the model has {n_out} outputs; output_names {outs} "
                         f"must be {n_out} names distinct from the inputs'")  # fmt: skip
    return outs


def _with_output_shapes(proto):
    """Fill the outputs' shapes from ONNX shape inference (symbolic where dims are dynamic)."""
    inferred = onnx.shape_inference.infer_shapes(proto)
    known = {vi.name: vi for vi in inferred.graph.value_info}
    known.update({vi.name: vi for vi in inferred.graph.output})
    for out in proto.graph.output:
        vi = known.get(out.name)
        if vi is not None and vi.type.tensor_type.HasField("shape"):
            out.type.tensor_type.shape.CopyFrom(vi.type.tensor_type.shape)
    return proto


def _version() -> str:
    from .. import __version__

    return __version__
