"""The gradient flow over training: one line per layer, from what
:class:`~backprop.train.GradientStats` logged into History."""

from __future__ import annotations

import os

import numpy as np

from ._figure import new_figure, save_png

__all__ = ["plot_gradient_stats"]

_STATS = {
    "grad_norm": ("gradient norm per layer", "‖dL/dθ‖ (mean over the epoch's batches)", True),
    "grad_abs_mean": ("mean |gradient| per layer", "mean |dL/dθ|", True),
    "dead_relu": ("dead ReLUs per layer", "dead units (%)", False),
}


def plot_gradient_stats(
    history,
    path: str | os.PathLike | None = None,
    title: str | None = None,
    stat: str = "grad_norm",
    ax=None,
):
    """Draw one statistic of :class:`~backprop.train.GradientStats` per layer over the epochs.

    One line per layer, coloured from the input side (dark) to the output side (light), on a log
    scale for gradients (vanishing gradients show as lines orders of magnitude apart, the first
    layers at the bottom), in percent for dead ReLUs.

    Args:
        history: a :class:`~backprop.train.History` or its ``.history`` dict.
        path: write a PNG there (None: only return the figure).
        title: the title (default: the statistic's name).
        stat: ``"grad_norm"``, ``"grad_abs_mean"`` or ``"dead_relu"``.
        ax: draw into this matplotlib Axes instead of a new figure.

    Returns:
        the matplotlib ``Figure``.
    """
    if stat not in _STATS:
        raise ValueError(
            f"plot_gradient_stats: stat must be one of {', '.join(map(repr, _STATS))}, got {stat!r}"
        )
    h = history.history if hasattr(history, "history") else dict(history)
    prefix = stat + "/"
    keys = [k for k in h if k.startswith(prefix)]
    if not keys:
        raise ValueError(
            f"plot_gradient_stats: no {prefix!r} values in the history (train with "
            f"callbacks=[backprop.train.GradientStats()]); keys: {', '.join(h) or 'none'}"
        )
    name, ylabel, log = _STATS[stat]
    if ax is None:
        fig = new_figure((7.5, 4.6))
        ax = fig.subplots()
    else:
        fig = ax.figure
    from matplotlib import colormaps

    cmap = colormaps["viridis"]
    for i, key in enumerate(keys):
        y = np.asarray(h[key], dtype=float) * (1.0 if log else 100.0)
        x = np.arange(1, len(y) + 1)
        color = cmap(0.9 * i / max(len(keys) - 1, 1))
        ax.plot(x, y, "o-", ms=3, lw=1.5, color=color, label=key[len(prefix) :])
    if log:
        values = np.concatenate([np.asarray(h[k], float) for k in keys])
        if np.any(np.isfinite(values) & (values > 0)):
            ax.set_yscale("log")
    else:
        ax.set_ylim(-2, 102)
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set(xlabel="epoch", ylabel=ylabel, title=title or name)
    ax.grid(True, alpha=0.3)
    ax.legend(
        title="layer (input first)",
        fontsize=8,
        title_fontsize=8,
        frameon=False,
        loc="center left",
        bbox_to_anchor=(1.0, 0.5),
        ncol=1 if len(keys) <= 14 else 2,
    )
    if path is not None:
        save_png(fig, path)
    return fig
