"""The Trainer and the command line in a job of several processes: each test launches
``mpiexec`` on this machine in a subprocess with a timeout (see _train_worker.py); skipped where
mpiexec or mpi4py is missing."""

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from _launch import ENV, MPIEXEC, requires_mpi

pytestmark = requires_mpi

WORKER = Path(__file__).with_name("_train_worker.py")

# Digits, a small CNN with dropout (so every rank's random state matters), 96 training examples
# in global batches of 16 (8 per rank): 6 steps per epoch.
TINY = """
name = "tiny"
seed = 0
epochs = 2
batch_size = 16
metrics = ["accuracy"]

[model]
name = "digits_cnn"
channels = [4, 8]
hidden = 16
dropout = 0.25

[dataset]
name = "digits"
val_fraction = 0.25
limit = 96

[optimizer]
name = "sgd"
lr = 0.05
momentum = 0.9

[scheduler]
name = "plateau"
"""


def run(cmd, cwd, timeout=60):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=ENV, cwd=cwd)


def test_trainer_reduces_metrics_and_stops_every_rank_together(tmp_path):
    out = tmp_path / "t.json"
    proc = run([MPIEXEC, "-n", "2", sys.executable, str(WORKER), "trainer", str(out)], tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    r = json.loads(out.read_text())
    h0, h1 = r["history"]
    assert h0 == h1  # every rank decides on the same numbers
    # lr = 0: each epoch's metrics are the initial model's over all 48 examples, not a shard's.
    single = r["single"]
    for k in ("loss", "accuracy", "precision", "recall", "f1"):
        np.testing.assert_allclose(h0[k], [single[k]] * 2, rtol=1e-6, err_msg=k)
        np.testing.assert_allclose(h0[f"val_{k}"], [single[k]] * 2, rtol=1e-6, err_msg=k)
    assert r["batch_sizes"] == [16] * 6  # the batch logs count both ranks' examples
    assert r["examples_per_epoch"] == 48 and r["sampler_epoch"] == 1  # set_epoch was called
    # Rank 1's Ctrl-C after its batch 1 stops both after batch 2 (the next all-reduce).
    a, b = r["interrupt"]
    assert a == b and a["interrupted"] and a["step"] == 3 and a["epoch"] == 0
    # Rank 1's NaN at the second batch: both raise before that step, with equal weights.
    a, b = r["nan"]
    assert a["step"] == b["step"] == 1 and a["weights"] == b["weights"]
    assert "loss is nan at epoch 1, batch 2" in a["raised"] and "Anomaly detection" in b["raised"]
    for msg in r["refused"]:
        assert "written by a single process, and this job has 2" in msg


@pytest.fixture(scope="module")
def job(tmp_path_factory):
    """One mpiexec -n 2 job through backprop.cli.main: run a (2 epochs), run b with a real
    Ctrl-C on rank 1 in epoch 2, then ``backprop resume`` of b."""
    d = tmp_path_factory.mktemp("job")
    (d / "tiny.toml").write_text(TINY)
    args = ["--config", "tiny.toml", "--out-dir", "runs"]
    cmd = [MPIEXEC, "-n", "2", sys.executable, str(WORKER), "cli", str(d / "c.json")]
    cmd += ["train", *args, "--name", "a", "--", "env:1,1", "train", *args, "--name", "b", "-q"]
    cmd += ["--", "resume", "runs/b", "-q"]
    proc = run(cmd, d)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return d, proc, json.loads((d / "c.json").read_text())["runs"]


def test_cli_train_writes_once_and_every_rank_ends_equal(job):
    d, proc, (a, b, resumed) = job
    assert [a["code"], b["code"], resumed["code"]] == [0, 130, 0]
    assert sorted(p.name for p in (d / "runs").iterdir()) == ["a", "b"]  # one folder per run
    run_a = d / "runs" / "a"
    for name in ("config.toml", "history.csv", "results.json", "curves.png"):
        assert (run_a / name).is_file(), name
    assert {p.name for p in (run_a / "checkpoints").iterdir()} == {
        "best.safetensors",
        "last.safetensors",
    }
    rows = list(csv.DictReader((run_a / "history.csv").open()))
    assert len(rows) == 2
    # The log: rank 0 alone prints (one line per epoch, one report).
    assert proc.stdout.count("Epoch 1/2:") == 1 and proc.stdout.count("Test accuracy") == 2
    r0, r1 = a["ranks"]
    assert r0["weights"] == r1["weights"] and r0["history"] == r1["history"]
    assert float(rows[-1]["val_loss"]) == pytest.approx(r0["history"]["val_loss"][-1], rel=1e-12)
    # The validation metrics are those of the whole validation set, as one process finds them.
    from backprop.app.runner import build_data, build_loss, config_of, load_model
    from backprop.train import Trainer

    model, ckpt = load_model(run_a / "checkpoints" / "last.safetensors")
    cfg = config_of(ckpt)
    val = Trainer(model, build_loss(cfg), metrics=["accuracy"]).evaluate(build_data(cfg).val)
    assert val["loss"] == pytest.approx(r0["history"]["val_loss"][-1], rel=1e-6)
    assert val["accuracy"] == pytest.approx(r0["history"]["val_accuracy"][-1], abs=1e-12)


def test_cli_stop_on_one_rank_stops_both_and_resume_continues_exactly(job):
    d, proc, (a, b, resumed) = job
    assert all(r["interrupted"] for r in b["ranks"])  # rank 1 got the Ctrl-C: both stopped
    assert b["ranks"][0]["weights"] == b["ranks"][1]["weights"]
    assert "Interrupted: saved a resumable checkpoint" in proc.stdout
    assert "Resuming runs/b at epoch 2, batch 4" in proc.stdout  # the same batch on both ranks
    # Resumed under the same world size: bit-identical to the run never interrupted.
    for r_a, r_b in zip(a["ranks"], resumed["ranks"]):
        assert r_b["weights"] == r_a["weights"] and r_b["history"] == r_a["history"]


def test_resume_under_another_world_size_is_refused(job):
    d, _, _ = job
    proc = run([sys.executable, "-m", "backprop", "resume", "runs/b", "--epochs", "3"], d)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "written by a job of 2 processes, and this job has 1" in proc.stderr
    assert "mpiexec -n 2" in proc.stderr


def test_search_runs_its_trials_on_mpi_workers(tmp_path):
    cfg = TINY.replace("epochs = 2", "epochs = 1").replace("limit = 96", "limit = 32")
    cfg += '\n[search]\nmetric = "val_accuracy"\n[search.space]\n"optimizer.lr" = [0.01, 0.05]\n'
    (tmp_path / "s.toml").write_text(cfg)
    cmd = [MPIEXEC, "-n", "1", sys.executable, "-m", "backprop", "search", "s.toml", "--grid"]
    cmd += ["--executor", "mpi", "--jobs", "2", "--set", 'out_dir="runs"']
    proc = run(cmd, tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = list(csv.DictReader((tmp_path / "runs" / "tiny-search" / "results.csv").open()))
    assert len(rows) == 2 and all(r["status"] == "ok" for r in rows)
    # Without an MPI launch, --executor mpi is refused with the command to use.
    proc = run(cmd[3:], tmp_path)
    assert proc.returncode == 2 and "mpiexec -n 1" in proc.stderr
