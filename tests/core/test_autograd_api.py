"""autograd.grad, autograd.backward, tensor hooks and gradient memory, with torch as the oracle."""

import numpy as np
import pytest
import torch

import backprop as bp

LIBS = {"bp": bp, "torch": torch}


def _np(x):
    if isinstance(x, torch.Tensor):
        return x.detach().numpy()
    return None if x is None else np.asarray(x.data)


def both(case):
    got = [[_np(v) for v in case(lib)] for lib in (bp, torch)]
    for a, b in zip(*got):
        if b is None:
            assert a is None
        else:
            np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)


def leaf(lib, values):
    return lib.tensor(np.asarray(values, np.float32), requires_grad=True)


# ----------------------------------------------------------------------------- autograd.grad
def test_grad_returns_gradients_and_leaves_dot_grad_alone():
    def case(lib):
        x = leaf(lib, [1.0, -2.0, 3.0])
        h = x * x
        h.retain_grad()
        y = (h * 3).sum()
        gh, gx = lib.autograd.grad(y, [h, x])
        assert x.grad is None  # leaves untouched; retain_grad() tensors filled, as in torch
        return [gh, gx, h.grad]

    both(case)


def test_grad_with_grad_outputs_and_several_outputs():
    def case(lib):
        x = leaf(lib, [[1.0, 2.0], [3.0, 4.0]])
        a = x.exp()
        b = x * 2
        v = lib.tensor(np.array([[1.0, 0.5], [0.0, 2.0]], np.float32))
        (g,) = lib.autograd.grad([a, b], x, grad_outputs=[v, v])
        return [g]

    both(case)


def test_grad_unused_input():
    for lib in (bp, torch):
        x = leaf(lib, [1.0])
        z = leaf(lib, [2.0])
        y = (x * 2).sum()
        with pytest.raises(RuntimeError):
            lib.autograd.grad(y, [x, z], retain_graph=True)
        gx, gz = lib.autograd.grad(y, [x, z], allow_unused=True, retain_graph=True)
        assert gz is None
        gx, gz = lib.autograd.grad(y, [x, z], materialize_grads=True)
        np.testing.assert_array_equal(_np(gz), [0.0])


def test_grad_refuses_inputs_that_do_not_require_grad_and_non_scalar_outputs():
    x = bp.tensor([1.0, 2.0])
    w = leaf(bp, [1.0, 2.0])
    with pytest.raises(RuntimeError, match="does not require grad"):
        bp.autograd.grad((w * x).sum(), x)
    with pytest.raises(RuntimeError, match="one-element"):
        bp.autograd.grad(w * 2, w)
    with pytest.raises(NotImplementedError, match="create_graph"):
        bp.autograd.grad((w * 2).sum(), w, create_graph=True)


def test_grad_frees_the_graph_unless_retained():
    w = leaf(bp, [1.0, 2.0])
    y = (w * w).sum()
    bp.autograd.grad(y, w)
    with pytest.raises(RuntimeError, match="second time"):
        bp.autograd.grad(y, w)


def test_autograd_backward_sums_roots():
    def case(lib):
        x = leaf(lib, [1.0, 2.0])
        lib.autograd.backward([(x * x).sum(), (x * 3).sum()])
        return [x.grad]

    both(case)


# ----------------------------------------------------------------------------- tensor hooks
def test_hooks_see_and_replace_gradients():
    def case(lib):
        seen = []
        x = leaf(lib, [1.0, 2.0, 3.0])
        h = x * 2
        h.register_hook(lambda g: seen.append(g.clone() if lib is torch else g * 1))
        h.register_hook(lambda g: g * 10)  # replaces the gradient passed on
        x.register_hook(lambda g: g + 1)  # a leaf: replaces what is accumulated into .grad
        (h * h).sum().backward()
        return [x.grad, seen[0]]

    both(case)


def test_leaf_hook_sees_the_summed_gradient_once():
    def case(lib):
        calls = []
        x = leaf(lib, [1.0, 2.0])
        x.register_hook(lambda g: calls.append(1))
        (x * 2 + x * x + x.exp()).sum().backward()
        assert len(calls) == 1
        return [x.grad]

    both(case)


def test_hook_handle_removes_it():
    x = leaf(bp, [1.0, 2.0])
    h = x.register_hook(lambda g: g * 0)
    h.remove()
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 3.0])
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        bp.tensor([1.0]).register_hook(lambda g: g)


def test_hook_shape_is_checked():
    x = leaf(bp, [1.0, 2.0])
    x.register_hook(lambda g: bp.ones(3))
    with pytest.raises(RuntimeError, match="shape"):
        (x * 3).sum().backward()


# ----------------------------------------------------------------------------- gradient memory
def _arrays(tensors):
    return [t.grad.data for t in tensors if t.grad is not None]


def _assert_no_aliases(arrays):
    for i in range(len(arrays)):
        for j in range(i + 1, len(arrays)):
            assert not np.shares_memory(arrays[i], arrays[j]), (i, j)


def test_retained_and_leaf_gradients_never_share_memory():
    # Mutation testing found a leaf's .grad and a retained intermediate's sharing their array.
    a = leaf(bp, [1.0, 2.0])
    h = a + 0.0
    h.retain_grad()
    (h * 2).sum().backward()
    _assert_no_aliases(_arrays([a, h]))
    a.grad.data += 1  # an in-place accumulation must not change h.grad
    np.testing.assert_array_equal(h.grad.numpy(), [2.0, 2.0])


@pytest.mark.parametrize(
    "build",
    [
        lambda a, b: a + b,
        lambda a, b: (a + b) + a,
        lambda a, b: a * 1 + b.reshape(2) - a,
        lambda a, b: (a + 0.0) + (b + 0.0),
        lambda a, b: a.expand(2) + b,
    ],
    ids=["add", "reuse", "reshape", "identity-ish", "expand"],
)
def test_no_two_grads_alias(build):
    a = leaf(bp, [1.0, 2.0])
    b = leaf(bp, [3.0, 4.0])
    mids = []
    y = build(a, b)
    y.retain_grad()
    mids.append(y)
    y.sum().backward()
    _assert_no_aliases(_arrays([a, b, *mids]))
    # A second backward accumulates in place into each .grad: still no alias, right values.
    build(a, b).sum().backward()
    _assert_no_aliases(_arrays([a, b, *mids]))


def test_accumulation_does_not_write_into_an_array_another_tensor_holds():
    a = leaf(bp, [1.0, 2.0])
    g = np.array([5.0, 5.0], np.float32)
    y = a * 1
    y.backward(g)  # the seed is the caller's array: it must not become (and then be changed as)
    (a * 1).sum().backward()  # a.grad, accumulated into in place
    np.testing.assert_array_equal(g, [5.0, 5.0])
    np.testing.assert_array_equal(a.grad.numpy(), [6.0, 6.0])
