"""Bitwise ops and operators (& | ^ ~ << >>) on integer and bool tensors vs PyTorch, over dtypes,
broadcast shapes and the full value range of each dtype (hypothesis), with Python scalars,
in-place forms, and the errors for floating-point operands."""

import operator

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays, mutually_broadcastable_shapes

import backprop as bp
from backprop.functional.math import UnsupportedDtypeError

DTYPES = [np.bool_, np.int8, np.uint8, np.int16, np.int32, np.int64]
INTS = DTYPES[1:]
LOGICAL = {
    "bitwise_and": operator.and_,
    "bitwise_or": operator.or_,
    "bitwise_xor": operator.xor,
}
SHIFTS = {"bitwise_left_shift": operator.lshift, "bitwise_right_shift": operator.rshift}
AUGMENTED = {
    "bitwise_and": operator.iand,
    "bitwise_or": operator.ior,
    "bitwise_xor": operator.ixor,
    "bitwise_left_shift": operator.ilshift,
    "bitwise_right_shift": operator.irshift,
}


def _same(b, t):
    assert str(b.dtype) == str(t.dtype).removeprefix("torch."), (b.dtype, t.dtype)
    assert b.shape == tuple(t.shape)
    np.testing.assert_array_equal(b.numpy(), t.numpy())


@st.composite
def operand_pair(draw, dtypes):
    shapes = draw(mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3))
    da, db = draw(st.sampled_from(dtypes)), draw(st.sampled_from(dtypes))
    a = draw(arrays(da, shapes.input_shapes[0]))
    b = draw(arrays(db, shapes.input_shapes[1]))
    return a, b


@given(pair=operand_pair(DTYPES), name=st.sampled_from(sorted(LOGICAL)))
def test_and_or_xor_match_torch(pair, name):
    a, b = pair
    ba, bb, ta, tb = bp.tensor(a), bp.tensor(b), torch.tensor(a), torch.tensor(b)
    _same(getattr(bp, name)(ba, bb), getattr(torch, name)(ta, tb))
    _same(LOGICAL[name](ba, bb), LOGICAL[name](ta, tb))
    _same(getattr(ba, name)(bb), getattr(ta, name)(tb))


@given(
    pair=operand_pair(INTS),
    name=st.sampled_from(sorted(SHIFTS)),
    small=st.booleans(),
)
def test_shifts_match_torch(pair, name, small):
    a, b = pair
    if small:  # mostly in-range amounts; the full range is mostly out of range
        b = (b.astype(np.int64) % 70 - 3).astype(b.dtype)
    ba, bb, ta, tb = bp.tensor(a), bp.tensor(b), torch.tensor(a), torch.tensor(b)
    _same(getattr(bp, name)(ba, bb), getattr(torch, name)(ta, tb))
    _same(SHIFTS[name](ba, bb), SHIFTS[name](ta, tb))


@given(
    x=st.sampled_from(DTYPES).flatmap(lambda dt: arrays(dt, st.integers(0, 5))),
    s=st.one_of(st.booleans(), st.integers(-(2**31), 2**31)),
    name=st.sampled_from(sorted(LOGICAL) + sorted(SHIFTS)),
    left=st.booleans(),
)
def test_python_scalars_match_torch(x, s, name, left):
    """A Python int or bool operand takes the tensor's dtype (wrapping), as in PyTorch."""
    fn = {**LOGICAL, **SHIFTS}[name]
    bx, tx = bp.tensor(x), torch.tensor(x)
    try:
        expected = fn(s, tx) if left else fn(tx, s)
    except (RuntimeError, TypeError):
        with pytest.raises((RuntimeError, TypeError)):
            fn(s, bx) if left else fn(bx, s)
        return
    _same(fn(s, bx) if left else fn(bx, s), expected)


@given(x=st.sampled_from(DTYPES).flatmap(lambda dt: arrays(dt, st.integers(0, 6))))
def test_not_matches_torch(x):
    _same(~bp.tensor(x), ~torch.tensor(x))
    _same(bp.bitwise_not(bp.tensor(x)), torch.bitwise_not(torch.tensor(x)))


@given(pair=operand_pair(INTS), name=st.sampled_from(sorted(AUGMENTED)))
def test_inplace_forms_match_torch(pair, name):
    a, b = pair
    if np.broadcast_shapes(a.shape, b.shape) != a.shape:
        b = b.reshape(-1)[:1].reshape(())  # the target keeps its shape
    iop = AUGMENTED[name]
    ba, ta = bp.tensor(a.copy()), torch.tensor(a.copy())
    assert iop(ba, bp.tensor(b)) is ba
    iop(ta, torch.tensor(b))
    _same(ba, ta)
    ba, ta = bp.tensor(a.copy()), torch.tensor(a.copy())
    assert getattr(ba, name + "_")(bp.tensor(b)) is ba
    getattr(ta, name + "_")(torch.tensor(b))
    _same(ba, ta)


@pytest.mark.parametrize("name", sorted(LOGICAL) + sorted(SHIFTS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_floating_operands_raise(name, dtype):
    x = np.array([1.0, 2.0], dtype=dtype)
    with pytest.raises(RuntimeError):
        getattr(torch, name)(torch.tensor(x), torch.tensor(x))
    with pytest.raises(UnsupportedDtypeError, match=name) as info:
        getattr(bp, name)(bp.tensor(x), bp.tensor(x))
    assert isinstance(info.value, TypeError) and isinstance(info.value, NotImplementedError)
    with pytest.raises(TypeError, match=name):  # an int tensor with a float number: float32
        getattr(bp, name)(bp.tensor([1, 2]), 1.5)


def test_invert_of_float_raises_type_error_as_torch():
    with pytest.raises(TypeError):
        ~torch.tensor([1.0])
    with pytest.raises(TypeError, match="bitwise_not"):
        ~bp.tensor([1.0])


def test_bool_shift_raises_as_torch():
    x = np.array([True, False])
    with pytest.raises(RuntimeError):
        torch.tensor(x) << torch.tensor(x)
    with pytest.raises(TypeError, match="bitwise_left_shift"):
        bp.tensor(x) << bp.tensor(x)


def test_results_have_no_gradient():
    x = bp.tensor([1, 2, 3])
    for y in (x & 1, x | x, x ^ 2, ~x, x << 1, x >> 1):
        assert not y.requires_grad and y.grad_fn is None


def test_comparison_masks_still_combine():
    """``(x > 0) & (x < 2)`` on bool masks, as before these became bitwise."""
    x = bp.tensor([-1.0, 0.5, 1.0, 3.0])
    np.testing.assert_array_equal(((x > 0) & (x < 2)).numpy(), [False, True, True, False])
    np.testing.assert_array_equal((~(x > 0) | (x > 2)).numpy(), [True, False, False, True])
