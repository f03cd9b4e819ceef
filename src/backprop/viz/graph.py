"""``draw_graph``: the recorded computational graph behind a tensor, as Graphviz DOT.

    >>> loss = model(x).pow(2).mean()
    >>> loss.backward(retain_graph=True)
    >>> g = backprop.viz.draw_graph(loss, params=model.named_parameters(), show_values=True,
    ...                             show_grads=True)
    >>> g.save("graph.svg")   # or .png, .dot; g.source is the DOT text

One box per op (its name and output shape), one ellipse per leaf (a parameter's name when
``params`` is given, else its shape), arrows in the forward direction. Ops that use a
parameter are grouped in a cluster named after the parameter's module (``conv1``, ``fc2``...).
With ``show_values``, small tensors are printed in full and large ones as shape, mean and norm;
with ``show_grads``, the gradients of the leaves (``.grad``) and of intermediate tensors that
called ``retain_grad()``.

What it cannot show: a graph freed by ``backward()`` (its ops forget their inputs: call
``backward(retain_graph=True)`` to draw after backward), and values of tensors modified in place
since (the current values are shown). The DOT text needs nothing; rendering to SVG/PNG needs the
``graphviz`` Python package and Graphviz's ``dot`` program.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from ..tensor import Tensor

__all__ = ["draw_graph", "Graph"]


def _summary(a, limit: int = 6) -> str:
    a = np.asarray(a)
    if a.size <= limit:
        if a.ndim == 0:
            return f"{a.item():.4g}" if a.dtype.kind == "f" else str(a.item())
        body = np.array2string(a.ravel(), precision=4, separator=", ", suppress_small=True)
        return body.replace("\n", "")
    flat = a.ravel().astype(np.float64)
    return f"mean {flat.mean():.3g}, norm {np.linalg.norm(flat):.3g}"


def _escape(s: str) -> str:
    """One line of text inside a DOT string: backslashes and quotes escaped, and a newline in it
    (a parameter named by the caller may hold one) as DOT's line break ``\\n``."""
    s = str(s).replace("\\", "\\\\").replace('"', '\\"')
    return s.replace("\r\n", "\\n").replace("\r", "\\n").replace("\n", "\\n")


def _quote(*lines: str) -> str:
    """A quoted DOT string of ``lines``, each escaped, separated by DOT's line break."""
    return '"' + "\\n".join(_escape(line) for line in lines) + '"'


class Graph:
    """A drawn graph: ``source`` (DOT), ``notes`` (what could not be shown); ``save(path)``
    writes ``.dot`` or renders ``.svg``/``.png``/``.pdf``."""

    def __init__(self, source: str, notes: list[str]):
        self.source = source
        self.notes = notes

    def __str__(self) -> str:
        return self.source

    def save(self, path) -> Path:
        path = Path(path)
        suffix = path.suffix.lower().lstrip(".")
        if suffix in ("dot", "gv"):
            path.write_text(self.source)
            return path
        if suffix not in ("svg", "png", "pdf"):
            raise ValueError(f"Graph.save: use .dot, .svg, .png or .pdf, got {path.name!r}")
        data = self.render(suffix)
        path.write_bytes(data)
        return path

    def render(self, fmt: str = "svg") -> bytes:
        """The picture as bytes, through Graphviz (``pip install graphviz`` and the ``dot``
        program: ``apt install graphviz``, ``brew install graphviz`` or ``conda install
        graphviz``)."""
        try:
            import graphviz
        except ImportError:
            raise RuntimeError(
                "draw_graph: rendering needs the graphviz package (pip install graphviz) and "
                "Graphviz's dot program; the DOT text is in .source, or save it as .dot"
            ) from None
        if shutil.which("dot") is None:
            raise RuntimeError(
                "draw_graph: Graphviz's dot program is not on PATH (apt install graphviz, brew "
                "install graphviz or conda install graphviz); the DOT text is in .source"
            )
        return graphviz.Source(self.source).pipe(format=fmt)

    def _repr_svg_(self):  # pragma: no cover - notebooks with dot installed
        try:
            return self.render("svg").decode()
        except RuntimeError:
            return None


def draw_graph(
    tensor: Tensor, show_values: bool = False, show_grads: bool = False, params=None
) -> Graph:
    """The graph that computed ``tensor`` (see the module docstring). Returns a :class:`Graph`."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"draw_graph: expected a Tensor, got {type(tensor).__name__}")
    names = {}
    if params is not None:
        items = params.items() if isinstance(params, dict) else params
        names = {id(p): str(n) for n, p in items}
    lines = [
        "digraph backprop {",
        "  rankdir=TB; node [fontname=Helvetica, fontsize=10]; edge [color=gray40];",
    ]
    notes: list[str] = []
    ids: dict = {}
    clusters: dict = {}
    plain: list[str] = []
    edges: list[str] = []
    freed = False

    def node_id(key) -> str:
        if key not in ids:
            ids[key] = f"n{len(ids)}"
        return ids[key]

    def tensor_text(t: Tensor) -> list[str]:
        parts = []
        if show_values:
            parts.append("value " + _summary(t.data))
        if show_grads and t.grad is not None:
            parts.append("grad " + _summary(t.grad.data))
        return parts

    seen = set()
    stack = [tensor]
    while stack:
        t = stack.pop()
        if id(t) in seen:
            continue
        seen.add(id(t))
        ctx = t._ctx
        if ctx is None:
            label = names.get(id(t), f"leaf {tuple(t.shape)}")
            text = [label, str(tuple(t.shape))] if id(t) in names else [label]
            style = "filled, rounded" if t.requires_grad else "rounded"
            plain.append(
                f"  {node_id(id(t))} [shape=ellipse, style={_quote(style)}, "
                f"fillcolor=lightyellow, label={_quote(*text, *tensor_text(t))}];"
            )
            continue
        label = _quote(ctx.name, str(tuple(t.shape)), *tensor_text(t))
        module = None
        for p in ctx.parents:
            if isinstance(p, Tensor) and id(p) in names and "." in names[id(p)]:
                module = names[id(p)].rsplit(".", 1)[0]
                break
        decl = f"  {node_id(id(t))} [shape=box, style=filled, fillcolor=lightblue, label={label}];"
        (clusters.setdefault(module, []) if module else plain).append(decl)
        if ctx.freed:
            freed = True
            note = node_id(("freed", id(ctx)))
            plain.append(f"  {note} [shape=note, label={_quote('inputs freed by backward()')}];")
            edges.append(f"  {note} -> {node_id(id(t))} [style=dashed];")
            continue
        for p in ctx.parents:
            if isinstance(p, Tensor):
                edges.append(f"  {node_id(id(p))} -> {node_id(id(t))};")
                stack.append(p)
    for i, (module, decls) in enumerate(sorted(clusters.items())):
        lines.append(
            f"  subgraph cluster_{i} {{ label={_quote(module)}; style=rounded; color=gray60;"
        )
        lines.extend("  " + d for d in decls)
        lines.append("  }")
    lines.extend(plain)
    lines.extend(reversed(edges))
    lines.append("}")
    if freed:
        notes.append(
            "part of the graph was freed by backward(); call backward(retain_graph=True) to "
            "draw it whole after backward"
        )
    return Graph("\n".join(lines), notes)
