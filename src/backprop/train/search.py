"""Hyper-parameter search: grid and random search over any config key, trials in worker processes.

The space is the ``[search.space]`` table of a config; each entry is a dotted config key and a
distribution::

    [search]
    metric = "val_accuracy"          # what ranks the trials (its best epoch)
    seed = 0                          # seeds the sampling of random search

    [search.space]
    "optimizer.lr" = { dist = "loguniform", low = 1e-4, high = 1e-1 }
    "optimizer.momentum" = [0.0, 0.9]                      # a list: a choice
    "model.hidden" = { dist = "choice", values = [64, 128] }
    "dataset.val_fraction" = { dist = "uniform", low = 0.1, high = 0.2 }
    "batch_size" = { dist = "int_uniform", low = 16, high = 64 }

Grid search takes every combination; a continuous distribution needs ``num`` points there
(``{dist = "loguniform", low = 1e-4, high = 1e-1, num = 4}``: 1e-4, 1e-3, 1e-2, 1e-1).
Random search draws ``n`` configurations (``low``/``high`` inclusive for ``int_uniform``).

Every trial is a full, seeded training run (the config's ``seed``, recorded) in its own folder
``<search dir>/trial-007/``, run in a pool of ``jobs`` worker processes (the ``spawn`` start
method: a fresh interpreter per worker, nothing inherited; each worker gets its share of the
CPU's threads). The results table is sorted by the validation metric and the best configuration
is written as ``best.toml``, ready for ``backprop train --config``. The test set is never used.
"""

from __future__ import annotations

import contextlib
import csv
import itertools
import math
import multiprocessing as mp
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..serialization import atomic_write
from .config import Config, ConfigError, apply_overrides, to_toml

__all__ = [
    "Distribution",
    "parse_space",
    "grid_trials",
    "random_trials",
    "run_search",
    "SearchResult",
]

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


# ---------------------------------------------------------------------------------- running
def _run_trial(job: dict) -> dict:
    """Run one trial (in a worker process): train, and report the best validation metric."""
    from .runner import train_run

    t0 = time.perf_counter()
    seed = job["config"].get("seed", 0)
    row = {"trial": job["trial"], "pid": os.getpid(), "params": job["params"], "seed": seed}
    try:
        cfg = Config.from_dict(job["config"])
        result = train_run(
            cfg, Path(job["run_dir"]), verbose=0, test=False, plots=False, handle_sigint=False
        )
        values = result.history.get(job["metric"])
        if not values:
            raise ValueError(f"metric {job['metric']!r} is not in the history")
        arr = np.asarray(values, dtype=float)
        if np.isnan(arr).all():
            raise ValueError(f"metric {job['metric']!r} is NaN at every epoch")
        best = int(np.nanargmax(arr) if job["mode"] == "max" else np.nanargmin(arr))
        row.update(status="ok", value=float(arr[best]), epoch=best + 1, epochs=len(arr))
    except Exception as e:  # a failed trial is a result, not the end of the search
        row.update(status=f"failed: {type(e).__name__}: {e}", value=math.nan, epoch=0, epochs=0)
    row["seconds"] = time.perf_counter() - t0
    return row


def _ignore_sigint() -> None:
    # Ctrl-C goes to the whole process group: the parent stops the pool, workers just die.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@contextlib.contextmanager
def _threads_per_worker(jobs: int):
    """Give each of ``jobs`` workers its share of the cores (BLAS threads), for the spawned
    processes only: the variables are restored once the workers have started."""
    names = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
    saved = {k: os.environ.get(k) for k in names}
    share = str(max(1, (os.cpu_count() or 1) // jobs))
    for k in names:
        os.environ[k] = share
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@dataclass
class SearchResult:
    """The trials, best first (failed ones last), and where things were written."""

    rows: list[dict]
    metric: str
    mode: str
    out_dir: Path
    best_config: Path | None


def _mode(metric: str, mode: str) -> str:
    if mode != "auto":
        return mode
    name = metric.removeprefix("val_")
    return "max" if ("acc" in name or name in ("f1", "precision", "recall")) else "min"


def run_search(
    cfg: Config,
    raw: dict[str, Any],
    trials: list[dict[str, Any]],
    out_dir: Path,
    jobs: int = 1,
    progress: Callable[[dict, int, int], None] | None = None,
) -> SearchResult:
    """Run ``trials`` (dicts of dotted key -> value applied to ``raw``) in ``jobs`` processes.

    Every trial config is validated before anything runs (a bad value fails the whole search
    at once, with the key named).

    Args:
        cfg: the validated base config (its ``search`` section gives the metric and mode).
        raw: the base config as a raw dict (what the trials' values are applied to).
        trials: the configurations to try.
        out_dir: the search folder (trial folders, ``results.csv``, ``best.toml``).
        jobs: worker processes (bounded by the number of trials and of CPUs).
        progress: called as ``progress(row, done, total)`` when a trial ends.
    """
    search = cfg.search
    if search is None:
        raise ConfigError("search: the config has no [search] section")
    metric = search.metric
    mode = _mode(metric, search.mode)
    base = {k: v for k, v in raw.items() if k != "search"}
    base["out_dir"] = str(out_dir)
    width = max(3, len(str(len(trials) - 1)))
    job_list = []
    for i, params in enumerate(trials):
        trial_raw = apply_overrides(base, list(params.items()))
        trial_raw["name"] = f"trial-{i:0{width}d}"
        try:
            Config.from_dict(trial_raw)
        except ConfigError as e:
            raise ConfigError(f"search trial {i} ({_fmt_params(params)}): {e}") from None
        job_list.append({
            "trial": i, "params": params, "config": trial_raw, "metric": metric, "mode": mode,
            "run_dir": str(out_dir / trial_raw["name"]),
        })  # fmt: skip
    for job in job_list:
        Path(job["run_dir"]).mkdir(parents=True, exist_ok=False)
    jobs = max(1, min(int(jobs), len(job_list), os.cpu_count() or 1))
    rows: list[dict] = []
    keys = list(trials[0]) if trials else []
    try:
        if jobs == 1:
            for job in job_list:
                rows.append(_run_trial(job))
                if progress:
                    progress(rows[-1], len(rows), len(job_list))
        else:
            ctx = mp.get_context("spawn")
            with _threads_per_worker(jobs):
                pool = ctx.Pool(processes=jobs, initializer=_ignore_sigint)
            try:
                for row in pool.imap_unordered(_run_trial, job_list, chunksize=1):
                    rows.append(row)
                    if progress:
                        progress(row, len(rows), len(job_list))
                pool.close()
            except BaseException:
                pool.terminate()
                raise
            finally:
                pool.join()
    except KeyboardInterrupt:
        _write_results(out_dir / "results.csv", _sorted(rows, mode), keys)  # what finished
        raise
    rows = _sorted(rows, mode)
    _write_results(out_dir / "results.csv", rows, keys)
    best_path = None
    if rows and rows[0]["status"] == "ok":
        best = apply_overrides(base, list(rows[0]["params"].items()))
        best["name"] = f"{cfg.run_name()}-best"
        best["out_dir"] = cfg.out_dir
        best_path = out_dir / "best.toml"
        header = (
            f"# Best of {len(rows)} trials by {metric} ({mode}): {rows[0]['value']:.6g} at epoch "
            f"{rows[0]['epoch']} (trial {rows[0]['trial']}).\n"
            f"# Train it with: backprop train --config {best_path}\n\n"
        )
        with atomic_write(best_path, "w") as f:
            f.write(header + to_toml(best))
    return SearchResult(rows, metric, mode, out_dir, best_path)


def _sorted(rows: list[dict], mode: str) -> list[dict]:
    def key(r):
        ok = r["status"] == "ok" and not math.isnan(r["value"])
        v = r["value"] if ok else 0.0
        return (not ok, -v if mode == "max" else v, r["trial"])

    return sorted(rows, key=key)


def _fmt_params(params: dict) -> str:
    return ", ".join(f"{k}={_fmt(v)}" for k, v in params.items())


def _fmt(v) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def _write_results(path: Path, rows: list[dict], keys: list[str]) -> None:
    with atomic_write(path, "w") as f:
        w = csv.writer(f)
        w.writerow(["rank", "trial", "value", "epoch", *keys, "seed", "seconds", "status"])
        for rank, r in enumerate(rows, 1):
            params = (r["params"].get(k) for k in keys)
            w.writerow([rank, r["trial"], repr(r["value"]), r["epoch"], *params, r.get("seed"),
                        f"{r['seconds']:.1f}", r["status"]])  # fmt: skip


def format_table(result: SearchResult, limit: int | None = None) -> str:
    """The results as an aligned text table, best first."""
    keys = list(result.rows[0]["params"]) if result.rows else []
    head = ["rank", "trial", result.metric, "epoch", *keys, "time"]
    lines = []
    for rank, r in enumerate(result.rows[:limit] if limit else result.rows, 1):
        ok = r["status"] == "ok"
        lines.append([
            str(rank), str(r["trial"]), f"{r['value']:.4f}" if ok else "failed",
            str(r["epoch"]) if ok else "-", *(_fmt(r["params"][k]) for k in keys),
            f"{r['seconds']:.1f}s",
        ])  # fmt: skip
    widths = [
        max(len(h), *(len(row[i]) for row in lines)) if lines else len(h)
        for i, h in enumerate(head)
    ]
    out = ["  ".join(h.rjust(w) for h, w in zip(head, widths))]
    out += ["  ".join(c.rjust(w) for c, w in zip(row, widths)) for row in lines]
    failed = [r for r in result.rows if r["status"] != "ok"]
    for r in failed:
        out.append(f"trial {r['trial']} {r['status']}")
    return "\n".join(out)
