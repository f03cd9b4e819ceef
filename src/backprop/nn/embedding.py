"""`Embedding`: a lookup table of learnable vectors, one per token id."""

from __future__ import annotations

import numpy as np

from ..autograd.grad_mode import no_grad
from ..functional.embedding import embedding
from ..tensor import Tensor
from . import init
from ._util import check_size, factory_dtype
from .module import Module
from .parameter import Parameter

__all__ = ["Embedding"]


class Embedding(Module):
    """A table of ``num_embeddings`` vectors of size ``embedding_dim``, looked up by index.

    Equivalent to a Linear layer without bias applied to one-hot inputs, but a gather forward
    and a sort-and-sum backward instead of a matrix product. Initialised N(0, 1), as in PyTorch,
    with the ``padding_idx`` row zero.

    Args:
        num_embeddings: the vocabulary size V.
        embedding_dim: the vector size D.
        padding_idx: a row kept at zero that receives no gradient (e.g. for padding tokens);
            negative counts from the end.
        max_norm, norm_type: renormalise looked-up rows to norm at most ``max_norm`` (in place).
        dtype: parameter dtype (float32 by default).

    Shape:
        input (*) integers in [0, V) -> output (*, D).

    Attributes:
        weight: (V, D).
    """

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        padding_idx: int | None = None,
        max_norm: float | None = None,
        norm_type: float = 2.0,
        dtype=None,
    ):
        super().__init__()
        V = check_size(num_embeddings, "num_embeddings", "Embedding", 1)
        D = check_size(embedding_dim, "embedding_dim", "Embedding", 0)
        if padding_idx is not None:
            if isinstance(padding_idx, bool) or not isinstance(padding_idx, (int, np.integer)):
                raise TypeError(
                    f"Embedding: padding_idx must be an int or None, got {padding_idx!r}"
                )
            if not -V <= padding_idx < V:
                raise ValueError(f"Embedding: padding_idx {padding_idx} must be within [-{V}, {V})")
            padding_idx = int(padding_idx) % V
        if max_norm is not None and not max_norm > 0:
            raise ValueError(f"Embedding: max_norm must be positive or None, got {max_norm!r}")
        self.num_embeddings, self.embedding_dim = V, D
        self.padding_idx, self.max_norm, self.norm_type = padding_idx, max_norm, norm_type
        self.weight = Parameter(np.empty((V, D), dtype=factory_dtype(dtype, "Embedding")))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.normal_(self.weight)
        if self.padding_idx is not None:
            with no_grad():
                self.weight[self.padding_idx] = 0

    @classmethod
    def from_pretrained(
        cls, embeddings: Tensor, freeze: bool = True, padding_idx: int | None = None
    ) -> Embedding:
        """An Embedding holding a copy of ``embeddings`` (V, D); frozen unless ``freeze=False``."""
        if not isinstance(embeddings, Tensor) or embeddings.ndim != 2:
            raise ValueError("Embedding.from_pretrained: embeddings must be a 2-D Tensor")
        V, D = embeddings.shape
        m = cls(V, D, padding_idx=padding_idx, dtype=embeddings.dtype)
        with no_grad():
            m.weight.copy_(embeddings)
        m.weight.requires_grad_(not freeze)
        return m

    def forward(self, input: Tensor) -> Tensor:
        return embedding(input, self.weight, self.padding_idx, self.max_norm, self.norm_type)

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        return s
