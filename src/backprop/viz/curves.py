"""Learning curves: training vs validation loss and metric per epoch, learning rate alongside."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

import numpy as np

from ._figure import new_figure, save_png

__all__ = ["plot_history"]

_NOT_METRICS = ("loss", "lr", "grad_norm")
# GradientStats' per-layer keys ("grad_norm/fc1"...), drawn by plot_gradient_stats instead.
_GRADIENT_STATS = ("grad_norm/", "grad_abs_mean/", "dead_relu/")


def _pick_metric(h: Mapping[str, Sequence[float]], metric: str | None) -> str | None:
    if metric is not None:
        if metric not in h:
            raise ValueError(f"plot_history: no metric {metric!r} in the history ({', '.join(h)})")
        return metric
    for k in h:
        if not k.startswith(("val_", *_GRADIENT_STATS)) and k not in _NOT_METRICS:
            return k
    return None


def _best(values: np.ndarray, higher: bool) -> int | None:
    finite = np.where(np.isfinite(values))[0]
    if finite.size == 0:
        return None
    sub = values[finite]
    return int(finite[np.argmax(sub) if higher else np.argmin(sub)])


def _curve(ax, epochs, h, key, label_metric, percent):
    scale = 100.0 if percent else 1.0
    styles = ((key, "training", "C0", "o"), (f"val_{key}", "validation", "C1", "s"))
    for name, label, color, marker in styles:
        if name in h:
            y = np.asarray(h[name], dtype=float) * scale
            ax.plot(
                epochs,
                y,
                color=color,
                marker=marker,
                markersize=3.5,
                linewidth=1.6,
                label=f"{label} {label_metric}",
            )
    ax.set_xlabel("epoch")
    ax.grid(True, alpha=0.3)
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def _plain_log_labels(ax) -> None:
    """Log-scale tick labels as plain numbers (0.05, not 5 x 10^-2), at 1, 2 and 5 only."""
    from matplotlib.ticker import FuncFormatter

    def fmt(v, _pos):
        if v <= 0:
            return ""
        lead = round(v / 10 ** np.floor(np.log10(v)), 6)
        return f"{v:g}" if lead in (1.0, 2.0, 5.0) else ""

    ax.yaxis.set_major_formatter(FuncFormatter(fmt))
    ax.yaxis.set_minor_formatter(FuncFormatter(fmt))


def _legend_below(ax, handles, labels) -> None:
    # Below the axes, where it can never hide a curve.
    ax.legend(
        handles,
        labels,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.16),
        ncol=2,
        fontsize=9,
        frameon=False,
    )


def plot_history(
    history,
    path: str | os.PathLike | None = None,
    title: str | None = None,
    metric: str | None = None,
):
    """Draw the learning curves of a run.

    Left: training and validation loss per epoch (log scale when it spans more than a decade and
    a half), with the learning rate on a second axis when it changed. Right: the first metric
    (e.g. accuracy, in percent) for training and validation. The best validation epoch is marked.

    Args:
        history: a :class:`~backprop.train.callbacks.History` or its ``.history`` dict.
        path: write a PNG there (None: only return the figure).
        title: a title above both panels.
        metric: the metric of the right panel (default: the first one in the history).

    Returns:
        the matplotlib ``Figure``.
    """
    h = history.history if hasattr(history, "history") else dict(history)
    if "loss" not in h or not len(h["loss"]):
        raise ValueError("plot_history: the history has no 'loss' values")
    n = len(h["loss"])
    epochs = np.arange(1, n + 1)
    metric = _pick_metric(h, metric)
    fig = new_figure((11.0, 4.8) if metric else (6.5, 4.8))
    axes = fig.subplots(1, 2 if metric else 1, squeeze=False)[0]

    ax = axes[0]
    _curve(ax, epochs, h, "loss", "loss", False)
    losses = np.concatenate([np.asarray(h[k], float) for k in ("loss", "val_loss") if k in h])
    losses = losses[np.isfinite(losses) & (losses > 0)]
    if losses.size and losses.max() / losses.min() > 30:
        ax.set_yscale("log")
        _plain_log_labels(ax)
    ax.set_ylabel("loss")
    ax.set_title("loss")
    if "val_loss" in h:
        b = _best(np.asarray(h["val_loss"], float), higher=False)
        if b is not None:
            ax.axvline(
                b + 1,
                color="C1",
                linestyle=":",
                linewidth=1.2,
                label=f"lowest validation loss (epoch {b + 1})",
            )
    handles, labels = ax.get_legend_handles_labels()
    lr = np.asarray(h.get("lr", []), dtype=float)
    if lr.size and np.isfinite(lr).all() and (lr.max() - lr.min()) > 1e-12 * max(lr.max(), 1e-30):
        ax2 = ax.twinx()
        ax2.step(epochs, lr, where="mid", color="0.45", linestyle="--", linewidth=1.2)
        ax2.set_yscale("log")
        levels = np.unique(lr)
        if len(levels) <= 6:  # a step schedule: label exactly the rates used
            from matplotlib.ticker import NullLocator

            ax2.set_yticks(levels, [f"{v:g}" for v in levels])
            ax2.yaxis.set_minor_locator(NullLocator())
        else:
            _plain_log_labels(ax2)
        ax2.set_ylabel("learning rate", color="0.35")
        ax2.tick_params(axis="y", which="both", colors="0.35")
        from matplotlib.lines import Line2D

        handles.append(Line2D([], [], color="0.45", linestyle="--"))
        labels.append("learning rate (right axis)")
    _legend_below(ax, handles, labels)

    if metric:
        ax = axes[1]
        values = np.asarray(h[metric], float)
        percent = "acc" in metric and np.nanmax(np.abs(values)) <= 1.0
        _curve(ax, epochs, h, metric, metric.replace("_", " "), percent)
        ax.set_ylabel(f"{metric.replace('_', ' ')}{' (%)' if percent else ''}")
        ax.set_title(metric.replace("_", " "))
        vkey = f"val_{metric}"
        if vkey in h:
            higher = "acc" in metric or metric in ("f1", "precision", "recall")
            vals = np.asarray(h[vkey], float)
            b = _best(vals, higher)
            if b is not None:
                v = vals[b] * (100 if percent else 1)
                ax.axvline(
                    b + 1,
                    color="C1",
                    linestyle=":",
                    linewidth=1.2,
                    label=f"best validation: {v:.2f}{'%' if percent else ''} (epoch {b + 1})",
                )
        _legend_below(ax, *ax.get_legend_handles_labels())
    if n == 1:
        for a in axes:
            a.set_xlim(0.5, 1.5)
    if title:
        fig.suptitle(title)
    if path is not None:
        save_png(fig, path)
    return fig
