"""``DistributedDataParallel``: the same model on every rank, gradients averaged after each
backward (PyTorch's semantics, over MPI).

At construction every rank checks that it holds the same parameters (names, shapes, dtypes) as
rank 0, then takes rank 0's values of parameters and buffers, so all ranks start equal. After a
backward through the wrapped model, every parameter's ``.grad`` is the mean over ranks: the
gradients are copied into flat buckets (one dtype each, at most ``bucket_cap_mb``, in reverse
parameter order, roughly the order backward produces them), each bucket is all-reduced in place,
and the means are copied back. A parameter that got no gradient on a rank contributes zeros there,
so a model with parameters unused on some ranks never hangs; one that got none on any rank keeps
``.grad = None``. With identical starts and averaged gradients, every rank's optimiser takes the
same step: the ranks stay bit-identical.

What differs from one process with the whole batch: dropout draws different masks per rank (each
rank has its own random state), and batch norm normalises with per-rank statistics (running
statistics are not synchronised; backprop has no SyncBatchNorm yet: it would need an all-reduce
inside the forward of every batch-norm layer).
"""

from __future__ import annotations

import contextlib
import weakref

import numpy as np

from ..autograd import engine
from ..autograd.grad_mode import is_grad_enabled
from ..nn.module import Module
from ..tensor import Tensor
from . import _mpi

__all__ = ["DistributedDataParallel"]


class DistributedDataParallel(Module):
    """Wrap ``module`` for data-parallel training (see the module docstring).

    Args:
        module: the model; ``.module`` gives it back.
        bucket_cap_mb: the largest flat bucket of gradients all-reduced at once, in MiB.
        broadcast_buffers: copy rank 0's buffers (batch norm's running statistics) to every rank
            before each forward in grad mode, as PyTorch does by default.

    ``state_dict()`` and ``load_state_dict()`` are the module's own (no ``module.`` prefix), so a
    checkpoint loads into the bare model.
    """

    def __init__(self, module: Module, bucket_cap_mb: float = 25, broadcast_buffers: bool = True):
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(
                f"DistributedDataParallel: expected a Module, got {type(module).__name__}"
            )
        if not bucket_cap_mb > 0:
            raise ValueError(
                f"DistributedDataParallel: bucket_cap_mb must be > 0, got {bucket_cap_mb}"
            )
        self.module = module
        self.bucket_cap_bytes = int(bucket_cap_mb * 2**20)
        self.broadcast_buffers = bool(broadcast_buffers)
        self._pending = False  # a forward in grad mode ran since the last synchronisation
        self._sync_enabled = True
        comm = _mpi.comm()
        self._world = 1 if comm is None else comm.Get_size()
        self._check_same_model()
        self._broadcast_state(params=True)
        self._buckets = self._make_buckets()
        # The engine holds only a weak reference: a dropped wrapper stops synchronising.
        method = weakref.WeakMethod(self._after_backward)

        def callback():
            m = method()
            if m is not None:
                m()

        handle = engine.register_post_backward_callback(callback)
        weakref.finalize(self, handle.remove)

    # ------------------------------------------------------------------ set-up
    def _signature(self):
        return [(n, tuple(p.shape), str(p.dtype)) for n, p in self.module.named_parameters()]

    def _check_same_model(self) -> None:
        if self._world == 1:
            return
        from . import all_gather_object, rank

        signatures = all_gather_object(self._signature())
        mine = signatures[rank()]
        for r, theirs in enumerate(signatures):
            if theirs == mine:
                continue
            for i in range(max(len(mine), len(theirs))):
                a = mine[i] if i < len(mine) else None
                b = theirs[i] if i < len(theirs) else None
                if a != b:
                    raise ValueError(
                        f"DistributedDataParallel: rank {rank()} and rank {r} hold different "
                        f"models: parameter {i} is {a} here and {b} there"
                    )

    def _broadcast_state(self, params: bool) -> None:
        if self._world == 1:
            return
        from . import broadcast

        tensors = list(self.module.buffers())
        if params:
            tensors = list(self.module.parameters()) + tensors
        for t in tensors:
            if t.data.flags.c_contiguous:
                broadcast(t)
            else:  # pragma: no cover - parameters are created contiguous
                a = np.ascontiguousarray(t.data)
                broadcast(a)
                t.data[...] = a

    def _make_buckets(self) -> list:
        """Lists of parameters, one dtype each, at most ``bucket_cap_bytes``, last layer first."""
        buckets, sizes = [], []
        by_dtype: dict = {}
        for p in reversed([p for p in self.module.parameters() if p.requires_grad]):
            key = p.data.dtype
            current = by_dtype.get(key)
            nbytes = p.data.nbytes
            if current is None or sizes[current] + nbytes > self.bucket_cap_bytes:
                by_dtype[key] = current = len(buckets)
                buckets.append([])
                sizes.append(0)
            buckets[current].append(p)
            sizes[current] += nbytes
        return buckets

    # ------------------------------------------------------------------ forward / backward
    def forward(self, *args, **kwargs):
        # As PyTorch: only a forward in grad mode synchronises (buffers now, gradients after
        # backward); one under no_grad (evaluation, prediction) is local, so a rank may run it
        # alone.
        if is_grad_enabled():
            if self.broadcast_buffers:
                self._broadcast_state(params=False)
            self._pending = True
        return self.module(*args, **kwargs)

    @contextlib.contextmanager
    def no_sync(self):
        """Skip the averaging for the backward passes inside (gradient accumulation): the
        gradients accumulate locally and the first backward after the block averages them all."""
        previous = self._sync_enabled
        self._sync_enabled = False
        try:
            yield
        finally:
            self._sync_enabled = previous

    def _after_backward(self) -> None:
        if not self._pending or not self._sync_enabled:
            return
        self._pending = False
        self.synchronize_gradients()

    def synchronize_gradients(self) -> None:
        """Average every parameter's gradient over the ranks now (called after each backward)."""
        if self._world == 1:
            return
        MPI = _mpi.mpi()
        comm = _mpi.comm()
        for bucket in self._buckets:
            has = np.array([p.grad is not None for p in bucket], dtype=np.int8)
            comm.Allreduce(MPI.IN_PLACE, has, op=MPI.MAX)
            dtype = bucket[0].data.dtype
            flat = np.zeros(sum(p.data.size for p in bucket), dtype=dtype)
            offset = 0
            for p in bucket:
                n = p.data.size
                if p.grad is not None:
                    flat[offset : offset + n] = p.grad.data.reshape(-1)
                offset += n
            comm.Allreduce(MPI.IN_PLACE, flat, op=MPI.SUM)
            flat /= dtype.type(self._world)
            offset = 0
            for p, any_grad in zip(bucket, has):
                n = p.data.size
                if any_grad:
                    values = flat[offset : offset + n].reshape(p.data.shape)
                    if p.grad is None:
                        p.grad = Tensor._make(values.copy(), False, None)
                    else:
                        p.grad.data[...] = values
                offset += n

    # ------------------------------------------------------------------ state
    def state_dict(self, *args, **kwargs):
        return self.module.state_dict(*args, **kwargs)

    def load_state_dict(self, *args, **kwargs):
        return self.module.load_state_dict(*args, **kwargs)

    def extra_repr(self) -> str:
        return f"world_size={self._world}, bucket_cap_mb={self.bucket_cap_bytes / 2**20:g}"
