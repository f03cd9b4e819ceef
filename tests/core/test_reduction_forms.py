"""Property tests (hypothesis): every reduction's dim forms against PyTorch.

``dim`` as None, an int (negative too), a tuple where PyTorch takes one, the empty tuple, given
positionally, as ``dim=`` or as the NumPy-style alias ``axis=``; ``keepdim`` or ``keepdims``; 0-d
inputs. Values, shapes, dtypes and input gradients must equal torch's.
"""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import backprop as bp

# name -> (takes a tuple of dims, differentiable, dim required)
REDUCTIONS = {
    "sum": (True, True, False),
    "nansum": (True, True, False),
    "mean": (True, True, False),
    "amax": (True, True, False),
    "amin": (True, True, False),
    "var": (True, True, False),
    "std": (True, True, False),
    "logsumexp": (True, True, True),
    "norm": (True, True, False),
    "prod": (False, True, False),
    "max": (False, True, False),
    "min": (False, True, False),
    "median": (False, True, False),
    "nanmedian": (False, True, False),
    "argmax": (False, False, False),
    "argmin": (False, False, False),
    "all": (True, False, False),
    "any": (True, False, False),
    "count_nonzero": (True, False, False),
}
NO_KEEPDIM = {"count_nonzero"}
# PyTorch's functions that do not take the axis= alias themselves (backprop's do).
TORCH_NO_AXIS = {"norm", "count_nonzero"}


@st.composite
def reduction_case(draw):
    name = draw(st.sampled_from(sorted(REDUCTIONS)))
    many, _, required = REDUCTIONS[name]
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=0, max_size=4)))
    ndim = len(shape)
    n = max(ndim, 1)
    forms = ["int"] + (["none"] if not required else []) + (["tuple"] if many else [])
    form = draw(st.sampled_from(forms))
    if form == "none":
        dim = None
    elif form == "int":
        dim = draw(st.integers(-n, n - 1))
    else:
        dims = draw(st.lists(st.integers(-n, n - 1), unique_by=lambda d: d % n, max_size=n))
        dim = tuple(dims)
        if required and not dims:
            dim = (0,)
        if not dims and name in ("var", "std"):
            dim = None  # torch's var/std backward reads dim=() as no dims: an inf gradient
        # torch's 0-d reductions accept dim 0 and -1, not tuples of them for every op
        if ndim == 0:
            dim = draw(st.sampled_from([0, -1]))
    keepdim = draw(st.booleans())
    spelling = draw(st.sampled_from(["positional", "dim", "axis"]))
    keep_spelling = draw(st.sampled_from(["keepdim", "keepdims"]))
    seed = draw(st.integers(0, 2**16))
    return name, shape, dim, keepdim, spelling, keep_spelling, seed


def _call(lib, name, x, dim, keepdim, spelling, keep_spelling):
    fn = getattr(lib, name)
    args = (x, 2) if name == "norm" else (x,)
    if dim is None and name in ("max", "min", "median", "nanmedian"):
        return fn(*args)  # the all-elements form takes no keepdim
    if lib is torch:
        if dim is None:  # torch's overloads differ on dim=None: keepdim means all dims kept
            out = fn(*args)
            return out.reshape((1,) * x.ndim) if keepdim and name not in NO_KEEPDIM else out
        keep = {} if name in NO_KEEPDIM else {"keepdim": keepdim}
        use_axis = spelling == "axis" and name not in TORCH_NO_AXIS
        return fn(*args, **({"axis": dim} if use_axis else {"dim": dim}), **keep)
    keep = {} if name in NO_KEEPDIM else {keep_spelling: keepdim}
    if spelling == "positional":
        return fn(*args, dim, **keep)
    return fn(*args, **{spelling: dim}, **keep)


def _values(out):
    return out.values if hasattr(out, "values") and not callable(out.values) else out


def _input(lib, name, a):
    if name in ("all", "any", "count_nonzero"):
        return lib.tensor(a > 0)
    if name in ("argmax", "argmin"):
        return lib.tensor(a)
    return lib.tensor(a, requires_grad=True)


@given(case=reduction_case())
def test_reduction_dim_forms_match_torch(case):
    name, shape, dim, keepdim, spelling, keep_spelling, seed = case
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(shape)
    if name == "nansum" and a.size > 1:
        a.reshape(-1)[0] = np.nan
    bx, tx = _input(bp, name, a), _input(torch, name, a)
    b = _values(_call(bp, name, bx, dim, keepdim, spelling, keep_spelling))
    t = _values(_call(torch, name, tx, dim, keepdim, spelling, keep_spelling))
    assert b.shape == tuple(t.shape), (name, shape, dim, keepdim)
    assert str(b.dtype) == str(t.dtype).removeprefix("torch."), (name, b.dtype, t.dtype)
    np.testing.assert_allclose(b.data, t.detach().numpy(), rtol=1e-10, atol=1e-12)
    if REDUCTIONS[name][1]:
        u = rng.standard_normal(b.shape)
        (b * bp.tensor(u)).sum().backward()
        (t * torch.tensor(u)).sum().backward()
        np.testing.assert_allclose(bx.grad.data, tx.grad.numpy(), rtol=1e-10, atol=1e-12)


SCANS = ["cumsum", "cumprod", "logcumsumexp", "cummax", "cummin"]


@given(
    name=st.sampled_from(SCANS),
    shape=st.lists(st.integers(1, 4), min_size=0, max_size=3).map(tuple),
    data=st.data(),
)
def test_scan_dims_match_torch(name, shape, data):
    n = max(len(shape), 1)
    dim = data.draw(st.integers(-n, n - 1))
    spelling = data.draw(st.sampled_from(["positional", "dim", "axis"]))
    a = np.random.default_rng(len(shape)).standard_normal(shape)
    bx, tx = bp.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    if spelling == "positional":
        b = getattr(bp, name)(bx, dim)
    else:
        b = getattr(bp, name)(bx, **{spelling: dim})
    t = getattr(torch, name)(tx, dim)
    if name in ("cummax", "cummin"):
        np.testing.assert_array_equal(b.indices.data, t.indices.numpy())
        b, t = b.values, t.values
    assert b.shape == tuple(t.shape)
    np.testing.assert_allclose(b.data, t.detach().numpy(), rtol=1e-10, atol=1e-12)
    u = np.random.default_rng(1).standard_normal(b.shape)
    (b * bp.tensor(u)).sum().backward()
    (t * torch.tensor(u)).sum().backward()
    np.testing.assert_allclose(bx.grad.data, tx.grad.numpy(), rtol=1e-10, atol=1e-12)


@given(
    shape=st.lists(st.integers(1, 5), min_size=0, max_size=3).map(tuple),
    q=st.one_of(st.floats(0, 1), st.lists(st.floats(0, 1), min_size=1, max_size=3)),
    data=st.data(),
)
def test_quantile_forms_match_torch(shape, q, data):
    n = max(len(shape), 1)
    dim = data.draw(st.one_of(st.none(), st.integers(-n, n - 1)))
    keepdim = data.draw(st.booleans())
    how = data.draw(st.sampled_from(["linear", "lower", "higher", "midpoint", "nearest"]))
    a = np.random.default_rng(len(shape)).standard_normal(shape)
    bx, tx = bp.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    bq = bp.tensor(q, dtype=bp.float64) if isinstance(q, list) else q
    tq = torch.tensor(q, dtype=torch.float64) if isinstance(q, list) else q
    b = bp.quantile(bx, bq, dim, keepdim, interpolation=how)
    t = torch.quantile(tx, tq, dim, keepdim, interpolation=how)
    assert b.shape == tuple(t.shape)
    np.testing.assert_allclose(b.data, t.detach().numpy(), rtol=1e-10, atol=1e-12)
    u = np.random.default_rng(2).standard_normal(b.shape)
    (b * bp.tensor(u)).sum().backward()
    (t * torch.tensor(u)).sum().backward()
    np.testing.assert_allclose(bx.grad.data, tx.grad.numpy(), rtol=1e-10, atol=1e-12)


# Tensor methods that must take the NumPy-style aliases (x.sum(axis=1, keepdims=True)).
METHODS = ["sum", "mean", "amax", "amin", "var", "std", "logsumexp", "prod", "max", "min",
           "argmax", "argmin", "all", "any", "median", "nansum", "cumsum", "cumprod"]  # fmt: skip


@pytest.mark.parametrize("name", METHODS)
def test_tensor_methods_take_axis_and_keepdims(name):
    a = np.random.default_rng(0).standard_normal((2, 3)) + 3.0
    bx, tx = bp.tensor(a), torch.tensor(a)
    kw = {"axis": 1} if name.startswith("cum") else {"axis": 1, "keepdims": True}
    b, t = _values(getattr(bx, name)(**kw)), _values(getattr(tx, name)(**kw))
    assert b.shape == tuple(t.shape)
    np.testing.assert_allclose(b.data, t.numpy(), rtol=1e-10, atol=1e-12)
