"""Gradient clipping vs torch.nn.utils: the returned total norm and the clipped gradients."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import backprop as bp
from backprop.nn.utils import clip_grad_norm_, clip_grad_value_
from backprop.nn.utils.clip_grad import clip_grads_with_norm_, get_total_norm

SHAPES = [(4, 5), (5,), (3, 4), ()]


def _pairs(dtype=np.float64, scale=1.0, with_none=True):
    """Parameters with gradients in both libraries (the last one without a gradient)."""
    rng = np.random.default_rng(0)
    ours, theirs = [], []
    for i, s in enumerate(SHAPES + [(2,)] * with_none):
        w = rng.standard_normal(s).astype(dtype)
        p, t = bp.tensor(w, requires_grad=True), torch.tensor(w, requires_grad=True)
        if i < len(SHAPES):
            g = (rng.standard_normal(s) * scale).astype(dtype)
            p.grad, t.grad = bp.tensor(g), torch.tensor(g)
        ours.append(p)
        theirs.append(t)
    return ours, theirs


def _assert_grads_equal(ours, theirs, rtol):
    for p, t in zip(ours, theirs):
        if t.grad is None:
            assert p.grad is None
        else:
            np.testing.assert_allclose(p.grad.data, t.grad.numpy(), rtol=rtol, atol=0)


@pytest.mark.parametrize("norm_type", [2.0, 1.0, math.inf, 3.0, 0.5, "inf"])
@pytest.mark.parametrize("max_norm", [0.5, 1e3], ids=["clips", "no-op"])
@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-12), (np.float32, 1e-5)])
def test_clip_grad_norm_matches_torch(norm_type, max_norm, dtype, rtol):
    ours, theirs = _pairs(dtype)
    total = clip_grad_norm_(ours, max_norm, norm_type=norm_type)
    ref = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type=norm_type)
    assert isinstance(total, bp.Tensor) and total.shape == () and total.dtype == dtype
    np.testing.assert_allclose(total.item(), ref.item(), rtol=rtol)
    _assert_grads_equal(ours, theirs, rtol)
    if max_norm < 1:  # the clipped gradients have the norm asked for
        after = get_total_norm([p.grad for p in ours if p.grad is not None], norm_type)
        np.testing.assert_allclose(after.item(), max_norm, rtol=1e-4)


def test_clip_grad_norm_of_one_tensor_and_of_a_generator():
    ours, theirs = _pairs()
    n1 = clip_grad_norm_(ours[0], 0.1)
    r1 = torch.nn.utils.clip_grad_norm_(theirs[0], 0.1)
    np.testing.assert_allclose(n1.item(), r1.item(), rtol=1e-12)
    n2 = clip_grad_norm_((p for p in ours), 0.2)
    r2 = torch.nn.utils.clip_grad_norm_((t for t in theirs), 0.2)
    np.testing.assert_allclose(n2.item(), r2.item(), rtol=1e-12)
    _assert_grads_equal(ours, theirs, 1e-12)


def test_no_gradients_gives_a_zero_norm():
    p = bp.zeros(3, requires_grad=True)
    assert clip_grad_norm_([p], 1.0).item() == 0.0
    with pytest.warns(UserWarning, match="empty generator"):
        clip_grad_norm_((q for q in []), 1.0)


def test_non_finite_norms():
    ours, theirs = _pairs()
    ours[0].grad.data[0, 0] = np.inf
    theirs[0].grad[0, 0] = np.inf
    with pytest.raises(RuntimeError, match="non-finite|inf"):
        clip_grad_norm_(ours, 1.0, error_if_nonfinite=True)
    # Without the check the gradients are scaled by 0 (inf becomes NaN), as in torch.
    total = clip_grad_norm_(ours, 1.0)
    ref = torch.nn.utils.clip_grad_norm_(theirs, 1.0)
    assert total.item() == ref.item() == math.inf
    for p, t in zip(ours, theirs):
        if t.grad is not None:
            np.testing.assert_array_equal(p.grad.data, t.grad.numpy())


def test_clip_grads_with_norm_uses_the_given_norm():
    ours, theirs = _pairs()
    clip_grads_with_norm_(ours, 1.0, bp.tensor(np.float64(4.0)))
    torch.nn.utils.clip_grads_with_norm_(theirs, 1.0, torch.tensor(4.0, dtype=torch.float64))
    _assert_grads_equal(ours, theirs, 1e-12)


@pytest.mark.parametrize("clip_value", [0.3, 1.0, 10.0])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_clip_grad_value_matches_torch(clip_value, dtype):
    ours, theirs = _pairs(dtype, scale=2.0)
    assert clip_grad_value_(ours, clip_value) is None
    torch.nn.utils.clip_grad_value_(theirs, clip_value)
    _assert_grads_equal(ours, theirs, 0)
    assert all(p.grad.dtype == dtype for p in ours if p.grad is not None)
    assert max(np.abs(p.grad.data).max() for p in ours if p.grad is not None) <= clip_value


def test_non_tensors_are_rejected():
    with pytest.raises(TypeError, match="clip_grad_norm_"):
        clip_grad_norm_([np.zeros(3)], 1.0)
