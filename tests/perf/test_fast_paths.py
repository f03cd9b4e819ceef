"""The speed work's own safety net: the fast paths (conv2d's
row-split input gradient, the tiled max-pool backward, layout-keeping activations) against
PyTorch in the cases a fast path treats specially: retained graphs, frozen weights, ties, NaN and
inf, floor-mode leftovers, mixed memory layouts."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import backprop as bp
from backprop import nn
from backprop.autograd.function import Context
from backprop.nn import functional as F


def test_context_empty_like_keeps_memory_order():
    ctx = Context(np, (True,))
    x = np.empty((5, 16, 16, 8), np.float32).transpose(3, 0, 1, 2)  # NCHW over CHWN memory
    y = ctx.empty_like(x, (8, 5, 3, 7))
    assert y.shape == (8, 5, 3, 7)
    assert y.transpose(1, 2, 3, 0).flags.c_contiguous
    g = np.ones((8, 5, 16, 16), np.float32)
    m = ctx.match_layout(g, x)
    assert m.transpose(1, 2, 3, 0).flags.c_contiguous and (m == 1).all()
    assert ctx.match_layout(x, x) is x
    small = np.ones((8, 5, 2, 2), np.float32)  # not worth a copy
    assert ctx.match_layout(small, x[:, :, :2, :2]) is small


# ----------------------------------------------------------------------------- parity helpers


def _conv_case(x, w, b, padding, stride=1, dilation=1, groups=1, retain=False, freeze_w=False):
    """Compare conv2d (bp vs torch, float64) output and gradients, optionally with the graph
    retained (two backward passes accumulate) or the weight frozen."""
    bx = bp.tensor(x, requires_grad=True)
    bw = bp.tensor(w, requires_grad=not freeze_w)
    bb = bp.tensor(b, requires_grad=True)
    tx = torch.tensor(x, requires_grad=True)
    tw = torch.tensor(w, requires_grad=not freeze_w)
    tb = torch.tensor(b, requires_grad=True)
    yb = F.conv2d(bx, bw, bb, stride=stride, padding=padding, dilation=dilation, groups=groups)
    yt = torch.nn.functional.conv2d(
        tx, tw, tb, stride=stride, padding=padding, dilation=dilation, groups=groups
    )
    np.testing.assert_allclose(yb.data, yt.detach().numpy(), rtol=1e-10, atol=1e-10)
    g = np.random.default_rng(5).standard_normal(yb.shape)
    for _ in range(2 if retain else 1):
        yb.backward(g, retain_graph=retain)
        yt.backward(torch.tensor(g), retain_graph=retain)
    pairs = [(bx, tx), (bb, tb)] + ([] if freeze_w else [(bw, tw)])
    for pb, pt in pairs:
        np.testing.assert_allclose(pb.grad.data, pt.grad.numpy(), rtol=1e-9, atol=1e-9)


CONV_CASES = [
    # (N, C, H, W, O, KH, KW, padding), stride 1: the row-split input gradient where the input
    # is at most 1.25x wider than the output, col2im beyond (the last two and the 7x7 'valid')
    (4, 3, 9, 8, 5, 5, 5, 2),
    (2, 2, 12, 12, 3, 3, 3, 0),
    (2, 2, 7, 7, 3, 3, 3, 0),
    (2, 2, 6, 9, 3, 2, 4, "same"),  # even kernel: asymmetric padding
    (2, 3, 5, 6, 2, 3, 2, (4, 3)),  # padding larger than the kernel
    (3, 4, 6, 6, 5, 1, 1, 0),  # 1x1: cols is a view of x
    (2, 2, 4, 4, 3, 4, 4, 0),  # kernel = input: one output pixel
]


@pytest.mark.filterwarnings("ignore:Using padding='same':UserWarning")
@pytest.mark.parametrize("case", CONV_CASES)
@pytest.mark.parametrize("mode", ["plain", "retain", "frozen_weight"])
def test_conv2d_stride_one_input_gradient_matches_torch(case, mode):
    N, C, H, W, O, KH, KW, padding = case
    rng = np.random.default_rng(0)
    x = rng.standard_normal((N, C, H, W))
    w = rng.standard_normal((O, C, KH, KW))
    b = rng.standard_normal(O)
    _conv_case(x, w, b, padding, retain=mode == "retain", freeze_w=mode == "frozen_weight")


@pytest.mark.parametrize(
    "stride, dilation, groups", [((2, 1), 1, 1), (1, (2, 1), 1), (1, 1, 2), (2, 2, 2)]
)
@pytest.mark.parametrize("retain", [False, True])
def test_conv2d_col2im_path_matches_torch(stride, dilation, groups, retain):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3, 4, 9, 8))
    w = rng.standard_normal((6, 4 // groups, 3, 3))
    b = rng.standard_normal(6)
    _conv_case(x, w, b, 1, stride, dilation, groups, retain=retain)


def test_conv2d_input_gradient_from_an_nchw_gradient():
    # gy in plain NCHW memory (not the op's own layout), as a user-supplied gradient is.
    rng = np.random.default_rng(2)
    x = rng.standard_normal((3, 2, 6, 6))
    conv = nn.Conv2d(2, 4, 3, padding=1, dtype=np.float64)
    tconv = torch.nn.Conv2d(2, 4, 3, padding=1).double()
    with torch.no_grad():
        tconv.weight.copy_(torch.from_numpy(conv.weight.data))
        tconv.bias.copy_(torch.from_numpy(conv.bias.data))
    g = np.ascontiguousarray(rng.standard_normal((3, 4, 6, 6)))
    bx, tx = bp.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    conv(bx).backward(g)
    tconv(tx).backward(torch.from_numpy(g))
    np.testing.assert_allclose(bx.grad.data, tx.grad.numpy(), rtol=1e-10, atol=1e-10)


def test_conv1d_uses_the_same_paths():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((3, 2, 11))
    w = rng.standard_normal((4, 2, 3))
    bx, bw = bp.tensor(x, requires_grad=True), bp.tensor(w, requires_grad=True)
    tx, tw = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    F.conv1d(bx, bw, padding=1).sum().backward()
    torch.nn.functional.conv1d(tx, tw, padding=1).sum().backward()
    np.testing.assert_allclose(bx.grad.data, tx.grad.numpy(), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(bw.grad.data, tw.grad.numpy(), rtol=1e-10, atol=1e-10)


# ----------------------------------------------------------------------------- tiled max-pool


def _pool_case(x, g, kernel=2, stride=None, layout="nchw"):
    """Compare max_pool2d (bp vs torch) output and input gradient for x, g (float64)."""
    bx_data = x
    if layout == "chwn":  # the memory order a conv output has
        bx_data = np.ascontiguousarray(x.transpose(1, 2, 3, 0)).transpose(3, 0, 1, 2)
    bx = bp.tensor(bx_data, requires_grad=True)
    tx = torch.tensor(x, requires_grad=True)
    yb = F.max_pool2d(bx, kernel, stride)
    yt = torch.nn.functional.max_pool2d(tx, kernel, stride)
    np.testing.assert_array_equal(yb.data, yt.detach().numpy())
    yb.backward(g)
    yt.backward(torch.tensor(g))
    np.testing.assert_array_equal(bx.grad.data, tx.grad.numpy())


@pytest.mark.parametrize("layout", ["nchw", "chwn"])
@pytest.mark.parametrize("shape, kernel", [((3, 2, 8, 8), 2), ((2, 3, 9, 7), 2),
                                           ((2, 2, 9, 9), 3), ((2, 2, 6, 8), (2, 4))])  # fmt: skip
def test_tiled_max_pool_ties_and_leftovers_match_torch(shape, kernel, layout):
    rng = np.random.default_rng(0)
    # ReLU-like input: many zeros, so whole windows tie and the first tap must win.
    x = np.maximum(rng.integers(-3, 3, shape), 0).astype(np.float64)
    y_shape = torch.nn.functional.max_pool2d(torch.tensor(x), kernel).shape
    g = rng.standard_normal(tuple(y_shape))
    _pool_case(x, g, kernel, layout=layout)


def test_tiled_max_pool_nan_and_inf():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 2, 6, 6))
    x[0, 0, 1, 1] = np.nan  # one NaN in a window: the gradient goes to it
    x[0, 1, 2:4, 2:4] = np.nan  # a window of NaNs: to the last one, as torch does
    x[1, 0, 0, 0] = np.inf
    g = rng.standard_normal((2, 2, 3, 3))
    _pool_case(x, g)
    g[1, 1, 2, 2] = np.inf  # a non-finite incoming gradient must not leak NaN elsewhere
    g[0, 0, 0, 0] = np.nan
    _pool_case(x, g)


def test_max_pool_gradient_of_an_nchw_gradient_over_chwn_input():
    # LeNet's second pool: input from a conv (CHWN memory), gradient from Flatten (NCHW).
    rng = np.random.default_rng(2)
    x = rng.standard_normal((64, 5, 8, 8))
    g = rng.standard_normal((64, 5, 4, 4))
    _pool_case(x, g, layout="chwn")


# ----------------------------------------------------------------------------- activations


def test_relu_keeps_the_input_memory_order_and_matches_torch():
    rng = np.random.default_rng(0)
    base = rng.standard_normal((5, 6, 7, 4))
    x = bp.tensor(base.transpose(3, 0, 1, 2), requires_grad=True)  # (4, 5, 6, 7) over CHWN
    y = F.relu(x)
    assert y.data.transpose(1, 2, 3, 0).flags.c_contiguous
    g = np.ascontiguousarray(rng.standard_normal(y.shape))  # NCHW gradient
    y.backward(g)
    tx = torch.tensor(np.ascontiguousarray(x.data), requires_grad=True)
    torch.relu(tx).backward(torch.tensor(g))
    np.testing.assert_array_equal(y.data, torch.relu(tx).detach().numpy())
    np.testing.assert_array_equal(x.grad.data, tx.grad.numpy())


def test_relu_of_scalars_and_small_arrays():
    x = bp.tensor(np.float32(-2.0), requires_grad=True)
    y = F.relu(x)
    y.backward()
    assert y.item() == 0.0 and x.grad.item() == 0.0
    z = bp.tensor([-1.0, 0.0, 2.0], requires_grad=True)
    F.relu(z).sum().backward()
    np.testing.assert_array_equal(z.grad.data, [0.0, 0.0, 1.0])


@pytest.mark.parametrize("groups", [1, 2])
def test_conv2d_chunked_forward_without_weight_gradient(monkeypatch, groups):
    # With no weight gradient to come, the forward unfolds a few samples at a time; force tiny
    # chunks (and a ragged last one) and check inference and a frozen-weight backward.
    import backprop.ops.conv as conv_ops

    monkeypatch.setattr(conv_ops, "_CHUNK_BYTES", 3000)
    rng = np.random.default_rng(4)
    x = rng.standard_normal((7, 4, 6, 5))
    w = rng.standard_normal((6, 4 // groups, 3, 3))
    b = rng.standard_normal(6)
    with bp.no_grad():
        yb = F.conv2d(bp.tensor(x), bp.tensor(w), bp.tensor(b), padding=1, groups=groups)
    yt = torch.nn.functional.conv2d(
        torch.tensor(x), torch.tensor(w), torch.tensor(b), padding=1, groups=groups
    )
    np.testing.assert_allclose(yb.data, yt.numpy(), rtol=1e-10, atol=1e-10)
    _conv_case(x, w, b, 1, groups=groups, freeze_w=True)
