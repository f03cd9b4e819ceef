"""Helpers shared by the ops: gradient un-broadcasting and axis normalisation."""

from __future__ import annotations


def unbroadcast(g, shape):
    """Sum ``g`` over the axes that broadcasting added or stretched, so it has ``shape``."""
    if g.shape == shape:
        return g
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and g.shape[lead + i] != 1
    )
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    return g.reshape(shape)


def reduced_shape(shape, axes, keepdim: bool):
    """The shape a reduction over ``axes`` (a tuple of non-negative ints, or None) leaves."""
    if axes is None:
        return (1,) * len(shape) if keepdim else ()
    if keepdim:
        return tuple(1 if i in axes else n for i, n in enumerate(shape))
    return tuple(n for i, n in enumerate(shape) if i not in axes)


def expand_reduced(g, shape, axes, keepdim: bool):
    """Reshape a reduction's gradient so that it broadcasts against the input of ``shape``."""
    if keepdim or axes is None and g.ndim == len(shape):
        return g
    return g.reshape(reduced_shape(shape, axes, True))
