"""OpenBLAS's idle spinning and the compiled kernels' threads (backprop.threads): each case in a
fresh interpreter, since the setting is read once, when NumPy loads OpenBLAS."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

PROBE = """
import json, os, sys
{first}
import backprop
from backprop.backend import kernels
out = {{"timeout": os.environ.get("OPENBLAS_THREAD_TIMEOUT"),
        "spin": backprop.threads.BLAS_WORKERS_SPIN}}
if {launch}:
    import numpy as np
    backprop.set_num_threads(2)
    kernels.set_kernels("numba")
    p = backprop.nn.Parameter(backprop.ones(100_000))
    p.grad = backprop.ones(100_000)
    backprop.optim.SGD([p], lr=0.1, momentum=0.9).step()  # a compiled launch
    from backprop.backend import numba_kernels as nk
    out["numba_threads"] = nk.numba.get_num_threads()
print(json.dumps(out))
"""


def _probe(first: str = "", launch: bool = False, env: dict | None = None) -> dict:
    environ = {k: v for k, v in os.environ.items() if k != "OPENBLAS_THREAD_TIMEOUT"}
    environ.update(env or {})
    code = PROBE.format(first=first, launch=launch)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       env=environ, timeout=120)  # fmt: skip
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout.strip().splitlines()[-1])


def test_import_backprop_first_shortens_the_spin():
    assert _probe() == {"timeout": "4", "spin": False}


def test_numpy_first_leaves_openblas_alone_and_says_its_workers_may_spin():
    assert _probe("import numpy") == {"timeout": None, "spin": True}


@pytest.mark.parametrize("value, spin", [("2", False), ("30", True)])
def test_a_value_the_user_set_is_kept(value, spin):
    got = _probe("import numpy", env={"OPENBLAS_THREAD_TIMEOUT": value})
    assert got == {"timeout": value, "spin": spin}


def test_kernels_run_on_one_thread_while_blas_workers_may_spin():
    pytest.importorskip("numba")
    pytest.importorskip("threadpoolctl")
    if (os.cpu_count() or 1) < 2:
        pytest.skip("needs 2 CPUs to tell one kernel thread from two")
    assert _probe("import numpy", launch=True)["numba_threads"] == 1
    assert _probe("", launch=True)["numba_threads"] == 2
