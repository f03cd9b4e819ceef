"""EarlyStopping and ModelCheckpoint at the boundary: a value equal to the best, or better by
exactly ``min_delta``, is no improvement (values chosen exactly representable, so that a ``<``
turned into ``<=`` in the comparison fails here); on Ctrl-C early stopping restores nothing."""

from __future__ import annotations

import numpy as np
import pytest

from backprop import nn, optim
from backprop.data import DataLoader, TensorDataset
from backprop.train import EarlyStopping, LambdaCallback, ModelCheckpoint, Trainer


class _Stub:
    """The part of a Trainer the callbacks touch."""

    def __init__(self) -> None:
        self.model = nn.Linear(2, 1)
        self.stop_training = False
        self.stop_reason = None
        self.saved: list[int] = []

    def save_checkpoint(self, path, metadata=None, best=None, within=None):
        self.saved.append(best["epoch"])


def _feed(cb, values, monitor="val_loss"):
    stub = _Stub()
    cb.set_trainer(stub)
    stopped_after = None
    for epoch, v in enumerate(values):
        cb.on_epoch_end(epoch, {monitor: v})
        if stub.stop_training and stopped_after is None:
            stopped_after = epoch
    return stub, stopped_after


@pytest.mark.parametrize(
    "mode, values, min_delta",
    [
        ("min", [1.0, 1.0, 1.0], 0.0),  # exactly equal to the best
        ("max", [0.5, 0.5, 0.5], 0.0),
        ("min", [1.0, 0.75, 0.75], 0.25),  # better by exactly min_delta
        ("max", [0.5, 0.75, 0.75], 0.25),
    ],
)
def test_a_value_equal_to_the_best_within_min_delta_is_no_improvement(mode, values, min_delta):
    es = EarlyStopping("val_loss", mode=mode, patience=2, min_delta=min_delta)
    stub, stopped_after = _feed(es, values)
    assert es.best_epoch == 0 and es.best.value == values[0]
    assert stopped_after == 2 and es.wait == 2 and es.stopped_epoch == 2
    assert "has not improved for 2 epochs" in stub.stop_reason


@pytest.mark.parametrize(
    "mode, values", [("min", [1.0, 0.5]), ("max", [0.5, 1.0])]
)  # fmt: skip
def test_a_value_better_than_the_best_by_more_than_min_delta_improves(mode, values):
    es = EarlyStopping("val_loss", mode=mode, patience=1, min_delta=0.25)
    stub, stopped_after = _feed(es, values)
    assert es.best_epoch == 1 and es.wait == 0 and stopped_after is None


def test_the_best_checkpoint_is_not_rewritten_for_an_equal_value(tmp_path):
    mc = ModelCheckpoint(tmp_path, "val_loss", save_last=False)
    stub, _ = _feed(mc, [1.0, 1.0, 0.5, 0.5])
    assert stub.saved == [0, 2] and mc.best_epoch == 2


def test_ctrl_c_leaves_the_weights_of_the_interrupted_batch(capsys):
    """A fit interrupted after a worse epoch keeps its current weights (the checkpoint saved on
    Ctrl-C holds them, and fit continues from them); a completed fit restores the best."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 2)).astype(np.float32)
    y = (x[:, :1] * 2.0).astype(np.float32)
    model = nn.Linear(2, 1)
    trainer = Trainer(
        model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.05), verbose=0,
        callbacks=[
            LambdaCallback(order=10, on_epoch_end=lambda e, logs: logs.update(
                val_loss=[1.0, 2.0, 3.0][e])),  # the best is epoch 0, then it gets worse
            es := EarlyStopping("val_loss", patience=10, restore_best_weights=True, verbose=True),
            LambdaCallback(on_train_batch_end=lambda b, logs: (
                trainer.request_interrupt() if trainer.epoch == 2 and b == 1 else None)),
        ],
    )  # fmt: skip
    loader = DataLoader(TensorDataset(x, y), batch_size=8)
    trainer.fit(loader, epochs=3)
    assert trainer.interrupted and es.best_epoch == 0
    now = {k: v.data.copy() for k, v in model.state_dict().items()}
    assert not all(np.array_equal(now[k], es.best_weights[k]) for k in now)  # not restored
    assert "restored" not in capsys.readouterr().out
    trainer.fit(loader, epochs=3)  # finishes the epoch, then restores the best weights
    assert not trainer.interrupted
    assert all(np.array_equal(v.data, es.best_weights[k]) for k, v in model.state_dict().items())
    assert "Early stopping: restored the weights of epoch 1, its best val_loss (1)" in (
        capsys.readouterr().out
    )
