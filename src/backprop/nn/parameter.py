"""`Parameter`: a Tensor that a `Module` registers as one of its learnable weights."""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor

__all__ = ["Parameter"]


class Parameter(Tensor):
    """A Tensor that is a module's learnable weight.

    Assigning a Parameter to an attribute of a :class:`~backprop.nn.Module` registers it: it
    then appears in ``parameters()``, ``named_parameters()`` and ``state_dict()``. A plain Tensor
    assigned the same way is an ordinary attribute (``register_buffer`` is for non-learnable
    state).

    The Parameter shares its array with ``data`` (no copy), as ``torch.nn.Parameter`` shares
    storage. Ops on a Parameter return plain Tensors.

    Args:
        data: a Tensor or array-like (None gives an empty float32 tensor).
        requires_grad: whether the parameter is trained (default True).

    Example:
        >>> w = nn.Parameter(backprop.zeros(2, 3))
        >>> w.requires_grad
        True
    """

    __slots__ = ()

    def __init__(self, data=None, requires_grad: bool = True):
        if data is None:
            data = np.empty((0,), dtype=np.float32)
        if isinstance(data, Tensor):
            data = data.data
        super().__init__(data, requires_grad=False)
        if requires_grad:
            self.requires_grad_(True)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()
