"""Issue 17's layers against torch: transposed and 3-D convolution, Upsample, 3-D pooling,
unpooling, EmbeddingBag and the padding layers (same weights, outputs and every gradient)."""

import numpy as np
import pytest
import torch
from _nn_parity import TOL, compare_layer, copy_into_torch, module_gradcheck

import backprop as bp

rng = np.random.default_rng(0)

CASES = [
    ("convT1d", lambda lib: lib.nn.ConvTranspose1d(3, 4, 3, stride=2, padding=1), (2, 3, 5)),
    ("convT2d", lambda lib: lib.nn.ConvTranspose2d(4, 6, (3, 2), stride=(2, 1), padding=1,
                                                   output_padding=(1, 0), groups=2), (2, 4, 4, 3)),
    ("convT2d_dil", lambda lib: lib.nn.ConvTranspose2d(2, 3, 2, dilation=2, bias=False),
     (1, 2, 3, 4)),
    ("convT3d", lambda lib: lib.nn.ConvTranspose3d(2, 3, 2, stride=2), (1, 2, 2, 3, 2)),
    ("convT2d_unbatched", lambda lib: lib.nn.ConvTranspose2d(3, 2, 3), (3, 4, 4)),
    ("conv3d", lambda lib: lib.nn.Conv3d(2, 4, 3, padding=1), (2, 2, 4, 4, 3)),
    ("conv3d_strided", lambda lib: lib.nn.Conv3d(4, 2, (2, 3, 2), stride=2, groups=2),
     (1, 4, 5, 6, 5)),
    ("conv3d_reflect", lambda lib: lib.nn.Conv3d(2, 2, 3, padding=1, padding_mode="reflect"),
     (1, 2, 3, 4, 4)),
    ("conv3d_circular", lambda lib: lib.nn.Conv3d(2, 2, 3, padding=1, padding_mode="circular"),
     (1, 2, 3, 4, 4)),
    ("upsample_nearest", lambda lib: lib.nn.Upsample(scale_factor=2), (2, 3, 3, 4)),
    ("upsample_bilinear", lambda lib: lib.nn.Upsample(size=(5, 7), mode="bilinear"),
     (1, 2, 3, 4)),
    ("upsample_trilinear", lambda lib: lib.nn.Upsample(scale_factor=1.5, mode="trilinear",
                                                       align_corners=True), (1, 2, 2, 3, 2)),
    ("upsampling_bilinear2d", lambda lib: lib.nn.UpsamplingBilinear2d(scale_factor=2),
     (1, 2, 3, 3)),
    ("upsampling_nearest2d", lambda lib: lib.nn.UpsamplingNearest2d(size=5), (1, 2, 3, 3)),
    ("maxpool3d", lambda lib: lib.nn.MaxPool3d(2, stride=1, padding=1), (2, 2, 3, 4, 3)),
    ("avgpool3d", lambda lib: lib.nn.AvgPool3d(3, stride=2, padding=1, count_include_pad=False),
     (1, 2, 5, 4, 5)),
    ("reflectpad1d", lambda lib: lib.nn.ReflectionPad1d((2, 1)), (2, 3, 5)),
    ("reflectpad2d", lambda lib: lib.nn.ReflectionPad2d(2), (1, 2, 4, 5)),
    ("reflectpad3d", lambda lib: lib.nn.ReflectionPad3d((1, 0, 1, 2, 0, 1)), (1, 1, 3, 4, 3)),
    ("replpad2d", lambda lib: lib.nn.ReplicationPad2d((3, 0, -1, 2)), (2, 2, 4, 3)),
    ("replpad3d", lambda lib: lib.nn.ReplicationPad3d(2), (1, 1, 2, 3, 2)),
    ("circpad1d", lambda lib: lib.nn.CircularPad1d(3), (2, 2, 4)),
    ("circpad2d", lambda lib: lib.nn.CircularPad2d((1, 2, 0, 1)), (1, 2, 3, 4)),
    ("constpad2d", lambda lib: lib.nn.ConstantPad2d((1, -1, 2, 0), 3.5), (2, 2, 3, 4)),
    ("zeropad3d", lambda lib: lib.nn.ZeroPad3d(1), (1, 1, 2, 2, 2)),
]  # fmt: skip


def _distinct(shape):
    return rng.permutation(int(np.prod(shape))).reshape(shape) / 5.0 - 1.0


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("name,make,shape", CASES, ids=[c[0] for c in CASES])
def test_layer_matches_torch(name, make, shape, dtype):
    bp.manual_seed(0)
    compare_layer(make(bp), make(torch), _distinct(shape), dtype)


@pytest.mark.parametrize(
    "name,make,shape", [c for c in CASES if c[0] in ("convT2d", "conv3d_strided")],
    ids=["convT2d", "conv3d_strided"],
)  # fmt: skip
def test_layer_gradcheck(name, make, shape):
    assert module_gradcheck(make(bp), rng.standard_normal(shape), atol=1e-5, rtol=1e-3)


def test_conv_transpose_output_size():
    bm, tm = (
        bp.nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1),
        torch.nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1),
    )
    copy_into_torch(bm, tm)
    x = rng.standard_normal((1, 2, 4, 4)).astype(np.float32)
    yb = bm(bp.tensor(x), output_size=(8, 8))
    yt = tm(torch.tensor(x), output_size=(8, 8))
    assert yb.shape == (1, 3, 8, 8) == tuple(yt.shape)
    np.testing.assert_allclose(yb.data, yt.detach().numpy(), rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="output size"):
        bm(bp.tensor(x), output_size=(10, 10))


def test_conv_transpose_init_matches_torch_bounds():
    m = bp.nn.ConvTranspose2d(4, 6, 3, groups=2)
    assert m.weight.shape == (4, 3, 3, 3)
    bound = 1 / np.sqrt(3 * 9)
    assert np.abs(m.weight.data).max() <= bound and np.abs(m.bias.data).max() <= bound


@pytest.mark.parametrize("nd", [1, 2, 3])
def test_max_unpool_inverts_max_pool(nd):
    shape = (2, 3) + (4,) * nd
    x = _distinct(shape)
    bpool = getattr(bp.nn, f"MaxPool{nd}d")(2, return_indices=True)
    tpool = getattr(torch.nn, f"MaxPool{nd}d")(2, return_indices=True)
    bun, tun = getattr(bp.nn, f"MaxUnpool{nd}d")(2), getattr(torch.nn, f"MaxUnpool{nd}d")(2)
    xb, xt = bp.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    yb, ib = bpool(xb)
    yt, it = tpool(xt)
    np.testing.assert_array_equal(ib.data, it.numpy())
    ub, ut = bun(yb, ib), tun(yt, it)
    np.testing.assert_allclose(ub.data, ut.detach().numpy())
    u = rng.standard_normal(ub.shape)
    (ub * bp.tensor(u)).sum().backward()
    (ut * torch.tensor(u)).sum().backward()
    np.testing.assert_allclose(xb.grad.data, xt.grad.numpy())


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize(
    "kw,inputs",
    [
        ({"mode": "sum"}, (np.array([[1, 2, 0], [4, 4, 3]]),)),
        ({"mode": "mean", "padding_idx": 0}, (np.array([1, 0, 4, 5, 0, 3, 2]),
                                               np.array([0, 2, 2, 5]))),
        ({"mode": "max", "include_last_offset": True}, (np.array([1, 2, 4, 5, 4, 3]),
                                                         np.array([0, 1, 4, 6]))),
    ],
    ids=["sum2d", "mean_offsets_pad", "max_last_offset"],
)  # fmt: skip
def test_embedding_bag_matches_torch(kw, inputs, dtype):
    bm, tm = bp.nn.EmbeddingBag(6, 3, **kw), torch.nn.EmbeddingBag(6, 3, **kw)
    bm.to(dtype)
    tm.to({np.float64: torch.float64, np.float32: torch.float32}[dtype])
    copy_into_torch(bm, tm)
    yb = bm(*[bp.tensor(a) for a in inputs])
    yt = tm(*[torch.tensor(a) for a in inputs])
    rtol, atol = TOL[dtype]
    np.testing.assert_allclose(yb.data, yt.detach().numpy(), rtol=rtol, atol=atol)
    u = rng.standard_normal(yb.shape).astype(dtype)
    (yb * bp.tensor(u)).sum().backward()
    (yt * torch.tensor(u)).sum().backward()
    np.testing.assert_allclose(bm.weight.grad.data, tm.weight.grad.numpy(), rtol=rtol, atol=atol)


def test_embedding_bag_per_sample_weights():
    bm, tm = bp.nn.EmbeddingBag(5, 2, mode="sum"), torch.nn.EmbeddingBag(5, 2, mode="sum")
    bm.double(), tm.double()
    copy_into_torch(bm, tm)
    idx, off, w = np.array([0, 3, 3, 1]), np.array([0, 1]), rng.standard_normal(4)
    wb, wt = bp.tensor(w, requires_grad=True), torch.tensor(w, requires_grad=True)
    yb = bm(bp.tensor(idx), bp.tensor(off), per_sample_weights=wb)
    yt = tm(torch.tensor(idx), torch.tensor(off), per_sample_weights=wt)
    np.testing.assert_allclose(yb.data, yt.detach().numpy())
    yb.sum().backward()
    yt.sum().backward()
    np.testing.assert_allclose(wb.grad.data, wt.grad.numpy())
    np.testing.assert_allclose(bm.weight.grad.data, tm.weight.grad.numpy())


@pytest.mark.parametrize(
    "f,dtype,kw",
    [
        ("max_pool2d", np.int64, {"kernel_size": 2}),
        ("max_pool3d", np.uint8, {"kernel_size": 2, "padding": 1}),
        ("avg_pool3d", np.int64, {"kernel_size": 3, "stride": 2, "padding": 1}),
    ],
)
def test_integer_pooling_through_the_nd_helpers(f, dtype, kw):
    from backprop.functional.pool3d import avg_pool_nd, max_pool_nd

    nd = int(f[-2])
    x = rng.integers(0 if dtype == np.uint8 else -40, 40, (2, 2) + (5,) * nd).astype(dtype)
    helper = max_pool_nd if f.startswith("max") else avg_pool_nd
    yb = helper(f, nd, bp.tensor(x), **kw)
    yt = getattr(torch.nn.functional, f)(torch.tensor(x), **kw)
    assert str(yb.dtype) == str(yt.dtype).removeprefix("torch.")
    np.testing.assert_array_equal(yb.data, yt.numpy())


def test_integer_avg_pool_refuses_int32_as_torch():
    with pytest.raises(TypeError, match="not implemented"):
        bp.nn.functional.avg_pool3d(bp.tensor(np.zeros((1, 1, 2, 2, 2), np.int32)), 2)


def test_pad_errors_name_the_op():
    x = bp.zeros(1, 2, 3)
    with pytest.raises(ValueError, match="reflect padding"):
        bp.nn.functional.pad(x, (3, 0), mode="reflect")
    with pytest.raises(ValueError, match="value"):
        bp.nn.functional.pad(x, (1, 0), mode="replicate", value=1.0)
    with pytest.raises(ValueError, match="padded dims"):
        bp.nn.functional.pad(bp.zeros(3), (1, 1), mode="circular")
