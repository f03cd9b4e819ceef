"""Padding layers (PyTorch's): ``ReflectionPad1d/2d/3d``, ``ReplicationPad1d/2d/3d``,
``CircularPad1d/2d/3d``, ``ConstantPad1d/2d/3d`` and ``ZeroPad1d/2d/3d``."""

from __future__ import annotations

from ..functional.padding import pad
from ..tensor import Tensor
from .module import Module

__all__ = [
    "ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d", "ReplicationPad1d",
    "ReplicationPad2d", "ReplicationPad3d", "CircularPad1d", "CircularPad2d", "CircularPad3d",
    "ConstantPad1d", "ConstantPad2d", "ConstantPad3d", "ZeroPad1d", "ZeroPad2d", "ZeroPad3d",
]  # fmt: skip


class _PadNd(Module):
    _nd = 1
    _mode = "constant"

    def __init__(self, padding, value: float = 0.0) -> None:
        super().__init__()
        n = 2 * self._nd
        if isinstance(padding, int) and not isinstance(padding, bool):
            padding = (padding,) * n
        padding = tuple(int(p) for p in padding)
        if len(padding) != n:
            raise ValueError(f"{type(self).__name__}: padding must be an int or {n} ints")
        self.padding = padding
        self.value = value

    def forward(self, input: Tensor) -> Tensor:
        if self._mode == "constant":
            return pad(input, self.padding, "constant", self.value)
        return pad(input, self.padding, self._mode)

    def extra_repr(self) -> str:
        s = f"{self.padding}"
        return s + (f", value={self.value}" if self._mode == "constant" else "")


class ReflectionPad1d(_PadNd):
    """Pad the last dim by reflection (``pad(x, padding, 'reflect')``); padding: int or
    (left, right)."""

    _nd, _mode = 1, "reflect"

    def __init__(self, padding) -> None:
        super().__init__(padding)


class ReflectionPad2d(ReflectionPad1d):
    """Pad the last 2 dims by reflection; padding: int or (left, right, top, bottom)."""

    _nd = 2


class ReflectionPad3d(ReflectionPad1d):
    """Pad the last 3 dims by reflection; padding: int or 6 ints (last dim first)."""

    _nd = 3


class ReplicationPad1d(_PadNd):
    """Pad the last dim by repeating the edge (``pad(x, padding, 'replicate')``)."""

    _nd, _mode = 1, "replicate"

    def __init__(self, padding) -> None:
        super().__init__(padding)


class ReplicationPad2d(ReplicationPad1d):
    """Pad the last 2 dims by repeating the edges."""

    _nd = 2


class ReplicationPad3d(ReplicationPad1d):
    """Pad the last 3 dims by repeating the edges."""

    _nd = 3


class CircularPad1d(_PadNd):
    """Pad the last dim by wrapping around (``pad(x, padding, 'circular')``)."""

    _nd, _mode = 1, "circular"

    def __init__(self, padding) -> None:
        super().__init__(padding)


class CircularPad2d(CircularPad1d):
    """Pad the last 2 dims by wrapping around."""

    _nd = 2


class CircularPad3d(CircularPad1d):
    """Pad the last 3 dims by wrapping around."""

    _nd = 3


class ConstantPad1d(_PadNd):
    """Pad the last dim with ``value`` (negative widths crop)."""

    _nd = 1

    def __init__(self, padding, value: float) -> None:
        super().__init__(padding, value)


class ConstantPad2d(ConstantPad1d):
    """Pad the last 2 dims with ``value``."""

    _nd = 2


class ConstantPad3d(ConstantPad1d):
    """Pad the last 3 dims with ``value``."""

    _nd = 3


class ZeroPad1d(_PadNd):
    """Pad the last dim with zeros."""

    _nd = 1

    def __init__(self, padding) -> None:
        super().__init__(padding, 0.0)


class ZeroPad2d(ZeroPad1d):
    """Pad the last 2 dims with zeros."""

    _nd = 2


class ZeroPad3d(ZeroPad1d):
    """Pad the last 3 dims with zeros."""

    _nd = 3
