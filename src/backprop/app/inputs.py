"""Decoding ``backprop predict``'s inputs: ``.npy`` arrays and images, to float32 batches.

Every reader refuses what it cannot read safely with a :class:`~backprop.app.errors.UsageError`
naming the file: a ``.npy`` header is checked against the file size before anything is allocated,
and a pickled ``.npy`` is never loaded. An array must hold finite real numbers: floats, or integers
(pixel values, divided by the dataset's maximum); NaN, infinities, complex numbers, booleans,
dates, strings, records and empty arrays are refused with the reason. Images are read with
matplotlib (Pillow for JPEG), converted to the model's channels, resized (with a warning when the
size differs from the model's input), and inverted when they are dark-on-light (MNIST and the
digits are white-on-black).

Example:
    >>> x, names = read_input(Path("digit.png"), (1, 8, 8), info, invert="auto")
    >>> x.shape
    (1, 1, 8, 8)
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Callable
from pathlib import Path
from tokenize import TokenError

import numpy as np
from numpy.lib import format as npy

from .errors import UsageError

__all__ = ["read_input", "load_npy", "read_image", "resize"]


def _warn_stderr(message: str) -> None:
    print(f"backprop: warning: {message}", file=sys.stderr, flush=True)


def read_input(
    path: Path, shape: tuple, info: dict, invert: str,
    warn: Callable[[str], None] | None = None,
):  # fmt: skip
    """One input file -> (batch of float32 inputs in the dataset's [0, 1] scale, names).

    Args:
        warn: called with a message for what is used but may not be what was meant (an image
            of another size than the model's input); default: a line on stderr.

    Raises:
        UsageError: the file is missing or unreadable, not a plain array or image, holds
            values that are not finite real numbers, or has a shape the model does not take.
    """
    warn = warn or _warn_stderr
    if not path.exists():
        raise UsageError(f"no such input file: {path}")
    if not path.is_file():
        raise UsageError(f"{path}: not a file (give .npy arrays or images)")
    if path.suffix.lower() == ".npy":
        a = _real_values(path, load_npy(path), info, warn)
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
    return read_image(path, shape, invert, warn)[None], [str(path)]


# dtype kinds refused, with the reason: only real numbers (floats, integer pixels) are inputs.
_NOT_NUMBERS = {
    "b": "booleans",
    "c": "complex numbers",
    "M": "dates",
    "m": "time spans",
    "U": "strings",
    "S": "byte strings",
    "V": "records (a structured dtype)",
    "O": "Python objects",
}


def _real_values(path: Path, a: np.ndarray, info: dict, warn) -> np.ndarray:
    """``a`` as float32 in the dataset's scale, after checking that it holds finite real
    numbers (integers are pixel values: divided by the dataset's maximum)."""
    kind = a.dtype.kind
    if kind in _NOT_NUMBERS:
        raise UsageError(
            f"{path}: holds {_NOT_NUMBERS[kind]} (dtype {a.dtype}); the model takes real "
            f"numbers (floats in the dataset's [0, 1] scale, or integer pixel values)"
        )
    if a.size == 0:
        raise UsageError(f"{path}: an empty array of shape {a.shape}; there is nothing to predict")
    if kind in "iu":
        raw_max = info.get("raw_max")
        lo, hi = int(a.min()), int(a.max())
        if raw_max and (lo < 0 or hi > raw_max):
            warn(
                f"{path}: integer values from {lo} to {hi}, outside the pixel range "
                f"[0, {raw_max:g}] the model was trained on"
            )
        return a.astype(np.float32) / np.float32(raw_max or 255)
    bad = ~np.isfinite(a)
    if bad.any():
        first = tuple(int(i) for i in np.argwhere(bad)[0])
        raise UsageError(
            f"{path}: {int(bad.sum()):,} of its {a.size:,} values are NaN or infinite (the "
            f"first at index {first}: {a[first]}); the model takes finite numbers"
        )
    largest = float(np.finfo(np.float32).max)
    if a.dtype.itemsize > 4 and float(np.abs(a).max()) > largest:
        raise UsageError(
            f"{path}: values up to {float(np.abs(a).max()):.3g} overflow float32 (largest "
            f"{largest:.3g}); the model takes float32 inputs"
        )
    return a.astype(np.float32, copy=False)


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
    except OSError as e:  # permissions, a file removed meanwhile, an I/O error
        raise UsageError(f"{path}: cannot read: {e.strerror or e}") from None


def read_image(path: Path, shape: tuple, invert: str, warn: Callable[[str], None] | None = None):
    """A PNG/JPEG -> float32 (C, H, W) in [0, 1], resized by area averaging / interpolation,
    white-on-black like MNIST and the digits (inverted when the picture is dark-on-light).

    ``warn`` (default: a line on stderr) is told when the image's size differs from the
    model's input: a 28x28 MNIST digit given to the 8x8 digits model is resized, and a model
    reads shapes at another scale than its training data's poorly."""
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
    if img.ndim not in (2, 3) or img.size == 0:
        raise UsageError(f"{path}: an image of shape {img.shape}; expected (H, W) or (H, W, C)")
    if img.shape[:2] != (h, w):
        (warn or _warn_stderr)(
            f"{path}: a {img.shape[1]}x{img.shape[0]} image, resized to the model's {w}x{h} "
            f"input; the model was trained on {w}x{h} images, so expect poorer predictions for "
            f"a picture drawn at another size"
        )
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
