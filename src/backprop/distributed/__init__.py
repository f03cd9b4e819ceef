"""Data-parallel training over MPI (mpi4py): the process group, ``DistributedDataParallel`` and
``DistributedSampler``.

Launch the same script once per process, with ``mpiexec -n 4 python train.py`` (or Slurm's
``srun``); in the script::

    import backprop.distributed as dist
    dist.init()
    model = dist.DistributedDataParallel(model)           # same start on every rank
    sampler = dist.DistributedSampler(train_set)           # a shard per rank
    loader = DataLoader(train_set, batch_size=64, sampler=sampler)
    for epoch in range(epochs):
        sampler.set_epoch(epoch)
        for x, y in loader:
            opt.zero_grad(); loss_fn(model(x), y).backward(); opt.step()  # grads averaged

A plain ``python`` run is a world of one process: everything works and nothing communicates.
Collectives work on the arrays' buffers (MPI ``Allreduce``/``Bcast``, in place), never by
pickling tensors. After ``init()``, an uncaught exception on any rank aborts the whole job
(``MPI_Abort``) instead of leaving the others hanging.
"""

from __future__ import annotations

import os

import numpy as np

from . import _mpi

__all__ = [
    "init", "is_initialized", "world_size", "rank", "local_rank", "is_main_process", "barrier",
    "all_reduce", "broadcast", "all_gather_object", "broadcast_object",
    "DistributedDataParallel", "DistributedSampler",
    "ProcessGroup", "process_group", "run_on_main", "abort",
]  # fmt: skip

_initialized = False
_OPS = ("sum", "mean", "max", "min")


def init() -> None:
    """Join the job: connect to the other ranks when launched by ``mpiexec``/``srun`` (a single
    process otherwise), and install the abort-on-exception hook. Calling it again is harmless."""
    global _initialized
    _mpi.comm()
    _mpi.install_abort_hook()
    _initialized = True


def is_initialized() -> bool:
    return _initialized


def world_size() -> int:
    """The number of processes in the job (1 without an MPI launcher)."""
    c = _mpi.comm()
    return 1 if c is None else c.Get_size()


def rank() -> int:
    """This process's index in the job, 0 to ``world_size() - 1``."""
    c = _mpi.comm()
    return 0 if c is None else c.Get_rank()


def local_rank() -> int:
    """This process's index among the ranks on its machine."""
    for var in ("MPI_LOCALRANKID", "OMPI_COMM_WORLD_LOCAL_RANK", "MV2_COMM_WORLD_LOCAL_RANK",
                "SLURM_LOCALID"):  # fmt: skip
        if var in os.environ:
            return int(os.environ[var])
    c = _mpi.comm()
    if c is None:
        return 0
    node = c.Split_type(_mpi.mpi().COMM_TYPE_SHARED)
    try:
        return node.Get_rank()
    finally:
        node.Free()


def is_main_process() -> bool:
    """Rank 0: the one that prints, logs and writes files."""
    return rank() == 0


def barrier() -> None:
    """Wait until every rank got here."""
    c = _mpi.comm()
    if c is not None:
        c.Barrier()


def _buffer(x, what: str) -> np.ndarray:
    from ..tensor import Tensor

    a = x.data if isinstance(x, Tensor) else x
    if not isinstance(a, np.ndarray):
        raise TypeError(f"{what}: expected a Tensor or a numpy array, got {type(x).__name__}")
    if not a.flags.c_contiguous or not a.flags.writeable:
        raise ValueError(f"{what}: the array must be C-contiguous and writeable")
    return a


def all_reduce(x, op: str = "sum"):
    """Reduce ``x`` (a Tensor or an array) over all ranks, in place, and return it: every rank
    ends with the same values. ``op``: "sum", "mean", "max" or "min"."""
    if op not in _OPS:
        raise ValueError(f"all_reduce: op must be one of {_OPS}, got {op!r}")
    a = _buffer(x, "all_reduce")
    c = _mpi.comm()
    if c is not None and c.Get_size() > 1:
        MPI = _mpi.mpi()
        mpi_op = {"sum": MPI.SUM, "mean": MPI.SUM, "max": MPI.MAX, "min": MPI.MIN}[op]
        c.Allreduce(MPI.IN_PLACE, a, op=mpi_op)
        if op == "mean":
            a /= a.dtype.type(c.Get_size()) if a.dtype.kind == "f" else c.Get_size()
        _bump(x)
    return x


def broadcast(x, src: int = 0):
    """Copy ``x`` (a Tensor or an array) from rank ``src`` to every rank, in place; returns it."""
    a = _buffer(x, "broadcast")
    c = _mpi.comm()
    if c is not None and c.Get_size() > 1:
        c.Bcast(a, root=src)
        _bump(x)
    return x


def all_gather_object(obj) -> list:
    """Every rank's ``obj`` (any picklable value), as a list in rank order, on every rank. For
    small metadata only (it pickles); tensors go through :func:`all_reduce`/:func:`broadcast`."""
    c = _mpi.comm()
    return [obj] if c is None else c.allgather(obj)


def broadcast_object(obj, src: int = 0):
    """Rank ``src``'s ``obj`` (picklable metadata), on every rank."""
    c = _mpi.comm()
    return obj if c is None else c.bcast(obj, root=src)


def _bump(x) -> None:
    from ..tensor import Tensor

    if isinstance(x, Tensor):
        x._bump_version()


from .ddp import DistributedDataParallel  # noqa: E402
from .sampler import DistributedSampler  # noqa: E402
from .training import ProcessGroup, abort, process_group, run_on_main  # noqa: E402
