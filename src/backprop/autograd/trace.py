"""``trace()``: every op of a forward and backward pass, in order, with its values, as a table a
student can check a hand computation against, line by line.

    >>> with backprop.autograd.trace(names={"x": x, "w1": w1, "b1": b1}) as tr:
    ...     loss = ((w2 * (w1 * x + b1).relu() + b2 - t) ** 2).sum()
    ...     loss.backward()
    >>> print(tr)

The forward pass reads top to bottom (each op, its inputs by name and value, its output), the
backward pass bottom to top (the gradient that reached each op's output, and what it passed to
each input): the lectures' flow graph with its fprop and bprop numbers. Only ops that record
(grad mode, something requiring grad) are traced; call ``backward`` inside the block.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import function

__all__ = ["trace", "TraceEntry"]


@dataclass
class TraceEntry:
    """One op of a traced pass."""

    index: int
    op: str
    inputs: list  # names ("x", "t3", or the constant's value)
    input_values: list  # arrays (copies) or constants
    output: str
    output_value: np.ndarray
    grad_output: np.ndarray | None = None
    grad_inputs: list = field(default_factory=list)  # arrays or None, one per input


def _show(a, limit: int = 8) -> str:
    if a is None:
        return "-"
    a = np.asarray(a)
    if a.size <= limit:
        if a.ndim == 0:
            return f"{a.item():.6g}" if a.dtype.kind == "f" else str(a.item())
        return np.array2string(a, precision=6, separator=", ", suppress_small=True).replace(
            "\n", ""
        )
    return f"{a.shape} mean {a.mean():.4g} norm {np.linalg.norm(a.ravel()):.4g}"


class trace:
    """Record every op run inside the block (see the module docstring).

    Args:
        names: ``{"w1": tensor, ...}`` or ``model.named_parameters()``: how to call the leaves
            (other tensors are ``t1``, ``t2``... in order of creation).

    Attributes:
        entries: the :class:`TraceEntry` list, in forward order.
    """

    def __init__(self, names=None):
        items = names.items() if isinstance(names, dict) else (names or ())
        self._names = {id(t): str(n) for n, t in items}
        self._keep = [t for _, t in (names.items() if isinstance(names, dict) else [])]
        self.entries: list[TraceEntry] = []
        self._by_ctx: dict = {}
        self._outputs: dict = {}  # id(ctx) -> output name
        self._last_output = None

    # ------------------------------------------------------------------ recording
    def __enter__(self) -> trace:
        self._prev = function._anomaly_hook
        function._anomaly_hook = self._hook
        return self

    def __exit__(self, *exc) -> bool:
        function._anomaly_hook = self._prev
        return False

    def _name(self, t) -> str:
        if not isinstance(t, function.Tensor):
            return _show(t)
        name = self._names.get(id(t))
        if name is not None:
            return name
        ctx = t._ctx
        if ctx is not None and id(ctx) in self._outputs:
            return self._outputs[id(ctx)]
        name = f"leaf{len(self._names) + 1}" if ctx is None else f"t?{len(self._names) + 1}"
        self._names[id(t)] = name
        self._keep.append(t)  # so that the id stays this tensor's
        return name

    def _hook(self, event, subject, payload):
        if self._prev is not None:
            self._prev(event, subject, payload)
        if event == "forward":
            self._last_output = payload
        elif event == "record":
            ctx = payload
            entry = TraceEntry(
                index=len(self.entries) + 1,
                op=ctx.name,
                inputs=[self._name(p) for p in ctx.parents],
                input_values=[
                    np.array(p.data) if isinstance(p, function.Tensor) else p for p in ctx.parents
                ],
                output=f"t{len(self.entries) + 1}",
                output_value=np.array(self._last_output),
            )
            self.entries.append(entry)
            self._by_ctx[id(ctx)] = entry
            self._outputs[id(ctx)] = entry.output
            self._keep.append(ctx)
        elif event == "grad_output":
            entry = self._by_ctx.get(id(subject))
            if entry is not None:
                entry.grad_output = np.array(payload)
        elif event == "backward":
            entry = self._by_ctx.get(id(subject))
            if entry is not None:
                entry.grad_inputs = [None if g is None else np.array(g) for g in payload]

    # ------------------------------------------------------------------ reading
    def name_output(self, tensor, name: str) -> None:
        """Call the op output ``tensor`` by ``name`` in the table (e.g. "h" or "L")."""
        ctx = tensor._ctx
        entry = self._by_ctx.get(id(ctx))
        if entry is None:
            raise ValueError("trace.name_output: that tensor was not made by a traced op")
        old = entry.output
        entry.output = name
        for e in self.entries:
            e.inputs = [name if n == old else n for n in e.inputs]

    def forward_table(self) -> str:
        rows = ["forward (top to bottom)"]
        for e in self.entries:
            args = ", ".join(f"{n}={_show(v)}" if not n.startswith(("[", "-")) and n[:1].isalpha()
                             else n for n, v in zip(e.inputs, e.input_values))  # fmt: skip
            rows.append(f"  {e.index:>3}  {e.output} = {e.op}({args}) = {_show(e.output_value)}")
        return "\n".join(rows)

    def backward_table(self) -> str:
        rows = ["backward (bottom to top)"]
        for e in reversed(self.entries):
            if e.grad_output is None:
                continue
            parts = [
                f"d/d{n} = {_show(g)}" for n, g in zip(e.inputs, e.grad_inputs) if g is not None
            ]
            rows.append(
                f"  {e.index:>3}  {e.op}: d/d{e.output} = {_show(e.grad_output)} -> "
                + ("; ".join(parts) if parts else "(no input needs a gradient)")
            )
        return "\n".join(rows)

    def __str__(self) -> str:
        return self.forward_table() + "\n" + self.backward_table()

    def __repr__(self) -> str:
        return f"<trace of {len(self.entries)} ops>"
