"""Character-level text for language models: one alphabet, one held-out split, random windows.

The language-model examples (``examples/char_lm.py``: an LSTM; ``examples/gpt_char.py``: a
GPT) read their text through here, so that they train and are scored on the same split.

>>> corpus = load_char_text("examples/data/poems.txt")
>>> x, y = random_windows(corpus.train_ids, 32, 64, np.random.default_rng(0))
>>> x.shape, y.shape                      # y is x shifted one character ahead
((32, 64), (32, 64))
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from ..tensor import Tensor
from .dataset import Dataset

__all__ = ["CharText", "TextWindows", "load_char_text", "split_held_out", "random_windows"]


@dataclass(frozen=True)
class CharText:
    """A text, its alphabet and its train / held-out split.

    Attributes:
        text: the whole text.
        vocab: its distinct characters, sorted; a character's id is its index here.
        ids: the whole text as ids, ``(len(text),)`` int64.
        train_ids, val_ids: the two parts of ``ids`` (see :func:`split_held_out`).
    """

    text: str
    vocab: tuple[str, ...]
    ids: np.ndarray
    train_ids: np.ndarray
    val_ids: np.ndarray

    @property
    def vocab_size(self) -> int:
        return len(self.vocab)

    def encode(self, s: str) -> np.ndarray:
        """``s`` as ids ``(len(s),)`` int64; a character outside the alphabet raises."""
        index = {c: i for i, c in enumerate(self.vocab)}
        missing = sorted(set(s) - set(index))
        if missing:
            raise ValueError(f"CharText.encode: characters not in the alphabet: {missing!r}")
        return np.array([index[c] for c in s], dtype=np.int64)

    def decode(self, ids) -> str:
        """Ids (any integer sequence or array) back to text."""
        flat = np.asarray(ids.data if isinstance(ids, Tensor) else ids).reshape(-1)
        if flat.size and (flat.min() < 0 or flat.max() >= len(self.vocab)):
            raise ValueError(
                f"CharText.decode: ids must be in [0, {len(self.vocab)}), got "
                f"[{flat.min()}, {flat.max()}]"
            )
        return "".join(self.vocab[i] for i in flat.tolist())

    def unigram_bits(self) -> float:
        """Held-out bits per character of a model that knows only the training part's character
        frequencies: the baseline every language model must beat. Add-one smoothing: a
        character unseen in training must not cost infinitely many bits."""
        counts = np.bincount(self.train_ids, minlength=len(self.vocab)) + 1
        freq = counts / (len(self.train_ids) + len(self.vocab))
        return float(-np.mean(np.log2(freq[self.val_ids])))


def split_held_out(n: int, block: int = 1000, every: int = 10) -> np.ndarray:
    """A bool mask ``(n,)``, True on the held-out positions: the last of every ``every``
    consecutive blocks of ``block`` characters (10% by default). Whole blocks spread over the
    text, not its tail: the tail of a collection of poems is one author."""
    for name, v in (("block", block), ("every", every)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise ValueError(f"split_held_out: {name} must be a positive int, got {v!r}")
    if every < 2:
        raise ValueError(f"split_held_out: every must be at least 2 (1 holds out all), got {every}")
    return (np.arange(n) // block) % every == every - 1


def load_char_text(
    path: str | os.PathLike, block: int = 1000, every: int = 10, encoding: str = "utf-8"
) -> CharText:
    """Read ``path`` as characters and split it with :func:`split_held_out`.

    Raises:
        ValueError: a text too short to leave a training and a held-out part.
    """
    with open(path, encoding=encoding) as f:
        text = f.read()
    vocab = tuple(sorted(set(text)))
    index = {c: i for i, c in enumerate(vocab)}
    ids = np.array([index[c] for c in text], dtype=np.int64)
    held_out = split_held_out(len(ids), block, every)
    if held_out.all() or not held_out.any():
        raise ValueError(
            f"load_char_text: {os.fspath(path)!r} has {len(text)} characters: too few for a "
            f"held-out block of {block} every {every} blocks"
        )
    return CharText(text, vocab, ids, ids[~held_out], ids[held_out])


def random_windows(
    ids: np.ndarray, batch: int, seq_len: int, rng: np.random.Generator
) -> tuple[Tensor, Tensor]:
    """A batch of random windows for next-character training.

    Returns:
        ``(x, y)`` int64 Tensors ``(batch, seq_len)``: ``x = ids[s : s + seq_len]`` and
        ``y = ids[s + 1 : s + seq_len + 1]`` for ``batch`` starts ``s`` drawn from ``rng``.
    """
    ids = np.asarray(ids)
    for name, v in (("batch", batch), ("seq_len", seq_len)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise ValueError(f"random_windows: {name} must be a positive int, got {v!r}")
    if ids.ndim != 1 or len(ids) < seq_len + 2:
        raise ValueError(
            f"random_windows: need a 1-D id array longer than seq_len + 1 = {seq_len + 1}, "
            f"got shape {ids.shape}"
        )
    starts = rng.integers(0, len(ids) - seq_len - 1, size=batch)
    offsets = np.arange(seq_len)
    x = ids[starts[:, None] + offsets]  # (batch, seq_len), one gather
    y = ids[starts[:, None] + offsets + 1]
    return Tensor(x.astype(np.int64)), Tensor(y.astype(np.int64))


class TextWindows(Dataset):
    """Consecutive windows of an id sequence as a dataset, for next-token training with a
    :class:`~backprop.data.DataLoader` (what ``backprop train`` reads for a language model).

    Item ``i`` is ``(x, y)``, int64 ``(block,)`` each: ``x = ids[s : s + block]`` and
    ``y = ids[s + 1 : s + block + 1]`` with ``s = i * stride``. With ``stride = block`` (the
    default) no two windows share an input character, so a random split of the windows into
    training and validation parts does not leak text from one to the other.

    Args:
        ids: the text as ids, 1-D integers.
        block: the window length (a model's context).
        stride: the distance between window starts (default ``block``).
    """

    def __init__(self, ids, block: int, stride: int | None = None) -> None:
        stride = block if stride is None else stride
        for name, v in (("block", block), ("stride", stride)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"TextWindows: {name} must be a positive int, got {v!r}")
        ids = np.asarray(ids)
        if ids.ndim != 1 or not np.issubdtype(ids.dtype, np.integer):
            raise ValueError(f"TextWindows: ids must be 1-D integers, got {ids.dtype} {ids.shape}")
        if len(ids) < block + 1:
            raise ValueError(
                f"TextWindows: {len(ids)} ids make no window of block = {block} (need "
                f"block + 1 for the shifted targets)"
            )
        self.ids, self.block, self.stride = ids.astype(np.int64, copy=False), int(block), stride
        self._offsets = np.arange(self.block)

    def __len__(self) -> int:
        return (len(self.ids) - self.block - 1) // self.stride + 1

    def __getitem__(self, index: int):
        n = len(self)
        if not -n <= index < n:
            raise IndexError(f"TextWindows: index {index} out of range for {n} windows")
        s = (index % n) * self.stride
        return self.ids[s : s + self.block], self.ids[s + 1 : s + self.block + 1]

    @property
    def supports_batching(self) -> bool:
        return True

    def get_batch(self, indices: np.ndarray):
        """``(x, y)`` int64 ``(len(indices), block)``: one gather each."""
        starts = (np.asarray(indices, dtype=np.int64) % len(self)) * self.stride
        where = starts[:, None] + self._offsets
        return self.ids[where], self.ids[where + 1]
