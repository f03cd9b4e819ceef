"""`backprop train` for a language model: the text dataset's windows, the token loss and
metrics (against torch and a float64 reference), and a tiny GPT run of examples/gpt_chars.toml
end to end, in process and from the command line."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import backprop
from backprop.app.components import LOSSES, TokenCrossEntropyLoss
from backprop.app.config import load_config
from backprop.app.runner import build_data, train_run
from backprop.data import DataLoader
from backprop.data.text import TextWindows, load_char_text
from backprop.train.metrics import BitsPerToken, TokenAccuracy, get_metric

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "examples" / "gpt_chars.toml"
TINY = ["epochs=2", "model.n_layer=1", "model.n_head=2", "model.n_embd=16",
        "model.block_size=16", "dataset.block=16", "batch_size=64"]  # fmt: skip


# ----------------------------------------------------------------------------- TextWindows
def test_windows_are_the_text_and_its_shift_by_one():
    ids = np.arange(100) * 3 % 17
    ds = TextWindows(ids, 8)
    assert len(ds) == (100 - 8 - 1) // 8 + 1 == 12
    for i in (0, 5, len(ds) - 1, -1):
        x, y = ds[i]
        s = (i % len(ds)) * 8
        assert x.dtype == y.dtype == np.int64 and x.shape == y.shape == (8,)
        np.testing.assert_array_equal(x, ids[s : s + 8])
        np.testing.assert_array_equal(y, ids[s + 1 : s + 9])
    xb, yb = ds.get_batch(np.array([3, 0, 11]))
    np.testing.assert_array_equal(xb, np.stack([ds[3][0], ds[0][0], ds[11][0]]))
    np.testing.assert_array_equal(yb, np.stack([ds[3][1], ds[0][1], ds[11][1]]))
    # The last window's target ends inside the text.
    assert (len(ds) - 1) * 8 + 8 + 1 <= len(ids)
    assert len(TextWindows(ids, 8, stride=1)) == 100 - 8


def test_windows_through_a_loader_and_no_shared_input_characters():
    ds = TextWindows(np.arange(200), 10)
    starts = sorted(int(x[0]) for x, _ in DataLoader(ds, batch_size=7) for x in x.data)
    assert starts == list(range(0, 190, 10))  # every window once, none overlapping


@pytest.mark.parametrize(
    "args, message",
    [((np.arange(10), 0), "block must be a positive int"),
     ((np.arange(10), 4, 0), "stride must be a positive int"),
     ((np.arange(10), True), "block must be a positive int"),
     ((np.arange(10.0), 4), "ids must be 1-D integers"),
     ((np.arange(12).reshape(3, 4), 2), "ids must be 1-D integers"),
     ((np.arange(8), 8), "make no window of block = 8")],
)  # fmt: skip
def test_windows_refuse_bad_arguments(args, message):
    with pytest.raises(ValueError, match=message):
        TextWindows(*args)


def test_windows_index_out_of_range():
    with pytest.raises(IndexError, match="out of range for 2 windows"):
        TextWindows(np.arange(20), 8)[2]


# ----------------------------------------------------------------------------- loss, metrics
def _logits_and_ids(seed=0, shape=(3, 5, 7)):
    rng = np.random.default_rng(seed)
    return rng.standard_normal(shape).astype(np.float32), rng.integers(0, shape[-1], shape[:-1])


def test_token_cross_entropy_matches_torch_with_its_gradient():
    torch = pytest.importorskip("torch")
    z, y = _logits_and_ids()
    zt = torch.tensor(z, requires_grad=True)
    ref = torch.nn.functional.cross_entropy(zt.reshape(-1, 7), torch.tensor(y).reshape(-1))
    ref.backward()
    zb = backprop.tensor(z, requires_grad=True)
    loss = TokenCrossEntropyLoss()(zb, backprop.tensor(y))
    loss.backward()
    assert abs(loss.item() - ref.item()) < 1e-6
    np.testing.assert_allclose(zb.grad.data, zt.grad.numpy(), atol=1e-7)
    assert LOSSES.get("token_cross_entropy", "loss.name").target is TokenCrossEntropyLoss


def test_bits_per_token_and_token_accuracy_over_batches():
    z, y = _logits_and_ids(1, (4, 6, 5))
    bits, acc = get_metric("bits_per_char"), get_metric("token_accuracy")
    assert isinstance(bits, BitsPerToken) and isinstance(acc, TokenAccuracy)
    for part in (slice(0, 1), slice(1, 4)):  # two uneven batches: exact over the epoch
        bits.update(backprop.tensor(z[part]), backprop.tensor(y[part]))
        acc.update(z[part], y[part])
    z64 = z.astype(np.float64)
    logp = z64 - np.log(np.exp(z64).sum(-1, keepdims=True))
    expected = -np.take_along_axis(logp, y[..., None], -1).mean() / math.log(2)
    assert abs(bits.compute() - expected) < 1e-12
    assert acc.compute() == (z.argmax(-1) == y).mean()
    # Uniform logits: log2(V) bits.
    u = BitsPerToken()
    u.update(np.zeros((2, 3, 8)), np.zeros((2, 3), np.int64))
    assert abs(u.compute() - 3.0) < 1e-12


@pytest.mark.parametrize("metric", [BitsPerToken, TokenAccuracy])
def test_token_metrics_refuse_mismatched_shapes_and_float_ids(metric):
    with pytest.raises(ValueError, match=r"expected logits \(\.\.\., V\)"):
        metric().update(np.zeros((2, 3, 4)), np.zeros((2, 4), np.int64))
    with pytest.raises(TypeError, match="token ids must be integers"):
        metric().update(np.zeros((2, 3, 4)), np.zeros((2, 3)))


# ----------------------------------------------------------------------------- the run
def test_the_text_dataset_splits_as_documented():
    cfg = load_config(CONFIG, TINY)
    data = build_data(cfg)
    corpus = load_char_text(ROOT / "examples" / "data" / "poems.txt")
    n_train, n_test = len(TextWindows(corpus.train_ids, 16)), len(TextWindows(corpus.val_ids, 16))
    sizes = data.info["sizes"]
    assert sizes["train"] + sizes["val"] == n_train and sizes["test"] == n_test
    assert sizes["val"] == round(0.1 * n_train)
    assert data.info["classes"] == list(corpus.vocab) and data.info["mean"] is None
    x, y = next(iter(data.train))
    assert x.dtype == np.int64 and x.shape == (64, 16) and y.shape == (64, 16)
    # The validation windows are whole windows of the training text, none of them trained on.
    val_idx, train_idx = data.val.dataset.base.indices, data.train.dataset.base.indices
    assert not set(val_idx) & set(train_idx)
    assert len(set(val_idx) | set(train_idx)) == n_train


def test_a_tiny_gpt_trains_and_reports_bits_per_character(tmp_path):
    cfg = load_config(CONFIG, TINY)
    result = train_run(cfg, tmp_path / "run", verbose=0, handle_sigint=False)
    hist = result.history
    assert hist["val_bits_per_token"][-1] < hist["val_bits_per_token"][0] < math.log2(73) + 0.5
    assert abs(result.test["bits_per_token"] - result.test["loss"] / math.log(2)) < 1e-3
    saved = json.loads((tmp_path / "run" / "results.json").read_text())
    assert saved["test"]["bits_per_token"] == result.test["bits_per_token"]
    assert "confusion_matrix" not in saved["test"]  # not a classifier


def test_the_example_config_from_the_command_line(tmp_path):
    sets = [a for s in TINY for a in ("--set", s.replace("epochs=2", "epochs=1"))]
    r = subprocess.run(
        [sys.executable, "-m", "backprop", "train", "--config", str(CONFIG), *sets,
         "--out-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "Test, bits_per_token" in r.stdout and "token_accuracy" in r.stdout
