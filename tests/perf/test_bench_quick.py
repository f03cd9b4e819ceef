"""`make bench` must keep working: a `--quick` run of the fair harness (one round, tiny counts, in
subprocesses so that thread settings stay there) and one call of every workload in each library,
checked to compute the same values. Nothing here asserts a speed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCH))
import run_all  # noqa: E402  (standard library only: importing it starts nothing)

pytest.importorskip("torch")


def test_median_of_per_round_ratios_not_ratio_of_medians():
    torch_s = [1.0, 4.0, 2.0]
    bp_s = [2.0, 1.0, 2.0]  # per-round ratios 0.5, 4, 1 -> median 1; medians' ratio 2 / 2 = 1
    assert run_all.median_ratio(torch_s, bp_s) == 1.0
    assert run_all.median_ratio([3.0, 1.0], [1.0, 1.0]) == 2.0  # ratios 3, 1: mean of the two
    with pytest.raises(ValueError, match="median_ratio"):
        run_all.median_ratio([1.0], [1.0, 2.0])


def test_child_env_caps_every_thread_pool():
    env = run_all.child_env(3)
    assert all(env[v] == "3" for v in run_all.THREAD_VARS)
    assert set(run_all.THREAD_VARS) >= {"OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS"}


def test_select_rejects_unknown_keys_and_pairs_inprocess_with_lenet():
    assert run_all.select("mlp,gemm") == (["mlp"], ["gemm"])
    assert run_all.select("inprocess")[1] == []  # needs the own-process LeNet-5 step beside it
    with pytest.raises(SystemExit, match="unknown"):
        run_all.select("mlpp")


def test_markdown_written_atomically(tmp_path):
    target = tmp_path / "R.md"
    target.write_text("old")
    run_all.write_atomically(target, "new\n")
    assert target.read_text() == "new\n"
    assert [p.name for p in tmp_path.iterdir()] == ["R.md"]  # no temporary left behind


def test_quick_run_prints_every_section(tmp_path):
    out_md = tmp_path / "RESULTS.md"
    cmd = [sys.executable, str(BENCH / "run_all.py"), "--quick", "--threads", "1"]
    cmd += ["--only", "mlp,lenet,gemm,memory,inprocess", "--markdown", str(out_md)]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=150)
    assert res.returncode == 0, res.stderr[-3000:]
    text = out_md.read_text()
    assert text == "# Benchmark results: backprop against PyTorch (CPU)\n\n" + res.stdout[:-1]
    for needle in (
        "| MLP 784-512-256-10 training step, batch 64 (SGD momentum) |",
        "| LeNet-5 (20-50-500, pad 2) training step, batch 64 (SGD momentum) |",
        "| 2048^3 square | 1 |",
        "| LeNet-5, batch 64 (2.454 GFLOP) | 1 |",
        "| MLP 784-512-256-10, batch 64 (0.154 GFLOP) | 1 |",
        "| PyTorch | 1 |",
        "### Why not both in one process",
        "--quick: tiny iteration counts",
    ):
        assert needle in text, needle
    assert "disagreed" not in text


_ALL_WORKLOADS = """
import json, sys
sys.path.insert(0, {bench!r})
import workloads
out = {{}}
for w in ("lenet_infer", "sgd", "adam", "conv", "lstm", "batchnorm", "chain"):
    r = workloads.run({{"workload": w, "lib": {lib!r}, "threads": 1, "quick": True}})
    out[w] = r["check"]
print(json.dumps(out))
"""


def test_every_workload_runs_and_both_libraries_agree():
    checks = {}
    for lib in run_all.LIBS:
        code = _ALL_WORKLOADS.format(bench=str(BENCH), lib=lib)
        res = subprocess.run(
            [sys.executable, "-c", code],
            env=run_all.child_env(1),
            capture_output=True,
            text=True,
            timeout=150,
        )
        assert res.returncode == 0, res.stderr[-3000:]
        checks[lib] = json.loads(res.stdout.strip().splitlines()[-1])
    assert set(checks["torch"]) == set(run_all.WORKLOADS) - {"mlp", "lenet"}
    for w, a in checks["torch"].items():
        assert run_all.checks_agree(a, checks["backprop"][w]), (w, a, checks["backprop"][w])
