"""Transforms: values, shapes, batch form vs one-sample form, seeding."""

from __future__ import annotations

import numpy as np
import pytest

import backprop
from backprop import Tensor
from backprop.data import Subset, TensorDataset
from backprop.data import transforms as T
from backprop.data.augment import _affine_sample


def _images(n=6, c=2, h=7, w=9, seed=0):
    return np.random.default_rng(seed).random((n, c, h, w), dtype=np.float32)


def test_to_float_matches_torch_to_tensor_bitwise():
    torch = pytest.importorskip("torch")
    x = np.arange(256, dtype=np.uint8).reshape(1, 16, 16)
    ours = T.ToFloat()(x)
    ref = torch.from_numpy(x).float().div(255).numpy()
    assert ours.dtype == np.float32
    np.testing.assert_array_equal(ours, ref)
    assert T.ToFloat(scale=1 / 16)(np.array([16, 8], np.uint8)).tolist() == [1.0, 0.5]
    assert T.ToFloat()(np.array([1.5])).dtype == np.float32


def test_to_tensor_hwc_to_chw():
    x = np.random.default_rng(0).integers(0, 256, (5, 4, 3), dtype=np.uint8)
    t = T.ToTensor()(x)
    assert isinstance(t, Tensor) and t.shape == (3, 5, 4) and t.dtype == np.float32
    np.testing.assert_array_equal(t.data, x.transpose(2, 0, 1) / np.float32(255))
    assert T.ToTensor()(x[..., 0]).shape == (1, 5, 4)
    assert T.ToTensor().apply_batch(np.stack([x, x])).shape == (2, 3, 5, 4)


def test_normalize_per_channel_feature_and_scalar():
    x = _images()
    mean, std = np.array([0.2, 0.7], np.float32), np.array([0.5, 2.0], np.float32)
    out = T.Normalize(mean, std).apply_batch(x)
    np.testing.assert_allclose(out, (x - mean[:, None, None]) / std[:, None, None], rtol=1e-6)
    assert out.dtype == np.float32
    one = T.Normalize(mean, std)(x[0])
    np.testing.assert_allclose(one, out[0], rtol=1e-6)
    v = np.random.default_rng(1).random((4, 3)).astype(np.float32)
    m3, s3 = np.array([1.0, 2.0, 3.0], np.float32), np.array([1.0, 0.5, 0.25], np.float32)
    np.testing.assert_allclose(T.Normalize(m3, s3).apply_batch(v), (v - m3) / s3, rtol=1e-6)
    np.testing.assert_allclose(T.Normalize(0.5, 0.25)(x[0]), (x[0] - 0.5) / 0.25, rtol=1e-6)
    t = T.Normalize(mean, std)(backprop.tensor(x[0]))
    assert isinstance(t, Tensor)
    with pytest.raises(ValueError, match=r"Normalize: statistics of shape \(3,\)"):
        T.Normalize(m3, s3)(x[0])
    with pytest.raises(ValueError, match="std must be positive"):
        T.Normalize([0.0], [0.0])
    with pytest.raises(ValueError, match="differ in shape"):
        T.Normalize([0.0, 1.0], [1.0])


def test_fit_normalize_uses_only_the_data_given():
    x = np.concatenate([np.zeros((50, 1, 2, 2)), np.ones((50, 1, 2, 2))]).astype(np.float32)
    ds = TensorDataset(x, np.zeros(100, np.int64))
    train = Subset(ds, np.arange(60))  # 50 zeros, 10 ones
    norm = T.fit_normalize(train)
    np.testing.assert_allclose(norm.mean, [10 / 60], rtol=1e-6)
    np.testing.assert_allclose(norm.std, [np.sqrt(10 / 60 * 50 / 60)], rtol=1e-6)
    out = norm.apply_batch(x[:60])
    np.testing.assert_allclose([out.mean(), out.std()], [0.0, 1.0], atol=1e-5)
    # per feature: a constant feature gets std 1, not a division by zero
    feats = np.stack([np.arange(10.0), np.full(10, 3.0)], 1).astype(np.float32)
    mean, std = T.compute_mean_std(feats, per="feature")
    np.testing.assert_allclose(mean, [4.5, 3.0])
    np.testing.assert_allclose(std, [np.arange(10.0).std(), 1.0], rtol=1e-6)
    m, s = T.compute_mean_std(feats, per="all")
    assert m.shape == () and s.shape == ()
    with pytest.raises(ValueError, match="per must be"):
        T.compute_mean_std(feats, per="pixel")


def test_one_hot_and_flatten():
    oh = T.OneHot(4)
    np.testing.assert_array_equal(oh(np.int64(2)), [0, 0, 1, 0])
    assert oh(np.int64(2)).dtype == np.float32
    np.testing.assert_array_equal(oh.apply_batch(np.array([3, 0])), [[0, 0, 0, 1], [1, 0, 0, 0]])
    with pytest.raises(ValueError, match=r"OneHot: labels must be in \[0, 4\)"):
        oh(np.int64(4))
    with pytest.raises(TypeError, match="integers"):
        oh(np.float32(1.0))
    x = _images()
    assert T.Flatten()(x[0]).shape == (2 * 7 * 9,)
    np.testing.assert_array_equal(T.Flatten().apply_batch(x), x.reshape(6, -1))


def _windows(padded: np.ndarray, h: int, w: int) -> list[np.ndarray]:
    H, W = padded.shape[-2:]
    return [padded[..., i : i + h, j : j + w] for i in range(H - h + 1) for j in range(W - w + 1)]


def test_random_crop_takes_windows_of_the_padded_image():
    x = _images(n=20)
    crop = T.RandomCrop((5, 6), padding=2)
    out = crop.apply_batch(x)
    assert out.shape == (20, 2, 5, 6) and out.dtype == np.float32
    offsets = set()
    for k in range(20):
        padded = np.pad(x[k], ((0, 0), (2, 2), (2, 2)))
        wins = _windows(padded, 5, 6)
        hits = [i for i, win in enumerate(wins) if np.array_equal(win, out[k])]
        assert hits, "the crop is not a window of the padded image"
        offsets.add(hits[0])
    assert len(offsets) > 5  # per-sample offsets, not one for the whole batch
    assert T.RandomCrop(3)(x[0, 0]).shape == (3, 3)  # (H, W) samples too
    edge = T.RandomCrop(9, padding=1, padding_mode="edge")(x[0])
    assert edge.shape == (2, 9, 9)
    with pytest.raises(ValueError, match="larger than"):
        T.RandomCrop(20)(x[0])
    with pytest.raises(ValueError, match="padding_mode"):
        T.RandomCrop(3, padding_mode="wrap")


@pytest.mark.parametrize(
    "make",
    [
        lambda g: T.RandomCrop(5, padding=2, generator=g),
        lambda g: T.RandomShift(2, generator=g),
        lambda g: T.RandomHorizontalFlip(generator=g),
        lambda g: T.RandomAffine(15, translate=(0.1, 0.1), scale=(0.9, 1.1), generator=g),
    ],
    ids=["crop", "shift", "flip", "affine"],
)
def test_random_transforms_are_seeded(make):
    x = _images(n=8)
    t = make(None)
    backprop.manual_seed(3)
    a = t.apply_batch(x)
    backprop.manual_seed(3)
    np.testing.assert_array_equal(a, t.apply_batch(x))
    assert not np.array_equal(a, t.apply_batch(x))  # the stream moves on
    b = make(np.random.default_rng(5)).apply_batch(x)
    np.testing.assert_array_equal(b, make(np.random.default_rng(5)).apply_batch(x))


def test_random_shift_is_a_zero_filled_translation():
    x = _images(n=30, c=1, h=6, w=6) + 1.0  # no zeros in the image itself
    out = T.RandomShift(2).apply_batch(x)
    seen = set()
    for k in range(30):
        found = None
        for dy in range(-2, 3):
            for dx in range(-2, 3):
                ref = np.zeros_like(x[k])
                src = x[k][:, max(0, -dy) : 6 - max(0, dy), max(0, -dx) : 6 - max(0, dx)]
                ref[:, max(0, dy) : 6 - max(0, -dy), max(0, dx) : 6 - max(0, -dx)] = src
                if np.array_equal(ref, out[k]):
                    found = (dy, dx)
        assert found is not None
        seen.add(found)
    assert len(seen) > 5


def test_random_horizontal_flip():
    x = _images(n=200, c=1, h=2, w=3)
    np.testing.assert_array_equal(T.RandomHorizontalFlip(1.0).apply_batch(x), x[..., ::-1])
    np.testing.assert_array_equal(T.RandomHorizontalFlip(0.0).apply_batch(x), x)
    out = T.RandomHorizontalFlip(0.5).apply_batch(x)
    flipped = np.all(out == x[..., ::-1], axis=(1, 2, 3))
    kept = np.all(out == x, axis=(1, 2, 3))
    assert np.all(flipped | kept) and 60 < flipped.sum() < 140
    with pytest.raises(ValueError, match="p must be"):
        T.RandomHorizontalFlip(1.5)


def test_random_affine_geometry():
    x = np.zeros((1, 5, 5), np.float32)
    x[0, 2, 4] = 1.0  # right of the centre
    np.testing.assert_array_equal(T.RandomAffine(0)(x), x)  # identity is exact
    up = T.RandomAffine(degrees=(90, 90))(x)  # counter-clockwise: right -> top
    np.testing.assert_allclose(up[0, 0, 2], 1.0, atol=1e-6)
    assert abs(up.sum() - 1.0) < 1e-5
    down = T.RandomAffine(degrees=(-90, -90))(x)
    np.testing.assert_allclose(down[0, 4, 2], 1.0, atol=1e-6)
    # a half-pixel shift spreads a pixel over two (bilinear)
    img = np.zeros((1, 1, 4, 4), np.float32)
    img[0, 0, 1, 1] = 1.0
    out = _affine_sample(img, np.zeros(1), np.array([0.5]), np.zeros(1), np.ones(1), 0)
    np.testing.assert_allclose(out[0, 0, 1, 1:3], [0.5, 0.5], atol=1e-6)
    # fill for pixels from outside, scaling keeps shape
    ones = np.ones((3, 1, 8, 8), np.float32)
    shrunk = T.RandomAffine(0, scale=(0.5, 0.5), fill=0.0).apply_batch(ones)
    assert shrunk.shape == ones.shape and shrunk.dtype == np.float32
    assert shrunk[:, :, 0, 0].max() == 0.0 and shrunk[:, :, 4, 4].min() == 1.0
    aug = T.RandomAffine(10, translate=(0.1, 0.1), scale=(0.9, 1.1)).apply_batch(_images(n=4))
    assert aug.shape == (4, 2, 7, 9)
    with pytest.raises(ValueError, match="translate"):
        T.RandomAffine(0, translate=(2.0, 0.0))


def test_compose_lambda_and_tensor_round_trip():
    x = _images(n=3)
    t = T.Compose([T.Flatten(), T.Normalize(0.5, 0.5)])
    assert t.batchable
    np.testing.assert_allclose(t.apply_batch(x), (x.reshape(3, -1) - 0.5) / 0.5, rtol=1e-6)
    np.testing.assert_allclose(t(x[0]), (x[0].reshape(-1) - 0.5) / 0.5, rtol=1e-6)
    out = t(backprop.tensor(x[0]))
    assert isinstance(out, Tensor) and out.shape == (2 * 7 * 9,)
    lam = T.Compose([T.Lambda(lambda a: a + 1), T.Flatten()])
    assert not lam.batchable and not T.is_batchable(lambda a: a)
    assert T.is_batchable(None)
    np.testing.assert_allclose(lam(x[0]), x[0].reshape(-1) + 1)
    with pytest.raises(TypeError, match="batch"):
        lam.apply_batch(x)
    assert "Flatten" in repr(t)
