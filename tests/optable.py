"""The table of op tests (like PyTorch's OpInfo).

Each row names a computation once, written against a library module ``m`` that is either ``torch``
or ``backprop`` (the two share their vocabulary, so one lambda serves both), plus sample inputs and
an optional NumPy reference. ``test_ops.py`` derives from every row: forward vs NumPy, float64
gradcheck, and parity with torch (outputs and input gradients) in float64 and float32.

The edge column: a row's ``edges`` are inputs at the points where an op is special (zeros, exact
kinks and bounds, ties, 0**0, NaN and inf inputs, NaN and inf upstream gradients in
``Sample.grad``). Their values and gradients are compared with torch's, NaN matching NaN at the
same positions. Every registered op is either named in some row's ``edge_ops`` (by default the row
name, when it is an op's name) or declared edge-free with a reason by :func:`no_edges`; a test
fails otherwise, and when a row's edges never run an op they claim.

Rows live in ``optable_*.py`` modules (one per op family or owner) that call :func:`add`;
``test_ops.py`` imports them all. A test fails if a registered op never runs in any row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

ROWS: list[OpRow] = []
# Registered op name -> why it has no edge cases (declared with no_edges).
NO_EDGES: dict[str, str] = {}

inf = float("inf")
nan = float("nan")


@dataclass
class Sample:
    """One call: positional arrays (float ones become differentiable tensors), keyword settings."""

    arrays: list
    kwargs: dict = field(default_factory=dict)
    # Positions that must NOT be differentiated although float (e.g. a target); ints never are.
    no_grad: tuple = ()
    # The upstream gradient (of the output's shape) for edge cases; None: a fixed random one.
    grad: object = None


@dataclass
class OpRow:
    name: str
    fn: Callable  # fn(m, *tensors, **kwargs) -> tensor (m is torch or backprop)
    samples: Callable[[np.random.Generator], list]  # rng -> [Sample, ...]
    ref: Callable | None = None  # ref(*arrays, **kwargs) -> ndarray
    rtol64: float = 1e-10
    atol64: float = 1e-12
    rtol32: float = 1e-5
    atol32: float = 1e-6
    grad: bool = True  # differentiable at all
    torch_grad: bool = True  # torch defines a gradient (e.g. not for the step unit)
    gradcheck_eps: float = 1e-6
    gradcheck: bool = True
    edges: Callable[[np.random.Generator], list] | None = None  # rng -> [Sample, ...]
    edge_ops: tuple = ()  # the registered ops these edges stand for (default: the row's name)

    def __repr__(self) -> str:
        return self.name


def add(name: str, fn: Callable, samples: Callable, **kw) -> OpRow:
    row = OpRow(name, fn, samples, **kw)
    if any(r.name == name for r in ROWS):
        raise ValueError(f"duplicate op-table row {name!r}")
    ROWS.append(row)
    return row


def no_edges(op: str, reason: str) -> None:
    """Declare that registered op ``op`` has no input at which it is special, and why."""
    if op in NO_EDGES:
        raise ValueError(f"no_edges: {op!r} declared twice")
    if len(reason.split()) < 4:
        raise ValueError(f"no_edges: give {op!r} a reason, not {reason!r}")
    NO_EDGES[op] = reason


def edges(*samples):
    """An ``edges`` column of fixed samples (edge inputs are chosen, not drawn)."""
    return lambda rng: list(samples)


def nnf(m):
    """``m.nn.functional`` for either library."""
    return m.nn.functional


# ------------------------------------------------------------------ sample helpers
def randn(rng, *shape):
    return rng.standard_normal(shape)


def away(rng, *shape, margin=0.1):
    """Normal values kept ``margin`` away from 0 (for kinks at 0: abs, relu, clamp...)."""
    x = rng.standard_normal(shape)
    return np.sign(x) * (np.abs(x) + margin)


def positive(rng, *shape, low=0.2):
    return np.abs(rng.standard_normal(shape)) + low


def one(*arrays, **kwargs):
    return [Sample(list(arrays), kwargs)]
