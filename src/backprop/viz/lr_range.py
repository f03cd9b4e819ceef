"""The learning-rate range test as a picture: loss against learning rate, from
:func:`backprop.train.lr_find`."""

from __future__ import annotations

import os

import numpy as np

from ._figure import new_figure, save_png

__all__ = ["plot_lr_find"]


def plot_lr_find(result, path: str | os.PathLike | None = None, title: str | None = None, ax=None):
    """Draw the loss of an ``lr_find`` sweep against the learning rate (log scale).

    The raw batch losses are drawn faintly, the smoothed loss in full, with the suggested
    learning rate (the steepest descent) and the smoothed loss's minimum marked.

    Args:
        result: an :class:`~backprop.train.LRFindResult`.
        path: write a PNG there (None: only return the figure).
        title: the title (default "learning-rate range test").
        ax: draw into this matplotlib Axes instead of a new figure.

    Returns:
        the matplotlib ``Figure``.
    """
    lrs = np.asarray(getattr(result, "lrs", ()), dtype=float)
    losses = np.asarray(getattr(result, "losses", ()), dtype=float)
    if lrs.size == 0 or lrs.shape != losses.shape:
        raise ValueError(
            "plot_lr_find: expected the result of backprop.train.lr_find with at least one step "
            f"(lrs and losses of one length), got {type(result).__name__} with {lrs.size} lrs"
        )
    if ax is None:
        fig = new_figure((7.0, 4.4))
        ax = fig.subplots()
    else:
        fig = ax.figure
    raw = np.asarray(getattr(result, "raw_losses", ()), dtype=float)
    if raw.shape == lrs.shape:
        ax.plot(lrs, raw, color="C0", alpha=0.25, lw=1, label="batch loss")
    ax.plot(lrs, losses, color="C0", lw=1.8, label="smoothed loss")
    best = int(np.argmin(losses))
    ax.plot(lrs[best], losses[best], "v", color="C3", ms=7, label=f"minimum (lr {lrs[best]:.2g})")
    suggestion = getattr(result, "suggestion", None)
    if suggestion is not None:
        i = int(np.argmin(np.abs(np.log(lrs) - np.log(suggestion))))
        ax.plot(lrs[i], losses[i], "o", color="C2", ms=7, label=f"suggestion (lr {suggestion:.2g})")
    ax.set_xscale("log")
    # Keep the picture on the interesting part: the explosion at the end would flatten the rest.
    top = max(losses[0], losses[: best + 1].max()) * 1.25
    bottom = losses.min()
    if raw.shape == lrs.shape and np.isfinite(raw[: best + 1]).any():
        bottom = min(bottom, np.nanmin(raw[: best + 1]))  # the batch losses up to the minimum
    low = bottom - 0.05 * abs(top - bottom)
    if np.isfinite(top) and top > low:
        ax.set_ylim(low, top)
    ax.set(xlabel="learning rate", ylabel="loss", title=title or "learning-rate range test")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8, frameon=False)
    if path is not None:
        save_png(fig, path)
    return fig
