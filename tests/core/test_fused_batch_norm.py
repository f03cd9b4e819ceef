"""Batch norm's compiled kernels (numba) against its NumPy path and torch: the op table's cases
are too small to reach them (they start at 16k elements), so these are large, in both layouts."""

import numpy as np
import pytest
import torch

import backprop as bp
from backprop.backend import kernels
from backprop.nn import functional as F

pytest.importorskip("numba")


def _run(path, x0, gy0, affine, training, channels_last_memory):
    previous = kernels.set_kernels(path)
    try:
        if channels_last_memory:  # an (N, C, H, W) view of (C, H, W, N) memory, as conv outputs
            x0 = np.ascontiguousarray(x0.transpose(1, 2, 3, 0)).transpose(3, 0, 1, 2)
        x = bp.tensor(x0, requires_grad=True)
        C = x0.shape[1]
        w = bp.tensor(np.linspace(0.5, 1.5, C, dtype=x0.dtype), requires_grad=True)
        b = bp.tensor(np.linspace(-1, 1, C, dtype=x0.dtype), requires_grad=True)
        rm, rv = bp.tensor(np.zeros(C, x0.dtype)), bp.tensor(np.ones(C, x0.dtype))
        y = F.batch_norm(
            x, rm, rv, w if affine else None, b if affine else None,
            training=training, momentum=0.1, eps=1e-5,
        )  # fmt: skip
        y.backward(bp.tensor(gy0))
        grads = [x.grad.numpy()] + ([w.grad.numpy(), b.grad.numpy()] if affine else [])
        return y.numpy(), grads, rm.numpy(), rv.numpy()
    finally:
        kernels.set_kernels(previous)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("channels_last_memory", [False, True], ids=["nchw", "chwn"])
def test_compiled_batch_norm_equals_numpy_and_torch(dtype, affine, channels_last_memory):
    rng = np.random.default_rng(0)
    x0 = (rng.normal(size=(16, 8, 12, 12)) * 3 + 5).astype(dtype)  # 18k elements: compiled
    gy0 = rng.normal(size=x0.shape).astype(dtype)
    fused = _run("numba", x0, gy0, affine, True, channels_last_memory)
    plain = _run("numpy", x0, gy0, affine, True, channels_last_memory)
    tol = dict(rtol=2e-4, atol=2e-4) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-10)
    flat = lambda r: [r[0], *r[1], r[2], r[3]]  # noqa: E731
    for a, b in zip(flat(fused), flat(plain)):
        np.testing.assert_allclose(a, b, **tol)

    xt = torch.tensor(x0, requires_grad=True)
    C = x0.shape[1]
    wt = torch.tensor(np.linspace(0.5, 1.5, C, dtype=dtype), requires_grad=True)
    bt = torch.tensor(np.linspace(-1, 1, C, dtype=dtype), requires_grad=True)
    rmt, rvt = torch.zeros(C, dtype=xt.dtype), torch.ones(C, dtype=xt.dtype)
    yt = torch.nn.functional.batch_norm(
        xt, rmt, rvt, wt if affine else None, bt if affine else None, training=True,
        momentum=0.1, eps=1e-5,
    )  # fmt: skip
    yt.backward(torch.tensor(gy0))
    np.testing.assert_allclose(fused[0], yt.detach().numpy(), **tol)
    np.testing.assert_allclose(fused[1][0], xt.grad.numpy(), **tol)
    if affine:
        np.testing.assert_allclose(fused[1][1], wt.grad.numpy(), **tol)
        np.testing.assert_allclose(fused[1][2], bt.grad.numpy(), **tol)
    np.testing.assert_allclose(fused[2], rmt.numpy(), **tol)
    np.testing.assert_allclose(fused[3], rvt.numpy(), **tol)


def test_compiled_batch_norm_keeps_the_conv_layout():
    rng = np.random.default_rng(1)
    x0 = rng.normal(size=(16, 8, 12, 12)).astype(np.float32)
    chwn = np.ascontiguousarray(x0.transpose(1, 2, 3, 0)).transpose(3, 0, 1, 2)
    previous = kernels.set_kernels("numba")
    try:
        y = F.batch_norm(bp.tensor(chwn), None, None, training=True)
    finally:
        kernels.set_kernels(previous)
    assert y.data.transpose(1, 2, 3, 0).flags.c_contiguous  # still (C, H, W, N) memory
