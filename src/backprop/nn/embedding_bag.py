"""`EmbeddingBag`: the sum, mean or max of the embeddings of each bag of token ids."""

from __future__ import annotations

import numpy as np

from ..autograd.grad_mode import no_grad
from ..functional.embedding_bag import embedding_bag
from ..tensor import Tensor
from . import init
from ._util import check_size, factory_dtype
from .module import Module
from .parameter import Parameter

__all__ = ["EmbeddingBag"]


class EmbeddingBag(Module):
    """A table of ``num_embeddings`` vectors of size ``embedding_dim`` reduced per bag of indices
    (see :func:`backprop.nn.functional.embedding_bag`); initialised N(0, 1) as in PyTorch, with
    the ``padding_idx`` row zero.

    Args:
        num_embeddings, embedding_dim: V and D.
        max_norm, norm_type: renormalise looked-up rows (in place) to norm at most ``max_norm``.
        scale_grad_by_freq, sparse: not supported (must be False).
        mode: ``'sum'``, ``'mean'`` (default) or ``'max'``.
        include_last_offset: offsets carry the end of the last bag too.
        padding_idx: indices left out of their bags; that row stays zero.
        dtype: parameter dtype (float32 by default).

    ``forward(input, offsets=None, per_sample_weights=None)``: input (B, L), or (n,) with
    offsets -> (B, D).

    Example:
        >>> bag = nn.EmbeddingBag(10, 3, mode="sum")
        >>> bag(backprop.tensor([1, 2, 4, 5, 4]), backprop.tensor([0, 2])).shape
        (2, 3)
    """

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        max_norm: float | None = None,
        norm_type: float = 2.0,
        scale_grad_by_freq: bool = False,
        mode: str = "mean",
        sparse: bool = False,
        _weight: Tensor | None = None,
        include_last_offset: bool = False,
        padding_idx: int | None = None,
        dtype=None,
    ) -> None:
        super().__init__()
        op = "EmbeddingBag"
        V = check_size(num_embeddings, "num_embeddings", op, 1)
        D = check_size(embedding_dim, "embedding_dim", op, 0)
        if mode not in ("sum", "mean", "max"):
            raise ValueError(f"{op}: mode must be 'sum', 'mean' or 'max', got {mode!r}")
        if scale_grad_by_freq or sparse:
            raise NotImplementedError(f"{op}: scale_grad_by_freq and sparse are not supported")
        if padding_idx is not None:
            if not -V <= padding_idx < V:
                raise ValueError(f"{op}: padding_idx {padding_idx} must be within [-{V}, {V})")
            padding_idx = int(padding_idx) % V
        self.num_embeddings, self.embedding_dim = V, D
        self.max_norm, self.norm_type, self.mode = max_norm, norm_type, mode
        self.include_last_offset, self.padding_idx = include_last_offset, padding_idx
        self.scale_grad_by_freq, self.sparse = False, False
        if _weight is None:
            self.weight = Parameter(np.empty((V, D), dtype=factory_dtype(dtype, op)))
            self.reset_parameters()
        else:
            if tuple(_weight.shape) != (V, D):
                raise ValueError(f"{op}: _weight has shape {_weight.shape}, expected {(V, D)}")
            self.weight = Parameter(np.array(_weight.data))

    def reset_parameters(self) -> None:
        init.normal_(self.weight)
        if self.padding_idx is not None:
            with no_grad():
                self.weight[self.padding_idx] = 0

    @classmethod
    def from_pretrained(cls, embeddings: Tensor, freeze: bool = True, **kw) -> EmbeddingBag:
        """An EmbeddingBag holding a copy of ``embeddings`` (V, D); frozen unless freeze=False."""
        if not isinstance(embeddings, Tensor) or embeddings.ndim != 2:
            raise ValueError("EmbeddingBag.from_pretrained: embeddings must be a 2-D Tensor")
        m = cls(*embeddings.shape, _weight=embeddings, **kw)
        m.weight.requires_grad_(not freeze)
        return m

    def forward(self, input, offsets=None, per_sample_weights=None) -> Tensor:
        return embedding_bag(
            input, self.weight, offsets, self.max_norm, self.norm_type, False, self.mode, False,
            per_sample_weights, self.include_last_offset, self.padding_idx,
        )  # fmt: skip

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings}, {self.embedding_dim}, mode={self.mode!r}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        return s
