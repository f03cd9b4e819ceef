"""What a training loop and a command line need from a multi-process job.

- :class:`ProcessGroup` (``process_group()``): the job's processes as
  :class:`~backprop.train.Trainer` uses them (``Trainer(process_group=...)``): its rank and
  world size, a sum over NumPy buffers and two small-object collectives.
- :func:`run_on_main`: run a function on rank 0 only (create a folder, read a prompt) and hand
  its result, or its exception, to every rank, so all of them carry on (or fail) together.
- :func:`abort`: end every rank of the job with an exit code (``MPI_Abort``), for an error
  found on one rank while the others may be waiting in a collective.

Each of these is called by every rank at the same point, never from inside a rank-0-only branch:
a collective that one rank skips leaves the others waiting forever.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import numpy as np

from . import _mpi

__all__ = ["ProcessGroup", "process_group", "run_on_main", "abort"]


class ProcessGroup:
    """The processes of the job (``COMM_WORLD``; a world of one without an MPI launcher).

    Attributes:
        rank: this process's index, 0 to ``world_size - 1``.
        world_size: the number of processes.

    Use :func:`process_group` to get it (it calls :func:`backprop.distributed.init`).
    """

    def __init__(self) -> None:
        from . import init, rank, world_size

        init()
        self.rank = rank()
        self.world_size = world_size()

    def all_reduce(self, array: np.ndarray, op: str = "sum") -> np.ndarray:
        """Reduce ``array`` over the ranks in place (:func:`backprop.distributed.all_reduce`)."""
        from . import all_reduce

        return all_reduce(array, op)

    def all_gather_object(self, obj) -> list:
        """Every rank's ``obj`` (picklable metadata), in rank order."""
        from . import all_gather_object

        return all_gather_object(obj)

    def broadcast_object(self, obj, src: int = 0):
        """Rank ``src``'s ``obj`` (picklable metadata) on every rank."""
        from . import broadcast_object

        return broadcast_object(obj, src)

    def __repr__(self) -> str:
        return f"ProcessGroup(rank={self.rank}, world_size={self.world_size})"


_group: ProcessGroup | None = None


def process_group() -> ProcessGroup:
    """The job's :class:`ProcessGroup` (one per process; joins the job on the first call)."""
    global _group
    if _group is None:
        _group = ProcessGroup()
    return _group


def run_on_main(fn: Callable[..., Any], *args, **kwargs) -> Any:
    """``fn(*args, **kwargs)`` run on rank 0 only; every rank gets its result, or raises the
    exception it raised (as the same type when it pickles, else a ``RuntimeError`` with its text).

    Example:
        >>> run_dir = run_on_main(make_run_dir, cfg)   # one folder, its name known to every rank
    """
    comm = _mpi.comm()
    if comm is None or comm.Get_size() == 1:
        return fn(*args, **kwargs)
    result = None
    if comm.Get_rank() == 0:
        try:
            result = ("ok", fn(*args, **kwargs))
        except Exception as e:  # handed to every rank below, then raised everywhere
            result = ("error", e)
        try:  # the object collectives pickle (mpi4py's MPI.pickle): probe it here, on rank 0,
            _mpi.mpi().pickle.dumps(result)  # or a failing bcast would leave the others waiting
        except Exception as e:  # an unpicklable result or exception: its text still travels
            what = "raised" if result[0] == "error" else "returned"
            text = f"run_on_main: {fn.__name__} {what} {result[1]!r} ({e})"
            result = ("error", RuntimeError(text))
    kind, value = comm.bcast(result, root=0)
    if kind == "error":
        raise value
    return value


def abort(code: int = 1) -> None:
    """End every rank of the job now with exit status ``code`` (``MPI_Abort``), after flushing
    this rank's output. In a world of one, ``SystemExit(code)``."""
    sys.stdout.flush()
    sys.stderr.flush()
    comm = _mpi.comm()
    if comm is None or comm.Get_size() == 1:
        raise SystemExit(code)
    comm.Abort(code)
