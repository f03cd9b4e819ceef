"""Search spaces: the ``[search.space]`` table of a config, parsed into distributions.

Each entry is a dotted config key and a distribution (see :mod:`backprop.app.search` for the
format); :func:`grid_trials` takes every combination of the grid points, :func:`random_trials`
draws ``n`` configurations.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .errors import ConfigError

__all__ = ["Distribution", "parse_space", "grid_trials", "random_trials"]

_DISTS = ("choice", "uniform", "loguniform", "int_uniform")


@dataclass(frozen=True)
class Distribution:
    """One dimension of a search space."""

    kind: str
    values: tuple = ()
    low: float = 0.0
    high: float = 0.0
    num: int | None = None

    def grid(self, key: str) -> list:
        if self.kind == "choice":
            return list(self.values)
        if self.kind == "int_uniform" and self.num is None:
            return list(range(int(self.low), int(self.high) + 1))
        if self.num is None:
            raise ConfigError(
                f"search.space.{key}: a {self.kind} distribution needs 'num' (the number of grid "
                f"points) for a grid search"
            )
        if self.kind == "loguniform":
            pts = np.geomspace(self.low, self.high, self.num)
        else:
            pts = np.linspace(self.low, self.high, self.num)
        if self.kind == "int_uniform":
            return sorted({int(round(p)) for p in pts})
        return [float(f"{p:.6g}") for p in pts]

    def sample(self, rng: np.random.Generator):
        if self.kind == "choice":
            return self.values[int(rng.integers(len(self.values)))]
        if self.kind == "uniform":
            return float(rng.uniform(self.low, self.high))
        if self.kind == "loguniform":
            return float(math.exp(rng.uniform(math.log(self.low), math.log(self.high))))
        return int(rng.integers(int(self.low), int(self.high) + 1))


def parse_space(space: dict[str, Any]) -> dict[str, Distribution]:
    """Validate a ``[search.space]`` table; returns key -> :class:`Distribution`.

    Raises:
        ConfigError: an empty space, a bad distribution name or bounds.
    """
    if not isinstance(space, dict) or not space:
        raise ConfigError("search.space: give at least one key to search over")
    out = {}
    for key, spec in space.items():
        where = f"search.space.{key}"
        if isinstance(spec, list):
            spec = {"dist": "choice", "values": spec}
        if not isinstance(spec, dict) or "dist" not in spec:
            raise ConfigError(
                f"{where}: expected a list of values or a table with 'dist' (one of "
                f"{', '.join(_DISTS)}), got {spec!r}"
            )
        kind = spec["dist"]
        if kind not in _DISTS:
            raise ConfigError(f"{where}: unknown dist {kind!r}; allowed: {', '.join(_DISTS)}")
        allowed = {"dist", "values"} if kind == "choice" else {"dist", "low", "high", "num"}
        extra = set(spec) - allowed
        if extra:
            raise ConfigError(
                f"{where}: unknown key(s) {', '.join(sorted(extra))} for dist {kind!r}; "
                f"allowed: {', '.join(sorted(allowed))}"
            )
        if kind == "choice":
            values = spec.get("values")
            if not isinstance(values, list) or not values:
                raise ConfigError(f"{where}: 'values' must be a non-empty list")
            out[key] = Distribution("choice", tuple(values))
            continue
        low, high, num = spec.get("low"), spec.get("high"), spec.get("num")
        for name, v in (("low", low), ("high", high)):
            if not isinstance(v, (int, float)) or isinstance(v, bool) or not math.isfinite(v):
                raise ConfigError(f"{where}: '{name}' must be a finite number, got {v!r}")
        if not low < high:
            raise ConfigError(f"{where}: need low < high, got low={low}, high={high}")
        if kind == "loguniform" and low <= 0:
            raise ConfigError(f"{where}: loguniform needs low > 0, got {low}")
        if kind == "int_uniform" and not (float(low).is_integer() and float(high).is_integer()):
            raise ConfigError(f"{where}: int_uniform needs integer bounds, got {low}, {high}")
        if num is not None and (not isinstance(num, int) or isinstance(num, bool) or num < 2):
            raise ConfigError(f"{where}: 'num' must be an int >= 2, got {num!r}")
        out[key] = Distribution(kind, (), float(low), float(high), num)
    return out


def grid_trials(space: dict[str, Distribution]) -> list[dict[str, Any]]:
    """Every combination of the grid points, in order."""
    keys = list(space)
    axes = [space[k].grid(k) for k in keys]
    return [dict(zip(keys, combo)) for combo in itertools.product(*axes)]


def random_trials(space: dict[str, Distribution], n: int, seed: int = 0) -> list[dict[str, Any]]:
    """``n`` configurations drawn independently (reproducible for a given ``seed``)."""
    if not isinstance(n, int) or n < 1:
        raise ConfigError(f"random search: the number of trials must be >= 1, got {n!r}")
    rng = np.random.default_rng(seed)
    return [{k: d.sample(rng) for k, d in space.items()} for _ in range(n)]
