"""The exact GELU's compiled kernels (backend/numba_kernels.py: gelu, gelu_backward): error over
dense grids against float64 SciPy (float32) and mpmath (float64), the op on both kernel paths
against torch, special values, and the fall-backs (kernels switched off between forward and
backward, a non-contiguous input)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import backprop as bp
from backprop.backend import kernels
from backprop.nn import functional as F

pytest.importorskip("numba")
special = pytest.importorskip("scipy.special")


def _kernels():
    from backprop.backend import numba_kernels as nk

    return nk


def _run(x, gy=None):
    nk = _kernels()
    y, gx = np.empty_like(x), np.empty_like(x)
    nk.gelu(x, y)
    nk.gelu_backward(x, np.ones_like(x) if gy is None else gy, gx)
    return y, gx


def _reference64(x):
    """x Phi(x) and Phi(x) + x phi(x) in float64, Phi through erfc (no cancellation)."""
    x = x.astype(np.float64)
    cdf = 0.5 * special.erfc(-x / math.sqrt(2.0))
    pdf = np.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)
    return x * cdf, cdf + x * pdf


def _ulps(actual, want, dtype):
    spacing = np.spacing(np.abs(want.astype(dtype))).astype(np.float64)
    return np.abs(actual.astype(np.float64) - want) / spacing


def test_float32_within_one_ulp_on_a_dense_grid():
    x = np.concatenate(
        [
            np.linspace(-14, 14, 1_000_001),  # step 2.8e-5: every interval and both tails
            np.linspace(-0.7, -0.8, 100_001),  # around the gradient's zero at x ~ -0.7518
            -np.logspace(-30, 1.2, 20_001),
            np.logspace(-30, 1.2, 20_001),
        ]
    ).astype(np.float32)
    y, gx = _run(x)
    want_y, want_g = _reference64(x)
    assert _ulps(y, want_y, np.float32).max() <= 1.0
    assert _ulps(gx, want_g, np.float32).max() <= 1.0
    # where the NumPy path's 1 + erf cancels, the kernel keeps the tail: gelu(-8) ~ -5e-15
    assert y[np.argmin(np.abs(x + 8))] < 0


def test_float64_close_to_mpmath():
    mpmath = pytest.importorskip("mpmath")
    mpmath.mp.dps = 40
    x = np.concatenate([np.linspace(-38, 38, 3041), np.linspace(-1, 1, 801)])
    y, gx = _run(x)
    X = [mpmath.mpf(float(v)) for v in x]
    want_y = np.array([float(v * mpmath.ncdf(v)) for v in X])
    cdf = np.array([float(mpmath.ncdf(v)) for v in X])
    xpdf = np.array([float(v * mpmath.npdf(v)) for v in X])
    normal = np.abs(want_y) > np.finfo(np.float64).tiny  # subnormal results lose bits anyway
    rel = np.abs(y - want_y)[normal] / np.abs(want_y)[normal]
    assert rel.max() < 2e-15
    assert np.all(y[~normal & (x > 0)] == want_y[~normal & (x > 0)])
    # the gradient Phi + x phi cancels near x ~ -0.75: its error is relative to its two terms
    scale = np.abs(cdf) + np.abs(xpdf)
    normal = scale > 1e-300
    assert (np.abs(gx - (cdf + xpdf))[normal] / scale[normal]).max() < 2e-15


def test_special_values_as_torch():
    x = np.array([np.inf, -np.inf, np.nan, -0.0, 0.0, 40.0, -40.0, 1e308, -1e308])
    y, gx = _run(x)
    xt = torch.tensor(x, requires_grad=True)
    yt = torch.nn.functional.gelu(xt)
    yt.sum().backward()
    np.testing.assert_array_equal(y, yt.detach().numpy())
    np.testing.assert_array_equal(gx, xt.grad.numpy())
    assert np.signbit(y[3])  # gelu(-0.0) = -0.0


def _op(path, x0, gy0, switch_before_backward=None):
    previous = kernels.set_kernels(path)
    try:
        x = bp.tensor(x0, requires_grad=True)
        y = F.gelu(x)
        if switch_before_backward is not None:
            kernels.set_kernels(switch_before_backward)
        y.backward(bp.tensor(gy0))
        return y.numpy(), x.grad.numpy()
    finally:
        kernels.set_kernels(previous)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_op_on_both_paths_matches_torch(dtype):
    rng = np.random.default_rng(0)
    x0 = (rng.standard_normal((64, 513)) * 3).astype(dtype)
    gy0 = rng.standard_normal(x0.shape).astype(dtype)
    xt = torch.tensor(x0, requires_grad=True)
    yt = torch.nn.functional.gelu(xt)
    yt.backward(torch.tensor(gy0))
    # torch's float32 gradient cancels near its zero (x ~ -0.75): a few 1e-6 off, where the
    # kernels are within one ulp of float64 (the grid test)
    tol = dict(rtol=2e-6, atol=5e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-13)
    for path in ("numba", "numpy"):
        y, gx = _op(path, x0, gy0)
        assert y.dtype == dtype and gx.dtype == dtype
        np.testing.assert_allclose(y, yt.detach().numpy(), **tol, err_msg=path)
        np.testing.assert_allclose(gx, xt.grad.numpy(), **tol, err_msg=path)
    fused = _op("numba", x0, gy0)
    direct = _run(x0.reshape(-1), gy0.reshape(-1))
    np.testing.assert_array_equal(fused[0].reshape(-1), direct[0])  # the op runs the kernels
    np.testing.assert_array_equal(fused[1].reshape(-1), direct[1])


def test_kernels_switched_off_before_backward_and_non_contiguous_input():
    rng = np.random.default_rng(1)
    x0 = rng.standard_normal((40, 30)).astype(np.float32)
    gy0 = rng.standard_normal(x0.shape).astype(np.float32)
    want = _op("numpy", x0, gy0)
    got = _op("numba", x0, gy0, switch_before_backward="numpy")
    np.testing.assert_allclose(got[0], want[0], rtol=2e-6, atol=1e-7)
    np.testing.assert_allclose(got[1], want[1], rtol=2e-6, atol=1e-7)
    xt = np.asfortranarray(x0)  # not C-contiguous: the NumPy path
    got = _op("numba", xt, gy0)
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])
