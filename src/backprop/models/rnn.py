"""Recurrent models for the lectures' three output types: many-to-one (sequence
classification), many-to-many / one-to-many (a character-level language model) and
many-to-one + one-to-many (an encoder-decoder, seq2seq)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .. import nn
from ..autograd.grad_mode import no_grad
from ..data.transforms import OneHot
from ..functional import cat
from ..random import generator
from ..tensor import Tensor
from . import register_model

__all__ = ["SequenceClassifier", "CharRNN", "Seq2Seq"]

_CELLS = {"rnn": "RNN", "lstm": "LSTM", "gru": "GRU"}


def _recurrent(cell: str, input_size: int, hidden_size: int, num_layers: int, dropout: float,
               bidirectional: bool, where: str) -> nn.Module:  # fmt: skip
    if cell not in _CELLS:
        raise ValueError(f"{where}: cell must be one of {sorted(_CELLS)}, got {cell!r}")
    return getattr(nn, _CELLS[cell])(
        input_size, hidden_size, num_layers=num_layers, batch_first=True,
        dropout=dropout, bidirectional=bidirectional,
    )  # fmt: skip


def _one_hot(ids, num_classes: int) -> Tensor:
    """Token ids ``(*)`` -> one-hot float32 ``(*, num_classes)`` without gradient (ids checked by
    the data transform). Feeding one-hot characters to a recurrent layer is an embedding
    lookup: the layer's input weights are the embedding table."""
    return Tensor(OneHot(num_classes).apply_batch(ids.data if isinstance(ids, Tensor) else ids))


def _last_hidden(state, bidirectional: bool) -> Tensor:
    """The top layer's final hidden state ``(N, H * directions)`` from an RNN/GRU ``h_n`` or
    an LSTM ``(h_n, c_n)``; ``h_n`` is ``(layers * directions, N, H)``."""
    h = state[0] if isinstance(state, tuple) else state
    if bidirectional:
        return cat([h[-2], h[-1]], dim=1)
    return h[-1]


@register_model("sequence_classifier", input_shape=(8, 8))
class SequenceClassifier(nn.Module):
    """Many-to-one: read a whole sequence, classify it from the final hidden state.

    The defaults read the 8x8 Digits row by row (8 steps of 8 features, 10 classes).

    Args:
        input_size: features per step, or the vocabulary size with ``tokens=True``.
        hidden_size: hidden units per layer and direction.
        num_classes: outputs.
        cell: ``"rnn"`` (tanh), ``"lstm"`` or ``"gru"``.
        num_layers: stacked recurrent layers.
        bidirectional: also read the sequence backwards (final states concatenated).
        dropout: dropout between stacked layers.
        tokens: the input holds integer ids in ``[0, input_size)`` (one-hot encoded here).

    Shape:
        input: ``(N, T, input_size)``, or ``(N, T)`` ids with ``tokens=True``; output:
        ``(N, num_classes)``.
    """

    def __init__(
        self,
        input_size: int = 8,
        hidden_size: int = 64,
        num_classes: int = 10,
        cell: str = "lstm",
        num_layers: int = 1,
        bidirectional: bool = False,
        dropout: float = 0.0,
        tokens: bool = False,
    ) -> None:
        super().__init__()
        self.input_size, self.tokens, self.bidirectional = input_size, tokens, bidirectional
        self.rnn = _recurrent(
            cell, input_size, hidden_size, num_layers, dropout, bidirectional, "SequenceClassifier"
        )
        self.fc = nn.Linear(hidden_size * (2 if bidirectional else 1), num_classes)

    def forward(self, x: Tensor) -> Tensor:
        if self.tokens:
            x = _one_hot(x, self.input_size)
        _, state = self.rnn(x)
        return self.fc(_last_hidden(state, self.bidirectional))


@register_model("char_rnn")
class CharRNN(nn.Module):
    """A character-level language model (Karpathy's char-rnn): predict each next character.

    Trained many-to-many: the logits at step ``t`` predict character ``t + 1`` (cross-entropy
    over every position). Generates one-to-many with :meth:`sample`: from a prefix, draw a
    character from ``softmax(logits / temperature)``, feed it back, repeat.

    Args:
        vocab_size: number of distinct characters (ids ``0..vocab_size-1``).
        hidden_size: hidden units per layer.
        num_layers: stacked recurrent layers.
        cell: ``"rnn"``, ``"lstm"`` or ``"gru"``.
        dropout: dropout between stacked layers.

    Shape:
        input: ids ``(N, T)``; output: ``(logits (N, T, vocab_size), state)``, ``state`` being
        what the recurrent layer returns (pass it back in to continue a sequence).
    """

    def __init__(
        self,
        vocab_size: int,
        hidden_size: int = 128,
        num_layers: int = 1,
        cell: str = "lstm",
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        if vocab_size < 2:
            raise ValueError(f"CharRNN: vocab_size must be at least 2, got {vocab_size}")
        self.vocab_size = vocab_size
        self.rnn = _recurrent(cell, vocab_size, hidden_size, num_layers, dropout, False, "CharRNN")
        self.fc = nn.Linear(hidden_size, vocab_size)

    def forward(self, ids: Tensor, state=None):
        out, state = self.rnn(_one_hot(ids, self.vocab_size), state)
        return self.fc(out), state

    def sample(self, prefix: Sequence[int], length: int, temperature: float = 1.0) -> list[int]:
        """Generate ``length`` ids after ``prefix`` (which must not be empty).

        ``temperature`` < 1 sharpens the distribution (safer, more repetitive text), > 1
        flattens it; 0 always takes the most likely character. Draws come from
        ``backprop.random``'s generator (``manual_seed`` makes them repeatable).
        """
        if len(prefix) == 0:
            raise ValueError("CharRNN.sample: prefix must hold at least one id")
        if temperature < 0:
            raise ValueError(f"CharRNN.sample: temperature must be >= 0, got {temperature}")
        was_training = self.training
        self.eval()
        out: list[int] = []
        try:
            with no_grad():
                logits, state = self(Tensor(np.asarray([list(prefix)], dtype=np.int64)))
                for _ in range(length):
                    z = logits.data[0, -1].astype(np.float64)
                    if temperature == 0:
                        nxt = int(np.argmax(z))
                    else:
                        p = np.exp((z - z.max()) / temperature)
                        nxt = int(generator().choice(len(p), p=p / p.sum()))
                    out.append(nxt)
                    logits, state = self(Tensor(np.asarray([[nxt]], dtype=np.int64)), state)
        finally:
            self.train(was_training)
        return out


@register_model("seq2seq")
class Seq2Seq(nn.Module):
    """An encoder-decoder (Cho et al. 2014; Sutskever et al. 2014) for sequence-to-sequence tasks.

    The encoder reads the source (many-to-one); its final state starts the decoder, and its top
    layer's final hidden state ``c`` (the "thought vector") is also fed to every decoder step
    next to the previous target token (one-to-many). Training uses teacher forcing: the decoder
    reads the true previous tokens; :meth:`generate` feeds back its own greedy choices.

    Args:
        src_vocab: source vocabulary size.
        tgt_vocab: target vocabulary size (including the start token).
        hidden_size: hidden units of encoder and decoder.
        cell: ``"rnn"``, ``"lstm"`` or ``"gru"``.
        num_layers: stacked layers (the same in encoder and decoder).

    Shape:
        forward: source ids ``(N, S)``, decoder input ids ``(N, T)`` (the target shifted right,
        starting with the start token) -> logits ``(N, T, tgt_vocab)``.
    """

    def __init__(
        self,
        src_vocab: int,
        tgt_vocab: int,
        hidden_size: int = 128,
        cell: str = "gru",
        num_layers: int = 1,
    ) -> None:
        super().__init__()
        self.src_vocab, self.tgt_vocab = src_vocab, tgt_vocab
        self.encoder = _recurrent(cell, src_vocab, hidden_size, num_layers, 0.0, False, "Seq2Seq")
        self.decoder = _recurrent(
            cell, tgt_vocab + hidden_size, hidden_size, num_layers, 0.0, False, "Seq2Seq"
        )
        self.fc = nn.Linear(hidden_size, tgt_vocab)

    def encode(self, src: Tensor):
        """The encoder's final state and its top-layer hidden state ``c`` ``(N, H)``."""
        _, state = self.encoder(_one_hot(src, self.src_vocab))
        return state, _last_hidden(state, False)

    def decode(self, tgt_in: Tensor, state, context: Tensor):
        """Decoder logits ``(N, T, tgt_vocab)`` and its new state, reading ``tgt_in`` ids."""
        x = _one_hot(tgt_in, self.tgt_vocab)
        n, t = x.shape[0], x.shape[1]
        ctx = context.unsqueeze(1).expand(n, t, context.shape[1])
        out, state = self.decoder(cat([x, ctx], dim=2), state)
        return self.fc(out), state

    def forward(self, src: Tensor, tgt_in: Tensor) -> Tensor:
        state, context = self.encode(src)
        logits, _ = self.decode(tgt_in, state, context)
        return logits

    def generate(self, src: Tensor, max_len: int, start: int) -> np.ndarray:
        """Greedy decoding: ``(N, max_len)`` ids, each step fed the previous step's argmax."""
        was_training = self.training
        self.eval()
        try:
            with no_grad():
                state, context = self.encode(src)
                tok = np.full((src.shape[0], 1), start, dtype=np.int64)
                out = []
                for _ in range(max_len):
                    logits, state = self.decode(Tensor(tok), state, context)
                    tok = logits.data[:, -1].argmax(-1)[:, None].astype(np.int64)
                    out.append(tok[:, 0])
        finally:
            self.train(was_training)
        return np.stack(out, axis=1)
