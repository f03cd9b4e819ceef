"""Checkpoints: contents, and clear errors for every way a file can be wrong."""

import json
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
