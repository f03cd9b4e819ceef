"""A headless matplotlib figure and an atomic PNG writer (shared by the plotting modules)."""

from __future__ import annotations

import os
from pathlib import Path


def new_figure(figsize: tuple[float, float]):
    """A ``matplotlib.figure.Figure`` on an Agg canvas: no pyplot, no GUI, no global state."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def save_png(fig, path: str | os.PathLike, dpi: int = 120) -> Path:
    """Write ``fig`` as a PNG, atomically (a half-written picture never replaces a good one)."""
    from ..serialization import atomic_write

    path = Path(path)
    with atomic_write(path) as f:
        fig.savefig(f, format="png", dpi=dpi)
    return path
