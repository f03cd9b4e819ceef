"""Tensor methods that forward to the functions (x.sum(...) is backprop.sum(x, ...)), and their
in-place twins, against torch."""

import numpy as np
import pytest
import torch

import backprop as bp
from backprop.tensor import FORWARDED_INPLACE, FORWARDED_METHODS

A = np.arange(12.0).reshape(3, 4) - 5


def test_every_forwarded_method_has_its_function():
    for name in FORWARDED_METHODS + FORWARDED_INPLACE:
        assert callable(getattr(bp, name, None)), name


@pytest.mark.parametrize(
    "call",
    [
        lambda x, m: x.sum(axis=1),
        lambda x, m: x.sum(axis=1, keepdims=True),
        lambda x, m: x.mean(dim=(0, 1)),
        lambda x, m: x.max(axis=1).values,
        lambda x, m: x.cumsum(axis=0),
        lambda x, m: x.cumsum(0),
        lambda x, m: x.tril(1),
        lambda x, m: x.roll(1, 0),
        lambda x, m: x.sort(dim=1, descending=True, stable=True).values,
        lambda x, m: x.topk(2, dim=1).values,
        lambda x, m: x.tile(2, 1),
        lambda x, m: x.tile((1, 2)),
        lambda x, m: x.movedim(0, 1),
        lambda x, m: x.repeat_interleave(2, dim=0),
        lambda x, m: x.median(dim=1).values,
        lambda x, m: x.scatter(1, m.tensor([[0], [1], [2]]), 9.0),
        lambda x, m: x.index_add(0, m.tensor([0, 0]), m.ones((2, 4), dtype=x.dtype)),
    ],
)
def test_methods_match_torch(call):
    xb = bp.tensor(A, requires_grad=True)
    xt = torch.tensor(A, requires_grad=True)
    yb, yt = call(xb, bp), call(xt, torch)
    np.testing.assert_allclose(yb.numpy(), yt.detach().numpy())
    g = np.random.default_rng(0).normal(size=yb.shape)
    yb.backward(bp.tensor(g))
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(xb.grad.numpy(), xt.grad.numpy())


@pytest.mark.parametrize(
    "call",
    [
        lambda h, m: h.scatter_(1, m.tensor([[0], [1], [2]]), 9.0),
        lambda h, m: h.index_fill_(1, m.tensor([0, 3]), -1.0),
        lambda h, m: h.tril_(),
        lambda h, m: h.masked_scatter_(h > 0, m.ones(12, dtype=h.dtype) * 7),
    ],
)
def test_inplace_twins_match_torch(call):
    out = []
    for m in (bp, torch):
        x = m.tensor(A, requires_grad=True)
        h = x * 2
        r = call(h, m)
        assert r is h
        (h * h).sum().backward()
        out.append((np.asarray(h.detach().numpy()), x.grad.numpy()))
    for a, b in zip(*out):
        np.testing.assert_allclose(a, b)
