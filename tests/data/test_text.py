"""backprop.data.text: the character corpus, its held-out split and the training windows that
examples/char_lm.py and examples/gpt_char.py share."""

from pathlib import Path

import numpy as np
import pytest

from backprop.data.text import CharText, load_char_text, random_windows, split_held_out

POEMS = Path(__file__).resolve().parents[2] / "examples" / "data" / "poems.txt"


def test_split_holds_out_every_tenth_block():
    mask = split_held_out(25, block=2, every=3)
    # blocks of 2: [0 1][2 3][4 5][6 7]...; the third of every three is held out
    assert np.flatnonzero(mask).tolist() == [4, 5, 10, 11, 16, 17, 22, 23]
    full = split_held_out(10_000)
    assert full.mean() == 0.1 and full[9000:].all() and not full[:9000].any()
    with pytest.raises(ValueError, match="every must be at least 2"):
        split_held_out(10, every=1)
    with pytest.raises(ValueError, match="block must be a positive int, got 0"):
        split_held_out(10, block=0)


def test_load_the_poems():
    corpus = load_char_text(POEMS)
    assert isinstance(corpus, CharText)
    assert corpus.vocab == tuple(sorted(set(corpus.text))) and corpus.vocab_size == 73
    assert len(corpus.train_ids) + len(corpus.val_ids) == len(corpus.text)
    assert len(corpus.val_ids) == 3000  # blocks 9, 19 and 29 of the 37 (8%)
    assert corpus.decode(corpus.ids) == corpus.text
    # The held-out part is whole blocks: its first 1,000 ids are the text's 10th block.
    assert corpus.decode(corpus.val_ids[:1000]) == corpus.text[9000:10000]
    assert 4.0 < corpus.unigram_bits() < np.log2(73)


def test_encode_decode_and_their_errors(tmp_path):
    path = tmp_path / "t.txt"
    path.write_text("abcab" * 30, encoding="utf-8")
    corpus = load_char_text(path, block=10, every=5)
    assert corpus.vocab == ("a", "b", "c")
    assert corpus.encode("cab").tolist() == [2, 0, 1]
    assert corpus.decode(np.array([[2, 0], [1, 1]])) == "cabb"
    with pytest.raises(ValueError, match=r"not in the alphabet: \['z'\]"):
        corpus.encode("abz")
    with pytest.raises(ValueError, match=r"ids must be in \[0, 3\), got \[0, 3\]"):
        corpus.decode([0, 3])
    with pytest.raises(ValueError, match="too few for a held-out block"):
        load_char_text(path, block=1000)


def test_random_windows_are_shifted_by_one():
    ids = np.arange(100, 200)
    x, y = random_windows(ids, 7, 12, np.random.default_rng(0))
    assert x.shape == y.shape == (7, 12) and x.dtype == np.int64
    np.testing.assert_array_equal(y.data, x.data + 1)
    np.testing.assert_array_equal(np.diff(x.data, axis=1), 1)
    assert x.data.min() >= 100 and y.data.max() <= 199
    a, _ = random_windows(ids, 7, 12, np.random.default_rng(0))
    np.testing.assert_array_equal(a.data, x.data)
    with pytest.raises(ValueError, match="longer than seq_len"):
        random_windows(np.arange(10), 2, 9, np.random.default_rng(0))
    with pytest.raises(ValueError, match="batch must be a positive int"):
        random_windows(ids, 0, 4, np.random.default_rng(0))
