"""A small GPT (Radford et al. 2018/2019, at the size of Karpathy's nanoGPT char models): a
decoder-only Transformer language model that trains on characters on a CPU in minutes.

1. Token and learned position embeddings are summed: attention itself is order-blind.
2. Pre-norm blocks (GPT-2): ``x = x + attn(ln_1(x)); x = x + mlp(ln_2(x))``; the residual
   stream itself is never normalised (one final ``ln_f`` before the head), so the gradient
   reaches the first blocks through the identity paths.
3. Causal self-attention: position t attends to positions <= t only, so every position of a
   training window is a next-token prediction at once (the fused op's ``is_causal``).
4. The output head shares its weight with the token embedding (Press & Wolf 2017): one (V, C)
   matrix reads tokens in and writes logits out (fewer parameters, better small-data perplexity).
5. Weights start N(0, 0.02), biases 0, layer norms 1 and 0; the two projections into the residual
   stream of each block (``c_proj``) at 0.02 / sqrt(2 * n_layer), so that the stream's variance
   at initialisation does not grow with depth (GPT-2: 2 residual additions per block).
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from .. import nn
from ..autograd.grad_mode import no_grad
from ..functional import arange, cat, multinomial
from ..nn import functional as F
from ..tensor import Tensor
from . import register_model
from .summary import register_macs

__all__ = ["GPT"]


class _CausalSelfAttention(nn.Module):
    """All heads in one projection (``c_attn``: C -> 3C) and one fused attention call."""

    def __init__(self, n_embd: int, n_head: int, dropout: float, bias: bool):
        super().__init__()
        self.n_head, self.n_embd, self.dropout = n_head, n_embd, dropout
        self.c_attn = nn.Linear(n_embd, 3 * n_embd, bias=bias)
        self.c_proj = nn.Linear(n_embd, n_embd, bias=bias)
        self.resid_dropout = nn.Dropout(dropout)

    def forward(self, x: Tensor) -> Tensor:
        B, T, C = x.shape
        H = self.n_head
        # (B, T, 3C) -> (3, B, H, T, C // H): q, k, v of every head as views of one product
        qkv = self.c_attn(x).reshape(B, T, 3, H, C // H).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        p = self.dropout if self.training else 0.0
        y = F.scaled_dot_product_attention(q, k, v, dropout_p=p, is_causal=True)
        y = y.transpose(1, 2).reshape(B, T, C)  # (B, T, H, C // H): heads side by side again
        return self.resid_dropout(self.c_proj(y))

    def extra_repr(self) -> str:
        return f"n_embd={self.n_embd}, n_head={self.n_head}, causal"


@register_macs(_CausalSelfAttention)
def _attention_macs(m, inputs, out) -> int:
    # The two products inside the fused op, q @ k^T and weights @ v: B * T * T * C each (the
    # causal half is computed and masked, not skipped). The projections are the Linear rows.
    B, T, C = inputs[0].shape
    return 2 * B * T * T * C


class _MLP(nn.Module):
    """C -> 4C -> GELU -> C (GPT-2's exact-erf GELU)."""

    def __init__(self, n_embd: int, dropout: float, bias: bool):
        super().__init__()
        self.c_fc = nn.Linear(n_embd, 4 * n_embd, bias=bias)
        self.gelu = nn.GELU()
        self.c_proj = nn.Linear(4 * n_embd, n_embd, bias=bias)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: Tensor) -> Tensor:
        return self.dropout(self.c_proj(self.gelu(self.c_fc(x))))


class _Block(nn.Module):
    """(2) One pre-norm Transformer block."""

    def __init__(self, n_embd: int, n_head: int, dropout: float, bias: bool):
        super().__init__()
        self.ln_1 = nn.LayerNorm(n_embd, bias=bias)
        self.attn = _CausalSelfAttention(n_embd, n_head, dropout, bias)
        self.ln_2 = nn.LayerNorm(n_embd, bias=bias)
        self.mlp = _MLP(n_embd, dropout, bias)

    def forward(self, x: Tensor) -> Tensor:
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


def _positive_int(value, name: str, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{where}: {name} must be a positive int, got {value!r}")
    return int(value)


@register_model("gpt", input_shape=(128,))
class GPT(nn.Module):
    """A decoder-only Transformer language model (GPT-2's layout at toy size).

    Args:
        vocab_size: number of token ids (``0..vocab_size-1``); the default 256 covers any text
            read as UTF-8 bytes. A character model passes its alphabet's size.
        block_size: the longest context (the position table's length).
        n_layer: Transformer blocks.
        n_head: attention heads per block; must divide ``n_embd``.
        n_embd: model width C.
        dropout: dropout on the embeddings, the attention weights and both residual branches.
        bias: biases in the linear layers and layer norms (GPT-2 has them).

    Shape:
        ``forward(idx)``: integer ids ``(N, T)`` with ``1 <= T <= block_size`` -> logits
        ``(N, T, vocab_size)``, position t predicting token t + 1; ``forward(idx, targets)`` with
        ``targets`` ``(N, T)`` -> ``(logits, loss)``, the mean cross-entropy over every position.

    The head is tied to the embedding: ``lm_head.weight is wte.weight``, one Parameter that
    ``parameters()`` yields once and whose gradient sums the two uses.

    Example:
        >>> model = models.GPT(vocab_size=65, block_size=64, n_layer=2, n_head=4, n_embd=64)
        >>> model(backprop.randint(0, 65, (8, 64))).shape
        (8, 64, 65)
        >>> out = model.generate(backprop.zeros(1, 1, dtype="int64"), 20, top_k=10)  # (1, 21)
    """

    # What ``summary(model, (T,))`` feeds when no dtype is given: token ids, not floats.
    input_dtype = np.int64

    def __init__(
        self,
        vocab_size: int = 256,
        block_size: int = 128,
        n_layer: int = 4,
        n_head: int = 4,
        n_embd: int = 128,
        dropout: float = 0.0,
        bias: bool = True,
    ) -> None:
        super().__init__()
        for name, value in (
            ("vocab_size", vocab_size), ("block_size", block_size), ("n_layer", n_layer),
            ("n_head", n_head), ("n_embd", n_embd),
        ):  # fmt: skip
            _positive_int(value, name, "GPT")
        if n_embd % n_head:
            raise ValueError(f"GPT: n_head ({n_head}) must divide n_embd ({n_embd})")
        if isinstance(dropout, bool) or not isinstance(dropout, numbers.Real):
            raise TypeError(f"GPT: dropout must be a float, got {dropout!r}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"GPT: dropout must be in [0, 1), got {dropout}")
        self.vocab_size, self.block_size = int(vocab_size), int(block_size)
        self.n_layer, self.n_head, self.n_embd = int(n_layer), int(n_head), int(n_embd)
        self.dropout_p = float(dropout)
        self.wte = nn.Embedding(vocab_size, n_embd)
        self.wpe = nn.Embedding(block_size, n_embd)
        self.drop = nn.Dropout(dropout)
        self.blocks = nn.ModuleList([_Block(n_embd, n_head, dropout, bias) for _ in range(n_layer)])
        self.ln_f = nn.LayerNorm(n_embd, bias=bias)
        self.lm_head = nn.Linear(n_embd, vocab_size, bias=False)
        self.lm_head.weight = self.wte.weight  # (4) one Parameter, two uses
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """(5) GPT-2's initialisation. ``named_parameters`` yields the tied matrix once (as
        ``wte.weight``), so it is drawn once, as an embedding."""
        for name, p in self.named_parameters():
            owner = name.split(".")[-2]  # the module holding p: "c_proj", "ln_1", "wte", ...
            if name.endswith("c_proj.weight"):
                nn.init.normal_(p, 0.0, 0.02 / math.sqrt(2 * self.n_layer))
            elif owner.startswith("ln_"):
                if name.endswith("weight"):
                    nn.init.ones_(p)
                else:
                    nn.init.zeros_(p)
            elif name.endswith("bias"):
                nn.init.zeros_(p)
            else:
                nn.init.normal_(p, 0.0, 0.02)

    def num_parameters(self, non_embedding: bool = True) -> int:
        """Parameter count, the tied head counted once; without the position table by default
        (GPT-2's convention: it is a lookup, not computation)."""
        n = sum(p.numel() for p in self.parameters())
        return n - self.wpe.weight.numel() if non_embedding else n

    def extra_repr(self) -> str:
        return (
            f"vocab_size={self.vocab_size}, block_size={self.block_size}, "
            f"n_layer={self.n_layer}, n_head={self.n_head}, n_embd={self.n_embd}, "
            f"dropout={self.dropout_p}, tied head"
        )

    def _check_ids(self, idx, where: str) -> None:
        if not isinstance(idx, Tensor):
            raise TypeError(f"{where}: idx must be a Tensor of token ids, got {type(idx).__name__}")
        if idx.ndim != 2:
            raise ValueError(f"{where}: idx must have shape (N, T), got {tuple(idx.shape)}")
        if not np.issubdtype(idx.dtype, np.integer):
            raise TypeError(f"{where}: idx must hold integer token ids, got dtype {idx.dtype}")
        if idx.shape[1] < 1:
            raise ValueError(f"{where}: idx must hold at least one token per row, got T = 0")

    def forward(self, idx: Tensor, targets: Tensor | None = None):
        self._check_ids(idx, "GPT")
        N, T = idx.shape
        if T > self.block_size:
            raise ValueError(f"GPT: sequence length {T} exceeds block_size {self.block_size}")
        x = self.drop(self.wte(idx) + self.wpe(arange(T)))  # (1) (N, T, C) + (T, C)
        for block in self.blocks:
            x = block(x)
        logits = self.lm_head(self.ln_f(x))  # (N, T, V)
        if targets is None:
            return logits
        if not isinstance(targets, Tensor) or tuple(targets.shape) != (N, T):
            got = tuple(targets.shape) if isinstance(targets, Tensor) else type(targets).__name__
            raise ValueError(f"GPT: targets must be a Tensor of shape {(N, T)} like idx, got {got}")
        loss = F.cross_entropy(logits.reshape(N * T, self.vocab_size), targets.reshape(N * T))
        return logits, loss

    def generate(
        self,
        idx: Tensor,
        max_new_tokens: int,
        temperature: float = 1.0,
        top_k: int | None = None,
        *,
        generator=None,
    ) -> Tensor:
        """Extend ``idx`` ``(N, T)`` by ``max_new_tokens`` sampled tokens per row.

        Each step reads the last ``block_size`` tokens, divides the final position's logits by
        ``temperature`` (< 1 sharper, > 1 flatter; 0 takes the most likely token), keeps the
        ``top_k`` largest (ties with the k-th kept too; ``top_k >= vocab_size`` keeps all) and
        draws from their softmax. Runs without grad and in eval mode (no dropout), restoring
        the model's mode afterwards.

        Args:
            idx: integer ids ``(N, T)``, ``T >= 1``; longer than ``block_size`` is fine.
            max_new_tokens: tokens to add (0 returns ``idx`` unchanged).
            temperature: a finite float >= 0.
            top_k: a positive int or None (no truncation).
            generator: a ``backprop.Generator`` for the draws (default: the library's).

        Returns:
            ``(N, T + max_new_tokens)`` int ids of ``idx``'s dtype, ``idx`` as the prefix.
        """
        where = "GPT.generate"
        self._check_ids(idx, where)
        if isinstance(max_new_tokens, bool) or not isinstance(max_new_tokens, (int, np.integer)):
            raise TypeError(f"{where}: max_new_tokens must be an int, got {max_new_tokens!r}")
        if max_new_tokens < 0:
            raise ValueError(f"{where}: max_new_tokens must be >= 0, got {max_new_tokens}")
        if (
            isinstance(temperature, bool)
            or not isinstance(temperature, numbers.Real)
            or not math.isfinite(temperature)
            or temperature < 0
        ):
            raise ValueError(
                f"{where}: temperature must be a finite float >= 0, got {temperature!r}"
            )
        if top_k is not None and (
            isinstance(top_k, bool) or not isinstance(top_k, (int, np.integer)) or top_k < 1
        ):
            raise ValueError(f"{where}: top_k must be a positive int or None, got {top_k!r}")
        was_training = self.training
        self.eval()
        try:
            with no_grad():
                for _ in range(int(max_new_tokens)):
                    logits = self(idx[:, -self.block_size :])[:, -1, :]  # (N, V)
                    if temperature == 0:
                        nxt = logits.argmax(dim=-1, keepdim=True)
                    else:
                        logits = logits / float(temperature)
                        if top_k is not None and top_k < self.vocab_size:
                            kth = logits.topk(top_k, dim=-1)[0][:, -1:]  # (N, 1) k-th largest
                            logits = logits.masked_fill(logits < kth, float("-inf"))
                        probs = F.softmax(logits, dim=-1)
                        nxt = multinomial(probs, 1, generator=generator)  # (N, 1)
                    idx = cat([idx, nxt.to(idx.dtype)], dim=1)
        finally:
            self.train(was_training)
        return idx
