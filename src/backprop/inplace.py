"""In-place writes (``x.add_(y)``, ``x += y``, ``x[i] = v``...): PyTorch's rules, and how the graph
stays right after one.

An in-place method computes its result out of place, with the ordinary ops, from the tensor's
current values, and then writes it into the tensor's memory. Around that write:

- **Rules** (PyTorch's): in grad mode, a leaf that requires grad, or a view of one, cannot be
  written to (its ``.grad`` would describe values it no longer holds); under ``no_grad`` it can,
  keeping its identity, ``requires_grad`` and ``.grad``. The result's dtype must cast to the
  tensor's by kind (bool < integer < float): an int tensor cannot take ``/= 2``. The result must
  have the tensor's shape (no broadcasting the tensor itself).
- **Versions**: every write bumps the tensor's version counter, shared with its views, so that an
  op that saved the old values raises at backward (``autograd/version.py``).
- **History**: when the write is recorded (grad mode and something requires grad), the tensor is
  *rebased*: its ``grad_fn`` becomes the op that computed the new values, whose input is a
  snapshot standing for the old values (same memory, same version counter, the old
  ``grad_fn``). Arrays that this op saved from the memory about to be overwritten are copied
  first, so its own backward sees the old values. A write through a view also rebases the view's
  base with a CopySlices node (``ops/inplace.py``), and the view's (and its sibling views')
  ``grad_fn`` is regenerated from the base, as PyTorch does.

Writes through the raw ``.data`` array bypass all of this, as ``.data`` does in PyTorch.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .autograd import grad_mode
from .autograd.function import _refresh_view, note_history
from .ops.inplace import CopySlices
from .tensor import Tensor

__all__ = ["write", "write_values", "check_cast"]

_KIND_RANK = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}


class CastError(RuntimeError, TypeError):
    """A result whose dtype cannot be written into the tensor: PyTorch's RuntimeError, and a
    TypeError (a dtype refusal, as the other ops give)."""


def check_cast(op: str, result, target) -> None:
    """PyTorch's rule for writing a result of dtype ``result`` into a tensor of dtype ``target``:
    allowed unless it goes down in kind (float to integer, integer to bool)."""
    if _KIND_RANK[np.dtype(result).kind] > _KIND_RANK[np.dtype(target).kind]:
        raise CastError(
            f"{op}: result type {np.dtype(result)} can't be cast to the desired output type "
            f"{np.dtype(target)}"
        )


def _check_writable(t: Tensor, op: str) -> None:
    if grad_mode._state.enabled and t.requires_grad:
        if t._ctx is None:
            raise RuntimeError(
                f"{op}: a leaf tensor that requires grad is being used in an in-place operation; "
                f"wrap the update in `with backprop.no_grad():` (as an optimiser step is)"
            )
    if t._view is not None and grad_mode._state.enabled:
        base = t._view[0]
        if base.requires_grad and base._ctx is None:
            raise RuntimeError(
                f"{op}: a view of a leaf tensor that requires grad is being used in an in-place "
                f"operation; wrap the update in `with backprop.no_grad():`"
            )
    if not t.data.flags.writeable:
        raise RuntimeError(f"{op}: the tensor's memory is read-only (shape {t.shape})")


def _snapshot(t: Tensor) -> Tensor:
    """A tensor standing for ``t``'s values before the write: same memory (through an array
    object of its own, so that what the new ops save from it can be told from what they save
    from ``t`` itself), same counter, same history; not a view (its history is already right)."""
    s = Tensor._make(t.data.view(), t.requires_grad, t._ctx)
    s._vc = t._counter()
    return s


def write(t: Tensor, op: str, compute: Callable[..., Tensor], *operands) -> Tensor:
    """Replace ``t``'s values in place by ``compute(old, *operands)``, where ``old`` stands for
    its current values; record the write in the graph when gradients flow through it. Returns
    ``t``.

    ``compute`` uses ordinary (out-of-place) ops; whether they record is decided by grad mode
    and by what requires grad, as for any op. Every tensor it uses must come in through
    ``operands`` (not a closure), so that the ops it records can be told from older ones.
    """
    _check_writable(t, op)
    if t._view is not None and t._view[2] is not t._view[0]._ctx:
        _refresh_view(t)  # its base was written to since: take the base's new history first
    old = _snapshot(t)
    r = compute(old, *operands)
    if not isinstance(r, Tensor):
        r = Tensor._make(np.asarray(r), False, None)
    if r.data.shape != t.data.shape:
        raise RuntimeError(
            f"{op}: output with shape {t.shape} doesn't match the broadcast shape {r.shape}"
        )
    check_cast(op, r.data.dtype, t.data.dtype)
    if r.data.dtype != t.data.dtype:
        r = r.astype(t.data.dtype)
    recorded = r._ctx is not None
    if recorded:
        _clone_saved_self(r, old, operands)
    np.copyto(t.data, r.data, casting="unsafe")
    t._bump_version()
    if recorded:
        _save_result_as_self(r, old, t)
        _rebase(t, r)
    return t


def write_values(t: Tensor, op: str, values) -> Tensor:
    """Overwrite all of ``t`` with ``values`` (an array or number broadcastable to its shape) that
    depend on nothing in the graph: ``zero_``, ``fill_``, ``uniform_``, ``normal_``.

    A non-leaf keeps a history (its old inputs get a zero gradient), as in PyTorch.
    """
    _check_writable(t, op)
    values = np.asarray(values)
    if not grad_mode._state.enabled or not t.requires_grad:
        try:
            np.copyto(t.data, np.broadcast_to(values, t.data.shape), casting="unsafe")
        except ValueError:
            raise ValueError(f"{op}: values of shape {values.shape} do not fit {t.shape}") from None
        t._bump_version()
        return t
    from .functional import where

    keep_none = np.zeros(t.data.shape, dtype=np.bool_)
    return write(t, op, lambda old: where(keep_none, old, values.astype(t.data.dtype)))


def _new_nodes(r: Tensor, inputs):
    """The contexts of the ops that ``compute`` recorded: reachable from ``r`` without passing
    through its ``inputs`` (whose histories are older, and left untouched)."""
    stop = {id(x) for x in inputs if isinstance(x, Tensor)}
    seen = set()
    stack = [r]
    while stack:
        x = stack.pop()
        ctx = x._ctx
        if ctx is None or id(x) in stop or id(ctx) in seen:
            continue
        seen.add(id(ctx))
        yield ctx
        for p in ctx.parents:
            if isinstance(p, Tensor):
                stack.append(p)


def _clone_saved_self(r: Tensor, old: Tensor, operands) -> None:
    """Copy what the new ops saved of the old values (``old``'s array), so that their backward
    reads them after the write (PyTorch saves a clone of ``self`` the same way). What they saved
    of another operand that shares the memory (``h.mul_(h)``) is left alone: that one was
    modified, and backward raises, as in PyTorch."""
    a0 = old.data
    for ctx in _new_nodes(r, (old, *operands)):
        saved = ctx.saved_tensors
        if saved and any(a is a0 for a in saved):
            ctx.saved_tensors = tuple(a.copy() if a is a0 else a for a in saved)


def _save_result_as_self(r: Tensor, old: Tensor, t: Tensor) -> None:
    """After the write, ``r``'s values live in ``t``'s memory: an op that saved its output (relu_,
    exp_, sigmoid_...) now refers to ``t`` at its new version, so that a later write raises at
    backward, as in PyTorch. ``r`` itself becomes an alias of ``t``."""
    ctx = r._ctx
    saved = ctx.saved_tensors
    if saved and any(a is r.data for a in saved):
        ctx.saved_tensors = tuple(t.data if a is r.data else a for a in saved)
        parents = ctx.parents
        versions = list(getattr(ctx, "saved_versions", None) or (0,) * (len(parents) + 1))
        now = t._version
        versions[-1] = now
        for i, p in enumerate(parents):
            if p is old:  # the old values were copied if saved: only the output is t's memory
                versions[i] = now
        ctx.saved_versions = tuple(versions)
    r.data = t.data
    r._vc = t._counter()


def _rebase(t: Tensor, r: Tensor) -> None:
    """Give ``t`` (now holding ``r``'s values) ``r``'s history; through its base if a view."""
    written = t._version  # the version this write made: older consumers keep the old op
    if t._view is None:
        note_history(t, written)
        t._ctx = r._ctx
        t.requires_grad = True
        return
    base, chain, _ = t._view
    pos = _positions(base, chain, t.shape)
    # The base's new values are already in its memory (written through the view); the
    # CopySlices op computes them once more out of place only to record its node, whose
    # output array is then dropped for the base's own.
    r_base = CopySlices.apply(_snapshot(base), r, pos=pos)
    note_history(base, written)
    base._ctx = r_base._ctx
    base.requires_grad = True
    _refresh_view(t)


def _positions(base: Tensor, chain, shape) -> np.ndarray:
    """The flat index into ``base`` of every element of the view that ``chain`` makes."""
    v = Tensor._make(np.arange(base.data.size).reshape(base.data.shape), False, None)
    with grad_mode.no_grad():
        for cls, rest, attrs in chain:
            v = cls.apply(v, *rest, **attrs)
    pos = np.array(v.data)  # a copy: the view replayed on the positions
    if pos.shape != shape:  # pragma: no cover - a view op that changed meaning
        raise RuntimeError(f"in-place: could not locate a view of shape {shape} in its base")
    if len(np.unique(pos)) != pos.size:
        raise RuntimeError(
            "in-place: unsupported operation: more than one element of the written-to tensor "
            "refers to a single memory location (an expanded view); clone() it first"
        )
    return pos
