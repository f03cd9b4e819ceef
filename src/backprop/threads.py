"""Thread counts: NumPy's BLAS threads, the one setting besides the seed that can change results.

A matrix product summed by 1 thread or by 4 may round differently, so bit-identical runs need the
same thread count (and the same BLAS build). ``set_num_threads`` uses threadpoolctl (installed with
the ``full`` extra, and with scikit-learn), imported only when called.

One count governs every pool of threads backprop runs: BLAS, the NumPy kernels' slices of large
parameters, and numba's fused kernels (``backend.kernels``). They run in turn on the calling
thread's behalf, never at once, so ``n`` threads busy at most; numba's OpenMP workers also stop
spinning soon after a kernel (see ``backend.kernels``) so as not to take the BLAS threads' cores.
"""

from __future__ import annotations

import os
import sys

__all__ = ["set_num_threads", "get_num_threads", "BLAS_WORKERS_SPIN"]

# OpenBLAS's idle workers spin for 2^28 cycles (~0.1 s) after every matrix product, on the cores
# that the next compiled kernel's threads (numba's OpenMP workers) need: measured on 2 cores, the
# AdamW step of a small GPT took 29 ms right after backward instead of 1.6 ms, and a
# multi-threaded launch waited ~0.5 ms for its worker. OPENBLAS_THREAD_TIMEOUT=4 (16 cycles, the
# minimum) puts them to sleep at once; no cost to the products was measurable (10 MLP-sized
# GEMMs back to back, within the noise). OpenBLAS reads it when NumPy loads it, so it can be set
# here only while NumPy is not imported yet (``import backprop`` first, or export it yourself).
# Otherwise the workers may spin, and the compiled kernels run on one thread (BLAS_WORKERS_SPIN).
if "numpy" not in sys.modules:
    os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")
BLAS_WORKERS_SPIN = int(os.environ.get("OPENBLAS_THREAD_TIMEOUT", "28") or 28) > 16

_limiter = None


def _threadpoolctl():
    try:
        import threadpoolctl
    except ImportError:  # pragma: no cover - installed with the full and dev extras
        raise ImportError(
            "set_num_threads needs threadpoolctl: pip install threadpoolctl (or backprop[full]); "
            "alternatively set OMP_NUM_THREADS before starting Python"
        ) from None
    return threadpoolctl


def set_num_threads(n: int) -> None:
    """Use ``n`` threads from now on (like ``torch.set_num_threads``): for NumPy's BLAS (matrix
    products) and for the elementwise kernels (NumPy's threads and numba's)."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"set_num_threads: n must be a positive int, got {n!r}")
    global _limiter
    _limiter = _threadpoolctl().threadpool_limits(limits=n, user_api="blas")
    from .backend import kernels

    kernels.set_num_threads(n)


def get_num_threads() -> int:
    """The number of threads NumPy's BLAS uses now."""
    info = [i for i in _threadpoolctl().threadpool_info() if i.get("user_api") == "blas"]
    return int(info[0]["num_threads"]) if info else 1
