"""The backward engine: reverse-mode accumulation over the recorded graph.

The graph is ordered iteratively (a depth-first walk with an explicit stack), never recursively, so
a chain of 100,000 ops or a 1,000-step RNN unroll backpropagates without touching Python's recursion
limit. Each op's context is freed as soon as its backward has run.
"""

from __future__ import annotations

import gc

from . import function

__all__ = ["backward"]


def _topological_order(root):
    """Non-leaf tensors reachable from ``root``, every tensor after all tensors that consume it."""
    order = []
    visited = set()
    stack = [(root, False)]
    while stack:
        t, expanded = stack.pop()
        if expanded:
            order.append(t)
            continue
        if id(t) in visited:
            continue
        visited.add(id(t))
        stack.append((t, True))
        ctx = t._ctx
        if ctx.freed:
            raise RuntimeError(
                f"backward: trying to backward through the graph a second time (through "
                f"{ctx.name}): its saved values were freed after the first backward; pass "
                f"retain_graph=True to the first call if you need to do this"
            )
        for p in ctx.parents:
            if isinstance(p, function.Tensor) and p._ctx is not None and id(p) not in visited:
                stack.append((p, False))
    order.reverse()
    return order


def _check(ctx, i, p, g):
    if g.shape != p.data.shape or g.dtype != p.data.dtype:
        raise RuntimeError(
            f"{ctx.name} backward returned a gradient of shape {g.shape} and dtype {g.dtype} for "
            f"input {i} of shape {p.data.shape} and dtype {p.data.dtype} (an op bug)"
        )


def backward(root, gradient, retain_graph: bool = False) -> None:
    """Accumulate d(root)/d(leaf) into ``leaf.grad`` for every leaf that requires grad.

    ``gradient`` is an array of ``root``'s shape (the vector of the vector-Jacobian product).
    Gradients of non-leaf tensors are kept only when they called ``retain_grad()``.
    """
    if root._ctx is None:
        _accumulate_leaf(root, gradient, False)
        return
    # The graph holds no reference cycles (a tensor points to its inputs, never back), so the cyclic
    # collector has nothing to find here; left on, it re-traverses the whole live graph again and
    # again as backward allocates, which doubles the cost of long graphs of small ops.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        _run_backward(root, gradient, retain_graph)
    finally:
        if gc_was_enabled:
            gc.enable()


def _run_backward(root, gradient, retain_graph: bool) -> None:
    # grads[id(t)] = [array, owned]: owned means no other tensor's gradient shares the memory,
    # so it may be stored as a leaf's .grad and later accumulated into in place.
    grads = {id(root): [gradient, False]}
    hook = function._anomaly_hook
    for t in _topological_order(root):
        entry = grads.pop(id(t), None)
        if entry is None:
            continue  # t does not lie on a path to the root
        gy, owned = entry
        if t._retains_grad:
            _accumulate_leaf(t, gy, owned)
            owned = False
        ctx = t._ctx
        ctx.last_backward = not retain_graph
        results = ctx.fn.backward(ctx, gy)
        if type(results) is not tuple:
            results = (results,)
        if hook is not None:
            hook("backward", ctx, results)
        for i, (p, g) in enumerate(zip(ctx.parents, results)):
            if g is None or not ctx.needs_input_grad[i]:
                continue
            if g.shape != p.data.shape or g.dtype != p.data.dtype:
                _check(ctx, i, p, g)
            g_owned = g is not gy and g.base is None and not _shared(g, results, i)
            if p._ctx is None:
                _accumulate_leaf(p, g, g_owned)
                continue
            prev = grads.get(id(p))
            if prev is None:
                grads[id(p)] = [g, g_owned]
            elif prev[1]:
                prev[0] += g
            else:
                grads[id(p)] = [prev[0] + g, True]
        if not retain_graph:
            ctx.free()


def _shared(g, results, i) -> bool:
    """Whether ``g`` is also returned for another input (e.g. both inputs of ``x + y``)."""
    for j, other in enumerate(results):
        if j != i and other is g:
            return True
    return False


def _accumulate_leaf(t, g, owned: bool) -> None:
    if not t.requires_grad:
        return
    if t.grad is None:
        t.grad = function.Tensor._make(g if owned else g.copy(), False, None)
    else:
        t.grad.data += g
