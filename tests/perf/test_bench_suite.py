"""`make bench` must keep running: a smoke run of the suite's harness (a few quick workloads, no
files written) and of the memory probe, in subprocesses so that their thread settings stay there.
Nothing here is timed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

RUN_ALL = Path(__file__).resolve().parents[2] / "benchmarks" / "run_all.py"

pytest.importorskip("torch")


def _run(*args: str) -> str:
    res = subprocess.run(
        [sys.executable, str(RUN_ALL), *args], capture_output=True, text=True, timeout=300
    )
    assert res.returncode == 0, res.stderr[-3000:]
    return res.stdout


def test_suite_smoke_run_prints_the_table():
    out = _run("--quick", "--only", "lenet_infer,optim", "--no-write", "--threads", "1")
    assert "| LeNet-5 inference, batch 1,000 |" in out
    assert "| Adam step, 978,442 params (8 tensors) |" in out
    assert "Threads: 1 for each library" in out


def test_memory_probe_reports_peak_after_import():
    out = _run("--memory-probe", "backprop", "--batch", "4", "--steps", "2", "--threads", "1")
    r = json.loads(out.strip().splitlines()[-1])
    assert 0 < r["import_mib"] <= r["peak_mib"]
