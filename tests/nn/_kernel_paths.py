"""Helpers of the compiled-kernel tests: a conv output's memory layout, and running code on one
kernel path (``backend.kernels.set_kernels``) with the previous choice restored after."""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np

from backprop.backend import kernels


def chwn(a):
    """An (N, C, H, W) view of (C, H, W, N) memory holding ``a``: a conv output's layout."""
    return np.ascontiguousarray(a.transpose(1, 2, 3, 0)).transpose(3, 0, 1, 2)


@contextmanager
def kernel_path(name: str):
    """Run the body with the ``name`` kernels ("numba" or "numpy"), then restore the choice."""
    previous = kernels.set_kernels(name)
    try:
        yield
    finally:
        kernels.set_kernels(previous)
