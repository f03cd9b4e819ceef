"""The confusion matrix as a picture: counts in the cells, colour = share of the true class."""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from ._figure import new_figure, save_png

__all__ = ["plot_confusion_matrix"]


def plot_confusion_matrix(
    cm,
    classes: Sequence[str] | None = None,
    path: str | os.PathLike | None = None,
    title: str | None = None,
):
    """Draw a confusion matrix (rows: true class, columns: predicted class).

    Each cell shows its count; its colour is the count as a share of the row (the recall of the
    true class on the diagonal, the confusion rate off it), so rare classes read as well as
    common ones. The title gives the overall accuracy.

    Args:
        cm: a square array of counts (e.g. from :func:`backprop.train.metrics.confusion_matrix`).
        classes: the class names (default ``0..C-1``).
        path: write a PNG there (None: only return the figure).
        title: the title (the accuracy is appended).

    Returns:
        the matplotlib ``Figure``.
    """
    cm = np.asarray(cm)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
        raise ValueError(f"plot_confusion_matrix: cm must be square, got shape {cm.shape}")
    c = cm.shape[0]
    classes = [str(i) for i in range(c)] if classes is None else [str(x) for x in classes]
    if len(classes) != c:
        raise ValueError(f"plot_confusion_matrix: {len(classes)} class names for {c} classes")
    rows = cm.sum(axis=1, keepdims=True)
    share = np.divide(cm, rows, out=np.zeros(cm.shape, float), where=rows > 0)
    side = min(max(4.8, 0.55 * c + 2.2), 16)
    fig = new_figure((side + 1.1, side))
    ax = fig.subplots()
    im = ax.imshow(share, cmap="Blues", vmin=0.0, vmax=1.0)
    bar = fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    bar.set_label("share of the true class")
    if c <= 30:
        size = 10 if c <= 12 else 7
        for i in range(c):
            for j in range(c):
                if cm[i, j]:
                    ax.text(
                        j,
                        i,
                        str(int(cm[i, j])),
                        ha="center",
                        va="center",
                        fontsize=size,
                        color="white" if share[i, j] > 0.55 else "black",
                    )
    short = all(len(n) <= 3 for n in classes)
    ax.set_xticks(range(c), classes, rotation=0 if short else 45, ha="center" if short else "right")
    ax.set_yticks(range(c), classes)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    total = cm.sum()
    acc = np.trace(cm) / total if total else float("nan")
    head = f"{title}\n" if title else ""
    ax.set_title(f"{head}accuracy {100 * acc:.2f}% ({int(np.trace(cm))}/{int(total)})")
    if path is not None:
        save_png(fig, path)
    return fig
