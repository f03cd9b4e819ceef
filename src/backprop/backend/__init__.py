"""The one switch point for the array library.

Ops never import NumPy directly: `Function.apply` asks :func:`backend_of` for the backend of its
inputs and hands its array module to the op as ``ctx.xp``. A CuPy backend is one new file that
builds a :class:`Backend` and calls :func:`register_backend`; no op changes.

Importing it also sets glibc malloc's thresholds for the arrays of a training step
(:mod:`.allocator`; ``BACKPROP_MALLOC=system`` leaves them alone).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

__all__ = ["Backend", "register_backend", "backend_of", "get_backend", "backends"]


@dataclass(frozen=True)
class Backend:
    """An array library: its name, its array module, and a test of whether it owns an array."""

    name: str
    xp: ModuleType
    owns: Callable[[Any], bool]


_BACKENDS: dict[str, Backend] = {}


def register_backend(backend: Backend) -> None:
    """Make ``backend`` available to :func:`backend_of` (later registrations are tried first)."""
    _BACKENDS[backend.name] = backend


def get_backend(name: str) -> Backend:
    try:
        return _BACKENDS[name]
    except KeyError:
        raise ValueError(f"unknown backend {name!r}; registered: {sorted(_BACKENDS)}") from None


def backends() -> list[str]:
    return list(_BACKENDS)


def backend_of(arrays) -> Backend:
    """The backend that owns every array in ``arrays``; Python scalars and None belong to any.

    Raises:
        TypeError: when the arrays belong to different backends, or to none.
    """
    found = None
    for a in arrays:
        # Fast path: plain NumPy arrays and scalars, by far the common case.
        if type(a) is _ndarray:
            b = _NUMPY
        elif a is None or isinstance(a, (bool, int, float)):
            continue
        elif isinstance(a, _generic):
            b = _NUMPY
        else:
            b = next((b for b in reversed(_BACKENDS.values()) if b.owns(a)), None)
            if b is None:
                raise TypeError(f"backend_of: no backend owns an object of type {type(a).__name__}")
        if found is None:
            found = b
        elif b is not found:
            raise TypeError(f"backend_of: mixed backends {found.name!r} and {b.name!r} in one op")
    return found if found is not None else _NUMPY


# NumPy is always registered; its objects are bound here for backend_of's fast path.
from .numpy_backend import NUMPY as _NUMPY  # noqa: E402
from .numpy_backend import np as _np  # noqa: E402

_ndarray, _generic = _np.ndarray, _np.generic

# Before the first large array: see allocator's docstring.
from . import allocator as _allocator  # noqa: E402

_allocator.configure()
