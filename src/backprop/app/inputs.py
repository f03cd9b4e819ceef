"""Decoding ``backprop predict``'s inputs: ``.npy`` arrays and images, to float32 batches.

Every reader refuses what it cannot read safely with a :class:`~backprop.app.errors.UsageError`
naming the file: a ``.npy`` header is checked against the file size before anything is allocated,
and a pickled ``.npy`` is never loaded. Images are read with matplotlib (Pillow for JPEG),
converted to the model's channels, resized, and inverted when they are dark-on-light (MNIST and
the digits are white-on-black).

Example:
    >>> x, names = read_input(Path("digit.png"), (1, 8, 8), info, invert="auto")
    >>> x.shape
    (1, 1, 8, 8)
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from tokenize import TokenError

import numpy as np
from numpy.lib import format as npy

from .errors import UsageError

__all__ = ["read_input", "load_npy", "read_image", "resize"]


def read_input(path: Path, shape: tuple, info: dict, invert: str):
    """One input file -> (batch of float32 inputs in the dataset's [0, 1] scale, names)."""
    if not path.is_file():
        raise UsageError(f"no such input file: {path}")
    if path.suffix.lower() == ".npy":
        a = load_npy(path)
        if a.dtype.kind in "iu":
            a = a.astype(np.float32) / np.float32(info.get("raw_max") or 255)
        a = a.astype(np.float32, copy=False)
        if a.shape == shape:
            return a[None], [str(path)]
        if a.ndim == len(shape) + 1 and a.shape[1:] == shape:
            return a, [f"{path}[{i}]" for i in range(len(a))]
        if len(shape) == 3 and shape[0] == 1 and a.shape[-2:] == shape[1:] and a.ndim in (2, 3):
            a = a.reshape(-1, *shape)
            return a, ([str(path)] if len(a) == 1 else [f"{path}[{i}]" for i in range(len(a))])
        raise UsageError(
            f"{path}: array of shape {a.shape}; the model takes {shape} (or a batch (N, *{shape}))"
        )
    if len(shape) != 3:
        raise UsageError(f"{path}: this model takes arrays of shape {shape}; give a .npy file")
    return read_image(path, shape, invert)[None], [str(path)]


def load_npy(path: Path):
    """A plain .npy array, its header checked against the file size before anything is
    allocated (``np.load`` would allocate whatever the header claims), and never unpickled."""
    try:
        with open(path, "rb") as f:
            version = npy.read_magic(f)
            if version not in ((1, 0), (2, 0), (3, 0)):
                raise ValueError(f"unsupported .npy version {version}")
            read_header = npy.read_array_header_1_0 if version == (1, 0) else (
                npy.read_array_header_2_0
            )  # fmt: skip
            shape, fortran, dtype = read_header(f)
            if dtype.hasobject:
                raise ValueError("it holds Python objects (a pickle), which are never loaded")
            expected = math.prod(shape) * dtype.itemsize
            actual = os.fstat(f.fileno()).st_size - f.tell()
            if actual != expected:
                raise ValueError(
                    f"the header says shape {shape} of {dtype} ({expected:,} bytes) but the file "
                    f"holds {actual:,} bytes of data"
                )
        return np.load(path, allow_pickle=False)
    except (ValueError, EOFError, SyntaxError, TypeError, OverflowError, TokenError) as e:
        # (NumPy's header parser raises TokenError or SyntaxError on some corrupted headers.)
        raise UsageError(f"{path}: not a plain .npy array ({e})") from None


def read_image(path: Path, shape: tuple, invert: str):
    """A PNG/JPEG -> float32 (C, H, W) in [0, 1], resized by area averaging / interpolation,
    white-on-black like MNIST and the digits (inverted when the picture is dark-on-light)."""
    try:
        import matplotlib.image as mpimg
    except ImportError:
        raise UsageError("reading images needs matplotlib (pip install matplotlib)") from None
    try:
        img = np.asarray(mpimg.imread(path), dtype=np.float32)
    except Exception as e:  # matplotlib/Pillow raise many kinds for a bad file
        raise UsageError(f"{path}: cannot read the image ({e})") from None
    if img.dtype.kind != "f" or img.max() > 1.0:
        img = img / 255.0
    if img.ndim == 3:
        if img.shape[2] == 4:  # composite transparency onto white
            img = img[..., :3] * img[..., 3:] + (1.0 - img[..., 3:])
        img = img[..., :3]
    c, h, w = shape
    if c == 1:
        img = img @ np.array([0.299, 0.587, 0.114], np.float32) if img.ndim == 3 else img
        img = img[..., None]
    elif img.ndim == 2:
        img = np.repeat(img[..., None], c, axis=2)
    img = resize(img, h, w)
    if invert == "yes" or (invert == "auto" and c == 1 and _border_mean(img) > 0.5):
        img = 1.0 - img
    return np.clip(img.transpose(2, 0, 1), 0.0, 1.0).astype(np.float32)


def _border_mean(img) -> float:
    return float(
        np.concatenate(
            [img[0].ravel(), img[-1].ravel(), img[:, 0].ravel(), img[:, -1].ravel()]
        ).mean()
    )


def resize(img, h: int, w: int):
    """Resize (H, W, C) by bilinear interpolation at pixel centres, after a box blur when
    shrinking a lot (so that thin strokes are averaged, not skipped)."""
    H, W = img.shape[:2]
    if (H, W) == (h, w):
        return img
    fy, fx = max(1, H // h), max(1, W // w)
    if fy > 1 or fx > 1:
        Hc, Wc = (H // fy) * fy, (W // fx) * fx
        img = img[:Hc, :Wc].reshape(Hc // fy, fy, Wc // fx, fx, -1).mean(axis=(1, 3))
        H, W = img.shape[:2]
    ys = np.clip((np.arange(h) + 0.5) * H / h - 0.5, 0, H - 1)
    xs = np.clip((np.arange(w) + 0.5) * W / w - 0.5, 0, W - 1)
    y0, x0 = np.floor(ys).astype(int), np.floor(xs).astype(int)
    y1, x1 = np.minimum(y0 + 1, H - 1), np.minimum(x0 + 1, W - 1)
    wy, wx = (ys - y0)[:, None, None], (xs - x0)[None, :, None]
    top = img[y0][:, x0] * (1 - wx) + img[y0][:, x1] * wx
    bottom = img[y1][:, x0] * (1 - wx) + img[y1][:, x1] * wx
    return (top * (1 - wy) + bottom * wy).astype(np.float32)
