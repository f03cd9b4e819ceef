"""backend/allocator.py: glibc malloc's thresholds, set by ``import backprop``. Each case runs in a
fresh interpreter (the settings are per process, made at import)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

try:
    _GLIBC = os.confstr("CS_GNU_LIBC_VERSION").startswith("glibc")
except (AttributeError, ValueError, OSError):
    _GLIBC = False

pytestmark = pytest.mark.skipif(not _GLIBC, reason="the thresholds are glibc's")

# A training step's pattern: several arrays of a few MiB allocated, used, and all freed at the end;
# more is freed at once than twice the largest array, which glibc's own adaptive thresholds trim.
CHILD = """
import json, resource
import backprop
from backprop.backend import allocator
import numpy as np

def step():
    arrays = [np.ones(1 << 20, np.float32) for _ in range(6)]  # 6 x 4 MiB, written
    return sum(float(a[0]) for a in arrays)

step(); step()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(10):
    step()
faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
print(json.dumps({"configured": allocator.configured(), "faults_per_step": faults / 10}))
"""


def _run(**env):
    full = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    full.pop("BACKPROP_MALLOC", None)
    full.update(env)
    res = subprocess.run(
        [sys.executable, "-c", CHILD], env=full, capture_output=True, text=True, timeout=120
    )
    return res


def test_import_sets_the_thresholds_and_a_step_reuses_its_pages():
    res = _run()
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["configured"] is True
    assert out["faults_per_step"] < 100  # 24 MiB written a step: 6,144 pages when refaulted


def test_system_setting_leaves_malloc_alone_and_the_pages_fault_again():
    res = _run(BACKPROP_MALLOC="system")
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["configured"] is False
    assert out["faults_per_step"] > 3000  # the pattern the thresholds are for


def test_a_users_malloc_variable_wins():
    res = _run(MALLOC_ARENA_MAX="2")
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["configured"] is False


def test_an_unknown_setting_is_refused():
    res = _run(BACKPROP_MALLOC="fast")
    assert res.returncode != 0
    assert "BACKPROP_MALLOC must be 'tuned' or 'system', got 'fast'" in res.stderr
