"""Checkpoints: contents, and clear errors for every way a file can be wrong."""

import json
import os
import pickle
import struct

import numpy as np
import pytest

import backprop as bp
from backprop import nn, optim, serialization
from backprop.train import CheckpointError, Trainer, load_checkpoint, read_checkpoint
from backprop.train import save_checkpoint as save


@pytest.fixture
def trained(setup, tmp_path):
    s = setup()
    sched = optim.lr_scheduler.StepLR(s.optimizer, step_size=1, gamma=0.5)
    t = Trainer(s.model, s.loss_fn, s.optimizer, scheduler=sched, verbose=0)
    t.fit(s.train, s.val, epochs=2)
    path = tmp_path / "c.safetensors"
    meta = {"model": "mlp", "mean": [0.1, 0.2], "note": "x"}
    save(path, s.model, s.optimizer, sched, epoch=2, global_step=12, metadata=meta)
    return s, sched, path


def test_checkpoint_holds_everything(trained):
    s, sched, path = trained
    c = read_checkpoint(path)
    assert c.epoch == 2 and c.global_step == 12 and c.model_class == "Sequential"
    assert c.metadata == {"model": "mlp", "mean": [0.1, 0.2], "note": "x"}
    assert c.optimizer_class == "Adam" and c.scheduler_state["last_epoch"] == 2
    assert c.rng["backprop"]["bit_generator"] == "PCG64"
    assert c.backprop_version == bp.__version__
    assert set(c.model_state) == set(s.model.state_dict())
    # and loads into fresh objects, exactly
    s2 = type(s)(seed=9)
    sched2 = optim.lr_scheduler.StepLR(s2.optimizer, step_size=1, gamma=0.5)
    load_checkpoint(path, s2.model, s2.optimizer, sched2)
    for k, v in s.weights().items():
        np.testing.assert_array_equal(v, s2.weights()[k])
    assert s2.optimizer.param_groups[0]["lr"] == s.optimizer.param_groups[0]["lr"] == 0.0125
    assert sched2.state_dict() == sched.state_dict()


def test_restoring_the_rng_reproduces_the_random_stream(trained):
    _, _, path = trained
    c = read_checkpoint(path)
    bp.manual_seed(99)
    load_checkpoint(path, restore_rng=True)
    a = bp.rand(5).data
    bp.random.set_rng_state(c.rng["backprop"])
    np.testing.assert_array_equal(a, bp.rand(5).data)


def test_wrong_model_is_refused_with_every_difference_named(trained):
    s, _, path = trained
    other = nn.Sequential(
        nn.Linear(2, 8), nn.ReLU(), nn.Dropout(0.2), nn.Linear(8, 3), nn.Linear(3, 3)
    )
    before = {k: v.data.copy() for k, v in other.state_dict().items()}
    with pytest.raises(CheckpointError) as e:
        load_checkpoint(path, other)
    msg = str(e.value)
    assert "(saved from a Sequential) does not fit this Sequential" in msg
    assert "0.weight: shape (16, 2) in the checkpoint, (8, 2) in the model" in msg
    assert "missing from the checkpoint: 4.weight, 4.bias" in msg
    for k, v in other.state_dict().items():  # nothing was copied
        np.testing.assert_array_equal(v.data, before[k])


def test_wrong_dtype_and_wrong_optimizer_are_refused(trained):
    s, _, path = trained
    with pytest.raises(CheckpointError, match="dtype float32 in the checkpoint, float64"):
        load_checkpoint(path, type(s)(seed=1).model.double())
    s2 = type(s)(seed=1)
    with pytest.raises(CheckpointError, match="state of a Adam optimiser, not of a SGD"):
        load_checkpoint(path, s2.model, optim.SGD(s2.model.parameters(), lr=0.1))


def test_truncated_and_bit_flipped_checkpoints_raise_clear_errors(trained):
    _, _, path = trained
    data = path.read_bytes()
    for cut in (10, len(data) // 2, len(data) - 3):
        path.write_bytes(data[:cut])
        with pytest.raises(CheckpointError, match="truncated|not a safetensors"):
            read_checkpoint(path)
    flipped = bytearray(data)
    flipped[-10] ^= 0x10
    path.write_bytes(bytes(flipped))
    with pytest.raises(CheckpointError, match="checksum"):
        read_checkpoint(path)


def test_a_pickled_checkpoint_is_refused(tmp_path):
    path = tmp_path / "model.pth"
    path.write_bytes(pickle.dumps({"state_dict": {"w": [1.0]}}, protocol=4))
    with pytest.raises(CheckpointError, match="Python pickle.*never unpickles"):
        read_checkpoint(path)


def test_plain_weights_and_bad_fields_are_refused(tmp_path, trained):
    s, _, _ = trained
    plain = tmp_path / "w.safetensors"
    serialization.save(s.model.state_dict(), plain)
    with pytest.raises(CheckpointError, match="not a backprop checkpoint"):
        read_checkpoint(plain)
    # A well-formed file whose JSON says epoch = "three": refused, naming the field.
    obj = {
        "format": "backprop-checkpoint",
        "format_version": 1,
        "backprop_version": "0",
        "model_class": "M",
        "model": {},
        "optimizer_class": None,
        "optimizer": None,
        "scheduler": None,
        "epoch": "three",
        "global_step": 0,
        "metadata": {},
        "rng": None,
        "trainer": None,
        "best": None,
    }
    bad = tmp_path / "bad.safetensors"
    serialization.save(obj, bad)
    with pytest.raises(CheckpointError, match="field 'epoch' is str, expected int"):
        read_checkpoint(bad)
    obj.update(epoch=1, format_version=99)
    serialization.save(obj, bad)
    with pytest.raises(CheckpointError, match="newer than this backprop"):
        read_checkpoint(bad)
    with pytest.raises(CheckpointError, match="is a folder"):
        read_checkpoint(tmp_path)


def test_edited_metadata_is_caught_by_the_checksum(trained):
    _, _, path = trained
    data = path.read_bytes()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    tree = header["__metadata__"]["backprop.tree"]
    edited = tree.replace('"epoch":2', '"epoch":7')
    assert edited != tree
    header["__metadata__"]["backprop.tree"] = edited
    raw = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + data[8 + n :])
    with pytest.raises(CheckpointError, match="checksum"):
        read_checkpoint(path)


def test_tampered_trainer_state_is_refused_before_anything_changes(setup, tmp_path):
    s = setup()
    path = tmp_path / "t.safetensors"
    before = s.weights()
    for trainer_state, what in [
        ({"history": 3}, "history"),
        ({"history": {"epoch": [0], "rows": []}}, "history"),
        ({"partial": {"batch": "two"}}, "interrupted epoch"),
    ]:
        save(path, setup(seed=4).model, trainer=trainer_state)
        t = Trainer(s.model, s.loss_fn, s.optimizer, verbose=0)
        with pytest.raises(CheckpointError, match=f"corrupted trainer state: .*{what}"):
            t.load_checkpoint(path)
        for k, v in s.weights().items():
            np.testing.assert_array_equal(v, before[k])


# ---------------------------------------------------------------------------------- safe writes
def _dead_pid():
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                         capture_output=True, text=True, check=True)  # fmt: skip
    return int(out.stdout)  # exited: no writer holds its temporaries any more


@pytest.mark.skipif(os.name != "posix", reason="symlinks are POSIX")
def test_run_writers_never_follow_a_symlinked_folder_below_the_run(setup, tmp_path):
    from backprop.fileio import UnsafePathError
    from backprop.train import CSVLogger, JSONLinesLogger, ModelCheckpoint

    run, outside = tmp_path / "run", tmp_path / "outside"
    run.mkdir()
    outside.mkdir()
    (run / "checkpoints").symlink_to(outside, target_is_directory=True)
    s = setup()
    ck = ModelCheckpoint(run / "checkpoints", monitor="loss", within=run)
    t = Trainer(s.model, s.loss_fn, s.optimizer, callbacks=[ck], verbose=0)
    with pytest.raises(UnsafePathError, match="symlink"):
        t.fit(s.train, epochs=1)
    (run / "logs").symlink_to(outside, target_is_directory=True)
    for logger in (CSVLogger(run / "logs" / "h.csv", within=run),
                   JSONLinesLogger(run / "logs" / "h.jsonl", within=run)):  # fmt: skip
        t = Trainer(s.model, s.loss_fn, s.optimizer, callbacks=[logger], verbose=0)
        with pytest.raises(UnsafePathError):
            t.fit(s.train, epochs=1)
    assert list(outside.iterdir()) == []  # nothing was written through the links


@pytest.mark.skipif(os.name != "posix", reason="symlinks are POSIX")
def test_loggers_replace_a_planted_symlink_instead_of_writing_through_it(setup, tmp_path):
    from backprop.train import CSVLogger, JSONLinesLogger

    victim = tmp_path / "victim.txt"
    victim.write_text("keep")
    for name in ("h.csv", ".h.csv.tmp", "h.jsonl"):  # the target and the old fixed temporary
        (tmp_path / name).symlink_to(victim)
    s = setup()
    loggers = [CSVLogger(tmp_path / "h.csv", within=tmp_path),
               JSONLinesLogger(tmp_path / "h.jsonl", within=tmp_path)]  # fmt: skip
    Trainer(s.model, s.loss_fn, s.optimizer, callbacks=loggers, verbose=0).fit(s.train, epochs=2)
    assert victim.read_text() == "keep"
    assert not (tmp_path / "h.csv").is_symlink() and not (tmp_path / "h.jsonl").is_symlink()
    assert len((tmp_path / "h.csv").read_text().splitlines()) == 3
    assert len((tmp_path / "h.jsonl").read_text().splitlines()) == 2


def test_a_run_removes_the_temporaries_a_killed_run_left(tmp_path):
    from backprop.app.config import Config
    from backprop.app.runner import train_run

    run = tmp_path / "r"
    (run / "checkpoints").mkdir(parents=True)
    pid = _dead_pid()
    stale = [run / f".history.csv.{pid}-{'a' * 16}.bptmp",
             run / "checkpoints" / f".last.safetensors.{pid}-{'b' * 16}.bptmp"]  # fmt: skip
    other = run / ".history.csv.tmp"  # not a name atomic_write makes: never ours to delete
    for p in [*stale, other]:
        p.write_text("x")
    cfg = Config.from_dict({"epochs": 1, "dataset": {"limit": 64},
                            "model": {"channels": [4, 8], "hidden": 16}})  # fmt: skip
    train_run(cfg, run, verbose=0, plots=False)
    assert not any(p.exists() for p in stale) and other.exists()
    assert not [p.name for p in run.rglob("*.bptmp")]
    assert {p.name for p in run.iterdir()} >= {"config.toml", "history.csv", "results.json"}
