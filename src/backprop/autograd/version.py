"""Version counters: how backward knows that a tensor it saved was modified in place.

Every tensor has a version: the number of in-place writes made to its memory through the
library (in-place methods and operators, ``__setitem__``, optimiser steps, ``nn.init``,
``load_state_dict``, batch norm's running statistics). A view shares its base's counter, because a
write through either changes both. An op notes the versions of its inputs and output when it runs;
before calling its backward, the engine compares them for every tensor whose memory the op saved
(``save_for_backward``) and raises, as PyTorch does, when one was modified since: the saved array
no longer holds the values the gradient formula needs.

Writes through the raw ``.data`` ndarray bypass the counter, as ``.data`` does in PyTorch.

Two things keep this nearly free (measured: within noise of no check on a chain of tiny ops,
see benchmarks/): a tensor that was never written to and has no views holds no counter object
(``_vc is None`` means version 0), so an op whose inputs have none writes nothing down; and a
process-wide write clock lets the engine skip the comparison when nothing at all was written
since the op ran.
"""

from __future__ import annotations

__all__ = ["VersionCounter", "clock", "check_saved_versions", "saves_memory_of"]


class VersionCounter:
    """A mutable count shared by a tensor and all its views."""

    __slots__ = ("value",)

    def __init__(self, value: int = 0):
        self.value = value


class _Clock:
    """Counts every in-place write in the process. An op notes the clock when it saves arrays;
    if the clock has not moved by its backward, nothing can have been modified and the engine
    skips the per-tensor check (the common case: no writes between forward and backward)."""

    __slots__ = ("now",)

    def __init__(self):
        self.now = 0


clock = _Clock()


def _root(a):
    return a if a.base is None else a.base


def saves_memory_of(saved, array) -> bool:
    """Whether any array in ``saved`` shares memory with ``array``: is it, or is a view of the
    array that owns its memory (NumPy collapses chains of views to that owner)."""
    root = _root(array)
    for a in saved:
        if a is array:
            return True
        base = getattr(a, "base", _NOT_AN_ARRAY)
        if base is not _NOT_AN_ARRAY and (a if base is None else base) is root:
            return True
    return False


_NOT_AN_ARRAY = object()


def check_saved_versions(ctx, out) -> None:
    """Raise RuntimeError if a tensor whose memory ``ctx``'s op saved was modified in place since.

    ``out`` is the op's output tensor. ``ctx.saved_versions`` holds the versions of the inputs
    and of the output when the op ran (one per parent, then the output's), or None when all of
    them were at version 0 (the common case; see :meth:`Tensor._counter`).
    """
    recorded = getattr(ctx, "saved_versions", None)
    parents = ctx.parents
    for i in range(len(parents) + 1):
        t = out if i == len(parents) else parents[i]
        vc = getattr(t, "_vc", None)
        if vc is None:
            continue  # never written to: still at version 0
        expected = 0 if recorded is None else recorded[i]
        if vc.value != expected and saves_memory_of(ctx.saved_tensors, t.data):
            what = "the output" if i == len(parents) else f"input {i}"
            raise RuntimeError(
                f"backward: one of the variables needed for gradient computation has been "
                f"modified by an inplace operation: {what} of {ctx.name}, of shape "
                f"{tuple(t.data.shape)}, is at version {vc.value}; expected version "
                f"{expected} instead. Clone it before modifying it, or modify it after backward "
                f"(writes through .data are not tracked)"
            )


def versions_of(inputs, out) -> tuple:
    """The versions of ``inputs`` (0 for constants) and then of ``out``, as recorded at forward."""
    return tuple(0 if getattr(t, "_vc", None) is None else t._vc.value for t in (*inputs, out))
