"""The ONNX Runtime check shared by the interop tests: export once, run the file on fresh inputs
at two batch sizes (and, for sequence models, two lengths), compare with backprop in eval mode."""

from __future__ import annotations

import numpy as np
import pytest

import backprop

ort = pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")

# float32: ONNX Runtime and backprop sum in different orders; 1e-5 absolute (plus 1e-5 relative
# for outputs far from 1, such as logits of untrained deep nets).
ATOL = RTOL = 1e-5


def _flat(out) -> list[np.ndarray]:
    if isinstance(out, backprop.Tensor):
        return [out.data]
    if out is None:
        return []
    return [a for o in out for a in _flat(o)]


def run_check(model, make_inputs, sizes, tmp_path=None, **export_kw) -> float:
    """Export ``model`` with ``make_inputs(sizes[0])``, then for every size in ``sizes`` feed fresh
    ``make_inputs(size)`` to ONNX Runtime and to backprop; returns the largest difference.

    ``make_inputs(size)`` returns a tuple of arrays (one per forward argument).
    """
    model.eval()
    first = make_inputs(sizes[0])
    path = None if tmp_path is None else tmp_path / "model.onnx"
    proto = backprop.onnx.export(model, tuple(backprop.Tensor(a) for a in first), path,
                                 **export_kw)  # fmt: skip
    if path is not None:
        assert path.stat().st_size > 0
    session = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]
    worst = 0.0
    for size in sizes:
        arrays = make_inputs(size)
        got = session.run(None, dict(zip(names, arrays)))
        with backprop.no_grad():
            want = _flat(
                model(
                    *[backprop.Tensor(a) for a in arrays],
                    **export_kw.get("forward_kwargs", {}) or {},
                )
            )
        assert len(got) == len(want)
        for g, w in zip(got, want):
            assert g.shape == w.shape, (g.shape, w.shape)
            np.testing.assert_allclose(g, w, atol=ATOL, rtol=RTOL)
            worst = max(worst, float(np.abs(g.astype(np.float64) - w).max(initial=0.0)))
    return worst


@pytest.fixture
def onnx_check():
    return run_check
