"""``backprop.cuda``: what PyTorch code asks of CUDA, answered for a CPU-only library (no GPU
backend yet), so that ``device = "cuda" if backprop.cuda.is_available() else "cpu"`` works."""

from __future__ import annotations

from .device import device_count, is_available

__all__ = ["is_available", "device_count", "manual_seed", "manual_seed_all"]


def manual_seed(seed: int) -> None:
    """Seed the CUDA generators: there are none, so nothing happens (as in PyTorch without a
    GPU). ``backprop.manual_seed`` seeds backprop's generator."""
    int(seed)


def manual_seed_all(seed: int) -> None:
    manual_seed(seed)
