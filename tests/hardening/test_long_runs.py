"""Long runs: 50 epochs of a small CNN on a small set keep memory flat (no graph, gradient or
history leak), measured two ways at the end of every epoch: the bytes NumPy and Python hold
(tracemalloc, which sees every array) and the number of live Tensors.

Ctrl-C during training is tested where the Trainer and the command line are:
tests/train/test_train_trainer.py::test_sigint_stops_cleanly_with_a_resumable_checkpoint (a real
SIGINT mid-epoch: a resumable checkpoint, a clean return, the handler restored, and a resume
bit-identical to an uninterrupted run), ::test_ctrl_c_during_validation_stops_at_the_epoch_boundary,
and tests/test_cli.py::test_ctrl_c_writes_a_checkpoint_and_resume_finishes_the_same_run (SIGINT to
a ``backprop train`` process: exit code 130, the checkpoint, and ``backprop resume`` finishing the
same run).
"""

from __future__ import annotations

import gc
import tracemalloc

import numpy as np

import backprop as bp
from backprop import nn, optim
from backprop.data import DataLoader, TensorDataset
from backprop.train import Callback, Trainer


class _Probe(Callback):
    """Every 5th epoch end: bytes traced by tracemalloc and live Tensor objects (a full garbage
    collection and a scan of every object: too slow to do at every epoch)."""

    def __init__(self):
        self.bytes, self.tensors = [], []

    def on_epoch_end(self, epoch, logs=None):
        if epoch % 5 != 4:
            return
        gc.collect()
        self.bytes.append(tracemalloc.get_traced_memory()[0])
        # issubclass(type(o)), not isinstance: the latter wakes torch's deprecated module proxies
        self.tensors.append(sum(issubclass(type(o), bp.Tensor) for o in gc.get_objects()))


def test_fifty_epochs_keep_memory_flat():
    bp.manual_seed(0)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 1, 12, 12)).astype(np.float32)
    y = (x.mean((1, 2, 3)) > 0).astype(np.int64)
    model = nn.Sequential(
        nn.Conv2d(1, 4, 3),
        nn.BatchNorm2d(4),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Dropout(0.2),
        nn.Linear(4 * 25, 2),
    )
    opt = optim.Adam(model.parameters(), lr=1e-3)
    probe = _Probe()
    trainer = Trainer(
        model,
        nn.CrossEntropyLoss(),
        opt,
        metrics=["accuracy"],
        callbacks=[probe],
        scheduler=optim.lr_scheduler.StepLR(opt, 10),
        grad_clip_norm=5.0,
        verbose=0,
    )
    train = DataLoader(TensorDataset(x[:48], y[:48]), batch_size=16, shuffle=True)
    val = DataLoader(TensorDataset(x[48:], y[48:]), batch_size=16)
    tracemalloc.start()
    try:
        history = trainer.fit(train, val, epochs=50)
    finally:
        tracemalloc.stop()
    assert len(history) == 50 and trainer.global_step == 150
    # After a warm-up (optimiser state, scratch buffers, caches), nothing accumulates: the same
    # Tensors are alive at every epoch end, and the traced bytes grow only by the History rows
    # (measured: 19 Tensors throughout, ~460 bytes per epoch).
    assert len(probe.tensors) == 10
    assert len(set(probe.tensors[1:])) == 1, probe.tensors
    per_epoch = (probe.bytes[-1] - probe.bytes[1]) / 40  # epochs 10 -> 50
    assert per_epoch < 2048, (per_epoch, probe.bytes)  # a History row is ~1 KB at most
    assert max(probe.bytes[1:]) - min(probe.bytes[1:]) < 200_000, probe.bytes
