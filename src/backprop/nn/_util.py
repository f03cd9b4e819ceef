"""Helpers shared by the layers: parameter dtype and size validation."""

from __future__ import annotations

import numpy as np


def factory_dtype(dtype, layer: str) -> np.dtype:
    """The dtype of a layer's parameters: float32 by default, any floating dtype on request."""
    dt = np.dtype(np.float32 if dtype is None else dtype)
    if not np.issubdtype(dt, np.floating):
        raise TypeError(f"{layer}: dtype must be floating point, got {dt}")
    return dt


def check_size(value, name: str, layer: str, minimum: int = 0) -> int:
    """An integer hyper-parameter >= ``minimum`` (bools rejected), else ValueError naming it."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{layer}: {name} must be an integer >= {minimum}, got {value!r}")
    return int(value)
