"""The one place that imports mpi4py, lazily: ``import backprop`` never starts MPI.

A process launched by ``mpiexec`` (MPICH's Hydra, Open MPI) or Slurm's ``srun`` is recognised
from its environment; only then is mpi4py imported and MPI initialised. A plain ``python`` run is
a world of one process, and every collective is then a no-op that returns its input.
"""

from __future__ import annotations

import os
import sys

__all__ = ["launched_by_mpi", "comm", "mpi"]

# Variables that launchers set in every rank's environment (size or rank).
_LAUNCH_VARS = (
    "PMI_SIZE",  # MPICH / Hydra, Intel MPI
    "PMIX_RANK",  # PMIx (Open MPI 5, Slurm with --mpi=pmix)
    "OMPI_COMM_WORLD_SIZE",  # Open MPI
    "MV2_COMM_WORLD_SIZE",  # MVAPICH2
)

_comm = None
_MPI = None


def launched_by_mpi() -> bool:
    """Whether this process was started by an MPI launcher (``srun`` counts when it started
    more than one task)."""
    if any(v in os.environ for v in _LAUNCH_VARS):
        return True
    return int(os.environ.get("SLURM_NTASKS", "1") or 1) > 1 and "SLURM_PROCID" in os.environ


def mpi():
    """The ``mpi4py.MPI`` module (importing it initialises MPI)."""
    global _MPI
    if _MPI is None:
        try:
            from mpi4py import MPI
        except ImportError as e:
            raise ImportError(
                "backprop.distributed: this process was launched by an MPI launcher but mpi4py "
                "is not installed; install the extra: pip install 'backprop[distributed]' "
                f"({e})"
            ) from None
        _MPI = MPI
    return _MPI


def comm():
    """COMM_WORLD, or None in a single-process run."""
    global _comm
    if _comm is None and launched_by_mpi():
        _comm = mpi().COMM_WORLD
    return _comm


def install_abort_hook() -> None:
    """Make an uncaught exception on any rank abort the whole job (MPI_Abort) instead of
    leaving the other ranks waiting forever in their next collective (ChainerMN does the same).
    The exception is printed first, with the rank that raised it."""
    c = comm()
    if c is None or c.Get_size() == 1 or getattr(sys.excepthook, "_backprop_abort", False):
        return
    previous = sys.excepthook

    def hook(kind, value, tb):
        if previous is sys.__excepthook__:
            # One write: when several ranks fail at once, the first MPI_Abort kills the others
            # mid-print; a traceback written piece by piece would be cut before its message.
            import traceback

            text = "".join(traceback.format_exception(kind, value, tb))
            sys.stderr.write(
                f"backprop.distributed: uncaught exception on rank {c.Get_rank()}:\n{text}"
            )
        else:
            sys.stderr.write(f"backprop.distributed: uncaught exception on rank {c.Get_rank()}:\n")
            previous(kind, value, tb)
        sys.stderr.flush()
        sys.stdout.flush()
        c.Abort(1)

    hook._backprop_abort = True
    sys.excepthook = hook
