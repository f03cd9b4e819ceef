"""Op-table rows for the two ops that in-place writes record: index_put (``x[i] = v``) and
copy_slices (a write through a view). Each row writes into a copy, so that both libraries build
the graph their in-place machinery makes; the in-place rules themselves are in
tests/core/test_inplace.py."""

from __future__ import annotations

from optable import Sample, add, no_edges, randn


def _setitem(m, x, v):
    b = x * 1
    b[:, m.tensor([0, 2])] = v
    return b


def _setitem_basic(m, x, v):
    b = x * 1
    b[1:, 1] = v
    return b


def _write_through_view(m, x, v):
    b = x * 1
    b[1:, ::2].mul_(v)
    return b * 1


def _write_through_reshape(m, x, v):
    b = x * 1
    b.reshape(12)[3:7] += v
    return b


add(
    "index_put",
    _setitem,
    lambda rng: [
        Sample([randn(rng, 3, 4), randn(rng, 3, 2)]),
        Sample([randn(rng, 3, 4), randn(rng, 2)]),
    ],
)
add("index_put_basic", _setitem_basic, lambda rng: [Sample([randn(rng, 3, 4), randn(rng, 2)])])
no_edges("index_put", "gx = gy zeroed at the written places, gv = gy there: no value is special")
add(
    "copy_slices",
    _write_through_view,
    lambda rng: [Sample([randn(rng, 3, 4), randn(rng, 2, 2)])],
)
add(
    "copy_slices_reshape",
    _write_through_reshape,
    lambda rng: [Sample([randn(rng, 3, 4), randn(rng, 4)])],
)
no_edges("copy_slices", "gbase = gy zeroed at the view's places, gv = gy there: nothing special")
