"""The lectures' practical rules (issue 16 item 3), each an example script: run on tiny settings,
with the claims they print checked."""

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
def _need_matplotlib_and_sklearn():
    pytest.importorskip("matplotlib")
    pytest.importorskip("sklearn", reason="the examples train on the digits bundled in sklearn")


def test_vanishing_gradients(tmp_path):
    r = _example("vanishing_gradients").main(["--epochs", "1", "--out", str(tmp_path)])
    sig, relu = r["sigmoid, default init"]["grad_norms"], r["ReLU, He init"]["grad_norms"]
    assert sig[0] / sig[-1] < 1e-5  # the first layer's gradient has all but vanished
    assert 0.1 < relu[0] / relu[-1] < 10
    tiny, glorot = r["tanh, N(0, 0.01²)"]["grad_norms"], r["tanh, Glorot uniform"]["grad_norms"]
    # (per layer, weights and bias: the output layer's bias gradient is O(1) for any init)
    assert tiny[0] < 1e-8 < min(glorot) and tiny[0] / tiny[-1] < 1e-8
    dead = r["ReLU, He init"]["dead_relu"]  # one fraction per ReLU module, from GradientStats
    assert len(dead) == 10 and all(0 <= d < 0.5 for d in dead)
    assert (tmp_path / "vanishing_gradients.png").stat().st_size > 0


def test_learning_rates(tmp_path):
    r = _example("learning_rates").main(["--epochs", "2", "--out", str(tmp_path)])
    q = r["quadratic"]
    assert abs(q["0.45 (right)"][-1]) < 1e-15 and abs(q["1.05 (diverges)"][-1]) > 1
    assert np.all(np.diff(q["0.1 (too small)"]) < 0)  # creeps monotonically
    m = r["mlp"]
    assert m["0.3 (right)"][-1] < m["0.001 (too small)"][-1] < m["3.0 (too large)"][0] + 1
    s = r["lr_find"].suggestion  # steeper than "too small", below "too large", and it trains
    assert 0.1 < s < 3.0 and m[f"{s:.2g} (lr_find)"][-1] < m["0.001 (too small)"][-1]
    assert (tmp_path / "learning_rates.png").stat().st_size > 0


def test_batch_sizes(tmp_path, monkeypatch):
    ex = _example("batch_sizes")
    monkeypatch.setitem(ex.SETTINGS, "stochastic (1)", (8, 0.1))  # keep the test short
    r = ex.main(["--epochs", "1", "--out", str(tmp_path)])
    assert r["full batch"]["updates"] == 1 and r["mini-batch 32"]["updates"] == 45
    assert all(v["losses"][-1] < v["losses"][0] for v in r.values())


def test_momentum_forms(tmp_path):
    r = _example("momentum_forms").main(["--steps", "30", "--out", str(tmp_path)])
    names = list(_example("momentum_forms").FORMS)
    pytorch, sutskever, heavy, literal = names
    for name in (sutskever, heavy):  # constant lr: one path, up to rounding
        assert r[(False, name)].max() < 1e-12
        d = r[(True, name)]  # lr halved at step 11: the same until then, apart after
        assert d[:11].max() < 1e-12 and d[11] > 1e-3
    d = r[(False, literal)]  # the literal rule: two equal steps, then its own path
    assert d[:3].max() < 1e-12 and d[3] > 1e-3
    assert r[(False, pytorch)].max() == 0
