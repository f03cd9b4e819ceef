"""``autograd.grad`` and ``autograd.backward``: the engine's entry points, PyTorch's signatures.

``grad`` returns gradients instead of accumulating them into ``.grad``, which is what a learner
needs to look at one gradient (d loss / d hidden, say) without disturbing training::

    h = torch_like_layer(x)
    loss = (h ** 2).sum()
    (dh,) = backprop.autograd.grad(loss, h)

Only first-order gradients: backward works on arrays, so a gradient has no graph of its own
(``create_graph=True`` is refused).
"""

from __future__ import annotations

import numpy as np

from . import engine, function

__all__ = ["grad", "backward"]


def _tensors(x, what: str, op: str) -> list:
    items = [x] if isinstance(x, function.Tensor) else list(x) if x is not None else []
    for t in items:
        if not isinstance(t, function.Tensor):
            raise TypeError(f"{op}: {what} must be Tensors, got {type(t).__name__}")
    return items


def _seed_gradients(outputs, grad_outputs, op: str) -> list:
    """One array per output: ``grad_outputs``' values, or ones for a one-element output."""
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    elif isinstance(grad_outputs, function.Tensor):
        grad_outputs = [grad_outputs]
    else:
        grad_outputs = list(grad_outputs)
    if len(grad_outputs) != len(outputs):
        raise ValueError(f"{op}: got {len(grad_outputs)} grad_outputs for {len(outputs)} outputs")
    seeds = []
    for i, (y, g) in enumerate(zip(outputs, grad_outputs)):
        if not y.requires_grad:
            raise RuntimeError(
                f"{op}: output {i} does not require grad and has no grad_fn (computed under "
                f"no_grad, or from inputs that do not require grad?)"
            )
        if g is None:
            if y.data.size != 1:
                raise RuntimeError(
                    f"{op}: grad can be implicitly created only for one-element outputs; output "
                    f"{i} has shape {y.shape}, pass grad_outputs"
                )
            seeds.append(np.ones_like(y.data))
            continue
        a = g.data if isinstance(g, function.Tensor) else np.asarray(g)
        if a.shape != y.data.shape:
            raise ValueError(
                f"{op}: grad_outputs[{i}] has shape {a.shape}, output {i} has shape {y.shape}"
            )
        seeds.append(a.astype(y.data.dtype, copy=False))
    for y in outputs:  # a view whose base was written to since: take the base's new history
        if y._view is not None and y._view[2] is not y._view[0]._ctx:
            function._refresh_view(y)
    return seeds


def grad(
    outputs,
    inputs,
    grad_outputs=None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: bool | None = None,
    materialize_grads: bool = False,
) -> tuple:
    """The gradients of ``outputs`` with respect to ``inputs``, without touching any ``.grad``.

    Args:
        outputs: a Tensor or a sequence of Tensors (the roots).
        inputs: a Tensor or a sequence of Tensors that require grad (leaves or not).
        grad_outputs: the vector of the vector-Jacobian product, one per output (None: ones,
            allowed for one-element outputs).
        retain_graph: keep the graph for another backward (default False).
        create_graph: must be False (first-order gradients only).
        allow_unused: return None for an input that no output depends on, instead of raising.
        materialize_grads: return zeros instead of None for unused inputs (implies
            allow_unused).

    Returns:
        A tuple with one Tensor (of the input's shape) or None per input.
    """
    op = "autograd.grad"
    if create_graph:
        raise NotImplementedError(
            f"{op}: create_graph=True (a differentiable gradient, for higher-order derivatives) "
            f"is not supported: backprop's backward computes on arrays"
        )
    outputs = _tensors(outputs, "outputs", op)
    inputs_list = _tensors(inputs, "inputs", op)
    if not outputs or not inputs_list:
        raise ValueError(f"{op}: outputs and inputs must not be empty")
    for i, t in enumerate(inputs_list):
        if not t.requires_grad:
            raise RuntimeError(f"{op}: input {i} (shape {t.shape}) does not require grad")
    if materialize_grads:
        allow_unused = True
    seeds = _seed_gradients(outputs, grad_outputs, op)
    found = engine.run_backward(outputs, seeds, bool(retain_graph), capture=inputs_list)
    result = []
    for i, (t, g) in enumerate(zip(inputs_list, found)):
        if g is None:
            if not allow_unused:
                raise RuntimeError(
                    f"{op}: input {i} (shape {t.shape}) appears not to have been used in the "
                    f"graph; pass allow_unused=True if this is what you want"
                )
            result.append(
                function.Tensor._make(np.zeros_like(t.data), False, None)
                if materialize_grads
                else None
            )
        else:
            result.append(function.Tensor._make(np.array(g, copy=True), False, None))
    return tuple(result)


def backward(tensors, grad_tensors=None, retain_graph: bool | None = None) -> None:
    """Accumulate the gradients of ``tensors`` (summed) into the ``.grad`` of the leaves, as
    ``sum(t.backward(g) for t, g in ...)`` would, in one pass over the graph."""
    op = "autograd.backward"
    tensors = _tensors(tensors, "tensors", op)
    if not tensors:
        raise ValueError(f"{op}: no tensors given")
    seeds = _seed_gradients(tensors, grad_tensors, op)
    engine.run_backward(tensors, seeds, bool(retain_graph))
