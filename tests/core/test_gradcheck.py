"""backprop.gradcheck itself: it passes right gradients and names the wrong ones, in both modes."""

from __future__ import annotations

import numpy as np
import pytest

import backprop
from backprop import Function
from backprop.autograd.gradcheck import GradcheckError


class _WrongSquare(Function):
    """y = x^2 with a gradient off by ``x`` at the element [1, 2] (gx = 2 x gy + [1,2] mask)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        gx = 2 * x * gy
        gx[1, 2] += 1.0
        return gx


def _x(shape=(3, 4)):
    data = np.random.default_rng(1).standard_normal(shape)
    return backprop.tensor(data, requires_grad=True)


@pytest.mark.parametrize("mode", ["full", "random"])
def test_a_right_gradient_passes(mode):
    x, w = (
        _x(),
        backprop.tensor(np.random.default_rng(2).standard_normal((4, 2)), requires_grad=True),
    )
    assert backprop.gradcheck(lambda a, b: ((a @ b).tanh(), a.sum()), (x, w), mode=mode)


def test_the_full_check_names_the_wrong_element():
    with pytest.raises(GradcheckError) as e:
        backprop.gradcheck(_WrongSquare.apply, _x(), mode="full")
    msg = str(e.value)
    assert msg.startswith(
        "gradcheck: gradient of input 0 (shape (3, 4)) is wrong at element (1, 2)"
    )
    assert msg.endswith("(atol=1e-05, rtol=0.001, eps=1e-06)")


def test_the_random_check_names_the_direction_and_can_return_false():
    with pytest.raises(GradcheckError, match=r"input 0 \(shape \(3, 4\)\) is wrong along random "
                       r"direction 0: analytic <grad, v> = "):  # fmt: skip
        backprop.gradcheck(_WrongSquare.apply, _x(), mode="random")
    assert (
        backprop.gradcheck(_WrongSquare.apply, _x(), mode="random", raise_exception=False) is False
    )
    # auto: full at most max_full elements, random above
    with pytest.raises(GradcheckError, match="random direction"):
        backprop.gradcheck(_WrongSquare.apply, _x(), max_full=4)


def test_refusals():
    with pytest.raises(ValueError, match="no input is a floating-point Tensor"):
        backprop.gradcheck(lambda a: a, backprop.tensor([1.0]))
    with pytest.raises(ValueError, match="mode must be"):
        backprop.gradcheck(lambda a: a, _x(), mode="half")
    with pytest.raises(ValueError, match="does not require grad"):
        backprop.gradcheck(lambda a: a.detach(), _x())
