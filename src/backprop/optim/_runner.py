"""How optimiser updates run: per-parameter jobs, split across threads, with reused scratch memory.

An optimiser turns each parameter into a :class:`_Job`: a kernel (a function of same-shaped arrays
that updates some of them in place), the arrays (parameter first, gradient second, then state) and
its scalars. Elementwise kernels do not care how an array is cut, so :func:`_run` splits a large
contiguous parameter into slices that run on a few threads at once (NumPy releases the GIL inside
its ufuncs) and runs small ones whole. Kernels write into per-thread scratch buffers rather than
allocating temporaries, so a step allocates nothing after the first one.

The thread count defaults to the CPUs this process may use (capped by ``OMP_NUM_THREADS``);
``backprop.set_num_threads(n)`` sets it together with the BLAS threads.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np

__all__: list[str] = []  # internal to backprop.optim

# A parameter smaller than this (in elements) is updated by one thread: handing a slice to another
# thread costs about as much as updating 64k floats.
_MIN_SPLIT = 1 << 16
# Slices start on multiples of this many elements, so that every slice stays SIMD-aligned.
_ALIGN = 64
# The update is memory-bound: past a handful of threads, more only contend for bandwidth.
_MAX_THREADS = 8

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()
_num_threads: int | None = None


def _default_threads() -> int:
    try:
        n = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        n = os.cpu_count() or 1
    env = os.environ.get("OMP_NUM_THREADS", "")
    if env.isdigit() and int(env) > 0:
        n = min(n, int(env))
    return max(1, min(n, _MAX_THREADS))


def _get_num_threads() -> int:
    """The number of threads an optimiser step uses for large parameters.

    Defaults to the CPUs this process may run on (capped by ``OMP_NUM_THREADS`` when set, and by 8).
    """
    global _num_threads
    if _num_threads is None:
        _num_threads = _default_threads()
    return _num_threads


def _set_num_threads(n: int) -> None:
    """Set the number of threads an optimiser step uses (1: every update on the caller's thread).

    Args:
        n: a positive number of threads.
    """
    global _num_threads, _pool
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ValueError(f"optim: the number of threads must be a positive int, got {n!r}")
    with _pool_lock:
        _num_threads = n
        if _pool is not None:
            _pool.shutdown(wait=True)
            _pool = None


def _get_pool() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(
                max_workers=_get_num_threads() - 1, thread_name_prefix="backprop-optim"
            )
        return _pool


def _forget_pool_after_fork() -> None:
    # A forked child (a DataLoader worker) inherits the pool object but not its threads.
    global _pool
    _pool = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool_after_fork)


class _Job:
    """One parameter's update: ``kernel(arrays, tmps, consts)`` on same-shaped arrays.

    ``arrays`` lists the parameter first, then the gradient, then state arrays (None allowed);
    ``n_tmp`` scratch arrays of the same shape are handed to the kernel in ``tmps``.
    """

    __slots__ = ("kernel", "arrays", "n_tmp", "consts")

    def __init__(self, kernel: Callable, arrays: tuple, n_tmp: int, consts: tuple):
        self.kernel = kernel
        self.arrays = arrays
        self.n_tmp = n_tmp
        self.consts = consts


class _Scratch:
    """A growable flat buffer per dtype, carved into the scratch arrays a kernel asks for."""

    def __init__(self):
        self.buffers: dict[np.dtype, np.ndarray] = {}

    def take(self, dtype: np.dtype, n_tmp: int, shape: tuple, size: int) -> tuple:
        if n_tmp == 0:
            return ()
        buf = self.buffers.get(dtype)
        if buf is None or buf.size < n_tmp * size:
            buf = self.buffers[dtype] = np.empty(n_tmp * size, dtype)
        return tuple(buf[i * size : (i + 1) * size].reshape(shape) for i in range(n_tmp))


def _flat(a: np.ndarray | None) -> np.ndarray | None:
    # The gradient may be a non-contiguous array; reshape then copies it, which is harmless as
    # kernels only read it. Parameters and state arrays are C-contiguous here: reshape gives views.
    return None if a is None else a.reshape(-1)


def _run(jobs: list[_Job], scratch: list[_Scratch]) -> None:
    """Run the jobs' kernels, splitting large contiguous parameters across threads."""
    workers = len(scratch)
    if workers > 1 and sum(job.arrays[0].size for job in jobs) < _MIN_SPLIT:
        workers = 1  # a small model: waking another thread would cost more than it saves
    plans: list[list] = [[] for _ in range(workers)]
    load = [0] * workers
    for job in jobs:
        p = job.arrays[0]
        n = p.size
        contiguous = p.flags.c_contiguous and all(
            a is None or a.flags.c_contiguous for a in job.arrays[2:]
        )
        if workers > 1 and n >= _MIN_SPLIT and contiguous:
            arrays = tuple(_flat(a) for a in job.arrays)
            bounds = [min(n, (n * w // workers) // _ALIGN * _ALIGN) for w in range(workers)] + [n]
            for w in range(workers):
                lo, hi = bounds[w], bounds[w + 1]
                if hi > lo:
                    piece = tuple(None if a is None else a[lo:hi] for a in arrays)
                    plans[w].append((job, piece))
                    load[w] += hi - lo
        else:
            w = load.index(min(load))
            plans[w].append((job, job.arrays))
            load[w] += n
    if workers == 1 or all(not plan for plan in plans[1:]):
        _run_plan(plans[0], scratch[0])
        return
    pool = _get_pool()
    futures = [pool.submit(_run_plan, plans[w], scratch[w]) for w in range(1, workers) if plans[w]]
    try:
        _run_plan(plans[0], scratch[0])
    finally:
        for f in futures:
            f.result()


def _run_plan(plan: list, scratch: _Scratch) -> None:
    for job, arrays in plan:
        p = arrays[0]
        tmps = scratch.take(p.dtype, job.n_tmp, p.shape, p.size)
        job.kernel(arrays, tmps, job.consts)
