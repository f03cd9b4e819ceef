"""The backward engine: reverse-mode accumulation over the recorded graph.

The graph is ordered iteratively (a depth-first walk with an explicit stack), never recursively, so
a chain of 100,000 ops or a 1,000-step RNN unroll backpropagates without touching Python's recursion
limit. Each op's context is freed as soon as its backward has run.

Before an op's backward runs, the engine checks that no tensor it saved was modified in place
since (version counters, see ``version.py``). Tensor hooks (``Tensor.register_hook``) see, and
may replace, a tensor's whole gradient once it is complete: for a non-leaf when its op's backward
is about to run, for a leaf before it is accumulated into ``.grad``.

Gradient memory: an array stored as a ``.grad`` is later accumulated into in place, so it must be
owned by that ``.grad`` alone. Every array the engine hands on is tagged owned or shared
(``_owned`` says which for an op's results; a gradient a hook, ``capture`` or ``retain_grad`` has
seen is shared); a shared one is copied before it is stored or accumulated into.

The engine does not pause Python's cyclic garbage collector: measured in one process, alternating
per call, the pause made a 2,000-op chain's backward 3-6% faster but its forward + backward only
0.4% (the collections it skipped ran in the next forward instead), and a LeNet-5 step not at all
(no collection runs during its backward); and the switch is process-wide, so it would also stop
the collector for other threads and override a ``gc.disable()``/``gc.enable()`` made meanwhile.
"""

from __future__ import annotations

from . import function
from .hooks import RemovableHandle
from .version import check_saved_versions, clock

__all__ = ["backward", "run_backward", "register_post_backward_callback"]


def node_of(p, consumer, i):
    """The op that made input ``i`` of ``consumer`` (``p``) as it was when ``consumer`` ran.

    Usually ``p._ctx``. A tensor written to in place since has a new history; the ops recorded
    before the write keep pointing at the old one, which ``p._history`` lists with the versions
    it was valid for (see ``inplace.py``).
    """
    history = p._history
    if history is None:
        return p._ctx
    recorded = getattr(consumer, "saved_versions", None)
    version = 0 if recorded is None else recorded[i]
    for valid_until, ctx in history:
        if version < valid_until:
            return ctx
    return p._ctx


def _position(ctx, p) -> int:
    """The first input of ``ctx`` that is ``p`` (a tensor given twice, as in ``x * x``, has the
    same recorded version at both places)."""
    for i, q in enumerate(ctx.parents):
        if q is p:
            return i
    raise AssertionError("not an input")  # pragma: no cover


_PLACED = object()  # on the stack, above a (tensor, op) entry whose op's inputs are expanded


def _topological_order(roots):
    """``(tensor, op)`` for every op reachable from ``roots``, each before all ops that consume
    its output: the engine runs them from the end (``pop()``)."""
    # Ops themselves are the set's keys (hashed by identity, as id() would be, without a call
    # per visit). An expanded entry is pushed again below a _PLACED marker: everything pushed
    # above the marker (the entry's inputs) is popped before it, and then the entry itself.
    order = []
    visited = set()
    stack = [(r, r._ctx) for r in roots if r._ctx is not None]
    push, pop, place, visit = stack.append, stack.pop, order.append, visited.add
    tensor = function.Tensor
    while stack:
        entry = pop()
        if entry is _PLACED:  # the entry below's inputs are all placed: it comes after them
            place(pop())
            continue
        ctx = entry[1]
        if ctx in visited:
            continue
        visit(ctx)
        push(entry)
        push(_PLACED)
        if ctx.freed:
            raise RuntimeError(
                f"backward: trying to backward through the graph a second time (through "
                f"{ctx.name}): its saved values were freed after the first backward; pass "
                f"retain_graph=True to the first call if you need to do this"
            )
        for p in ctx.parents:
            if isinstance(p, tensor) and p._ctx is not None:
                node = p._ctx if p._history is None else node_of(p, ctx, _position(ctx, p))
                if node is not None and node not in visited:
                    push((p, node))
    return order


def _raise_gradient_mismatch(ctx, i, p, g) -> None:
    """An op's backward returned gradient ``g`` for input ``i`` (``p``) of another shape or dtype:
    an op bug, reported with both."""
    raise RuntimeError(
        f"{ctx.name} backward returned a gradient of shape {g.shape} and dtype {g.dtype} for "
        f"input {i} of shape {p.data.shape} and dtype {p.data.dtype} (an op bug)"
    )


def backward(root, gradient, retain_graph: bool = False) -> None:
    """Accumulate d(root)/d(leaf) into ``leaf.grad`` for every leaf that requires grad.

    ``gradient`` is an array of ``root``'s shape (the vector of the vector-Jacobian product).
    Gradients of non-leaf tensors are kept only when they called ``retain_grad()``.
    """
    run_backward([root], [gradient], retain_graph)


def run_backward(roots, gradients, retain_graph: bool = False, capture=None):
    """Backpropagate ``gradients`` (arrays) from ``roots`` (tensors).

    Without ``capture``, gradients accumulate into the ``.grad`` of leaves (and of
    ``retain_grad()`` tensors). With ``capture`` (a list of tensors), no leaf's ``.grad`` is
    touched (``retain_grad()`` tensors still get theirs, as in PyTorch): the gradient reaching each
    captured tensor is returned, in order (None where none reaches it), as ``autograd.grad``
    needs.
    """
    result = _run(roots, gradients, retain_graph, capture)
    if capture is None:
        for callback in list(_post_backward.values()):
            callback()
    return result


_post_backward: dict = {}


def register_post_backward_callback(callback) -> RemovableHandle:
    """Call ``callback()`` after every backward pass that accumulated into ``.grad`` (not after
    ``autograd.grad``), once all gradients are in place: what data-parallel training needs to
    average the gradients over processes. Returns a handle whose ``remove()`` unregisters it."""
    if not callable(callback):
        raise TypeError(f"register_post_backward_callback: expected a callable, got {callback!r}")
    handle = RemovableHandle(_post_backward)
    _post_backward[handle.id] = callback
    return handle


def _add_pending(pending, key, g, owned: bool) -> None:
    """Sum ``g`` into ``pending[key] = [array, owned]``: in place into an owned sum, else into a
    new array (which the sum then owns)."""
    prev = pending.get(key)
    if prev is None:
        pending[key] = [g, owned]
    elif prev[1]:
        prev[0] += g
    else:
        pending[key] = [prev[0] + g, True]


def _owned(g, gy, results, i) -> bool:
    """Whether ``g``, the gradient an op's backward returned for its input ``i``, is the engine's
    alone: a new array (not the incoming ``gy`` passed through, not a view of another array) that
    the op did not also return for another input (both inputs of ``x + y``)."""
    if g is gy or g.base is not None:
        return False
    for j, other in enumerate(results):
        if j != i and other is g:
            return False
    return True


def _run(roots, gradients, retain_graph: bool, capture):
    # Pending gradients by node: the op for a non-leaf (a tensor written in place has had
    # several ops), id(tensor) for a leaf (a Tensor's == is elementwise, so not a key itself).
    pending = {}
    leaves = {}  # id -> leaf whose gradient waits for its hooks or for capture
    captured = None if capture is None else {id(t): None for t in capture}
    for r, g in zip(roots, gradients):
        _add_pending(pending, id(r) if r._ctx is None else r._ctx, g, False)
        if r._ctx is None:
            leaves[id(r)] = r
    hook = function._anomaly_hook
    last = not retain_graph
    take, get = pending.pop, pending.get
    # Popped, not iterated: each entry is dropped once its op has run, so that, the graph not
    # retained, what it held is freed during the pass (less memory, and fewer collections by
    # Python's cyclic garbage collector, which counts allocations net of frees).
    order = _topological_order(roots)
    next_op = order.pop
    while order:
        t, ctx = next_op()
        entry = take(ctx, None)
        if entry is None:
            continue  # the op does not lie on a path to a root
        gy, owned = entry
        if ctx is t._ctx and (t._hooks is not None or t._retains_grad or captured is not None):
            # t's whole gradient, on t's current history: its hooks, capture and retain_grad
            gy = _complete_grad(t, gy, owned, captured)
        if ctx.saved_tensors and ctx.saved_at != clock.now:
            check_saved_versions(ctx, t)
        ctx.last_backward = last
        if hook is not None:
            hook("grad_output", ctx, gy)
        results = ctx.fn.backward(ctx, gy)
        if type(results) is not tuple:
            results = (results,)
        if hook is not None:
            hook("backward", ctx, results)
        needs = ctx.needs_input_grad
        i = -1  # (counted by hand: cheaper than enumerate's tuples)
        for p, g in zip(ctx.parents, results):
            i += 1
            if g is None or not needs[i]:
                continue
            d = p.data
            if g.shape != d.shape or (g.dtype is not d.dtype and g.dtype != d.dtype):
                _raise_gradient_mismatch(ctx, i, p, g)
            node = p._ctx if p._history is None else node_of(p, ctx, i)
            if node is not None:
                if get(node) is None:  # (_add_pending's first case and _owned's, inlined)
                    own = g is not gy and g.base is None
                    if own and len(results) > 1:
                        own = _owned(g, gy, results, i)
                    pending[node] = [g, own]
                else:
                    _add_pending(pending, node, g, _owned(g, gy, results, i))
            elif p._hooks is None and captured is None:
                _accumulate(p, g, _owned(g, gy, results, i))
            else:
                leaves[id(p)] = p
                _add_pending(pending, id(p), g, _owned(g, gy, results, i))
        if last:  # ctx.free(), inlined
            ctx.saved_tensors = ctx.parents = ()
            ctx.saved_versions = None
            ctx.__dict__.clear()
            ctx.freed = True
    _finish_leaves(leaves, pending, captured)
    if captured is not None:
        return [captured[id(t)] for t in capture]
    return None


def _complete_grad(t, g, owned: bool, captured):
    """Non-leaf ``t``'s gradient ``g``, now complete: run its hooks, capture it, store it when
    ``t`` retains its gradient. Returns what flows on into ``t``'s op (a hook may replace it)."""
    if t._hooks is not None:
        g, owned = _run_hooks(t, g), False
    if captured is not None and id(t) in captured:
        captured[id(t)] = g
        owned = False
    if t._retains_grad:  # (also under capture: autograd.grad fills them, as PyTorch)
        _accumulate(t, g, owned)
    return g


def _finish_leaves(leaves, pending, captured) -> None:
    """The leaves with hooks (or under capture): their gradients were summed first, so that a hook
    sees each one once, whole, as in PyTorch; then captured, or accumulated into ``.grad``."""
    for key, p in leaves.items():
        entry = pending.pop(key, None)
        if entry is None:
            continue
        g, owned = entry
        if p._hooks is not None:
            g, owned = _run_hooks(p, g), False
        if captured is not None:
            if id(p) in captured:
                captured[id(p)] = g
        else:
            _accumulate(p, g, owned)


def _run_hooks(t, g):
    """Call ``t``'s gradient hooks in registration order; each may return a replacement."""
    for fn in list(t._hooks.values()):
        out = fn(function.Tensor._make(g, False, None))
        if out is None:
            continue
        new = out.data if isinstance(out, function.Tensor) else out
        if getattr(new, "shape", None) != g.shape:
            raise RuntimeError(
                f"hook: a gradient hook returned shape {getattr(new, 'shape', type(new))} for a "
                f"tensor of shape {g.shape}"
            )
        g = new.astype(g.dtype, copy=False)
    return g


def _accumulate(t, g, owned: bool) -> None:
    """Add ``g`` into ``t.grad``; ``owned`` means no other holder shares ``g``'s memory."""
    if not t.requires_grad:
        return
    if t.grad is None:
        t.grad = function.Tensor._make(g if owned else g.copy(), False, None)
    else:
        t.grad.data += g
