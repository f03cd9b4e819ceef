"""The table of op tests (like PyTorch's OpInfo).

Each row names a computation once, written against a library module ``m`` that is either ``torch``
or ``backprop`` (the two share their vocabulary, so one lambda serves both), plus sample inputs and
an optional NumPy reference. ``test_ops.py`` derives from every row: forward vs NumPy, float64
gradcheck, and parity with torch (outputs and input gradients) in float64 and float32.

Rows live in ``optable_*.py`` modules (one per op family or owner) that call :func:`add`;
``test_ops.py`` imports them all. A test fails if a registered op never runs in any row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

ROWS: list[OpRow] = []


@dataclass
class Sample:
    """One call: positional arrays (float ones become differentiable tensors), keyword settings."""

    arrays: list
    kwargs: dict = field(default_factory=dict)
    # Positions that must NOT be differentiated although float (e.g. a target); ints never are.
    no_grad: tuple = ()


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

    def __repr__(self) -> str:
        return self.name


def add(name: str, fn: Callable, samples: Callable, **kw) -> OpRow:
    row = OpRow(name, fn, samples, **kw)
    if any(r.name == name for r in ROWS):
        raise ValueError(f"duplicate op-table row {name!r}")
    ROWS.append(row)
    return row


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
