"""Ops keep an input's or output's array only through ``ctx.save_for_backward``.

The engine's in-place check (autograd/version.py) knows only the arrays in ``saved_tensors``: an
array (or a view of one) kept as a plain ``ctx`` attribute would be read by backward after an
in-place write without any error. This runs every op-table case, normal and edge, and fails if
any attribute in a context's ``__dict__`` (looked into through tuples, lists and dicts) shares
memory with one of the op's input arrays or its output's.
"""

from __future__ import annotations

import importlib
import warnings
from pathlib import Path

import numpy as np
import pytest

import backprop as bp
import optable
from backprop.autograd import function as bfunction
from test_ops import _edges, _run, _samples

for _path in sorted(Path(__file__).parents[1].glob("optable_*.py")):
    importlib.import_module(_path.stem)

CASES = [
    pytest.param(row, kind, i, id=f"{row.name}-{kind}{i}")
    for row in optable.ROWS
    for kind, samples in (("", _samples), ("edge", _edges))
    for i in range(len(samples(row)))
]


def _arrays(value, path):
    """(path, ndarray) for every array in an attribute value, through tuples, lists, dicts."""
    if isinstance(value, np.ndarray):
        yield path, value
    elif isinstance(value, (tuple, list)):
        for k, v in enumerate(value):
            yield from _arrays(v, f"{path}[{k}]")
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _arrays(v, f"{path}[{k!r}]")


def _contexts(row, sample):
    """(op name, ctx, [input arrays], output array) for every op the row's call records."""
    found = []
    last = {}

    def hook(event, fn, obj):
        if event == "forward":
            last["y"] = obj
        elif event == "record":
            found.append((fn.name, obj, last.get("y")))

    bfunction._anomaly_hook = hook
    try:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _run(bp, row, sample, np.float64)
    finally:
        bfunction._anomaly_hook = None
    out = []
    for name, ctx, y in found:
        inputs = [p.data if isinstance(p, bp.Tensor) else p for p in ctx.parents]
        out.append((name, ctx, [a for a in inputs if isinstance(a, np.ndarray)], y))
    return out


@pytest.mark.parametrize("row,kind,i", CASES)
def test_ctx_attributes_hold_no_input_or_output_array(row, kind, i):
    sample = (_edges if kind else _samples)(row)[i]
    bad = []
    for name, ctx, inputs, y in _contexts(row, sample):
        watched = [(f"input {k}", a) for k, a in enumerate(inputs)] + [("the output", y)]
        for attr, value in vars(ctx).items():
            for path, a in _arrays(value, f"ctx.{attr}"):
                for what, w in watched:
                    if isinstance(w, np.ndarray) and a.size and np.shares_memory(a, w):
                        bad.append((name, f"{name}: {path} shares memory with {what}"))
    assert not bad, "keep these with ctx.save_for_backward instead:\n" + "\n".join(
        msg for _, msg in bad
    )


def test_rnn_layer_weight_written_in_place_is_caught():
    """W_hh, once a plain attribute, is now saved: writing to it before backward raises."""
    from backprop.ops import recurrent as R

    rng = np.random.default_rng(0)
    ax = bp.tensor(rng.standard_normal((3, 2, 4)), requires_grad=True)
    h0 = bp.tensor(rng.standard_normal((2, 4)))
    w = bp.tensor(rng.standard_normal((4, 4)), requires_grad=True)
    hs = R.RNNLayer.apply(ax, h0, w)
    with bp.no_grad():
        w.mul_(2.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        hs.sum().backward()
