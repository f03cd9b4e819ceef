"""Pictures of what a network learned: convolution filters as an image grid (the lectures'
"AlexNet's filters")."""

from __future__ import annotations

import math
import os

import numpy as np

from ..tensor import Tensor
from ._figure import new_figure, save_png

__all__ = ["filter_grid", "plot_filters"]


def filter_grid(
    weight, ncols: int | None = None, pad: int = 1, normalize: str = "each"
) -> np.ndarray:
    """Tile conv filters into one image.

    Args:
        weight: ``(out_channels, in_channels, kh, kw)`` (a Parameter, Tensor or array). Filters
            with 3 input channels become RGB tiles; with another number of channels each tile
            shows the filter's mean over its input channels.
        ncols: tiles per row (default: about square).
        pad: pixels between tiles (filled with the background, white).
        normalize: ``"each"`` stretches every filter to [0, 1] on its own (shows its pattern),
            ``"all"`` uses one scale for all (shows their relative strength).

    Returns:
        float array in [0, 1]: ``(H, W)`` grey or ``(H, W, 3)`` RGB.
    """
    w = np.asarray(weight.data if isinstance(weight, Tensor) else weight, dtype=np.float64)
    if w.ndim != 4:
        raise ValueError(f"filter_grid: expected (out, in, kh, kw) filters, got shape {w.shape}")
    if normalize not in ("each", "all"):
        raise ValueError(f"filter_grid: normalize must be 'each' or 'all', got {normalize!r}")
    n, c, kh, kw = w.shape
    tiles = w.transpose(0, 2, 3, 1) if c == 3 else w.mean(axis=1)[..., None]
    axes = tuple(range(1, tiles.ndim))
    if normalize == "each":
        lo = tiles.min(axis=axes, keepdims=True)
        hi = tiles.max(axis=axes, keepdims=True)
    else:
        lo, hi = tiles.min(), tiles.max()
    tiles = (tiles - lo) / np.maximum(hi - lo, 1e-12)
    ncols = ncols or math.ceil(math.sqrt(n))
    nrows = math.ceil(n / ncols)
    depth = tiles.shape[-1]
    grid = np.ones((nrows * (kh + pad) + pad, ncols * (kw + pad) + pad, depth))
    for i in range(n):
        r, q = divmod(i, ncols)
        y, x = pad + r * (kh + pad), pad + q * (kw + pad)
        grid[y : y + kh, x : x + kw] = tiles[i]
    return grid[..., 0] if depth == 1 else grid


def plot_filters(
    weight,
    path: str | os.PathLike | None = None,
    ax=None,
    ncols: int | None = None,
    title: str | None = None,
    cmap: str = "gray",
    normalize: str = "each",
):
    """Draw conv filters as a grid (:func:`filter_grid`) with matplotlib.

    Args:
        weight: ``(out_channels, in_channels, kh, kw)`` filters, e.g. ``model.conv1.weight``.
        path: save the figure there (PNG by extension) when given.
        ax: draw into this Axes instead of a new figure.
        ncols: tiles per row.
        title: the axes title.
        cmap: colour map for single-channel filters.
        normalize: ``"each"`` or ``"all"`` (see :func:`filter_grid`).

    Returns:
        the matplotlib Figure (of ``ax`` when given).
    """
    grid = filter_grid(weight, ncols=ncols, normalize=normalize)
    if ax is None:
        h, w = grid.shape[:2]
        scale = 6.0 / max(h, w)
        fig = new_figure((max(2.0, w * scale), max(2.0, h * scale) + (0.4 if title else 0)))
        ax = fig.add_subplot(1, 1, 1)
    else:
        fig = ax.figure
    ax.imshow(grid, cmap=None if grid.ndim == 3 else cmap, interpolation="nearest", vmin=0, vmax=1)
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    if path is not None:
        save_png(fig, path)
    return fig
