"""`Function` and `Context`: the op pattern.

An op is a `Function` subclass with static ``forward(ctx, *arrays, **attrs)`` and ``backward(ctx, gy)``
that work on raw arrays, never on Tensors. ``Function.apply`` unwraps the Tensors, picks the backend,
runs forward, wraps the result and, when grad mode is on and an input requires grad, records the
context in the graph so that the engine can call ``backward`` later.
"""

from __future__ import annotations

from ..backend import backend_of
from . import grad_mode

__all__ = ["Function", "Context"]

# Set by backprop.tensor at import time: the autograd layer sits below the Tensor class.
Tensor = None  # type: ignore[assignment]
# Set by backprop.autograd.anomaly while detect_anomaly() is active.
_anomaly_hook = None


class Context:
    """What one op call keeps for its backward.

    Attributes:
        xp: the array module of the inputs (NumPy, or CuPy later).
        needs_input_grad: one bool per positional input.
        saved_tensors: arrays saved by ``save_for_backward``.
        fn: the Function subclass; parents: the inputs (Tensors, or raw constants).
    Ops may store any other plain attribute they need (``ctx.mask = ...``).
    """

    __slots__ = ("xp", "needs_input_grad", "saved_tensors", "fn", "parents", "freed", "__dict__")

    def __init__(self, xp, needs_input_grad):
        self.xp = xp
        self.needs_input_grad = needs_input_grad
        self.saved_tensors = ()
        self.freed = False

    def save_for_backward(self, *arrays) -> None:
        self.saved_tensors = arrays

    def free(self) -> None:
        """Drop everything kept for backward; the engine calls this once backward ran."""
        self.saved_tensors = ()
        self.__dict__.clear()
        self.parents = ()
        self.freed = True

    @property
    def name(self) -> str:
        return getattr(self.fn, "name", self.fn.__name__)


class Function:
    """Base class of every op. Subclasses define static ``forward`` and ``backward``."""

    name: str = ""

    @staticmethod
    def forward(ctx: Context, *arrays, **attrs):  # pragma: no cover - interface
        raise NotImplementedError

    @staticmethod
    def backward(ctx: Context, gy):  # pragma: no cover - interface
        raise NotImplementedError

    @classmethod
    def apply(cls, *inputs, **attrs):
        """Run the op on Tensors (or raw constants) and record it in the graph when needed."""
        arrays = []
        needs = []
        record = False
        for t in inputs:
            if isinstance(t, Tensor):
                arrays.append(t.data)
                rg = t.requires_grad
                needs.append(rg)
                record = record or rg
            else:
                arrays.append(t)
                needs.append(False)
        record = record and grad_mode._state.enabled
        ctx = Context(backend_of(arrays).xp, tuple(needs))
        y = cls.forward(ctx, *arrays, **attrs)
        if _anomaly_hook is not None:
            _anomaly_hook("forward", cls, y)
        if type(y) is tuple:
            # Multi-output ops (split, chunk...) are written as several single-output ops instead,
            # so that every graph node has exactly one output; this path only wraps constants.
            return tuple(Tensor._make(a, False, None) for a in y)
        if record:
            ctx.fn = cls
            ctx.parents = inputs
            if _anomaly_hook is not None:
                _anomaly_hook("record", cls, ctx)
            return Tensor._make(y, True, ctx)
        return Tensor._make(y, False, None)
