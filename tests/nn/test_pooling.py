"""Pooling layers: parity with PyTorch (outputs, gradients, indices, output sizes), ties, the
2x2 fast path on conv outputs, and the ValueErrors for invalid configurations."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

import backprop as bp
from backprop import nn

torch.set_num_threads(1)


def _check(b_mod, t_mod, x, dtype=np.float64, rtol=None):
    rtol = rtol or (1e-8 if dtype == np.float64 else 1e-4)
    x = x.astype(dtype)
    bx, tx = bp.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    by, ty = b_mod(bx), t_mod(tx)
    assert by.shape == tuple(ty.shape)
    assert by.dtype == dtype
    np.testing.assert_allclose(by.data, ty.detach().numpy(), rtol=rtol, atol=rtol * 1e-2)
    u = np.random.default_rng(5).standard_normal(by.shape).astype(dtype)
    (by * bp.tensor(u)).sum().backward()
    (ty * torch.tensor(u)).sum().backward()
    assert bx.grad.dtype == dtype
    np.testing.assert_allclose(bx.grad.data, tx.grad.numpy(), rtol=rtol, atol=rtol * 1e-2)


MAX = [
    dict(kernel_size=2),
    dict(kernel_size=3, stride=2, padding=1),
    dict(kernel_size=(3, 2), stride=(1, 2), dilation=(2, 1)),
    dict(kernel_size=3, stride=2, ceil_mode=True),
    dict(kernel_size=2, stride=3, padding=1, ceil_mode=True),
    dict(kernel_size=(2, 4), stride=(3, 3), padding=(1, 2), dilation=(3, 1), ceil_mode=True),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("cfg", MAX, ids=str)
def test_max_pool2d_parity(cfg, dtype):
    x = np.random.default_rng(0).standard_normal((2, 3, 11, 10))
    _check(nn.MaxPool2d(**cfg), torch.nn.MaxPool2d(**cfg), x, dtype)


AVG = [
    dict(kernel_size=2),
    dict(kernel_size=3, stride=2, padding=1),
    dict(kernel_size=3, stride=2, padding=1, count_include_pad=False),
    dict(kernel_size=(3, 2), stride=(2, 3), ceil_mode=True),
    dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
    dict(kernel_size=2, stride=3, padding=1, ceil_mode=True),
    dict(kernel_size=3, stride=1, padding=1, divisor_override=4),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("cfg", AVG, ids=str)
def test_avg_pool2d_parity(cfg, dtype):
    x = np.random.default_rng(0).standard_normal((2, 3, 11, 10))
    _check(nn.AvgPool2d(**cfg), torch.nn.AvgPool2d(**cfg), x, dtype)


@pytest.mark.parametrize("size", [1, (1, 1), 3, (4, 3), (None, 2), (11, 13), (15, 4)], ids=str)
def test_adaptive_avg_pool2d_parity(size):
    x = np.random.default_rng(0).standard_normal((2, 3, 11, 10))
    for dtype in (np.float64, np.float32):
        _check(nn.AdaptiveAvgPool2d(size), torch.nn.AdaptiveAvgPool2d(size), x, dtype)


def test_1d_pooling_parity():
    x = np.random.default_rng(0).standard_normal((2, 3, 17))
    for cfg in (dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)):
        _check(nn.MaxPool1d(**cfg), torch.nn.MaxPool1d(**cfg), x)
        _check(nn.AvgPool1d(**cfg), torch.nn.AvgPool1d(**cfg), x)
    _check(nn.MaxPool1d(3, 2, dilation=2), torch.nn.MaxPool1d(3, 2, dilation=2), x)
    _check(
        nn.AvgPool1d(4, 3, 2, count_include_pad=False),
        torch.nn.AvgPool1d(4, 3, 2, count_include_pad=False),
        x,
    )
    _check(nn.AdaptiveAvgPool1d(5), torch.nn.AdaptiveAvgPool1d(5), x)


def test_unbatched_pooling_parity():
    x = np.random.default_rng(0).standard_normal((3, 9, 8))
    _check(nn.MaxPool2d(2), torch.nn.MaxPool2d(2), x)
    _check(nn.AvgPool2d(3, 2, 1), torch.nn.AvgPool2d(3, 2, 1), x)
    _check(nn.AdaptiveAvgPool2d(2), torch.nn.AdaptiveAvgPool2d(2), x)
    _check(nn.MaxPool1d(2), torch.nn.MaxPool1d(2), x[0])


def test_output_sizes_match_pytorch_over_a_grid():
    """ceil_mode's rule (a last window must start inside the input or the left padding) over
    many sizes, kernels, strides and paddings."""
    rng = np.random.default_rng(0)
    for n, k, s, p, ceil in itertools.product(range(3, 10), (2, 3), (1, 2, 3), (0, 1), (0, 1)):
        if p > k // 2:
            continue
        x = rng.standard_normal((1, 1, n, n + 1))
        for B, T, kw in (
            (nn.MaxPool2d, torch.nn.MaxPool2d, {}),
            (nn.AvgPool2d, torch.nn.AvgPool2d, {}),  # checks every window's divisor too
            (nn.AvgPool2d, torch.nn.AvgPool2d, {"count_include_pad": False}),
        ):
            t_out = T(k, s, p, ceil_mode=bool(ceil), **kw)(torch.tensor(x))
            b_out = B(k, s, p, ceil_mode=bool(ceil), **kw)(bp.tensor(x))
            assert b_out.shape == tuple(t_out.shape), (n, k, s, p, ceil)
            np.testing.assert_allclose(b_out.data, t_out.numpy(), rtol=1e-12, atol=1e-14)


def test_max_pool_ties_send_gradient_to_first_element():
    x = bp.tensor(np.ones((1, 1, 2, 2)), requires_grad=True)
    nn.functional.max_pool2d(x, 2).sum().backward()
    np.testing.assert_array_equal(x.grad.data[0, 0], [[1.0, 0.0], [0.0, 0.0]])
    # Overlapping windows with ties: each window picks its first maximum, gradients add up.
    rng = np.random.default_rng(0)
    for cfg in (dict(kernel_size=2), dict(kernel_size=3, stride=1), dict(kernel_size=3, stride=2,
                                                                         padding=1)):  # fmt: skip
        x = rng.integers(0, 2, (2, 3, 8, 7)).astype(np.float64)
        _check(nn.MaxPool2d(**cfg), torch.nn.MaxPool2d(**cfg), x)


def test_max_pool_nan_matches_pytorch():
    x = np.array([[[[1.0, np.nan, 2.0, 0.0], [np.nan, 0.5, 3.0, 1.0]]]])
    bx, tx = bp.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    by, ty = nn.functional.max_pool2d(bx, 2), torch.nn.functional.max_pool2d(tx, 2)
    np.testing.assert_array_equal(by.data, ty.detach().numpy())
    by.sum().backward()
    ty.sum().backward()
    np.testing.assert_array_equal(bx.grad.data, tx.grad.numpy())


def test_max_pool_infinite_gradient_goes_to_one_element():
    x = np.random.default_rng(0).standard_normal((1, 2, 4, 4))
    g = np.ones((1, 2, 2, 2))
    g[0, 1, 0, 1] = np.inf
    bx, tx = bp.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    nn.functional.max_pool2d(bx, 2).backward(bp.tensor(g))
    torch.nn.functional.max_pool2d(tx, 2).backward(torch.tensor(g))
    np.testing.assert_array_equal(bx.grad.data, tx.grad.numpy())


@pytest.mark.parametrize("cfg", MAX, ids=str)
def test_return_indices_match_pytorch(cfg):
    rng = np.random.default_rng(1)
    for x in (rng.standard_normal((2, 3, 11, 10)), rng.integers(0, 2, (2, 3, 11, 10)) * 1.0):
        by, bi = nn.MaxPool2d(**cfg, return_indices=True)(bp.tensor(x))
        ty, ti = torch.nn.MaxPool2d(**cfg, return_indices=True)(torch.tensor(x))
        np.testing.assert_array_equal(by.data, ty.numpy())
        np.testing.assert_array_equal(bi.data, ti.numpy())
        assert bi.dtype == np.int64
    x = rng.standard_normal((2, 3, 13))
    by, bi = nn.functional.max_pool1d(bp.tensor(x), 3, 2, 1, return_indices=True)
    ty, ti = torch.nn.functional.max_pool1d(torch.tensor(x), 3, 2, 1, return_indices=True)
    np.testing.assert_array_equal(bi.data, ti.numpy())


def test_fast_path_on_conv_output_layout():
    """The 2x2 pool on a conv output (a transposed view) and its gradient back through the conv."""
    torch.manual_seed(0)
    t = torch.nn.Sequential(torch.nn.Conv2d(2, 4, 3), torch.nn.MaxPool2d(2)).double()
    b = nn.Sequential(nn.Conv2d(2, 4, 3), nn.MaxPool2d(2)).double()
    b.load_state_dict({k: v.detach().numpy() for k, v in t.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((3, 2, 10, 11))
    _check(b, t, x)


def test_gradcheck_random_directions():
    rng = np.random.default_rng(0)
    x = bp.tensor(rng.permutation(2 * 3 * 12 * 11).reshape(2, 3, 12, 11) / 10.0, requires_grad=True)
    assert bp.gradcheck(
        lambda t: nn.functional.max_pool2d(t, 3, 2, 1, ceil_mode=True), x, mode="random"
    )
    assert bp.gradcheck(
        lambda t: nn.functional.avg_pool2d(t, 3, 2, 1, ceil_mode=True, count_include_pad=False),
        x,
        mode="random",
    )
    assert bp.gradcheck(lambda t: nn.functional.adaptive_avg_pool2d(t, (5, 4)), x, mode="random")


def test_float32_stays_float32():
    x = bp.randn(2, 3, 8, 8, requires_grad=True)
    for m in (nn.MaxPool2d(3, 2, 1), nn.AvgPool2d(3, 2, 1, count_include_pad=False),
              nn.AdaptiveAvgPool2d(3)):  # fmt: skip
        y = m(x)
        assert y.dtype == np.float32
        x.grad = None
        y.sum().backward()
        assert x.grad.dtype == np.float32


def test_repr_matches_pytorch():
    for b, t in [
        (nn.MaxPool2d(2), torch.nn.MaxPool2d(2)),
        (nn.MaxPool2d(3, 2, 1, ceil_mode=True), torch.nn.MaxPool2d(3, 2, 1, ceil_mode=True)),
        (nn.AvgPool2d(2), torch.nn.AvgPool2d(2)),
        (nn.AdaptiveAvgPool2d((1, 1)), torch.nn.AdaptiveAvgPool2d((1, 1))),
        (nn.MaxPool1d(2), torch.nn.MaxPool1d(2)),
    ]:
        assert repr(b) == repr(t)


def test_invalid_configurations_raise():
    x = bp.zeros(2, 3, 4, 4)
    with pytest.raises(ValueError, match=r"MaxPool2d: kernel of size 5 .* larger .*\(2, 3, 4, 4\)"):
        nn.MaxPool2d(5)(x)
    with pytest.raises(ValueError, match="AvgPool2d: kernel of size 7"):
        nn.AvgPool2d(7, padding=1)(x)
    with pytest.raises(ValueError, match="MaxPool2d: padding 2 should be at most half"):
        nn.MaxPool2d(3, padding=2)(x)
    with pytest.raises(ValueError, match="AvgPool2d: padding 2 should be at most half"):
        nn.AvgPool2d(3, padding=2)(x)
    with pytest.raises(ValueError, match=r"MaxPool2d: expected a 4-D input .*\(4, 4\)"):
        nn.MaxPool2d(2)(bp.zeros(4, 4))
    with pytest.raises(ValueError, match=r"MaxPool1d: expected a 3-D input"):
        nn.MaxPool1d(2)(x)
    with pytest.raises(ValueError, match="stride must be >= 1"):
        nn.functional.max_pool2d(x, 2, stride=0)
    with pytest.raises(ValueError, match="AdaptiveAvgPool2d: output_size must be positive"):
        nn.AdaptiveAvgPool2d(0)(x)
    with pytest.raises(ValueError, match="output_size must have 2 entries"):
        nn.functional.adaptive_avg_pool2d(x, (1, 2, 3))
    with pytest.raises(ValueError, match="divisor_override"):
        nn.functional.avg_pool2d(x, 2, divisor_override=0)
    with pytest.raises(TypeError):  # torch refuses 1-D integer max pooling (without indices)
        nn.functional.max_pool1d(bp.zeros(1, 1, 4, dtype=bp.int64), 2)
    with pytest.raises(TypeError):  # and integer average pooling but for int64
        nn.functional.avg_pool2d(bp.zeros(1, 1, 4, 4, dtype=bp.int32), 2)
