"""Anomaly detection: find the op that first produced a NaN or Inf, forward or backward.

Inside ``detect_anomaly()`` every op output and every gradient an op's backward returns is checked;
the first non-finite value raises :class:`AnomalyError` naming the op and the line of user code that
created it. It costs a pass over every array, so use it to debug, not to train.
"""

from __future__ import annotations

import os
import sys

import numpy as np

from . import function

__all__ = ["detect_anomaly", "AnomalyError", "is_anomaly_enabled"]

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class AnomalyError(RuntimeError):
    """An op produced NaN or Inf; ``op`` names it and ``where`` is the user code that called it."""

    def __init__(self, message: str, op: str, where: str):
        super().__init__(message)
        self.op = op
        self.where = where


def _user_frame() -> str:
    """'file:line in function' of the innermost caller outside the backprop package."""
    frame = sys._getframe(1)
    while frame is not None:
        path = os.path.abspath(frame.f_code.co_filename)
        if not path.startswith(_PACKAGE_DIR):
            return f"{frame.f_code.co_filename}:{frame.f_lineno} in {frame.f_code.co_name}"
        frame = frame.f_back
    return "<unknown>"


def _bad(a) -> str | None:
    if a is None:
        return None
    a = np.asarray(a)
    if not np.issubdtype(a.dtype, np.floating) or np.isfinite(a).all():
        return None
    return "nan" if np.isnan(a).any() else "inf"


def _hook(event, fn_or_ctx, payload):
    if event == "forward":
        kind = _bad(payload)
        if kind:
            op = getattr(fn_or_ctx, "name", fn_or_ctx.__name__)
            where = _user_frame()
            raise AnomalyError(
                f"detect_anomaly: op {op!r} ({fn_or_ctx.__name__}) returned {kind} values in its "
                f"forward output, called from {where}",
                op,
                where,
            )
    elif event == "record":
        payload.created_at = _user_frame()
    elif event == "backward":
        ctx = fn_or_ctx
        for i, g in enumerate(payload):
            kind = _bad(g)
            if kind:
                where = getattr(ctx, "created_at", "<unknown>")
                raise AnomalyError(
                    f"detect_anomaly: backward of op {ctx.name!r} ({ctx.fn.__name__}) returned "
                    f"{kind} "
                    f"values in the gradient of input {i}; the op was created at {where}",
                    ctx.name,
                    where,
                )


def is_anomaly_enabled() -> bool:
    return function._anomaly_hook is _hook


class detect_anomaly:
    """Context manager: raise :class:`AnomalyError` at the first op that produces NaN or Inf.

    Example:
        >>> with backprop.autograd.detect_anomaly():
        ...     loss = model(x).log().sum()   # raises here if log sees a negative number
        ...     loss.backward()               # or here, naming the op whose gradient blew up
    """

    def __enter__(self):
        self._prev = function._anomaly_hook
        function._anomaly_hook = _hook
        return self

    def __exit__(self, *exc):
        function._anomaly_hook = self._prev
        return False
