"""Deprecated alias: the optimisers' kernels and their thread count live in
``backprop.backend.kernels`` now. Kept for ``benchmarks/bench_optim.py``; new code calls
``backprop.set_num_threads``."""

from __future__ import annotations

from ..backend.kernels import get_num_threads as _get_num_threads
from ..backend.kernels import set_num_threads as _set_num_threads

__all__ = ["_get_num_threads", "_set_num_threads"]
