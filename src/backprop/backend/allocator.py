"""glibc malloc's two thresholds, set once when backprop is imported, so that the arrays of one
training step reuse the memory of the last instead of faulting in fresh pages.

NumPy takes array memory from ``malloc``. glibc serves a request of ``M_MMAP_THRESHOLD`` bytes or
more with its own ``mmap`` (returned to the kernel on ``free``), the rest from the heap, and gives
the heap's free top back to the kernel once it exceeds ``M_TRIM_THRESHOLD``. Both start low (128
KiB) and adapt: freeing an mmapped block raises the first to that block's size and the second to
twice that, up to 32 and 64 MiB. A training step allocates and frees the same few-MiB arrays each
time, and that adaptation lags it: an array the size of the largest block freed so far is still
mmapped (the test is ``>=``), and the heap is trimmed whenever a step frees more than twice it.
Every page of such memory is then faulted in again (zeroed by the kernel) on the next step.

Measured (2 shared cores, CPU time per training step, 1 thread): ``nn.LSTM(64, 128)`` over 50
steps, batch 32, forward + backward + SGD, took 2,972 page faults and 22.7-25.8 ms (7-8 ms of it
in the kernel), and 0 faults and 13.4-15.6 ms with the thresholds below; the small GPT of
``benchmarks/bench_gpt.py`` took 10,930 faults a step, ~40 with them. The MLP, LeNet-5, conv and
batch-norm workloads of ``benchmarks/workloads.py`` fault 0-1 times a step either way (their
arrays stay within what glibc adapts to) and time the same.

The thresholds set are the ones glibc's adaptation ends at (``DEFAULT_MMAP_THRESHOLD_MAX`` on a
64-bit system, and twice it), set from the start instead of after the first 32 MiB block is
freed: requests under 32 MiB come from the heap, and up to 64 MiB of free heap top stays with the
process (resident, reused by the next step) instead of going back to the kernel. The peak
resident memory (``VmHWM``) is unchanged: memory kept is memory that was in use.

Nothing is changed where any of these hold: not glibc (macOS, Windows, musl), any ``MALLOC_*``
environment variable or a ``glibc.malloc`` tunable in ``GLIBC_TUNABLES`` is set (the user chose),
or ``BACKPROP_MALLOC=system``.
"""

from __future__ import annotations

import os

__all__ = ["MMAP_THRESHOLD", "TRIM_THRESHOLD", "configure", "configured"]

MMAP_THRESHOLD = 32 << 20  # glibc's DEFAULT_MMAP_THRESHOLD_MAX for 64-bit systems
TRIM_THRESHOLD = 2 * MMAP_THRESHOLD  # glibc raises the trim threshold to twice the mmap one
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # mallopt's parameter numbers (malloc.h)

_configured = False


def _user_chose() -> str | None:
    """Why the thresholds are left alone, or None."""
    if os.environ.get("BACKPROP_MALLOC", "").strip().lower() == "system":
        return "BACKPROP_MALLOC=system"
    for name in os.environ:
        if name.startswith("MALLOC_"):
            return f"{name} is set"
    if "glibc.malloc" in os.environ.get("GLIBC_TUNABLES", ""):
        return "GLIBC_TUNABLES sets glibc.malloc"
    return None


def configure() -> bool:
    """Set the two thresholds once (see the module's docstring); True when they were set, now or
    by an earlier call. Where they cannot apply, malloc keeps its own settings.

    Raises:
        ValueError: for a ``BACKPROP_MALLOC`` other than ``tuned`` (the default) or ``system``.
    """
    global _configured
    if _configured:
        return True
    value = os.environ.get("BACKPROP_MALLOC", "").strip().lower()
    if value not in ("", "system", "tuned"):
        raise ValueError(f"BACKPROP_MALLOC must be 'tuned' or 'system', got {value!r}")
    if _user_chose() is not None:
        return False
    try:
        if not os.confstr("CS_GNU_LIBC_VERSION").startswith("glibc"):
            return False
    except (AttributeError, ValueError, OSError):  # not a glibc system
        return False
    import ctypes

    try:
        libc = ctypes.CDLL("libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # pragma: no cover - glibc without libc.so.6
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    ok = mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1
    ok = mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1 and ok
    _configured = ok
    return ok


def configured() -> bool:
    """Whether :func:`configure` set the thresholds in this process."""
    return _configured
