"""The worked examples run end to end on tiny settings (their full runs are in the report)."""

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _example(name: str):
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(autouse=True)
def _need_matplotlib():
    pytest.importorskip("matplotlib")


def test_seq2seq_tiny(tmp_path, capsys):
    ex = _example("seq2seq")
    scores = ex.main(["--steps", "3", "--hidden", "8", "--eval-n", "5", "--out", str(tmp_path)])
    assert set(scores) == {3, 4, 5, 6, 7, 8}
    assert (tmp_path / "seq2seq.png").stat().st_size > 0
    assert "exact-match accuracy" in capsys.readouterr().out
    src, tgt = ex.make_batch(4, np.random.default_rng(0), length=5)
    assert (tgt[:, :5] == src[:, ::-1]).all() and (tgt[:, 5] == ex.END).all()
    assert (ex.shift_right(tgt)[:, 0] == ex.START).all()


def test_char_lm_tiny(tmp_path, capsys):
    ex = _example("char_lm")
    result = ex.main(["--steps", "3", "--hidden", "8", "--seq-len", "16", "--batch", "4",
                      "--sample", "20", "--out", str(tmp_path)])  # fmt: skip
    assert result["val_bits"] > 0
    assert all(len(s) == len("Shall I compare thee") + 20 for s in result["samples"].values())
    assert (tmp_path / "char_lm.png").exists()


@pytest.mark.parametrize(
    "name, argv, png",
    [
        ("perceptron", [], "perceptron.png"),
        ("activations", [], "activations.png"),
        ("decision_boundaries", ["--steps", "2", "--n", "40"], "decision_boundaries.png"),
        ("universal_approximation", ["--steps", "2", "--restarts", "1"],
         "universal_approximation.png"),
        ("sequence_classification", ["--epochs", "1", "--hidden", "8"],
         "sequence_classification_digits.png"),
    ],
)  # fmt: skip
def test_small_examples(name, argv, png, tmp_path):
    _example(name).main([*argv, "--out", str(tmp_path)])
    assert (tmp_path / png).stat().st_size > 0


def test_model_summaries(capsys):
    _example("model_summaries").main(["--skip-large"])
    out = capsys.readouterr().out
    assert "768,000" in out and "1,256,080" in out and "62,378,344" in out and "11,689,512" in out


def test_mnist_examples_tiny(tmp_path, mnist_dir):
    root = ["--root", str(mnist_dir), "--out", str(tmp_path)]
    res = _example("lenet_filters").main(
        ["--epochs", "1", "--limit", "128", "--test-limit", "200", *root]
    )
    assert 0 <= res["test_accuracy"] <= 1 and (tmp_path / "lenet_filters.png").exists()
    res = _example("pretraining").main(
        ["--labels", "50", "--unlabelled", "100", "--epochs", "1", "--pretrain-epochs", "1", *root]
    )
    assert set(res) == {"random init", "pre-trained"}
