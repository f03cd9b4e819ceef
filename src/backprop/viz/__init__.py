"""Pictures (matplotlib, headless): learning curves, confusion matrices, conv filters, decision
boundaries, the gradient flow per layer (from ``GradientStats``) and the learning-rate range test
(from ``lr_find``); and the computational graph (Graphviz DOT, see ``graph.py``).

matplotlib is imported only when a picture is drawn, and only through its object-oriented API
(``Figure`` + the Agg canvas): no pyplot global state, no window, safe in scripts and servers.
"""

from .boundaries import decision_grid, plot_decision_boundary
from .confusion import plot_confusion_matrix
from .curves import plot_history
from .filters import filter_grid, plot_filters
from .gradients import plot_gradient_stats
from .graph import Graph, draw_graph
from .lr_range import plot_lr_find

__all__ = [
    "plot_history", "plot_confusion_matrix", "filter_grid", "plot_filters", "decision_grid",
    "plot_decision_boundary", "draw_graph", "Graph", "plot_gradient_stats", "plot_lr_find",
]  # fmt: skip
