"""Version counters: how backward knows that a tensor it saved was modified in place.

Every tensor has a version: the number of in-place writes made to its memory through the library
(in-place methods and operators, ``__setitem__``, optimiser steps, ``nn.init``, ``load_state_dict``).
A view shares its base's counter, because a write through either changes both. An op that saves an
input's array (or its own output's) for backward records that tensor's version when it runs; the
engine compares before calling the op's backward and raises, as PyTorch does, when the tensor was
modified since: the saved array no longer holds the values the gradient formula needs.

Writes through the raw ``.data`` ndarray bypass the counter, as ``.data`` does in PyTorch.

A tensor that was never written to and has no views holds no counter object (``_vc is None``,
version 0): creating one per op output would cost more than the whole check.
"""

from __future__ import annotations

__all__ = ["VersionCounter", "check_saved_versions"]


class VersionCounter:
    """A mutable count shared by a tensor and all its views."""

    __slots__ = ("value",)

    def __init__(self, value: int = 0):
        self.value = value


def check_saved_versions(ctx) -> None:
    """Raise RuntimeError if a tensor saved by ``ctx``'s op was modified in place since."""
    for holder, version, shape, what in ctx.saved_versions:
        # holder: a Tensor (an input, already held by ctx.parents) or the output's counter.
        vc = holder if type(holder) is VersionCounter else holder._vc
        now = 0 if vc is None else vc.value
        if now != version:
            raise RuntimeError(
                f"backward: one of the variables needed for gradient computation has been "
                f"modified by an inplace operation: {what} of {ctx.name}, of shape "
                f"{tuple(shape)}, is at version {now}; expected version {version} instead. "
                f"Clone it before modifying it, or modify it after backward "
                f"(writes through .data are not tracked)"
            )
