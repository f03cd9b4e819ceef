"""``backprop.app.export.export_checkpoint``: a `backprop train` run to ONNX, run by ONNX Runtime
(what the CLI's ``backprop export`` calls)."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import onnx
import pytest

import backprop
from backprop.app.export import export_checkpoint
from backprop.app.runner import load_model

ort = pytest.importorskip("onnxruntime")


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    work = tmp_path_factory.mktemp("export")
    r = subprocess.run(
        [sys.executable, "-m", "backprop", "train", "--name", "t", "--epochs", "1", "--set",
         "model.channels=[4, 8]", "--set", "model.hidden=16", "-q"],
        cwd=work, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    return work / "runs" / "t"


def test_export_checkpoint_runs_in_onnxruntime(run_dir, tmp_path):
    out = export_checkpoint(run_dir, tmp_path / "model.onnx")
    proto = onnx.load(str(out))
    onnx.checker.check_model(proto, full_check=True)
    meta = {p.key: p.value for p in proto.metadata_props}
    data = json.loads(meta["backprop.data"])
    assert data["input_shape"] == [1, 8, 8] and len(data["classes"]) == 10
    assert json.loads(meta["backprop.checkpoint"])["file"] == "best.safetensors"
    model, _ = load_model(run_dir / "checkpoints" / "best.safetensors")
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    for n in (1, 5):
        x = np.random.default_rng(n).standard_normal((n, 1, 8, 8)).astype(np.float32)
        got = session.run(None, {"input": x})[0]
        with backprop.no_grad():
            want = model(backprop.Tensor(x)).data
        np.testing.assert_allclose(got, want, atol=1e-5, rtol=1e-5)


def test_export_checkpoint_errors(tmp_path):
    with pytest.raises(FileNotFoundError):
        export_checkpoint(tmp_path / "nothing", tmp_path / "m.onnx")


def test_the_onnx_package_names_where_export_checkpoint_went():
    # backprop.onnx is a library below the application; the run exporter lives in app/.
    with pytest.raises(AttributeError, match=r"backprop\.app\.export\.export_checkpoint"):
        backprop.onnx.export_checkpoint  # noqa: B018


def test_cli_export_writes_a_file_onnxruntime_runs(run_dir, tmp_path):
    from backprop.cli import main

    out = tmp_path / "cli.onnx"
    assert main(["export", str(run_dir), str(out)]) == 0
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    x = np.zeros((3, 1, 8, 8), np.float32)
    assert session.run(None, {"input": x})[0].shape == (3, 10)


def test_cli_export_errors(tmp_path, capsys):
    from backprop.cli import main

    assert main(["export", str(tmp_path / "nothing"), str(tmp_path / "m.onnx")]) == 1
    assert main(["export", str(tmp_path), str(tmp_path / "m.txt")]) == 2
    assert "must end in .onnx" in capsys.readouterr().err
    assert not (tmp_path / "m.onnx").exists() and not (tmp_path / "m.txt").exists()
