"""``pixel_shuffle`` / ``pixel_unshuffle`` (Shi et al.'s sub-pixel convolution): moving channel
blocks into space and back, as reshapes and a permutation (so the gradient is exact)."""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor

__all__ = ["pixel_shuffle", "pixel_unshuffle"]


def _factor(op: str, r) -> int:
    if isinstance(r, bool) or not isinstance(r, (int, np.integer)) or r < 1:
        raise ValueError(f"{op}: the factor must be a positive int, got {r!r}")
    return int(r)


def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:
    """(*, C * r^2, H, W) -> (*, C, H * r, W * r)."""
    op = "pixel_shuffle"
    r = _factor(op, upscale_factor)
    if not isinstance(input, Tensor) or input.ndim < 3:
        raise ValueError(f"{op}: expected an input of at least 3 dimensions (*, C, H, W)")
    *lead, c, h, w = input.shape
    if c % (r * r):
        raise ValueError(
            f"{op}: the channels ({c}) must be divisible by the square of upscale_factor ({r * r})"
        )
    n = len(lead)
    x = input.reshape(*lead, c // (r * r), r, r, h, w)
    x = x.permute(*range(n), n, n + 3, n + 1, n + 4, n + 2)
    return x.reshape(*lead, c // (r * r), h * r, w * r)


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:
    """(*, C, H * r, W * r) -> (*, C * r^2, H, W): the inverse of :func:`pixel_shuffle`."""
    op = "pixel_unshuffle"
    r = _factor(op, downscale_factor)
    if not isinstance(input, Tensor) or input.ndim < 3:
        raise ValueError(f"{op}: expected an input of at least 3 dimensions (*, C, H, W)")
    *lead, c, h, w = input.shape
    if h % r or w % r:
        raise ValueError(f"{op}: height {h} and width {w} must be divisible by {r}")
    n = len(lead)
    x = input.reshape(*lead, c, h // r, r, w // r, r)
    x = x.permute(*range(n), n, n + 2, n + 4, n + 1, n + 3)
    return x.reshape(*lead, c * r * r, h // r, w // r)
