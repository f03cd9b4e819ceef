"""Reverse-mode automatic differentiation: Function/Context, the engine, grad mode, gradcheck,
``grad`` and ``backward``, hooks."""

from .anomaly import AnomalyError, detect_anomaly, is_anomaly_enabled
from .api import backward, grad
from .function import Context, Function
from .grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .gradcheck import gradcheck
from .hooks import RemovableHandle
from .trace import TraceEntry, trace

__all__ = [
    "Context", "Function", "enable_grad", "is_grad_enabled", "no_grad", "set_grad_enabled",
    "gradcheck", "detect_anomaly", "AnomalyError", "is_anomaly_enabled", "grad", "backward",
    "RemovableHandle", "trace", "TraceEntry",
]  # fmt: skip
