"""backprop.distributed over real MPI: each test launches ``mpiexec -n W`` on this machine in a
subprocess with a timeout (a hang fails the test, never CI). Skipped where mpiexec or mpi4py is
missing (the ``dev`` extra installs both)."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from _launch import ENV, MPIEXEC, requires_mpi

import backprop as bp

pytestmark = requires_mpi

WORKER = Path(__file__).with_name("_worker.py")


def launch(case, out, n=2, timeout=60, check=True):
    cmd = [MPIEXEC, "-n", str(n), sys.executable, str(WORKER), case, str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=ENV)
    if check:
        assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def single_process(dtype, steps):
    """The same training as _worker.train with the whole batch in one process."""
    bp.manual_seed(0)
    model = bp.nn.Sequential(bp.nn.Linear(5, 8), bp.nn.Tanh(), bp.nn.Linear(8, 3)).to(dtype)
    opt = bp.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    g = np.random.default_rng(1)
    x, y = g.normal(size=(12, 5)).astype(dtype), g.integers(0, 3, size=12)
    saved = {}
    for step in range(1, steps + 1):
        opt.zero_grad()
        bp.nn.functional.cross_entropy(model(bp.tensor(x)), bp.tensor(y)).backward()
        opt.step()
        if step in (1, steps):
            saved.update({f"{step}/{k}": v.numpy().copy() for k, v in model.state_dict().items()})
    return saved


@pytest.mark.parametrize("n", [2, 3])
def test_float64_training_equals_one_process_with_the_whole_batch(tmp_path, n):
    out = tmp_path / "p.npz"
    launch("train64", out, n=n)
    got = np.load(out)
    want = single_process(np.float64, 100)
    for k, v in want.items():
        tol = 1e-12 if k.startswith("1/") else 1e-10
        np.testing.assert_allclose(got[k], v, rtol=0, atol=tol, err_msg=k)


def test_float32_one_step(tmp_path):
    out = tmp_path / "p.npz"
    launch("train32", out)
    got = np.load(out)
    for k, v in single_process(np.float32, 1).items():
        np.testing.assert_allclose(got[k], v, rtol=1e-5, atol=1e-7, err_msg=k)


def test_collectives(tmp_path):
    out = tmp_path / "c.json"
    launch("collectives", out, n=3)
    r = json.loads(out.read_text())
    assert r["world"] == 3
    assert r["sum"] == [6.0] * 4 and r["mean"] == [2.0] * 4
    assert r["max"] == [2.0, 2.0] and r["min"] == [0.0, 0.0]
    assert r["bcast"] == [2.0] * 3
    assert r["gather"] == [{"rank": 0}, {"rank": 1}, {"rank": 2}]


def test_sampler_shards_cover_the_data_and_agree(tmp_path):
    out = tmp_path / "s.json"
    launch("sampler", out)
    r = json.loads(out.read_text())
    e0, e1 = r["True-False-10"]
    assert sorted(e0[0] + e0[1]) == list(range(10)) and e0 != e1  # once each, reshuffled
    pad = r["False-False-11"][0]
    assert pad == [[0, 2, 4, 6, 8, 10], [1, 3, 5, 7, 9, 0]]  # torch's padding rule
    drop = r["True-True-11"][0]
    assert len(drop[0]) == len(drop[1]) == 5 and not set(drop[0]) & set(drop[1])
    # Same shards as torch's DistributedSampler computes (given the same permutation).
    import torch.utils.data as tud

    ts = [list(tud.DistributedSampler(range(11), 2, r_, shuffle=False)) for r_ in (0, 1)]
    assert ts == pad


def test_unused_parameters_and_no_sync(tmp_path):
    out = tmp_path / "u.json"
    launch("unused_and_no_sync", out)
    r = json.loads(out.read_text())
    g0, g1 = r[0]["grads"], r[1]["grads"]
    assert g0 == g1  # averaged: identical on both ranks
    np.testing.assert_allclose(g0["b"], [[1.0, 1.0], [1.0, 1.0]])  # (0 + 2) / 2
    np.testing.assert_allclose(g0["a"], [[1.5, 1.5], [1.5, 1.5]])  # (1 + 2) / 2
    # Under no_sync each rank accumulated its own gradient.
    assert r[0]["local"] != r[1]["local"]


def test_an_exception_on_one_rank_ends_the_job(tmp_path):
    proc = launch("raise_on_rank1", tmp_path / "x", timeout=30, check=False)
    assert proc.returncode != 0
    assert "deliberate failure on rank 1" in proc.stderr


def test_mismatched_models_are_refused(tmp_path):
    proc = launch("mismatch", tmp_path / "x", timeout=30, check=False)
    assert proc.returncode != 0
    assert "different models" in proc.stderr and "(2, 4)" in proc.stderr


def test_single_process_world():
    import backprop.distributed as dist

    dist.init()
    assert dist.world_size() == 1 and dist.rank() == 0 and dist.is_main_process()
    x = bp.ones(3)
    assert dist.all_reduce(x, "mean") is x and dist.broadcast(x) is x
    assert dist.all_gather_object(5) == [5]
    with pytest.raises(ValueError, match="op"):
        dist.all_reduce(x, "prod")
