"""Random augmentation transforms: crops, shifts, flips and small affine warps.

Each works on one image (``t(x)``) or on a stacked batch (``t.apply_batch(xb)``), drawing its own
parameters per sample, from ``generator`` if given, else from ``backprop.random.generator()`` at
call time. Re-exported by :mod:`backprop.data.transforms`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .. import random as _random
from .transforms import Transform

__all__ = ["RandomCrop", "RandomShift", "RandomHorizontalFlip", "RandomAffine"]


def _pair(v, who: str, name: str) -> tuple[int, int]:
    if isinstance(v, (int, np.integer)) and not isinstance(v, bool):
        return int(v), int(v)
    if isinstance(v, Sequence) and len(v) == 2:
        return int(v[0]), int(v[1])
    raise TypeError(f"{who}: {name} must be an int or a pair of ints, got {v!r}")


def _gen(generator) -> np.random.Generator:
    return generator if generator is not None else _random.generator()


def _pad_hw(x: np.ndarray, ph: int, pw: int, fill: float, mode: str) -> np.ndarray:
    if ph == 0 and pw == 0:
        return x
    widths = [(0, 0)] * (x.ndim - 2) + [(ph, ph), (pw, pw)]
    if mode == "constant":
        return np.pad(x, widths, mode="constant", constant_values=fill)
    return np.pad(x, widths, mode=mode)


def _crop_at(x: np.ndarray, top: np.ndarray, left: np.ndarray, h: int, w: int) -> np.ndarray:
    """Crop ``(h, w)`` windows at per-sample offsets from a ``(N, ..., H, W)`` batch."""
    n = x.shape[0]
    flat = x.reshape(n, -1, x.shape[-2], x.shape[-1])  # (N, M, H, W)
    win = np.lib.stride_tricks.sliding_window_view(flat, (h, w), axis=(2, 3))
    # win: (N, M, H-h+1, W-w+1, h, w); advanced indices split by a slice go first: (N, M, h, w)
    out = win[np.arange(n), :, top, left]
    return out.reshape(x.shape[:-2] + (h, w))


_PAD_MODES = ("constant", "edge", "reflect", "symmetric")


class RandomCrop(Transform):
    """Crop a random ``size`` window from an image padded by ``padding`` on each side.

    Works on the last two dimensions (``(C, H, W)`` or ``(H, W)`` samples). With ``size`` equal
    to the image size and ``padding=4`` this is the classic CIFAR-10 augmentation.

    Args:
        size: the output ``(h, w)``, or an int for a square.
        padding: pixels added on every side before cropping.
        fill: the value of constant padding.
        padding_mode: ``"constant"``, ``"edge"``, ``"reflect"`` or ``"symmetric"``.
        generator: a ``numpy.random.Generator`` (default: ``backprop.random.generator()``).
    """

    def __init__(
        self,
        size,
        padding=0,
        fill: float = 0.0,
        padding_mode: str = "constant",
        generator: np.random.Generator | None = None,
    ) -> None:
        self.size = _pair(size, "RandomCrop", "size")
        self.padding = _pair(padding, "RandomCrop", "padding")
        if min(self.size) < 1 or min(self.padding) < 0:
            raise ValueError(f"RandomCrop: bad size {size} or padding {padding}")
        if padding_mode not in _PAD_MODES:
            raise ValueError(f"RandomCrop: padding_mode must be one of {_PAD_MODES}")
        self.fill = fill
        self.padding_mode = padding_mode
        self.generator = generator

    def _apply(self, x):
        if x.ndim < 3:
            raise ValueError(f"RandomCrop: expected (H, W) or (C, H, W) images, got {x.shape[1:]}")
        x = _pad_hw(x, *self.padding, self.fill, self.padding_mode)
        (h, w), (hp, wp) = self.size, x.shape[-2:]
        if h > hp or w > wp:
            raise ValueError(f"RandomCrop: crop {self.size} is larger than padded image {(hp, wp)}")
        gen = _gen(self.generator)
        top = gen.integers(0, hp - h + 1, size=x.shape[0])
        left = gen.integers(0, wp - w + 1, size=x.shape[0])
        return _crop_at(x, top, left, h, w)

    def __repr__(self) -> str:
        return f"RandomCrop(size={self.size}, padding={self.padding})"


class RandomShift(Transform):
    """Translate an image by a random whole number of pixels in ``[-max_shift, max_shift]`` along
    each axis, filling with ``fill``: light augmentation for digits (same size out).

    Args:
        max_shift: the largest shift in pixels.
        fill: the value of the uncovered pixels (the background, 0 for MNIST).
        generator: a ``numpy.random.Generator`` (default: ``backprop.random.generator()``).
    """

    def __init__(
        self, max_shift: int = 2, fill: float = 0.0, generator: np.random.Generator | None = None
    ) -> None:
        if max_shift < 0:
            raise ValueError(f"RandomShift: max_shift must be >= 0, got {max_shift}")
        self.max_shift = int(max_shift)
        self.fill = fill
        self.generator = generator

    def _apply(self, x):
        if x.ndim < 3:
            raise ValueError(f"RandomShift: expected (H, W) or (C, H, W) images, got {x.shape[1:]}")
        s = self.max_shift
        h, w = x.shape[-2:]
        padded = _pad_hw(x, s, s, self.fill, "constant")
        gen = _gen(self.generator)
        top = gen.integers(0, 2 * s + 1, size=x.shape[0])
        left = gen.integers(0, 2 * s + 1, size=x.shape[0])
        return _crop_at(padded, top, left, h, w)

    def __repr__(self) -> str:
        return f"RandomShift(max_shift={self.max_shift})"


class RandomHorizontalFlip(Transform):
    """Mirror an image left-right (its last axis) with probability ``p``."""

    def __init__(self, p: float = 0.5, generator: np.random.Generator | None = None) -> None:
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"RandomHorizontalFlip: p must be in [0, 1], got {p}")
        self.p = p
        self.generator = generator

    def _apply(self, x):
        flip = _gen(self.generator).random(x.shape[0]) < self.p
        out = x.copy()
        out[flip] = x[flip][..., ::-1]
        return out

    def __repr__(self) -> str:
        return f"RandomHorizontalFlip(p={self.p})"


def _range(v, who: str, name: str, centre: float) -> tuple[float, float]:
    """A (lo, hi) range from a number d (meaning centre -+ d) or a pair."""
    if isinstance(v, (int, float, np.number)):
        if v < 0:
            raise ValueError(f"{who}: {name} must be non-negative, got {v}")
        return centre - float(v), centre + float(v)
    lo, hi = (float(a) for a in v)
    if lo > hi:
        raise ValueError(f"{who}: {name} range {v} has min > max")
    return lo, hi


class RandomAffine(Transform):
    """Random rotation, translation and scaling about the image centre (bilinear, fill outside).

    For digit augmentation, e.g. ``RandomAffine(degrees=10, translate=(0.1, 0.1),
    scale=(0.9, 1.1))``. Positive angles turn the image counter-clockwise as displayed (row 0 at
    the top), as in torchvision.

    Args:
        degrees: the angle range: ``d`` for ``[-d, d]``, or ``(min, max)``.
        translate: ``(a, b)``: the largest horizontal shift as a fraction of the width, and the
            largest vertical shift as a fraction of the height; None for no shift.
        scale: ``(min, max)`` zoom factors; None for none.
        fill: the value of pixels that come from outside the image.
        generator: a ``numpy.random.Generator`` (default: ``backprop.random.generator()``).
    """

    def __init__(
        self,
        degrees=0.0,
        translate: tuple[float, float] | None = None,
        scale: tuple[float, float] | None = None,
        fill: float = 0.0,
        generator: np.random.Generator | None = None,
    ) -> None:
        self.degrees = _range(degrees, "RandomAffine", "degrees", 0.0)
        if translate is not None:
            if len(translate) != 2 or not all(0.0 <= t <= 1.0 for t in translate):
                raise ValueError(f"RandomAffine: translate must be two fractions, got {translate}")
            translate = (float(translate[0]), float(translate[1]))
        if scale is not None:
            scale = _range(scale, "RandomAffine", "scale", 1.0)
            if scale[0] <= 0:
                raise ValueError(f"RandomAffine: scale must be positive, got {scale}")
        self.translate = translate
        self.scale = scale
        self.fill = fill
        self.generator = generator

    def _apply(self, x):
        if x.ndim < 3:
            raise ValueError(
                f"RandomAffine: expected (H, W) or (C, H, W) images, got {x.shape[1:]}"
            )
        n, (h, w) = x.shape[0], x.shape[-2:]
        gen = _gen(self.generator)
        angle = np.deg2rad(gen.uniform(*self.degrees, size=n))
        if self.translate is not None:
            tx = gen.uniform(-1.0, 1.0, size=n) * self.translate[0] * w
            ty = gen.uniform(-1.0, 1.0, size=n) * self.translate[1] * h
        else:
            tx = ty = np.zeros(n)
        s = gen.uniform(*self.scale, size=n) if self.scale is not None else np.ones(n)
        return _affine_sample(x, angle, tx, ty, s, self.fill)

    def __repr__(self) -> str:
        return (
            f"RandomAffine(degrees={self.degrees}, translate={self.translate}, scale={self.scale})"
        )


def _affine_sample(x, angle, tx, ty, s, fill) -> np.ndarray:
    """Bilinear resampling of a ``(N, ..., H, W)`` batch under per-sample rotations/shifts/zooms.

    The forward map about the centre c is ``p' = s R(angle) (p - c) + c + t``; every output pixel
    p' takes its value at ``p = R(-angle) (p' - c - t) / s + c`` in the input.
    """
    n, (h, w) = x.shape[0], x.shape[-2:]
    dtype = x.dtype if x.dtype.kind == "f" else np.dtype(np.float32)
    m = int(np.prod(x.shape[1:-2], dtype=np.int64))
    # A one-pixel border of `fill` around each image: coordinates clipped into it read `fill`,
    # so no per-corner bounds masks are needed. Channels last: one gather fetches all of them.
    padded = np.full((n, h + 2, w + 2, m), fill, dtype=dtype)
    padded[:, 1:-1, 1:-1] = x.reshape(n, m, h, w).transpose(0, 2, 3, 1)
    table = padded.reshape(-1, m)  # (N * (H+2) * (W+2), M)
    f32 = np.float32
    cy, cx = f32((h - 1) / 2), f32((w - 1) / 2)
    yo = (np.arange(h, dtype=f32) - cy)[None, :, None]  # (1, H, 1)
    xo = (np.arange(w, dtype=f32) - cx)[None, None, :]  # (1, 1, W)
    cos = (np.cos(angle) / s).astype(f32)[:, None, None]
    sin = (np.sin(angle) / s).astype(f32)[:, None, None]
    dx = xo - tx.astype(f32)[:, None, None]
    dy = yo - ty.astype(f32)[:, None, None]
    # Inverse rotation in display coordinates (y down), +1 for the border: (N, H, W).
    xs = cos * dx - sin * dy + (cx + 1)
    ys = sin * dx + cos * dy + (cy + 1)
    # Snap near-integers so that the identity map copies pixels exactly.
    for a in (xs, ys):
        r = np.rint(a)
        np.copyto(a, r, where=np.abs(a - r) < 1e-4)
    np.clip(xs, 0, w + 1, out=xs)
    np.clip(ys, 0, h + 1, out=ys)
    x0 = np.minimum(xs.astype(np.int64), w)  # floor (coordinates are >= 0); x0 + 1 <= W + 1
    y0 = np.minimum(ys.astype(np.int64), h)
    fx = (xs - x0).astype(dtype)[..., None]
    fy = (ys - y0).astype(dtype)[..., None]
    row = w + 2
    base = (np.arange(n)[:, None, None] * (h + 2) + y0) * row + x0  # (N, H, W) flat indices
    top = table[base] * (1 - fx) + table[base + 1] * fx
    bottom = table[base + row] * (1 - fx) + table[base + row + 1] * fx
    out = top * (1 - fy) + bottom * fy  # (N, H, W, M)
    return np.ascontiguousarray(out.transpose(0, 3, 1, 2)).reshape(x.shape[:-2] + (h, w))
