"""Grad mode: whether ops record the graph. ``no_grad`` / ``enable_grad`` work as context managers
and as decorators, as in PyTorch."""

from __future__ import annotations

import functools
import threading

__all__ = [
    "no_grad",
    "enable_grad",
    "set_grad_enabled",
    "is_grad_enabled",
    "inference_mode",
    "is_inference_mode_enabled",
]


class _State(threading.local):
    enabled = True


_state = _State()


def is_grad_enabled() -> bool:
    return _state.enabled


class _GradMode:
    """Base for the grad-mode context managers; usable as a decorator too."""

    _mode: bool

    def __enter__(self):
        self._prev = _state.enabled
        _state.enabled = self._mode

    def __exit__(self, *exc):
        _state.enabled = self._prev
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__():
                return fn(*args, **kwargs)

        return wrapper


class no_grad(_GradMode):
    """Disable graph recording: results of ops never require grad inside this block."""

    _mode = False


class enable_grad(_GradMode):
    """Enable graph recording (inside a ``no_grad`` block, for example)."""

    _mode = True


class set_grad_enabled(_GradMode):
    """Set grad mode on or off, at once; as a context manager, restore the old mode on exit."""

    def __init__(self, mode: bool):
        self._mode = bool(mode)
        self._prev = _state.enabled
        _state.enabled = self._mode

    def __enter__(self):
        pass

    def __call__(self, fn):
        _state.enabled = self._prev
        mode = self._mode

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with set_grad_enabled(mode):
                return fn(*args, **kwargs)

        return wrapper


class inference_mode(_GradMode):
    """PyTorch's ``inference_mode(mode=True)``: here the same as ``no_grad`` (no graph is
    recorded; backprop has no separate inference tensors)."""

    def __init__(self, mode: bool = True):
        self._mode = not bool(mode)

    def __call__(self, fn):
        mode = not self._mode

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with inference_mode(mode):
                return fn(*args, **kwargs)

        return wrapper


def is_inference_mode_enabled() -> bool:
    return not _state.enabled
