"""Hypothesis throws random index expressions, dtype mixes and shape-op arguments at the ops: each
call matches PyTorch (value, dtype, gradient) or, where PyTorch refuses, raises a clear error."""

import numpy as np
import pytest
import torch
from hypothesis import example, given
from hypothesis import strategies as st

import backprop as bp


@st.composite
def index_case(draw):
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=3)))
    parts = []
    dim = 0
    n_parts = draw(st.integers(1, len(shape) + 1))
    used_ellipsis = False
    for _ in range(n_parts):
        kind = draw(
            st.sampled_from(["int", "slice", "none", "ellipsis", "array", "mask", "bool", "int0d"])
        )
        size = shape[dim] if dim < len(shape) else 1
        if kind == "int":
            parts.append(draw(st.integers(-size - 1, size)))  # may be out of range
            dim += 1
        elif kind == "slice":
            start = draw(st.none() | st.integers(-size, size))
            stop = draw(st.none() | st.integers(-size, size))
            parts.append(slice(start, stop, draw(st.sampled_from([None, 1, 2]))))
            dim += 1
        elif kind == "none":
            parts.append(None)
        elif kind == "bool":  # a Python bool: a new dimension of size 1 (True) or 0 (False)
            parts.append(draw(st.booleans()))
        elif kind == "int0d":  # a 0-d integer tensor: PyTorch reads it as an integer
            parts.append(Int0d(draw(st.integers(-size, size - 1))))
            dim += 1
        elif kind == "ellipsis" and not used_ellipsis:
            parts.append(Ellipsis)
            used_ellipsis = True
            dim = len(shape)
        elif kind == "array":
            parts.append(draw(st.lists(st.integers(-size, size - 1), min_size=1, max_size=4)))
            dim += 1
        elif kind == "mask" and dim < len(shape) and not any(isinstance(p, list) for p in parts):
            parts.append(draw(st.lists(st.booleans(), min_size=size, max_size=size)))
            dim += 1
    return shape, parts


class Int0d(int):
    """An index part made into a 0-d int64 tensor (not a Python int) for both libraries."""


def _as_index(lib, parts):
    out = []
    for p in parts:
        if isinstance(p, Int0d):
            out.append(lib.tensor(int(p)))
        elif isinstance(p, list):
            dtype = lib.bool if isinstance(p[0], bool) else lib.int64
            out.append(lib.tensor(p, dtype=dtype))
        else:
            out.append(p)
    return tuple(out)


# Where PyTorch puts the advanced-index dimensions differs from NumPy's rule: an integer (or a
# 0-d integer tensor) is no advanced index in PyTorch, and an ``...`` standing for no dimension
# separates nothing. In each case NumPy's placement differs from PyTorch's.
REGRESSIONS = [
    ((2, 1, 1), [slice(None), [0], Ellipsis, [0]]),  # torch (2, 1), NumPy (1, 2)
    ((2, 3, 1), [slice(None), [0, 1], Ellipsis, [0]]),  # (2, 2) in both, but transposed
    ((2, 3, 1), [slice(None), [True, False, True], Ellipsis, [0]]),  # a mask, the same
    ((2, 3, 4), [[0, 1], 0, Ellipsis, [1, 2]]),  # an int and an empty ... between arrays
    ((2, 3, 4), [0, slice(None), [1, 2]]),  # torch (3, 2), NumPy (2, 3)
    ((2, 3, 4), [slice(None), Int0d(1), Ellipsis, [0]]),  # torch (2, 1), NumPy (1, 2)
    ((3, 4), [True, [0, 1]]),  # a Python bool indexes a new dimension
    ((2, 3, 4), [slice(None), [0], None, [0]]),  # None separates: the arrays' dims go first
]


def _check_index(shape, parts, seed=0):
    x = np.random.default_rng(seed).standard_normal(shape)
    tx = torch.tensor(x, requires_grad=True)
    bx = bp.tensor(x, requires_grad=True)
    try:
        t_out = tx[_as_index(torch, parts)]
    except (IndexError, RuntimeError, ValueError, TypeError):
        with pytest.raises((IndexError, ValueError, TypeError)):
            bx[_as_index(bp, parts)]
        return
    b_out = bx[_as_index(bp, parts)]
    assert b_out.shape == tuple(t_out.shape), (shape, parts)
    np.testing.assert_array_equal(b_out.data, t_out.detach().numpy())
    if b_out.numel():
        u = np.random.default_rng(seed + 1).standard_normal(b_out.shape)
        (b_out * bp.tensor(u)).sum().backward()
        (t_out * torch.tensor(u)).sum().backward()
        np.testing.assert_allclose(bx.grad.data, tx.grad.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("shape, parts", REGRESSIONS)
def test_advanced_index_placement_matches_torch(shape, parts):
    _check_index(shape, parts)


def _with_regressions(test):
    for shape, parts in REGRESSIONS:
        test = example(case=(shape, parts), seed=0)(test)
    return test


@_with_regressions
@given(case=index_case(), seed=st.integers(0, 1000))
def test_random_index_expressions_match_torch(case, seed):
    shape, parts = case
    _check_index(shape, parts, seed)


DTYPES = ["float32", "float64", "int64", "int32", "bool"]
SCALARS = [2, 0.5, True]
OPS = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "lt": lambda a, b: a < b,
    "maximum": lambda a, b: a.maximum(b) if hasattr(a, "maximum") else b.maximum(a),
}


def _make(lib, dtype, values):
    return lib.tensor(np.asarray(values).astype(dtype))


@given(
    da=st.sampled_from(DTYPES),
    db=st.sampled_from(DTYPES + SCALARS),
    op=st.sampled_from(sorted(OPS)),
)
def test_dtype_promotion_matches_torch(da, db, op):
    if op == "maximum" and not isinstance(db, str):
        return  # torch.maximum takes tensors only; backprop also accepts a number (a superset)
    a_vals = np.array([1, 2, 3])
    b_vals = np.array([3, 1, 2])
    ta = _make(torch, da, a_vals)
    ba = _make(bp, da, a_vals)
    if isinstance(db, str):
        tb, bb = _make(torch, db, b_vals), _make(bp, db, b_vals)
    else:
        tb = bb = db
    try:
        t_out = OPS[op](ta, tb)
    except (RuntimeError, TypeError):
        with pytest.raises((TypeError, ValueError)):
            OPS[op](ba, bb)
        return
    b_out = OPS[op](ba, bb)
    assert str(b_out.dtype) == str(t_out.dtype).removeprefix("torch."), (da, db, op)
    np.testing.assert_allclose(b_out.data.astype(float), t_out.numpy().astype(float), rtol=1e-6)


@given(
    shape=st.lists(st.integers(1, 4), min_size=1, max_size=4).map(tuple),
    new=st.lists(st.integers(-1, 6), min_size=1, max_size=4).map(tuple),
    dims=st.lists(st.integers(-5, 4), min_size=1, max_size=4).map(tuple),
    which=st.sampled_from(["reshape", "permute", "transpose", "squeeze", "unsqueeze", "flatten"]),
)
def test_shape_ops_match_torch_or_raise_clearly(shape, new, dims, which):
    x = np.arange(int(np.prod(shape)), dtype=np.float64).reshape(shape)
    calls = {
        "reshape": lambda t: t.reshape(*new),
        "permute": lambda t: t.permute(*dims),
        "transpose": lambda t: t.transpose(dims[0], dims[-1]),
        "squeeze": lambda t: t.squeeze(dims[0]),
        "unsqueeze": lambda t: t.unsqueeze(dims[0]),
        "flatten": lambda t: t.flatten(dims[0], dims[-1]),
    }
    fn = calls[which]
    try:
        t_out = fn(torch.tensor(x))
    except (RuntimeError, IndexError, ValueError, TypeError):
        with pytest.raises((ValueError, TypeError, IndexError)):
            fn(bp.tensor(x))
        return
    b_out = fn(bp.tensor(x))
    assert b_out.shape == tuple(t_out.shape)
    np.testing.assert_array_equal(b_out.data, t_out.numpy())


def test_hypothesis_profile_choice():
    from hypothesis import settings

    from hypothesis_profiles import choose_profile as _hypothesis_profile

    assert _hypothesis_profile({}) == "dev"
    assert _hypothesis_profile({"CI": "true"}) == "ci"
    assert _hypothesis_profile({"CI": "false"}) == "dev"
    assert _hypothesis_profile({"CI": "true", "HYPOTHESIS_PROFILE": "thorough"}) == "thorough"
    assert _hypothesis_profile({"BACKPROP_HYPOTHESIS": "thorough"}) == "thorough"
    assert settings.get_profile("ci").derandomize
    assert not settings.get_profile("dev").derandomize  # even when loaded under CI=true
    assert not settings.get_profile("thorough").derandomize
    assert settings.get_profile("thorough").max_examples > settings.get_profile("dev").max_examples
