"""Hyper-parameter search: spaces, grids, random draws, a parallel search that finds the best."""

import csv
import math
import os
import tomllib

import pytest

from backprop.app.config import Config, ConfigError
from backprop.app.search import grid_trials, parse_space, random_trials, run_search

BASE = {
    "seed": 0,
    "epochs": 3,
    "batch_size": 32,
    "metrics": ["accuracy"],
    "model": {"name": "mlp", "sizes": [2, 16, 3]},
    "dataset": {"name": "blobs", "n": 300, "noise": 0.3},
    "optimizer": {"name": "sgd", "lr": 0.1},
    "scheduler": {"name": "none"},
    "checkpoint": {"save_last": False},
    "search": {"metric": "val_accuracy", "space": {"optimizer.lr": [1e-6, 0.3]}},
}


def test_space_parsing_grids_and_random_draws():
    space = parse_space(
        {
            "optimizer.lr": {"dist": "loguniform", "low": 1e-4, "high": 1e-1, "num": 4},
            "optimizer.momentum": [0.0, 0.9],
            "batch_size": {"dist": "int_uniform", "low": 16, "high": 18},
            "model.dropout": {"dist": "uniform", "low": 0.0, "high": 0.5},
        }
    )
    with pytest.raises(ConfigError, match="model.dropout: a uniform distribution needs 'num'"):
        grid_trials(space)
    del space["model.dropout"]
    grid = grid_trials(space)
    assert len(grid) == 4 * 2 * 3
    assert sorted({g["optimizer.lr"] for g in grid}) == [1e-4, 1e-3, 1e-2, 1e-1]
    a = random_trials(
        parse_space({"optimizer.lr": {"dist": "loguniform", "low": 1e-4, "high": 1e-1}}), 50, seed=3
    )
    b = random_trials(
        parse_space({"optimizer.lr": {"dist": "loguniform", "low": 1e-4, "high": 1e-1}}), 50, seed=3
    )
    assert a == b
    lrs = [t["optimizer.lr"] for t in a]
    assert all(1e-4 <= v <= 1e-1 for v in lrs)
    assert sum(v < 1e-2 for v in lrs) > 15  # log-uniform: 2/3 of the mass below 1e-2


@pytest.mark.parametrize(
    "space, message",
    [
        ({}, "at least one key"),
        ({"lr": {"dist": "gaussian"}}, "unknown dist 'gaussian'"),
        ({"lr": {"dist": "loguniform", "low": 0, "high": 1}}, "loguniform needs low > 0"),
        ({"lr": {"dist": "uniform", "low": 2, "high": 1}}, "need low < high"),
        ({"lr": {"dist": "uniform", "low": 0, "high": 1, "step": 2}}, "unknown key(s) step"),
        ({"lr": {"dist": "choice", "values": []}}, "non-empty list"),
        ({"lr": 0.1}, "expected a list of values or a table"),
    ],
)
def test_bad_spaces_are_rejected(space, message):
    with pytest.raises(ConfigError) as e:
        parse_space(space)
    assert message in str(e.value)


def test_a_bad_trial_value_fails_before_anything_runs(tmp_path):
    raw = {**BASE, "search": {"space": {"optimizer.lr": [0.1, "fast"]}}}
    cfg = Config.from_dict(raw)
    with pytest.raises(ConfigError, match="search trial 1 .*optimizer.lr must be float"):
        run_search(cfg, raw, grid_trials(parse_space(cfg.search.space)), tmp_path / "s", jobs=2)
    assert not (tmp_path / "s").exists() or not any((tmp_path / "s").iterdir())


def test_parallel_search_runs_in_worker_processes_and_picks_the_best(tmp_path):
    raw = {**BASE, "out_dir": str(tmp_path)}
    cfg = Config.from_dict(raw)
    trials = grid_trials(parse_space(cfg.search.space))
    seen = []
    result = run_search(
        cfg,
        raw,
        trials,
        tmp_path / "search",
        jobs=2,
        progress=lambda row, done, total: seen.append((done, total)),
    )
    assert seen == [(1, 2), (2, 2)]
    rows = result.rows
    assert [r["status"] for r in rows] == ["ok", "ok"]
    assert rows[0]["params"] == {"optimizer.lr": 0.3} and rows[0]["value"] > 0.9
    assert rows[0]["value"] > rows[1]["value"]
    assert all(r["pid"] != os.getpid() for r in rows)  # ran in workers
    assert len({r["pid"] for r in rows}) <= 2
    table = list(csv.reader(open(tmp_path / "search" / "results.csv")))
    assert table[0][:4] == ["rank", "trial", "value", "epoch"] and table[1][4] == "0.3"
    best = tomllib.loads(result.best_config.read_text())
    assert best["optimizer"]["lr"] == 0.3 and "search" not in best
    Config.from_dict(best)  # ready to train
    for i in range(2):
        assert (tmp_path / "search" / f"trial-00{i}" / "history.csv").is_file()


def test_a_failing_trial_is_reported_not_fatal(tmp_path):
    raw = {
        **BASE,
        "out_dir": str(tmp_path),
        "epochs": 1,
        "search": {"metric": "val_accuracy", "space": {"optimizer.lr": [1e30, 0.3]}},
    }
    cfg = Config.from_dict(raw)
    result = run_search(cfg, raw, grid_trials(parse_space(cfg.search.space)), tmp_path / "s")
    assert result.rows[0]["status"] == "ok"
    assert result.rows[1]["status"].startswith("failed: ")  # diverged
    assert math.isnan(result.rows[1]["value"])
