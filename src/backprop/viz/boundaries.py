"""Decision boundaries of 2-D classifiers: what a linear model and an MLP carve out of the
plane."""

from __future__ import annotations

import os
from collections.abc import Callable

import numpy as np

from ..autograd.grad_mode import no_grad
from ..tensor import Tensor
from ._figure import new_figure, save_png

__all__ = ["decision_grid", "plot_decision_boundary"]

_COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"]


def _predictor(model) -> Callable[[np.ndarray], np.ndarray]:
    """Class labels for an ``(M, 2)`` float array, from a Module's logits or a callable."""
    from ..nn.module import Module

    if isinstance(model, Module) and hasattr(model, "predict"):
        return model.predict
    if isinstance(model, Module):

        def predict(points: np.ndarray) -> np.ndarray:
            was_training = model.training
            model.eval()
            try:
                with no_grad():
                    out = model(Tensor(points.astype(np.float32))).data
            finally:
                model.train(was_training)
            out = out.reshape(len(points), -1)
            return (out[:, 0] > 0).astype(np.int64) if out.shape[1] == 1 else out.argmax(1)

        return predict
    if callable(model):
        return lambda points: np.asarray(model(points))
    raise TypeError(f"plot_decision_boundary: expected a Module or a callable, got {model!r}")


def decision_grid(model, x, resolution: int = 200, margin: float = 0.5):
    """The predicted class over a grid covering the points ``x`` ``(N, 2)`` plus ``margin``.

    Returns:
        ``(xx, yy, labels)``, each ``(resolution, resolution)``.
    """
    pts = np.asarray(x.data if isinstance(x, Tensor) else x, dtype=np.float64)
    if pts.ndim != 2 or pts.shape[1] != 2:
        raise ValueError(f"decision_grid: points must be (N, 2), got shape {pts.shape}")
    lo, hi = pts.min(0) - margin, pts.max(0) + margin
    xx, yy = np.meshgrid(
        np.linspace(lo[0], hi[0], resolution), np.linspace(lo[1], hi[1], resolution)
    )
    grid = np.stack([xx.ravel(), yy.ravel()], axis=1)
    labels = np.asarray(_predictor(model)(grid)).reshape(xx.shape)
    return xx, yy, labels


def plot_decision_boundary(
    model,
    x,
    y,
    ax=None,
    title: str | None = None,
    path: str | os.PathLike | None = None,
    resolution: int = 200,
    margin: float = 0.5,
):
    """Shade the plane by predicted class, draw the boundary, scatter the points.

    Args:
        model: a Module returning logits ``(M, C)`` (or ``(M, 1)`` for a binary score), a
            model with ``predict`` (the perceptron), or a callable ``points -> labels``.
        x: ``(N, 2)`` points; y: ``(N,)`` integer labels (or -1/+1).
        ax: draw into this Axes (else a new figure).
        title: the axes title.
        path: save the figure there when given.
        resolution: grid points per axis.
        margin: how far the grid extends beyond the points.

    Returns:
        the matplotlib Figure.
    """
    from matplotlib.colors import ListedColormap  # lazy: `import backprop` must not import it

    pts = np.asarray(x.data if isinstance(x, Tensor) else x, dtype=np.float64)
    lab = np.asarray(y.data if isinstance(y, Tensor) else y).reshape(-1)
    classes = np.unique(lab)
    xx, yy, grid = decision_grid(model, pts, resolution, margin)
    # Map labels (any values) to colour indices consistently for points and regions.
    index = {c: i for i, c in enumerate(classes)}
    grid_idx = np.minimum(np.searchsorted(classes, grid), len(classes) - 1)
    grid_idx[classes[grid_idx] != grid] = len(classes)  # a class absent from y
    colors = _COLORS[: len(classes) + 1]
    if ax is None:
        fig = new_figure((4.5, 4.5))
        ax = fig.add_subplot(1, 1, 1)
    else:
        fig = ax.figure
    cmap = ListedColormap(colors)
    ax.contourf(xx, yy, grid_idx, levels=np.arange(len(colors) + 1) - 0.5, cmap=cmap, alpha=0.25)
    ax.contour(xx, yy, grid_idx, levels=np.arange(len(colors)) + 0.5, colors="k", linewidths=0.8)
    for c in classes:
        m = lab == c
        ax.scatter(
            pts[m, 0],
            pts[m, 1],
            s=12,
            color=colors[index[c]],
            edgecolors="k",
            linewidths=0.3,
            label=str(c),
        )
    ax.set_xlim(xx.min(), xx.max())
    ax.set_ylim(yy.min(), yy.max())
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=10)
    if path is not None:
        save_png(fig, path)
    return fig
