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

With ``executor="mpi"`` (``backprop search ... --executor mpi``) the trials run on MPI workers
spawned by ``mpi4py.futures.MPIPoolExecutor``, on this machine or on the hosts the launcher
knows: launch the search itself as one MPI process, ``mpiexec -n 1 backprop search CONFIG
--random 16 --executor mpi --jobs 8`` (MPICH spawns through ``mpiexec``). Each trial still trains
in one process.
"""

from __future__ import annotations

import contextlib
import csv
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

from ..fileio import atomic_write
from ..train.callbacks import monitor_mode
from .config import Config, apply_overrides, to_toml
from .errors import ConfigError, UsageError
from .runner import train_run
from .space import Distribution, grid_trials, parse_space, random_trials

__all__ = [
    "Distribution",
    "parse_space",
    "grid_trials",
    "random_trials",
    "run_search",
    "SearchResult",
    "format_table",
    "format_params",
]


# ---------------------------------------------------------------------------------- running
def _run_trial(job: dict) -> dict:
    """Run one trial (in a worker process): train, and report the best validation metric."""
    t0 = time.perf_counter()
    seed = job["config"].get("seed", 0)
    row = {"trial": job["trial"], "pid": os.getpid(), "params": job["params"], "seed": seed}
    try:
        cfg = Config.from_dict(job["config"])
        result = train_run(
            cfg, Path(job["run_dir"]), verbose=0, test=False, plots=False, handle_sigint=False,
            distributed=False,  # one process per trial, even on an MPI worker
        )  # fmt: skip
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


def run_search(
    cfg: Config,
    raw: dict[str, Any],
    trials: list[dict[str, Any]],
    out_dir: Path,
    jobs: int = 1,
    progress: Callable[[dict, int, int], None] | None = None,
    executor: str = "local",
) -> SearchResult:
    """Run ``trials`` (dicts of dotted key -> value applied to ``raw``) in ``jobs`` processes.

    Every trial config is validated before anything runs (a bad value fails the whole search
    at once, with the key named).

    Args:
        cfg: the validated base config (its ``search`` section gives the metric and mode).
        raw: the base config as a raw dict (what the trials' values are applied to).
        trials: the configurations to try.
        out_dir: the search folder (trial folders, ``results.csv``, ``best.toml``).
        jobs: worker processes (bounded by the number of trials, and for local ones by the
            CPUs).
        progress: called as ``progress(row, done, total)`` when a trial ends.
        executor: ``"local"`` (a pool of spawned processes, or this one for ``jobs == 1``) or
            ``"mpi"`` (``mpi4py.futures.MPIPoolExecutor`` workers; the search must have been
            launched by ``mpiexec -n 1``).
    """
    search = cfg.search
    if search is None:
        raise ConfigError("search: the config has no [search] section")
    _check_executor(executor)
    metric = search.metric
    mode = monitor_mode(metric, search.mode, "search")
    base = {k: v for k, v in raw.items() if k != "search"}
    base["out_dir"] = str(out_dir)
    job_list = _trial_jobs(base, trials, out_dir, metric, mode)
    for job in job_list:
        Path(job["run_dir"]).mkdir(parents=True, exist_ok=False)
    rows: list[dict] = []
    keys = list(trials[0]) if trials else []
    try:
        if executor == "mpi":
            _run_mpi_jobs(job_list, jobs, rows, progress)
        else:
            _run_jobs(job_list, jobs, rows, progress)
    except KeyboardInterrupt:
        _write_results(out_dir / "results.csv", _sorted(rows, mode), keys)  # what finished
        raise
    rows = _sorted(rows, mode)
    _write_results(out_dir / "results.csv", rows, keys)
    best_path = None
    if rows and rows[0]["status"] == "ok":
        best_path = out_dir / "best.toml"
        _write_best(best_path, cfg, base, rows, metric, mode)
    return SearchResult(rows, metric, mode, out_dir, best_path)


def _trial_jobs(base: dict, trials: list[dict], out_dir: Path, metric: str, mode: str) -> list:
    """One job per trial: its raw config (validated here, so a bad value fails the search
    before anything runs), its folder and what ranks it."""
    width = max(3, len(str(len(trials) - 1)))
    job_list = []
    for i, params in enumerate(trials):
        trial_raw = apply_overrides(base, list(params.items()))
        trial_raw["name"] = f"trial-{i:0{width}d}"
        try:
            Config.from_dict(trial_raw)
        except ConfigError as e:
            raise ConfigError(f"search trial {i} ({format_params(params)}): {e}") from None
        job_list.append({
            "trial": i, "params": params, "config": trial_raw, "metric": metric, "mode": mode,
            "run_dir": str(out_dir / trial_raw["name"]),
        })  # fmt: skip
    return job_list


def _run_jobs(job_list: list, jobs: int, rows: list, progress) -> None:
    """Run the trials in this process (``jobs == 1``) or a pool of spawned workers, appending
    each finished trial's row to ``rows`` (kept on Ctrl-C)."""
    jobs = max(1, min(int(jobs), len(job_list), os.cpu_count() or 1))
    if jobs == 1:
        for job in job_list:
            rows.append(_run_trial(job))
            if progress:
                progress(rows[-1], len(rows), len(job_list))
        return
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


def _check_executor(executor: str) -> None:
    """Refuse an executor that cannot run here, before any folder is made."""
    from ..distributed import _mpi

    if executor not in ("local", "mpi"):
        raise UsageError(f"search: executor must be 'local' or 'mpi', got {executor!r}")
    if not _mpi.launched_by_mpi():
        if executor == "mpi":
            raise UsageError(
                "search --executor mpi spawns its workers through MPI: launch the search as one "
                "MPI process, mpiexec -n 1 backprop search ... --executor mpi --jobs N"
            )
        return
    from ..distributed import world_size

    if world_size() > 1:
        raise UsageError(
            f"search runs as one process that hands out trials, not as a job of "
            f"{world_size()}: launch it with mpiexec -n 1 and --executor mpi --jobs N (N "
            f"workers), or without mpiexec"
        )


def _run_mpi_jobs(job_list: list, jobs: int, rows: list, progress) -> None:
    """Run the trials on ``jobs`` MPI workers (``mpi4py.futures``), appending each finished
    trial's row to ``rows``. The workers get the local share of the cores as thread counts."""
    from concurrent.futures import as_completed

    from mpi4py.futures import MPIPoolExecutor

    jobs = max(1, min(int(jobs), len(job_list)))
    names = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
    share = str(max(1, (os.cpu_count() or 1) // jobs))
    env = {k: os.environ.get(k, share) for k in names}
    with MPIPoolExecutor(max_workers=jobs, env=env, initializer=_ignore_sigint) as pool:
        futures = [pool.submit(_run_trial, job) for job in job_list]
        try:
            for future in as_completed(futures):
                rows.append(future.result())
                if progress:
                    progress(rows[-1], len(rows), len(job_list))
        except BaseException:
            for f in futures:
                f.cancel()
            raise


def _write_best(path: Path, cfg: Config, base: dict, rows: list, metric: str, mode: str) -> None:
    """``best.toml``: the base config with the best trial's values, ready to train."""
    best = apply_overrides(base, list(rows[0]["params"].items()))
    best["name"] = f"{cfg.run_name()}-best"
    best["out_dir"] = cfg.out_dir
    header = (
        f"# Best of {len(rows)} trials by {metric} ({mode}): {rows[0]['value']:.6g} at epoch "
        f"{rows[0]['epoch']} (trial {rows[0]['trial']}).\n"
        f"# Train it with: backprop train --config {path}\n\n"
    )
    with atomic_write(path, "w", within=path.parent) as f:
        f.write(header + to_toml(best))


def _sorted(rows: list[dict], mode: str) -> list[dict]:
    def key(r):
        ok = r["status"] == "ok" and not math.isnan(r["value"])
        v = r["value"] if ok else 0.0
        return (not ok, -v if mode == "max" else v, r["trial"])

    return sorted(rows, key=key)


def format_params(params: dict) -> str:
    """``key=value, key=value`` with floats to 4 significant digits."""
    return ", ".join(f"{k}={_fmt(v)}" for k, v in params.items())


def _fmt(v) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def _write_results(path: Path, rows: list[dict], keys: list[str]) -> None:
    with atomic_write(path, "w", newline="", within=path.parent) as f:
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
