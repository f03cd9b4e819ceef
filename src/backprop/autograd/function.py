"""`Function` and `Context`: the op pattern.

An op is a `Function` subclass with static ``forward(ctx, *arrays, **attrs)`` and
``backward(ctx, gy)`` that work on raw arrays, never on Tensors. ``Function.apply`` unwraps the
Tensors, picks the backend, runs forward, wraps the result and, when grad mode is on and an input
requires grad, records the context in the graph so that the engine can call ``backward`` later.

Ops allocate their large outputs and temporaries through ``ctx.empty`` / ``ctx.empty_like``,
which keep an input's memory order. (A buffer pool that recycled last step's arrays by reference
count stood behind them until measured with each library in its own process: LeNet-5's step ran
5-8% faster without it, the MLP's the same, so it was removed.)
"""

from __future__ import annotations

from numpy import asarray as _asarray
from numpy import ndarray as _ndarray

from ..backend import backend_of
from ..backend.numpy_backend import NUMPY as _NUMPY
from . import grad_mode, version
from .version import clock as _clock

__all__ = ["Function", "Context"]

# Set by backprop.tensor at import time: the autograd layer sits below the Tensor class.
Tensor = None  # type: ignore[assignment]
# Set by backprop.autograd.anomaly while detect_anomaly() is active.
_anomaly_hook = None

_grad = grad_mode._state  # (thread-local: .enabled is this thread's grad mode)
_new = object.__new__
# The types of the constants that leave an op on NumPy's backend (see backend_of).
_PLAIN = frozenset((_ndarray, float, int, bool, type(None)))


# needs_input_grad tuples by key (a leading 1 bit, then one bit per input, the first input
# highest: set where it requires grad), shared by all ops: one tuple less to allocate per op,
# hence less work for Python's cyclic garbage collector on a chain of small ops.
_NEEDS: dict = {}


def _needs(key: int, n: int) -> tuple:
    """The needs_input_grad tuple of ``key`` (see ``_NEEDS``), kept for up to 8 inputs."""
    needs = tuple(bool(key >> (n - 1 - i) & 1) for i in range(n))
    if n <= 8:
        _NEEDS[key] = needs
    return needs


def _axis_order(a) -> tuple:
    """The axes of ``a`` longer than one, outermost (largest stride) first."""
    strides = a.strides
    return tuple(
        sorted((i for i, n in enumerate(a.shape) if n > 1), key=lambda i: -abs(strides[i]))
    )


class Context:
    """What one op call keeps for its backward.

    Attributes:
        xp: the array module of the inputs (NumPy, or CuPy later).
        needs_input_grad: one bool per positional input.
        saved_tensors: arrays saved by ``save_for_backward``.
        saved_versions: the versions of the inputs and the output when the op ran (unset or
            None when all were at 0), for the in-place check and for ``engine.node_of``.
        saved_at: when the op saved arrays, the write clock then (see ``version.clock``).
        fn: the Function subclass; parents: the inputs (Tensors, or raw constants).
        last_backward: True while the engine runs this op's backward for the last time (the graph
            is not retained): backward may then overwrite the arrays it saved, e.g. reuse a
            saved buffer of the right shape for a gradient.
    Ops may store any other plain attribute they need (``ctx.mask = ...``).
    """

    __slots__ = (
        "xp", "needs_input_grad", "saved_tensors", "saved_at", "saved_versions", "fn", "parents",
        "freed", "last_backward", "__dict__",
    )  # fmt: skip

    def __init__(self, xp, needs_input_grad):
        self.xp = xp
        self.needs_input_grad = needs_input_grad
        self.saved_tensors = ()
        self.freed = False
        self.last_backward = False

    def save_for_backward(self, *arrays) -> None:
        self.saved_tensors = arrays

    def empty(self, shape, dtype):
        """An uninitialised C-order array of ``shape`` and ``dtype``."""
        return self.xp.empty(tuple(shape), dtype)

    def zeros(self, shape, dtype):
        """A zero-filled C-order array of ``shape`` and ``dtype``."""
        return self.xp.zeros(tuple(shape), dtype)

    def empty_like(self, x, shape=None, dtype=None):
        """An uninitialised array laid out in memory like ``x`` (same axis order by
        stride), of ``x``'s shape and dtype or the given ones (same number of axes).

        Keeping the input's layout matters for conv nets: a conv output is an (N, C, H, W) view
        of (C, H, W, N) memory, and ops that keep that order let the next conv and the backward
        pass read their operands without a transpose copy.
        """
        shape = x.shape if shape is None else tuple(shape)
        dtype = x.dtype if dtype is None else dtype
        if x.ndim < 2 or x.flags.c_contiguous:
            return self.xp.empty(shape, dtype)
        strides = x.strides
        order = sorted(range(x.ndim), key=lambda a: -abs(strides[a]))  # outermost axis first
        buf = self.xp.empty(tuple(shape[a] for a in order), dtype)
        inverse = [0] * x.ndim
        for i, a in enumerate(order):
            inverse[a] = i
        return buf.transpose(inverse)

    def match_layout(self, a, like):
        """``a``, or a copy of it laid out in memory like ``like`` (same shape) when their axes
        are ordered differently and ``a`` is large.

        An elementwise op over operands with different memory orders runs up to 15x slower than
        over matching ones (measured: a (64, 50, 7, 7) product of an NCHW array with a view of
        CHWN memory, 0.87 ms against 0.06 ms); one transposing copy first costs 0.05 ms.
        """
        if a.size < 4096 or _axis_order(a) == _axis_order(like):
            return a
        out = self.empty_like(like, a.shape, a.dtype)
        self.xp.copyto(out, a)
        return out

    def free(self) -> None:
        """Drop everything kept for backward; the engine does this (inline) once backward ran."""
        self.saved_tensors = ()
        self.saved_versions = None
        self.__dict__.clear()
        self.parents = ()
        self.freed = True

    @property
    def name(self) -> str:
        return getattr(self.fn, "name", self.fn.__name__)


def _root(a):
    """The array that owns ``a``'s memory (NumPy collapses chains of views to it)."""
    return a if a.base is None else a.base


def _mark_view(out, x, cls, rest, attrs) -> None:
    """Record that ``out`` is a view of ``x`` made by ``cls(x, *rest, **attrs)``."""
    if x._view is None:
        base, chain = x, ((cls, rest, attrs),)
    else:
        base, chain = x._view[0], x._view[1] + ((cls, rest, attrs),)
    out._vc = x._counter()
    # [base, how to remake the view from it, the base's history when this view was made]
    out._view = [base, chain, base._ctx]


def note_history(t, valid_until: int) -> None:
    """Keep ``t``'s current op for the consumers recorded before version ``valid_until``: ``t``
    is about to get a new one (an in-place write, or a view's history regenerated)."""
    entry = (valid_until, t._ctx)
    if t._history is None:
        t._history = [entry]
    else:
        t._history.append(entry)


def _refresh_view(t) -> None:
    """Give view ``t`` the history of its base again after the base's was rebased by an in-place
    write (PyTorch regenerates a view's grad_fn the same way)."""
    if not grad_mode._state.enabled:
        return
    base, chain, _ = t._view
    v = base
    for cls, rest, attrs in chain:
        v = cls.apply(v, *rest, **attrs)
    note_history(t, t._version)
    t._ctx = v._ctx
    t.requires_grad = v.requires_grad
    t._view[2] = base._ctx


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
        # The hottest path of the library (a tiny op spends most of its time here, not in
        # NumPy), hence the local names, the inlined constructors and the backend fast path.
        arrays = []
        record = False
        counted = False  # does any input have a version counter (was written to, or a view)?
        plain = True  # every array a NumPy ndarray, every constant a Python number or None
        key = 1  # 1, then one bit per input (set: it requires grad): see _needs
        for t in inputs:
            key <<= 1
            if isinstance(t, Tensor):
                if t._vc is not None:
                    counted = True
                    view = t._view
                    if view is not None and view[2] is not view[0]._ctx:
                        _refresh_view(t)
                a = t.data
                if type(a) is not _ndarray:
                    plain = False
                arrays.append(a)
                if t.requires_grad:
                    record = True
                    key |= 1
            else:
                if type(t) not in _PLAIN:
                    plain = False
                arrays.append(t)
        if not (record and _grad.enabled):
            # No backward will run: tell the op, so that it saves nothing (and, e.g., conv2d
            # need not keep its unfolded input).
            record = False
            key = 1 << len(inputs)
        needs = _NEEDS.get(key)
        if needs is None:
            needs = _needs(key, len(inputs))
        # Context(xp, needs) without the call; NumPy's backend is what backend_of returns for
        # plain arrays and numbers (its own fast path), so only other inputs ask it.
        ctx = _new(Context)
        ctx.xp = _NUMPY.xp if plain else backend_of(arrays).xp
        ctx.needs_input_grad = needs
        ctx.saved_tensors = ()
        ctx.freed = ctx.last_backward = False
        y = cls.forward(ctx, *arrays, **attrs) if attrs else cls.forward(ctx, *arrays)
        if _anomaly_hook is not None:
            _anomaly_hook("forward", cls, y)
        if type(y) is tuple:  # an op bug
            # Multi-output ops (split, chunk, max with indices...) are written as several
            # single-output ops, so that every graph node has exactly one output.
            raise TypeError(f"{cls.__name__}.forward returned a tuple; an op has one output")
        # Tensor._make(y, record, ctx if record else None), inlined.
        out = _new(Tensor)
        out.data = y if type(y) is _ndarray else _asarray(y)
        out.grad = None
        out.requires_grad = record
        out._ctx = ctx if record else None
        out._retains_grad = False
        out._vc = out._view = out._hooks = out._history = None
        # An output that is a view of the first input (reshape, transpose, basic indexing...)
        # shares its memory, hence its version counter; the view remembers how it was made so
        # that an in-place write through it can rebase its base's history (see inplace.py).
        if y.base is not None or (arrays and y is arrays[0]):
            x0 = inputs[0] if inputs else None
            if isinstance(x0, Tensor) and (y is arrays[0] or y.base is _root(arrays[0])):
                _mark_view(out, x0, cls, inputs[1:], attrs)
                counted = True
        if record:
            ctx.fn = cls
            ctx.parents = inputs
            if counted:  # (else every input is at version 0: no need to write it down)
                ctx.saved_versions = version.versions_of(inputs, out)
            if ctx.saved_tensors:
                ctx.saved_at = _clock.now
            if _anomaly_hook is not None:
                _anomaly_hook("record", cls, ctx)
        return out
