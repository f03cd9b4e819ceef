"""GroupNorm, RMSNorm, PixelShuffle/Unshuffle, AdaptiveMaxPool: torch parity and gradcheck."""

import numpy as np
import pytest
import torch
from _nn_parity import compare_layer, module_gradcheck

import backprop as bp

rng = np.random.default_rng(0)


def _with_random_affine(b_mod):
    with bp.no_grad():
        for p in b_mod.parameters():
            p.copy_(bp.tensor(rng.normal(size=p.shape).astype(p.dtype)))
    return b_mod


CASES = [
    ("groupnorm", lambda lib: lib.nn.GroupNorm(2, 6), (3, 6, 4, 5)),
    ("groupnorm_1d", lambda lib: lib.nn.GroupNorm(3, 6, affine=False), (4, 6, 7)),
    ("groupnorm_flat", lambda lib: lib.nn.GroupNorm(1, 4, eps=1e-3), (5, 4)),
    ("rmsnorm", lambda lib: lib.nn.RMSNorm(8), (2, 3, 8)),
    ("rmsnorm_2d_eps", lambda lib: lib.nn.RMSNorm((3, 4), eps=1e-6), (5, 3, 4)),
    ("rmsnorm_plain", lambda lib: lib.nn.RMSNorm(4, elementwise_affine=False), (6, 4)),
    ("pixel_shuffle", lambda lib: lib.nn.PixelShuffle(2), (2, 8, 3, 4)),
    ("pixel_unshuffle", lambda lib: lib.nn.PixelUnshuffle(2), (2, 3, 4, 6)),
    ("pixel_shuffle_unbatched", lambda lib: lib.nn.PixelShuffle(3), (9, 2, 2)),
    ("adaptive_max2d", lambda lib: lib.nn.AdaptiveMaxPool2d((3, 2)), (2, 3, 7, 5)),
    ("adaptive_max1d", lambda lib: lib.nn.AdaptiveMaxPool1d(3), (2, 3, 8)),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name,make,shape", CASES, ids=[c[0] for c in CASES])
def test_parity_with_torch(name, make, shape, dtype):
    b_mod = _with_random_affine(make(bp))
    compare_layer(b_mod, make(torch), rng.normal(size=shape), dtype)


@pytest.mark.parametrize("name,make,shape", CASES[:6], ids=[c[0] for c in CASES[:6]])
def test_gradcheck(name, make, shape):
    assert module_gradcheck(_with_random_affine(make(bp)), rng.normal(size=shape))


def test_return_indices_match_torch():
    x = rng.normal(size=(2, 3, 6, 7)).astype(np.float32)
    yb, ib = bp.nn.AdaptiveMaxPool2d((2, 3), return_indices=True)(bp.tensor(x))
    yt, it = torch.nn.AdaptiveMaxPool2d((2, 3), return_indices=True)(torch.tensor(x))
    np.testing.assert_array_equal(ib.numpy(), it.numpy())
    np.testing.assert_array_equal(yb.numpy(), yt.numpy())


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="divisible"):
        bp.nn.GroupNorm(4, 6)
    with pytest.raises(ValueError, match="divisible"):
        bp.nn.PixelShuffle(2)(bp.ones((1, 3, 2, 2)))
    with pytest.raises(ValueError, match="GroupNorm"):
        bp.nn.GroupNorm(2, 4)(bp.ones((2, 6, 3)))


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint8])
def test_integer_pooling_as_torch(dtype):
    a = np.abs(np.random.default_rng(0).integers(-5, 9, size=(2, 3, 6, 6))).astype(dtype)
    F, TF = bp.nn.functional, torch.nn.functional
    yb, yt = F.max_pool2d(bp.tensor(a), 2), TF.max_pool2d(torch.tensor(a), 2)
    assert yb.dtype == a.dtype and np.array_equal(yb.numpy(), yt.numpy())
    if dtype == np.int64:  # torch's only integer dtype for average pooling (truncating)
        yb, yt = F.avg_pool2d(bp.tensor(a), 3, 2), TF.avg_pool2d(torch.tensor(a), 3, 2)
        assert np.array_equal(yb.numpy(), yt.numpy())
