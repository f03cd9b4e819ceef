"""ReLU's compiled kernels (backend/numba_kernels.py: relu, relu_backward): on both kernel paths
against torch and against each other, bit for bit, for C-ordered arrays and conv outputs'
(C, H, W, N) memory, with zeros, -0.0, NaN inputs and inf/NaN output gradients, in float32 and
float64; the kernels run only where they should, and kernels.flat_alike's layout rules."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from _kernel_paths import chwn as _chwn
from _kernel_paths import kernel_path

import backprop as bp
from backprop.backend import kernels
from backprop.ops import activation

pytest.importorskip("numba")


def _relu(x, gy, path):
    with kernel_path(path):
        t = bp.tensor(x, requires_grad=True)
        y = bp.relu(t)
        y.backward(bp.tensor(gy))
        return y.detach().numpy(), t.grad.numpy()


def _specials(a, rng):
    a[rng.random(a.shape) < 0.1] = 0.0
    a[rng.random(a.shape) < 0.1] = -0.0
    a[rng.random(a.shape) < 0.05] = np.nan
    return a


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("layout", ["c", "chwn"])
def test_both_paths_agree_bit_for_bit_and_with_torch(dtype, layout, monkeypatch):
    monkeypatch.setattr(activation, "_RELU_MIN_FUSED", 1000)  # small arrays take the kernels too
    rng = np.random.default_rng(3)
    shape = (8, 5, 12, 13)
    x = _specials(rng.standard_normal(shape).astype(dtype), rng)
    gy = rng.standard_normal(shape).astype(dtype)
    gy[rng.random(shape) < 0.05] = np.inf
    gy[rng.random(shape) < 0.05] = np.nan
    if layout == "chwn":
        x, gy = _chwn(x), _chwn(gy)
    fused, plain = _relu(x, gy, "numba"), _relu(x, gy, "numpy")
    for a, b in zip(fused, plain):
        assert a.strides == b.strides  # the memory order is kept on both paths
        assert a.tobytes() == b.tobytes()
    tx = torch.tensor(np.ascontiguousarray(x), requires_grad=True)
    ty = torch.relu(tx)
    ty.backward(torch.tensor(np.ascontiguousarray(gy)))
    # torch keeps -0.0 where both paths give 0.0: equal values, so assert_array_equal.
    np.testing.assert_array_equal(fused[0], ty.detach().numpy())
    np.testing.assert_array_equal(fused[1], tx.grad.numpy())


def test_kernels_run_only_where_they_should(monkeypatch):
    calls = []
    real = kernels.launch
    monkeypatch.setattr(kernels, "launch", lambda name, *a: calls.append(name) or real(name, *a))
    rng = np.random.default_rng(0)
    big = rng.standard_normal((64, activation._RELU_MIN_FUSED // 64)).astype(np.float32)
    _relu(big, np.ones_like(big), "numba")
    assert calls == ["relu", "relu_backward"]
    calls.clear()
    _relu(big, np.ones_like(big), "numpy")
    small = rng.standard_normal((4, activation._RELU_MIN_FUSED // 8)).astype(np.float32)
    _relu(small, np.ones_like(small), "numba")
    ints = rng.integers(-3, 3, (64, 100))
    with kernel_path("numba"):
        bp.relu(bp.tensor(ints))
    assert calls == []


def test_flat_alike_layouts():
    a = np.zeros((3, 4, 5), np.float32)
    views = kernels.flat_alike(a, np.ones_like(a))
    assert [v.shape for v in views] == [(60,), (60,)]
    views[1][:] = 7  # views, not copies
    t = np.zeros((5, 4, 3), np.float32).transpose(2, 1, 0)  # dense, in another order
    assert kernels.flat_alike(t, np.zeros((5, 4, 3), np.float32).transpose(2, 1, 0)) is not None
    assert kernels.flat_alike(a, t.copy()) is not None  # C order both
    assert kernels.flat_alike(a, t) is None  # different strides
    assert kernels.flat_alike(a[:, ::2]) is None  # gaps
    assert kernels.flat_alike(a, np.zeros((3, 4, 6), np.float32)) is None  # shapes differ
