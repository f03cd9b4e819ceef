"""`Dropout`: inverted dropout, active in training mode only."""

from __future__ import annotations

import numbers

from ..functional.dropout import dropout
from ..tensor import Tensor
from .module import Module

__all__ = ["Dropout"]


class Dropout(Module):
    """Inverted dropout: in training mode zero each element with probability ``p`` and scale the
    survivors by ``1 / (1 - p)``; in eval mode, the identity.

    Relation to the lectures: they keep each unit with probability q = 1 - p while training and
    multiply the outgoing weights by q at test time. Both schemes make the training-time
    activation equal the test-time one in expectation (here E[mask] = (1 - p) / (1 - p) = 1,
    there E[mask] = q = the test-time factor). Scaling during training instead leaves the trained
    network usable as it is: ``model.eval()`` just switches dropout off.

    The mask comes from ``backprop.random.generator()``: ``backprop.manual_seed(n)`` reproduces it.

    Args:
        p: probability of dropping an element, in [0, 1].
        inplace: accepted for PyTorch compatibility (a new tensor is always returned).

    Shape: any -> same.
    """

    def __init__(self, p: float = 0.5, inplace: bool = False):
        super().__init__()
        # (A bool is refused: ``Dropout(True)`` is a slip for ``Dropout(inplace=True)``.)
        if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout: probability has to be between 0 and 1, but got {p!r}")
        self.p, self.inplace = float(p), bool(inplace)

    def forward(self, input: Tensor) -> Tensor:
        return dropout(input, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"
