"""The one switch point for compiled elementwise kernels: NumPy, or numba's fused loops.

An elementwise update such as Adam's reads and writes five arrays; NumPy spends one pass over
memory per ufunc (about a dozen for Adam). A compiled loop does the whole update in one pass,
split over the cores. Every kernel (a :class:`Kernel`) has a NumPy version, always complete and
tested; the compiled one is its twin in ``numba_kernels.py``, with the same arguments.

Which one runs is decided here and nowhere else:

- ``BACKPROP_KERNELS=numpy``: always NumPy.
- ``BACKPROP_KERNELS=numba``: numba; an ImportError on first use if it is not installed.
- unset (or ``auto``): numba when it can be imported (the ``full`` extra installs it), else NumPy.

:func:`set_kernels` changes the choice at run time (the tests run on both paths). numba is imported
on the first kernel call, never by ``import backprop``. Its loops are compiled once per dtype and
cached on disk (``cache=True``, in ``__pycache__`` beside ``numba_kernels.py``, or numba's user
cache when that is read-only). A parameter or state array that is not C-contiguous takes the NumPy
path (a flat copy of it would not be written back).

Measured (numba 0.68.1, NumPy 2.4, PyTorch 2.13 CPU in a separate process, 2 shared cores of a
loaded machine, so medians of 300 steps and of 3+ runs; one step of the 978,442 float32 parameters
of the ``sgd``/``adam`` workloads in ``benchmarks/workloads.py``, 8 tensors):

=================  ==========  ==========  ==========================
step               numba       NumPy       torch (foreach=False/True)
=================  ==========  ==========  ==========================
SGD momentum, 1t   0.58 ms     1.16 ms     0.93 / 0.96 ms
Adam, 1t           0.81 ms     3.15 ms     2.71 / 2.30 ms
SGD momentum, 2t   0.34-0.37   1.18-1.30   0.49 / 0.58-0.61 ms
Adam, 2t           0.50 ms     2.2-2.8     1.43-1.57 / 1.41-1.48 ms
=================  ==========  ==========  ==========================

First use: importing numba ~0.3 s; compiling one kernel for one dtype ~0.8-1.0 s the first time
(SGD momentum 0.99 s, Adam 0.83 s); from the on-disk cache, later processes take ~10 ms per
kernel on top of the import (0.31 s for the first step, numba's import included). The raw SGD
momentum loop on 978k floats takes 0.23 ms on 2 threads, 0.43 ms on 1; the rest of a step is the
Python around 8 parameters (~15 us each).

Threads: :func:`set_num_threads` (called by ``backprop.set_num_threads``, which sets BLAS's too)
sets how many threads an elementwise kernel may use, on either path; numba's thread count is set
to it before each launch (numba's setting is per calling thread). Kernels and BLAS run in turn,
never at once. numba's usual threading layer, GNU OpenMP, keeps its workers spinning after a
kernel; by default long enough to take the cores from the next forward pass's BLAS threads
(measured: 5 GEMMs right after a step took 5.1 ms instead of 1.4). So unless ``OMP_WAIT_POLICY``
or ``GOMP_SPINCOUNT`` is set, ``GOMP_SPINCOUNT=10000`` is set before numba starts its threads:
GEMMs after a step then take ~1.5 ms, and launches stay cheap (~2.5 us for a small array;
``OMP_WAIT_POLICY=PASSIVE`` costs ~70 us per launch). numba launches hold a lock (numba's
workqueue layer aborts on concurrent launches). GNU OpenMP also aborts a forked child that starts
a parallel region once its parent has: a forked child (a DataLoader worker) of a process that ran
numba kernels uses the NumPy kernels. The count defaults to the CPUs this process may run on,
capped by ``OMP_NUM_THREADS`` and by 8 (the updates are memory-bound: more threads only contend
for bandwidth).
"""

from __future__ import annotations

import inspect
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from types import ModuleType

import numpy as np

from ..threads import BLAS_WORKERS_SPIN

__all__ = [
    "Kernel",
    "Scratch",
    "launch",
    "fused_kernels_enabled",
    "flat_alike",
    "kernels_in_use",
    "set_kernels",
    "get_num_threads",
    "set_num_threads",
]

_CHOICES = ("numpy", "numba")
_MAX_THREADS = 8

_lock = threading.Lock()
_choice: str | None = None  # "numpy" or "numba", once decided
_numba_kernels: ModuleType | None = None  # backend.numba_kernels, once imported
_num_threads: int | None = None
_forked = False  # a forked child of a process that ran numba's threads: NumPy from then on


# --------------------------------------------------------------------------- which kernels
def _from_env() -> str:
    value = os.environ.get("BACKPROP_KERNELS", "auto").strip().lower() or "auto"
    if value not in (*_CHOICES, "auto"):
        raise ValueError(f"BACKPROP_KERNELS must be 'numpy', 'numba' or 'auto', got {value!r}")
    if value == "auto":
        import importlib.util

        return "numba" if importlib.util.find_spec("numba") is not None else "numpy"
    return value


def kernels_in_use() -> str:
    """``"numba"`` or ``"numpy"``: which implementation the elementwise kernels run now."""
    global _choice
    if _choice is None:
        _choice = _from_env()
    return "numpy" if _forked else _choice


def fused_kernels_enabled() -> bool:
    """Whether elementwise kernels run as compiled, multi-threaded numba loops."""
    return kernels_in_use() == "numba"


def flat_alike(*arrays: np.ndarray) -> list[np.ndarray] | None:
    """Flat views of ``arrays`` in their memory order, for an elementwise kernel that walks them
    together: a list when all are NumPy arrays of one shape and one set of strides that fill
    their memory without gaps (C order, or a permutation of it such as a conv output's view of
    (C, H, W, N) memory), else None (the caller runs its NumPy code).
    """
    first = arrays[0]
    for a in arrays:
        if type(a) is not np.ndarray or a.shape != first.shape or a.strides != first.strides:
            return None
    order = sorted(range(first.ndim), key=lambda i: -abs(first.strides[i]))  # outermost first
    dense = [a.transpose(order) for a in arrays]
    if not dense[0].flags.c_contiguous:
        return None
    return [a.reshape(-1) for a in dense]


def set_kernels(name: str | None) -> str:
    """Choose the kernels from now on: ``"numpy"``, ``"numba"``, or None (``BACKPROP_KERNELS``,
    else numba when installed). Returns the previous choice, so that it can be restored.

    Raises:
        ValueError: for another name.
        ImportError: for ``"numba"`` when numba is not installed.
    """
    global _choice
    if name is not None and name not in _CHOICES:
        raise ValueError(f"set_kernels: expected 'numpy', 'numba' or None, got {name!r}")
    previous = kernels_in_use()
    new = _from_env() if name is None else name
    if new == "numba":
        _load_numba()  # fail here, where the choice is made, rather than in an optimiser step
    _choice = new
    return previous


def _load_numba() -> ModuleType:
    """Import the compiled kernels (and numba) on first use."""
    global _numba_kernels
    if _numba_kernels is None:
        with _lock:
            if _numba_kernels is None:
                if "OMP_WAIT_POLICY" not in os.environ:
                    # GNU OpenMP (numba's usual threading layer) keeps its workers spinning after
                    # a kernel for ~300k iterations: long enough to take the cores from the BLAS
                    # threads of the next forward pass (measured: 5 GEMMs after an SGD step took
                    # 3.7x as long). 10k spins still covers the launches of one optimiser step.
                    # Read once, when numba starts its threads.
                    os.environ.setdefault("GOMP_SPINCOUNT", "10000")
                try:
                    from . import numba_kernels
                except ImportError as e:
                    raise ImportError(
                        f"backprop: the numba kernels need numba (pip install numba, or "
                        f"backprop[full]); set BACKPROP_KERNELS=numpy to use NumPy ({e})"
                    ) from e
                _numba_kernels = numba_kernels
    return _numba_kernels


# --------------------------------------------------------------------------- threads
def _default_threads() -> int:
    try:
        n = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        n = os.cpu_count() or 1
    env = os.environ.get("OMP_NUM_THREADS", "")
    if env.isdigit() and int(env) > 0:
        n = min(n, int(env))
    return max(1, min(n, _MAX_THREADS))


def get_num_threads() -> int:
    """How many threads one elementwise kernel call may use (both paths)."""
    global _num_threads
    if _num_threads is None:
        _num_threads = _default_threads()
    return _num_threads


def set_num_threads(n: int) -> None:
    """Let elementwise kernels use ``n`` threads (numba's threads follow from their next launch).

    Args:
        n: a positive number of threads.
    """
    global _num_threads
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ValueError(
            f"set_num_threads: the number of threads must be a positive int, got {n!r}"
        )
    _num_threads = n


def _after_fork_in_child() -> None:
    # GNU OpenMP (numba's usual threading layer) cannot run in a forked child once the parent
    # started its threads: it would hang. The child keeps working, on the NumPy kernels.
    global _forked
    if _numba_kernels is not None and _numba_kernels.launched():
        _forked = True


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


# ------------------------------------------------------------------- the NumPy path's threads
# A parameter smaller than this (in elements) is updated by one thread: handing a slice to another
# thread costs about as much as updating 64k floats with NumPy.
_MIN_SPLIT = 1 << 16
# Slices start on multiples of this many elements, so that every slice stays SIMD-aligned.
_ALIGN = 64

_pool: ThreadPoolExecutor | None = None
_pool_size = 0


def _get_pool(workers: int) -> ThreadPoolExecutor:
    global _pool, _pool_size
    with _lock:
        if _pool is None or _pool_size != workers - 1:
            if _pool is not None:
                _pool.shutdown(wait=False)
            _pool = ThreadPoolExecutor(
                max_workers=workers - 1, thread_name_prefix="backprop-kernel"
            )
            _pool_size = workers - 1
        return _pool


def _forget_pool_after_fork() -> None:
    # A forked child (a DataLoader worker) inherits the pool object but not its threads.
    global _pool
    _pool = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool_after_fork)


class Scratch:
    """Reusable scratch memory for the NumPy kernels: a growable flat buffer per worker and dtype.

    An optimiser owns one, so that a step allocates nothing after the first and the memory goes
    with the optimiser.
    """

    def __init__(self):
        self._buffers: list[dict[np.dtype, np.ndarray]] = []

    def take(self, worker: int, dtype: np.dtype, n_tmp: int, shape: tuple) -> tuple:
        """``n_tmp`` arrays of ``shape`` and ``dtype``, private to ``worker``."""
        if n_tmp == 0:
            return ()
        while len(self._buffers) <= worker:
            self._buffers.append({})
        size = int(np.prod(shape))
        buf = self._buffers[worker].get(dtype)
        if buf is None or buf.size < n_tmp * size:
            buf = self._buffers[worker][dtype] = np.empty(n_tmp * size, dtype)
        return tuple(buf[i * size : (i + 1) * size].reshape(shape) for i in range(n_tmp))


# --------------------------------------------------------------------------- kernels
class Kernel:
    """An in-place elementwise update with a NumPy implementation and, optionally, a fused twin.

    Call it as ``kernel(p, g, *state, scratch=..., **scalars)``: the arrays are the parameter, its
    gradient and the state arrays the update reads and writes (None for an absent one), all of
    one shape; the scalars are keyword arguments named as in the update's formula.

    ``numpy_fn(p, g, *state, tmp=(...), **scalars)`` is the reference: it works on arrays of any
    shape (it is handed slices when a large parameter is split over threads), with ``n_tmp``
    scratch arrays in ``tmp``. ``numba_kernels.<name>(p, g, *state, *scalars)`` is its fused twin,
    called with flat C-contiguous arrays and the scalars positionally, in ``numpy_fn``'s keyword
    order (an absent state array becomes an empty array).

    Args:
        numpy_fn: the NumPy implementation; its keyword-only parameters but ``tmp`` are the
            kernel's scalars.
        n_tmp: how many scratch arrays ``numpy_fn`` needs.
        name: the fused twin's name in ``numba_kernels``, or None if it has none.
    """

    __slots__ = ("name", "numpy_fn", "n_tmp", "scalar_names")

    def __init__(self, numpy_fn: Callable, n_tmp: int, name: str | None = None):
        self.name = name
        self.numpy_fn = numpy_fn
        self.n_tmp = n_tmp
        params = inspect.signature(numpy_fn).parameters.values()
        self.scalar_names = tuple(
            p.name for p in params if p.kind is p.KEYWORD_ONLY and p.name != "tmp"
        )

    def __call__(self, *arrays: np.ndarray | None, scratch: Scratch, **scalars) -> None:
        """Run the update in place, compiled when the numba kernels are in use."""
        p = arrays[0]
        if (
            self.name is not None
            and fused_kernels_enabled()
            and p.flags.c_contiguous
            and all(a is None or a.flags.c_contiguous for a in arrays[2:])
        ):
            self._run_fused(arrays, scalars)
        else:
            self._run_numpy(arrays, scalars, scratch)

    def fused(self) -> Callable | None:
        """The compiled twin when the numba kernels are in use (importing numba the first time),
        else None."""
        if self.name is None or not fused_kernels_enabled():
            return None
        return getattr(_load_numba(), self.name)

    # ------------------------------------------------------------- the two paths
    def _run_fused(self, arrays, scalars) -> None:
        nk = _load_numba()
        fn = getattr(nk, self.name)
        empty = _empty(arrays[0].dtype)
        # reshape(-1): views of the C-contiguous parameter and state; a copy of a non-contiguous
        # gradient, which is only read.
        flat = [empty if a is None else a.reshape(-1) for a in arrays]
        args = [scalars[k] for k in self.scalar_names]
        _launch(nk, fn, *flat, *args)

    def _run_numpy(self, arrays, scalars, scratch: Scratch) -> None:
        p = arrays[0]
        n = p.size
        workers = get_num_threads()
        contiguous = p.flags.c_contiguous and all(
            a is None or a.flags.c_contiguous for a in arrays[2:]
        )
        if workers == 1 or n < _MIN_SPLIT or not contiguous:
            tmp = scratch.take(0, p.dtype, self.n_tmp, p.shape)
            self.numpy_fn(*arrays, tmp=tmp, **scalars)
            return
        flat = [None if a is None else a.reshape(-1) for a in arrays]
        bounds = [min(n, (n * w // workers) // _ALIGN * _ALIGN) for w in range(workers)] + [n]
        pieces = [
            (w, [None if a is None else a[bounds[w] : bounds[w + 1]] for a in flat])
            for w in range(workers)
            if bounds[w + 1] > bounds[w]
        ]

        def run(w, piece):
            tmp = scratch.take(w, p.dtype, self.n_tmp, piece[0].shape)
            self.numpy_fn(*piece, tmp=tmp, **scalars)

        pool = _get_pool(workers)
        futures = [pool.submit(run, w, piece) for w, piece in pieces[1:]]
        try:
            run(*pieces[0])
        finally:
            for f in futures:
                f.result()

    def __repr__(self) -> str:
        return f"Kernel({self.numpy_fn.__qualname__}, n_tmp={self.n_tmp}, name={self.name!r})"


_launch_lock = threading.Lock()


def _launch(nk: ModuleType, fn: Callable, *args):
    # numba's thread count is per calling thread, and one launch at a time: with GNU OpenMP the
    # workers are shared; with the workqueue layer a second launch would abort.
    with _launch_lock:
        # One thread while OpenBLAS's workers may still spin on the other cores after a product
        # (NumPy imported before backprop: see backprop.threads): a second thread would wait.
        want = 1 if BLAS_WORKERS_SPIN else min(get_num_threads(), nk.MAX_THREADS)
        if nk.numba.get_num_threads() != want:
            nk.numba.set_num_threads(want)
        result = fn(*args)
    if not nk.launched():
        nk.mark_launched()
    return result


def launch(name: str, *args):
    """Run the compiled op kernel ``numba_kernels.<name>(*args)`` on the threads set by
    :func:`set_num_threads`. An op calls it only while :func:`fused_kernels_enabled`, and keeps
    its NumPy code as the other branch."""
    nk = _load_numba()
    return _launch(nk, getattr(nk, name), *args)


_EMPTY: dict[np.dtype, np.ndarray] = {}


def _empty(dtype: np.dtype) -> np.ndarray:
    e = _EMPTY.get(dtype)
    if e is None:
        e = _EMPTY[dtype] = np.empty(0, dtype)
    return e


def serial(name: str) -> Callable:
    """The compiled serial kernel ``numba_kernels.<name>`` itself, for an op that calls a small
    kernel many times in a loop (a recurrent layer's time steps): it runs on the calling thread,
    so it needs neither :func:`launch`'s lock nor its thread setting. Only while
    :func:`fused_kernels_enabled`; the op keeps its NumPy twin as the other branch."""
    return getattr(_load_numba(), name)
