"""The two ops an in-place write adds to the graph (see ``backprop/inplace.py``).

Both are written out of place, as every op is: ``forward`` returns a new array. The in-place
driver uses their ``backward`` for the nodes it records after writing into existing memory.
"""

from __future__ import annotations

from ..autograd.function import Function
from . import register_op
from ._util import unbroadcast


def _region(y, index):
    """The part of ``y`` that ``index`` names, as a view when the index is basic.

    ``index`` is ``(first, rest)`` or ``(None, rest)``: PyTorch applies the integer indices of a
    mixed index before the arrays (see ``functional.indexing._ints_first``).
    """
    first, rest = index
    return y if first is None else y[first]


@register_op("index_put")
class IndexPut(Function):
    """y = x with y[index] = v (v broadcast to the region);
    gx = gy with the region zeroed, gv = gy[index] summed back to v's shape.

    Repeated positions in an advanced index keep one of the written values, as in PyTorch.
    """

    @staticmethod
    def forward(ctx, x, v, *, index):
        y = x.copy()
        _region(y, index)[index[1]] = v
        ctx.meta = (index, getattr(v, "shape", ()))
        return y

    @staticmethod
    def backward(ctx, gy):
        index, v_shape = ctx.meta
        gx = gv = None
        if ctx.needs_input_grad[1]:
            gv = unbroadcast(_region(gy, index)[index[1]], v_shape)
            gv = gv.copy() if gv.base is not None else gv
        if ctx.needs_input_grad[0]:
            gx = gy.copy()
            _region(gx, index)[index[1]] = 0
        return gx, gv


@register_op("copy_slices")
class CopySlices(Function):
    """y = base with the elements at flat positions ``pos`` replaced by ``v`` (pos: an int array
    of v's shape, the base's flat index of each element of a view);
    gbase = gy with those positions zeroed, gv = gy at those positions.

    This is how a write through a view reaches its base's gradient (PyTorch's CopySlices).
    """

    @staticmethod
    def forward(ctx, base, v, *, pos):
        y = base.copy()
        y.reshape(-1)[pos.reshape(-1)] = v.reshape(-1)
        ctx.pos = pos
        return y

    @staticmethod
    def backward(ctx, gy):
        pos = ctx.pos
        flat = gy.reshape(-1)
        gbase = gv = None
        if ctx.needs_input_grad[1]:
            gv = flat[pos]
        if ctx.needs_input_grad[0]:
            gbase = gy.copy()
            gbase.reshape(-1)[pos.reshape(-1)] = 0
        return gbase, gv
