"""The backward engine: fan-out, diamonds, grad mode, retain_grad, accumulation, deep graphs."""

import sys

import numpy as np
import pytest

import backprop as bp


def leaf(*shape, dtype=bp.float64):
    return bp.randn(*shape, dtype=dtype, requires_grad=True)


def test_fan_out_accumulates():
    x = leaf(3)
    y = x * 2 + x * 3 + x  # x used three times
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, np.full(3, 6.0))


def test_square_uses_both_inputs():
    x = leaf(4)
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.data, 2 * x.data)


def test_diamond_graph():
    x = leaf(5)
    a = x.exp()
    b = a * 2
    c = a.sin()
    (b + c).sum().backward()
    np.testing.assert_allclose(x.grad.data, np.exp(x.data) * (2 + np.cos(np.exp(x.data))))


def test_residual_shortcut_and_tied_weight():
    w = leaf(3, 3)
    x = leaf(2, 3)
    h = x @ w
    y = (h @ w.T + x).sum()  # w used twice (tied), x through the shortcut and the main path
    y.backward()
    ones = np.ones((2, 3))
    gh = ones @ w.data
    np.testing.assert_allclose(w.grad.data, x.data.T @ gh + ones.T @ h.data)
    np.testing.assert_allclose(x.grad.data, gh @ w.data.T + ones)


def test_broadcast_gradient_summed_to_input_shape():
    x = leaf(4, 3)
    b = leaf(3)
    (x + b).sum().backward()
    assert b.grad.shape == (3,)
    np.testing.assert_allclose(b.grad.data, np.full(3, 4.0))


def test_grad_accumulates_across_backward_calls_until_zeroed():
    x = leaf(3)
    (x * 2).sum().backward()
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad.data, np.full(3, 5.0))
    x.grad = None
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad.data, np.full(3, 3.0))


def test_leaf_grads_never_share_memory():
    # x + y returns gy for both inputs: each leaf must own its gradient, or an in-place update of
    # one (clipping, accumulation) would silently change the other.
    x, y = leaf(3), leaf(3)
    (x + y).sum().backward()
    assert not np.shares_memory(x.grad.data, y.grad.data)
    x.grad.data *= 0
    assert np.all(y.grad.data == 1)
    z = leaf(2, 3)
    z.reshape(6).sum().backward()
    z.reshape(6).sum().backward()
    np.testing.assert_allclose(z.grad.data, np.full((2, 3), 2.0))


def test_no_grad_records_nothing():
    x = leaf(3)
    with bp.no_grad():
        y = x * 2
    assert not y.requires_grad and y.grad_fn is None
    assert bp.is_grad_enabled()


def test_no_grad_as_decorator_and_enable_grad_inside():
    x = leaf(3)

    @bp.no_grad()
    def f(t):
        with bp.enable_grad():
            inner = t * 2
        return t * 2, inner

    outer, inner = f(x)
    assert not outer.requires_grad and inner.requires_grad


def test_set_grad_enabled():
    x = leaf(2)
    with bp.set_grad_enabled(False):
        assert not (x * 1).requires_grad
    assert (x * 1).requires_grad


def test_retain_grad_on_intermediate():
    x = leaf(3)
    h = x * 2
    h.retain_grad()
    (h * h).sum().backward()
    np.testing.assert_allclose(h.grad.data, 2 * h.data)
    m = x * 3
    (m * 1).sum().backward()
    assert m.grad is None  # not retained


def test_detach_cuts_the_graph():
    x = leaf(3)
    y = (x.detach() * x).sum()
    y.backward()
    np.testing.assert_allclose(x.grad.data, x.data)


def test_chain_of_100000_ops_backprops_without_recursion():
    limit = sys.getrecursionlimit()
    x = bp.tensor(1.0, dtype=bp.float64, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0
    y.backward()
    assert x.grad.item() == 1.0
    assert sys.getrecursionlimit() == limit


def test_rnn_style_loop_of_1000_steps():
    w = leaf(4, 4)
    w.data *= 0.1
    h = bp.zeros(2, 4, dtype=bp.float64)
    x = bp.randn(2, 4, dtype=bp.float64)
    for _ in range(1000):
        h = (h @ w + x).tanh()
    h.sum().backward()
    assert np.all(np.isfinite(w.grad.data))


def test_backward_twice_through_freed_graph_raises():
    x = leaf(3)
    y = (x.exp() * 2).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="second time"):
        y.backward()


def test_retain_graph_allows_second_backward():
    x = leaf(3)
    y = (x.exp() * 2).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.data, 4 * np.exp(x.data))


def test_non_scalar_backward_needs_gradient():
    x = leaf(3)
    with pytest.raises(RuntimeError, match="one-element"):
        (x * 2).backward()
    (x * 2).backward(bp.ones(3, dtype=bp.float64))
    np.testing.assert_allclose(x.grad.data, np.full(3, 2.0))
    with pytest.raises(ValueError, match="does not match"):
        (x * 2).backward(bp.ones(4, dtype=bp.float64))


def test_backward_on_tensor_without_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        bp.ones(3).sum().backward()


def test_intermediate_contexts_are_freed_after_backward():
    x = leaf(3)
    h = x.exp()
    y = (h * 2).sum()
    y.backward()
    assert h.grad_fn.freed and h.grad_fn.saved_tensors == () and h.grad_fn.parents == ()


def test_integer_tensors_cannot_require_grad():
    with pytest.raises(TypeError, match="floating-point"):
        bp.tensor([1, 2], requires_grad=True)


def test_inplace_on_leaf_requiring_grad_is_refused():
    x = leaf(3)
    with pytest.raises(RuntimeError, match="add_: a leaf tensor that requires grad .* in-place"):
        x.add_(1.0)
    with bp.no_grad():
        x.add_(1.0)


def test_float32_stays_float32():
    x = bp.randn(4, 3, requires_grad=True)
    y = ((x * 0.5 + 1) ** 2 / 3.0 - x.exp()).mean()
    assert y.dtype == bp.float32
    y.backward()
    assert x.grad.dtype == bp.float32
