"""``Function.apply``'s checks on what an op returns."""

from __future__ import annotations

import numpy as np
import pytest

import backprop as bp
from backprop.autograd.function import Function


class _TwoOutputs(Function):
    """An op written against the pattern: it returns a tuple."""

    @staticmethod
    def forward(ctx, x):
        return x + 1, x - 1

    @staticmethod
    def backward(ctx, gy):
        return gy


def test_an_op_that_returns_a_tuple_is_refused_by_name():
    # Every graph node has one output (split, chunk, max with indices are several ops), so a
    # tuple is an op bug, named as such rather than failing later inside Tensor.
    x = bp.tensor(np.ones(3, np.float32), requires_grad=True)
    with pytest.raises(TypeError, match=r"_TwoOutputs\.forward returned a tuple"):
        _TwoOutputs.apply(x)
