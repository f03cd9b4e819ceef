"""The NumPy backend: the array module every op uses through ``ctx.xp``, and its BLAS threads."""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np

from . import Backend, register_backend

__all__ = ["NUMPY", "np", "one_blas_thread"]

NUMPY = Backend(name="numpy", xp=np, owns=lambda a: isinstance(a, (np.ndarray, np.generic)))
register_backend(NUMPY)

_BLAS: list | None = None  # threadpoolctl's controllers of the loaded BLAS libraries


def _blas_controllers() -> list:
    global _BLAS
    if _BLAS is None:
        try:
            from threadpoolctl import ThreadpoolController

            _BLAS = [c for c in ThreadpoolController().lib_controllers if c.user_api == "blas"]
        except Exception:  # threadpoolctl missing, or a BLAS it cannot drive: leave threads alone
            _BLAS = []
    return _BLAS


@contextmanager
def one_blas_thread():
    """Run the enclosed code with one BLAS thread, then restore the previous thread count.

    For loops of small dependent matrix products (an RNN's time steps, (32, 128) @ (128, 512)):
    splitting each one across threads gains little on an idle machine, and when another process
    holds a core every product waits for a descheduled worker thread. Measured with 2 cores under
    load: a 50-step LSTM forward+backward took 175-760 ms with 2 BLAS threads, 50 ms with one.
    Switching costs ~2 us (two calls into the BLAS library; threadpoolctl is looked up once).
    """
    ctls = _blas_controllers()
    saved = [c.num_threads for c in ctls]
    for c, n in zip(ctls, saved):
        if n != 1:
            c.set_num_threads(1)
    try:
        yield
    finally:
        for c, n in zip(ctls, saved):
            if n != 1:
                c.set_num_threads(n)
