"""Max pooling's compiled 2x2 tiled forward and backward (backend/numba_kernels.py: max_pool2x2,
max_pool2x2_backward), which take a conv output's (C, H, W, N) memory: on both kernel paths
against torch and against each other, with ties (ReLU zeros, signed zeros), NaN maxima, inf/NaN
output gradients, odd sizes (cells past the last window) and float64; gradients bit for bit; the
kernels run only where they should."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from _kernel_paths import chwn as _chwn
from _kernel_paths import kernel_path

import backprop as bp
from backprop.backend import kernels
from backprop.nn import functional as F

pytest.importorskip("numba")


def _grad(x, gy, path):
    with kernel_path(path):
        t = bp.tensor(x, requires_grad=True)
        F.max_pool2d(t, 2).backward(bp.tensor(gy))
        return t.grad.numpy()


def _pool(x, path):
    with kernel_path(path):
        return F.max_pool2d(bp.tensor(x), 2).numpy()


def _torch_grad(x, gy):
    t = torch.tensor(np.ascontiguousarray(x), requires_grad=True)
    torch.nn.functional.max_pool2d(t, 2).backward(torch.tensor(np.ascontiguousarray(gy)))
    return t.grad.numpy()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(8, 3, 8, 8), (5, 4, 7, 9), (1, 2, 4, 6)])
@pytest.mark.parametrize("kind", ["random", "relu", "signed_zero", "nan", "inf_grad"])
def test_both_paths_match_torch_bit_for_bit(dtype, shape, kind):
    rng = np.random.default_rng(sum(shape))
    x = rng.standard_normal(shape).astype(dtype)
    if kind == "relu":  # ties: all-zero windows send the gradient to their first tap
        x = np.maximum(x, 0).astype(dtype)
    if kind == "signed_zero":  # windows of 0.0 and -0.0: ties, the gradient to the first tap
        x = np.where(rng.random(shape) < 0.5, -0.0, 0.0).astype(dtype)
    if kind == "nan":  # NaN maxima: the last NaN tap of the window
        x[rng.random(shape) < 0.15] = np.nan
    gy = rng.standard_normal((shape[0], shape[1], shape[2] // 2, shape[3] // 2)).astype(dtype)
    if kind == "inf_grad":  # inf/NaN gradients reach only the chosen tap
        gy[0, 0, 0, 0], gy[-1, -1, -1, -1] = np.inf, np.nan
    x, gy = _chwn(x), _chwn(gy)
    want = _torch_grad(x, gy)
    fused, plain = _grad(x, gy, "numba"), _grad(x, gy, "numpy")
    np.testing.assert_array_equal(fused, want)
    np.testing.assert_array_equal(plain, want)
    y_fused, y_plain = _pool(x, "numba"), _pool(x, "numpy")
    # Equal values (NaN where NaN); not bits: NumPy's SIMD maximum picks either of 0.0 and -0.0.
    assert y_fused.strides == y_plain.strides
    np.testing.assert_array_equal(y_fused, y_plain)
    y_torch = torch.nn.functional.max_pool2d(torch.tensor(np.ascontiguousarray(x)), 2).numpy()
    np.testing.assert_array_equal(y_fused, y_torch)


def test_kernel_runs_only_on_chwn_memory(monkeypatch):
    calls = []
    real = kernels.launch
    monkeypatch.setattr(kernels, "launch", lambda name, *a: calls.append(name) or real(name, *a))
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 3, 6, 6)).astype(np.float32)
    gy = np.ones((4, 3, 3, 3), np.float32)
    _grad(x, gy, "numba")  # NCHW memory: the NumPy code
    assert calls == []
    _grad(_chwn(x), _chwn(gy), "numba")
    assert calls == ["max_pool2x2", "max_pool2x2_backward"]


def test_lenet_block_matches_torch():
    """conv -> relu -> 2x2 pool, as in LeNet-5: the pool's input is the conv's CHWN output."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((16, 3, 12, 12)).astype(np.float32)
    w = (rng.standard_normal((6, 3, 5, 5)) * 0.2).astype(np.float32)
    grads = []
    for path in ("numba", "numpy"):
        with kernel_path(path):
            tx, tw = bp.tensor(x, requires_grad=True), bp.tensor(w, requires_grad=True)
            F.max_pool2d(F.relu(F.conv2d(tx, tw, padding=2)), 2).sum().backward()
            grads.append((tx.grad.numpy(), tw.grad.numpy()))
    rx, rw = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    tf = torch.nn.functional
    tf.max_pool2d(tf.relu(tf.conv2d(rx, rw, padding=2)), 2).sum().backward()
    for gx, gw in grads:
        np.testing.assert_allclose(gx, rx.grad.numpy(), rtol=1e-5, atol=1e-5)
        # gw sums 2,304 products to values up to ~60: float32 rounding differs by BLAS kernel
        # (1.5e-5 on an Intel Xeon), so the absolute tolerance scales with the largest entry.
        ref = rw.grad.numpy()
        np.testing.assert_allclose(gw, ref, rtol=1e-5, atol=1e-6 * np.abs(ref).max())
    np.testing.assert_array_equal(grads[0][0], grads[1][0])
