"""Dropout (exposed as ``backprop.nn.functional.dropout``)."""

from __future__ import annotations

import numbers

from ..ops.dropout import Dropout
from ..tensor import Tensor
from ._util import is_float

__all__ = ["dropout"]


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Inverted dropout: in training, zero each element with probability ``p`` and scale the
    survivors by ``1 / (1 - p)``; when not training, return the input unchanged.

    The lectures' form keeps each unit with probability q = 1 - p at training time and multiplies
    the weights by q at test time. Both make the expected training-time activation equal the
    test-time one: here E[mask] = (1 - p) / (1 - p) = 1, so the test-time network needs no
    change. The mask is drawn from ``backprop.random.generator()`` (``manual_seed`` reproduces it).

    Args:
        input: any float tensor.
        p: the probability of dropping an element, in [0, 1] (p = 1 gives zeros).
        training: apply dropout (True) or be the identity (False).
        inplace: accepted for PyTorch compatibility; backprop always returns a new tensor (the
            graph needs the input), with the same values.

    Shape: output as input.
    """
    if not isinstance(input, Tensor) or not is_float(input.dtype):
        raise TypeError("dropout: input must be a floating-point Tensor")
    if isinstance(p, bool) or not isinstance(p, numbers.Real):
        raise TypeError(f"dropout: p must be a number in [0, 1], got {type(p).__name__} {p!r}")
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    return Dropout.apply(input, p=float(p))
