"""Plots: learning curves and confusion matrices are written as PNGs for every history shape."""

import struct
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from backprop.viz import plot_confusion_matrix, plot_history  # noqa: E402


def _png_size(path):
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def test_learning_curves_with_validation_and_a_changing_lr(tmp_path):
    h = {
        "loss": [1.0, 0.5, 0.2, 0.1],
        "accuracy": [0.5, 0.8, 0.9, 0.95],
        "val_loss": [0.9, 0.6, 0.4, 0.45],
        "val_accuracy": [0.6, 0.8, 0.85, 0.84],
        "lr": [0.1, 0.1, 0.05, 0.05],
    }
    fig = plot_history(h, tmp_path / "c.png", title="t")
    w, hgt = _png_size(tmp_path / "c.png")
    assert w > 1000 and hgt > 450
    axes = fig.get_axes()
    assert len(axes) == 3  # loss, its learning-rate twin, accuracy
    assert sorted(a.get_ylabel() for a in axes) == ["accuracy (%)", "learning rate", "loss"]
    legend = [t.get_text() for t in axes[0].get_legend().get_texts()]
    assert "learning rate (right axis)" in legend and "lowest validation loss (epoch 3)" in legend


def test_learning_curves_for_a_loss_only_single_epoch_history(tmp_path):
    fig = plot_history(
        {
            "loss": [0.3],
            "lr": [
                0.01,
            ],
        },
        tmp_path / "c.png",
    )
    assert len(fig.get_axes()) == 1  # no metric panel, no lr axis (it never changed)
    with pytest.raises(ValueError, match="no 'loss'"):
        plot_history({"accuracy": [1.0]})
    with pytest.raises(ValueError, match="no metric 'f1'"):
        plot_history({"loss": [1.0]}, metric="f1")


def test_confusion_matrix_picture(tmp_path):
    cm = np.array([[5, 1, 0], [0, 7, 0], [2, 0, 0]])  # an empty predicted class, a rare row
    fig = plot_confusion_matrix(cm, ["cat", "dog", "bird"], tmp_path / "cm.png", title="x")
    assert _png_size(tmp_path / "cm.png")[0] > 400
    ax = fig.get_axes()[0]
    assert "accuracy 80.00% (12/15)" in ax.get_title()
    assert [t.get_text() for t in ax.texts] == ["5", "1", "7", "2"]
    with pytest.raises(ValueError, match="square"):
        plot_confusion_matrix(np.zeros((2, 3)))
    plot_confusion_matrix(np.eye(40, dtype=int) * 3)  # many classes: no per-cell text


def test_plotting_leaves_pyplot_alone():
    code = (
        "import sys; from backprop.viz import plot_history; "
        "plot_history({'loss': [1.0, 0.5]}); print('matplotlib.pyplot' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
