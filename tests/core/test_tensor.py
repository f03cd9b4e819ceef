"""Tensor basics: factories, dtypes, conversions, repr, errors."""

import numpy as np
import pytest

import backprop as bp


def test_python_numbers_default_to_float32_and_int64():
    assert bp.tensor([1.0, 2.0]).dtype == bp.float32
    assert bp.tensor([1, 2]).dtype == bp.int64
    assert bp.tensor(True).dtype == bp.bool
    assert bp.tensor(np.zeros(3)).dtype == bp.float64  # arrays keep their dtype, as torch.tensor


def test_factories():
    assert bp.zeros(2, 3).shape == (2, 3) and bp.zeros((2, 3)).dtype == bp.float32
    assert bp.ones(4).tolist() == [1.0] * 4
    assert bp.full((2,), 7).dtype == bp.int64 and bp.full((2,), 0.5).dtype == bp.float32
    assert bp.arange(5).tolist() == [0, 1, 2, 3, 4] and bp.arange(5).dtype == bp.int64
    assert bp.arange(0, 1, 0.25).dtype == bp.float32 and len(bp.arange(0, 1, 0.25)) == 4
    np.testing.assert_allclose(bp.linspace(0, 1, 5).numpy(), [0, 0.25, 0.5, 0.75, 1])
    assert bp.eye(3).numpy().trace() == 3
    assert bp.rand(3, 4).dtype == bp.float32 and bp.randn(3, dtype=bp.float64).dtype == bp.float64
    r = bp.randint(0, 10, (100,))
    assert r.dtype == bp.int64 and 0 <= r.numpy().min() and r.numpy().max() < 10
    x = bp.randn(2, 3)
    for like in (bp.zeros_like, bp.ones_like, bp.rand_like, bp.randn_like, bp.empty_like):
        assert like(x).shape == (2, 3) and like(x).dtype == bp.float32
    assert bp.full_like(x, 3.0).numpy().sum() == 18


def test_manual_seed_reproduces_every_draw():
    bp.manual_seed(123)
    a = (bp.rand(3).numpy(), bp.randn(3).numpy(), bp.randint(0, 9, (3,)).numpy())
    bp.manual_seed(123)
    b = (bp.rand(3).numpy(), bp.randn(3).numpy(), bp.randint(0, 9, (3,)).numpy())
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)


def test_rng_state_round_trip():
    bp.manual_seed(5)
    state = bp.random.get_rng_state()
    a = bp.randn(4).numpy()
    bp.random.set_rng_state(state)
    np.testing.assert_array_equal(bp.randn(4).numpy(), a)


def test_conversions():
    x = bp.tensor([[1.5, -2.0]])
    assert x.double().dtype == bp.float64 and x.long().dtype == bp.int64
    assert x.astype(bp.float64).dtype == bp.float64 and x.float() is x
    assert x.size() == (1, 2) and x.size(1) == 2 and x.numel() == 2 and x.ndim == 2
    assert bp.tensor(3.5).item() == 3.5 and float(bp.tensor([2.0])) == 2.0
    assert x.tolist() == [[1.5, -2.0]]
    assert isinstance(x.numpy(), np.ndarray)
    np.testing.assert_array_equal(np.asarray(x), x.numpy())


def test_repr_reads_like_torch():
    assert repr(bp.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert "requires_grad=True" in repr(bp.tensor([1.0], requires_grad=True))
    assert "grad_fn=<mul>" in repr(bp.tensor([1.0], requires_grad=True) * 2)
    assert "dtype=float64" in repr(bp.tensor(np.zeros(2)))


def test_scalar_promotion_follows_torch():
    i = bp.tensor([1, 2])
    assert (i * 2).dtype == bp.int64
    assert (i * 0.5).dtype == bp.float32  # int tensor * float -> default float
    assert (bp.tensor([1.0]) + bp.tensor([1.0], dtype=bp.float64)).dtype == bp.float64
    assert (bp.tensor([1.0]) + i).dtype == bp.float32
    assert (i / 2).dtype == bp.float32


def test_comparisons_and_logic_have_no_gradient():
    x = bp.tensor([1.0, -1.0, 2.0], requires_grad=True)
    m = x > 0
    assert m.dtype == bp.bool and not m.requires_grad
    assert (m & (x < 1.5)).tolist() == [True, False, False]
    assert (~m).tolist() == [False, True, False]
    assert x.argmax().item() == 2 and bp.argmin(x).item() == 1


def test_shape_errors_name_the_op_and_shapes():
    a, b = bp.ones(2, 3), bp.ones(4, 5)
    with pytest.raises(ValueError, match=r"matmul: shapes \(2, 3\) and \(4, 5\)"):
        a @ b
    with pytest.raises(ValueError, match=r"add: shapes \(2, 3\) and \(4, 5\) cannot be broadcast"):
        a + b
    with pytest.raises(ValueError, match="cat"):
        bp.cat([a, b], dim=0)
    with pytest.raises(ValueError, match=r"reshape: cannot reshape a tensor of shape \(2, 3\)"):
        a.reshape(4, 2)
    with pytest.raises(ValueError, match=r"index: .*shape \(2, 3\)"):
        a[5]
    with pytest.raises(IndexError):  # also an IndexError, as in PyTorch
        a[:, 7]
    with pytest.raises(ValueError, match="dim 3 is out of range"):
        a.sum(dim=3)


def test_type_errors():
    with pytest.raises(TypeError):
        bp.ones(2) + "a"
    with pytest.raises(TypeError, match="index"):
        bp.ones(3)[bp.tensor([0.5])]
    with pytest.raises(TypeError, match="mean"):
        bp.tensor([1, 2]).mean()
    with pytest.raises(TypeError):
        bp.tensor(object())


def test_bool_of_multi_element_tensor_is_ambiguous():
    with pytest.raises(ValueError, match="ambiguous"):
        bool(bp.ones(2))
    assert bool(bp.ones(1))


def test_max_with_dim_returns_values_and_indices():
    x = bp.tensor([[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]])
    values, indices = bp.max(x, dim=1)
    assert values.tolist() == [5.0, 7.0] and indices.tolist() == [1, 0]
    assert x.max().item() == 7.0
    assert bp.max(x, bp.zeros(2, 3)).shape == (2, 3)


def test_setitem_and_inplace_helpers():
    x = bp.zeros(3)
    x[1] = 5.0
    x[bp.tensor([0, 2])] = bp.tensor([1.0, 2.0])
    assert x.tolist() == [1.0, 5.0, 2.0]
    x.mul_(2).add_(1).clamp_(max=5)
    assert x.tolist() == [3.0, 5.0, 5.0]
    x.zero_()
    assert x.tolist() == [0.0, 0.0, 0.0]


def test_seeding_and_restoring_keep_the_generator_object():
    g = bp.random.generator()
    bp.manual_seed(7)
    assert bp.random.generator() is g
    a = g.random(3)
    bp.manual_seed(7)
    np.testing.assert_array_equal(g.random(3), a)  # a captured generator follows the seed
    np.testing.assert_array_equal(np.random.default_rng(7).random(3), a)
    state = bp.random.get_rng_state()
    b = g.random(2)
    bp.random.set_rng_state(state)
    np.testing.assert_array_equal(g.random(2), b)


def test_setitem_follows_torch_for_mixed_int_and_array_indices():
    import torch

    base = np.arange(24.0).reshape(2, 3, 4)
    for index, value in [
        ((0, slice(None), [1, 3]), np.array([[10.0, 11.0]] * 3)),
        ((1, [0, 2], slice(1, 3)), 7.0),
        ((slice(None), 1, [True, False, True, False]), np.array([[1.0, 2.0]] * 2)),
    ]:
        b, t = bp.tensor(base.copy()), torch.tensor(base.copy())
        b_index = tuple(bp.tensor(i) if isinstance(i, list) else i for i in index)
        t_index = tuple(torch.tensor(i) if isinstance(i, list) else i for i in index)
        b[b_index] = value
        t[t_index] = torch.tensor(value) if isinstance(value, np.ndarray) else value
        np.testing.assert_array_equal(b.numpy(), t.numpy())
    with pytest.raises(IndexError, match="__setitem__"):
        bp.zeros(3)[5] = 1.0


def test_numpy_meets_a_tensor():
    # p.data += -lr * p.grad (micrograd's and makemore's update) writes into the array.
    p = bp.tensor([1.0, 2.0], requires_grad=True)
    (p * p).sum().backward()
    before = p.data
    p.data += -0.1 * p.grad
    assert p.data is before and isinstance(p.data, np.ndarray)
    np.testing.assert_allclose(p.data, [0.8, 1.6])
    r = np.ones(2, np.float32) + p  # the Tensor op: differentiable
    assert isinstance(r, bp.Tensor) and r.requires_grad
    assert isinstance(np.exp(p), np.ndarray)  # other ufuncs: on the raw array
