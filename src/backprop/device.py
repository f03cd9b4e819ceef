"""``backprop.device`` and ``backprop.cuda``: PyTorch's device vocabulary, for a CPU library.

NumPy arrays live in the CPU's memory, so there is one device, ``cpu``. Code written for PyTorch
(``x.to(device)``, ``model.to("cpu")``, ``torch.device("cuda" if torch.cuda.is_available()
else "cpu")``) runs unchanged; asking for another device is an error that says so.
"""

from __future__ import annotations

__all__ = ["device", "as_device", "is_available", "device_count"]


class device:
    """A device: ``device("cpu")``, ``device("cpu", 0)`` or ``device("cpu:0")``.

    Other types (``cuda``, ``mps``...) are refused with a RuntimeError: there is no GPU backend.
    """

    __slots__ = ("type", "index")

    def __init__(self, type: str | device = "cpu", index: int | None = None):
        if isinstance(type, device):
            type, index = type.type, type.index if index is None else index
        if not isinstance(type, str):
            raise TypeError(f"device: expected a string like 'cpu', got {type!r}")
        name, _, idx = type.partition(":")
        if idx:
            if index is not None:
                raise ValueError(f"device: index given twice in {type!r} and index={index}")
            if not idx.isdigit():
                raise ValueError(f"device: invalid device string {type!r}")
            index = int(idx)
        if name != "cpu":
            raise RuntimeError(
                f"device: backprop runs on the CPU only (NumPy arrays), got {type!r}; use 'cpu'"
            )
        if index is not None and (not isinstance(index, int) or index < 0):
            raise ValueError(f"device: index must be a non-negative int, got {index!r}")
        self.type = name
        self.index = index

    def __repr__(self) -> str:
        idx = "" if self.index is None else f", index={self.index}"
        return f"device(type='{self.type}'{idx})"

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other) -> bool:
        if isinstance(other, str):
            try:
                other = device(other)
            except (RuntimeError, ValueError):
                return False
        return isinstance(other, device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self) -> int:
        return hash((self.type, self.index))


CPU = device("cpu")


def as_device(d, where: str) -> device:
    """``d`` (a device or a string) as a device, with an error naming ``where``."""
    try:
        return d if isinstance(d, device) else device(d)
    except (TypeError, ValueError, RuntimeError) as e:
        raise type(e)(f"{where}: {e}") from None


def is_available() -> bool:
    """Whether a CUDA device can be used: never, yet (no GPU backend)."""
    return False


def device_count() -> int:
    return 0
