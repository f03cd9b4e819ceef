"""Property-based tests (hypothesis): random shapes, broadcasts and reduction axes vs PyTorch."""

import numpy as np
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

import backprop as bp

BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / (b.abs() + 0.5) if isinstance(b, bp.Tensor) else a / (b.abs() + 0.5),
    "maximum": lambda a, b: a.maximum(b),
    "where": lambda a, b: a.where(a > 0, b),
}


def _pair(lib, a, b):
    return (lib.tensor(a, requires_grad=True), lib.tensor(b, requires_grad=True))


@given(
    shapes=mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, max_side=4),
    op=st.sampled_from(sorted(BINARY)),
    seed=st.integers(0, 2**16),
)
def test_binary_broadcasting_matches_torch(shapes, op, seed):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(shapes.input_shapes[0])
    b = rng.standard_normal(shapes.input_shapes[1])
    fn = BINARY[op]
    ba, bb = _pair(bp, a, b)
    ta, tb = _pair(torch, a, b)
    bo, to = fn(ba, bb), fn(ta, tb)
    assert bo.shape == tuple(to.shape) == shapes.result_shape
    np.testing.assert_allclose(bo.data, to.detach().numpy(), rtol=1e-10, atol=1e-12)
    u = rng.standard_normal(shapes.result_shape)
    (bo * bp.tensor(u)).sum().backward()
    (to * torch.tensor(u)).sum().backward()
    for x, y in ((ba, ta), (bb, tb)):
        assert x.grad.shape == x.shape
        np.testing.assert_allclose(x.grad.data, y.grad.numpy(), rtol=1e-10, atol=1e-12)


REDUCTIONS = ["sum", "mean", "amax", "amin", "var", "std", "logsumexp", "norm", "prod"]


@st.composite
def shape_and_dims(draw):
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=4)))
    ndim = len(shape)
    dims = draw(st.lists(st.integers(-ndim, ndim - 1), unique_by=lambda d: d % ndim, max_size=ndim))
    return shape, tuple(dims)


@given(
    sd=shape_and_dims(),
    op=st.sampled_from(REDUCTIONS),
    keepdim=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_reductions_match_torch(sd, op, keepdim, seed):
    shape, dims = sd
    if op in ("var", "std") and np.prod([shape[d] for d in dims] if dims else shape) < 2:
        return  # one element: torch returns nan with a warning; covered elsewhere
    if op == "prod":
        dims = dims[:1]  # torch.prod takes one dim
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape) + 0.1
    bx = bp.tensor(x, requires_grad=True)
    tx = torch.tensor(x, requires_grad=True)
    kw = {"keepdim": keepdim}
    if op == "norm":
        kw["p"] = 2  # torch's default 'fro' is a matrix norm and takes exactly two dims
    if op == "prod":
        b_out = bx.prod(dims[0], keepdim) if dims else bx.prod()
        t_out = tx.prod(dims[0], keepdim) if dims else tx.prod()
    elif op == "logsumexp" or dims:
        d = dims if dims else tuple(range(len(shape)))
        b_out = getattr(bp, op)(bx, dim=d, **kw)
        t_out = getattr(torch, op)(tx, dim=d, **kw)
    else:
        b_out = getattr(bp, op)(bx)
        t_out = getattr(torch, op)(tx)
    assert b_out.shape == tuple(t_out.shape)
    np.testing.assert_allclose(b_out.data, t_out.detach().numpy(), rtol=1e-10, atol=1e-12)
    u = rng.standard_normal(b_out.shape)
    (b_out * bp.tensor(u)).sum().backward()
    (t_out * torch.tensor(u)).sum().backward()
    np.testing.assert_allclose(bx.grad.data, tx.grad.numpy(), rtol=1e-9, atol=1e-12)
