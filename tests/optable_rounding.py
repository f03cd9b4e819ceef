"""Op-table rows for rounding (floor, ceil, trunc, round: zero gradient) and the remainders
built on them (remainder, fmod: d/da = 1, d/db = -floor or -trunc of a / b)."""

from __future__ import annotations

import numpy as np

from optable import Sample, add, away, edges, inf, nan

A = np.array


def _away_from_jumps(rng, *shape):
    # values at least 0.1 from an integer or a half, so that finite differences see no jump
    return np.floor(rng.normal(size=shape) * 4) + rng.uniform(0.15, 0.35, size=shape)


for _fn in ("floor", "ceil", "trunc"):
    add(
        _fn,
        lambda m, x, _fn=_fn: getattr(m, _fn)(x),
        lambda rng: [Sample([_away_from_jumps(rng, 3, 4)]), Sample([_away_from_jumps(rng, 5)])],
        ref=getattr(np, _fn),
        edge_ops=("rounding",),
        edges=edges(Sample([A([0.0, -0.0, 1.0, -1.0, 2.5, -2.5, inf, -inf, nan])])),
    )
add(
    "round",
    lambda m, x: m.round(x),
    lambda rng: [Sample([_away_from_jumps(rng, 3, 4)])],
    ref=np.round,
    edge_ops=("rounding",),
    edges=edges(
        Sample([A([0.5, 1.5, 2.5, -0.5, -1.5, 0.0, inf, nan])], grad=[inf, 1, 1, 1, 1, nan, 1, 1])
    ),
)
add(
    "round_decimals",
    lambda m, x: m.round(x, decimals=2),
    lambda rng: [Sample([_away_from_jumps(rng, 4) / 100])],
    edge_ops=("rounding",),
)
add(
    "remainder",
    lambda m, a, b: m.remainder(a, b),
    lambda rng: [Sample([_away_from_jumps(rng, 3, 4), away(rng, 3, 4, margin=0.5)])],
)
add(
    "fmod",
    lambda m, a, b: m.fmod(a, b),
    lambda rng: [Sample([_away_from_jumps(rng, 3, 4), away(rng, 3, 4, margin=0.5)])],
)
