"""Determinism: the same seed gives bit-identical training (every weight, the optimiser state, the
whole history) on repeated runs in one process and in separate processes.

The run exercises every source of randomness the library has: weight initialisation, the shuffled
DataLoader, dropout masks, a random augmentation, and batch norm's running statistics (state that
carries across batches). What else can change the bits is the thread count of the BLAS (a product
summed in another order rounds differently), the BLAS build and the CPU's instruction set, and the
NumPy version: a run is reproducible on one machine with one install and one thread count
(``backprop.set_num_threads``).
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

import backprop as bp
from backprop import nn, optim
from backprop.data import DataLoader, TensorDataset
from backprop.data import transforms as T
from backprop.train import Trainer

HERE = Path(__file__).resolve().parent


class _Augmented(TensorDataset):
    """A TensorDataset whose images are randomly shifted (drawn from backprop's generator)."""

    def __init__(self, x, y):
        super().__init__(x, y)
        self.shift = T.RandomShift(1)

    def __getitem__(self, i):
        x, y = super().__getitem__(i)
        return self.shift(x), y

    @property
    def supports_batching(self):
        return False


def train_fingerprint(seed: int = 0, epochs: int = 3) -> str:
    """Train a small CNN from ``seed`` and hash everything that came out of it."""
    bp.manual_seed(seed)
    data_rng = np.random.default_rng(123)  # the data itself is fixed; the seed drives the rest
    x = data_rng.standard_normal((48, 1, 8, 8)).astype(np.float32)
    y = (x[:, 0, :4].sum((1, 2)) > 0).astype(np.int64) + 2 * (x[:, 0, :, :4].sum((1, 2)) > 0)
    model = nn.Sequential(
        nn.Conv2d(1, 6, 3, padding=1),
        nn.BatchNorm2d(6),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Dropout(0.3),
        nn.Linear(6 * 16, 4),
    )
    opt = optim.Adam(model.parameters(), lr=0.01, weight_decay=1e-4)
    sched = optim.lr_scheduler.StepLR(opt, 2, gamma=0.5)
    trainer = Trainer(
        model, nn.CrossEntropyLoss(), opt, scheduler=sched, metrics=["accuracy"], verbose=0
    )
    train = DataLoader(_Augmented(x[:40], y[:40]), batch_size=8, shuffle=True)
    val = DataLoader(TensorDataset(x[40:], y[40:]), batch_size=8)
    history = trainer.fit(train, val, epochs=epochs)
    h = hashlib.sha256()
    for name, t in sorted(model.state_dict().items()):
        h.update(name.encode() + t.data.tobytes())
    for _, state in sorted(opt.state_dict()["state"].items()):
        for k, v in sorted(state.items()):
            h.update(k.encode() + (v.tobytes() if isinstance(v, np.ndarray) else repr(v).encode()))
    h.update(json.dumps(history.history, sort_keys=True).encode())  # floats in full (repr)
    return h.hexdigest()


def test_the_same_seed_gives_bit_identical_training_in_one_process():
    a = train_fingerprint(0)
    b = train_fingerprint(0)
    assert a == b
    assert train_fingerprint(1) != a  # the seed does drive the run


def test_the_same_seed_gives_bit_identical_training_across_processes():
    code = (
        f"import sys; sys.path.insert(0, {str(HERE)!r}); "
        "from test_determinism import train_fingerprint; print(train_fingerprint(0))"
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]  # the two run side by side
    outs = [p.communicate(timeout=120)[0].strip() for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert outs[0] == outs[1] == train_fingerprint(0)


def test_a_fixed_thread_count_keeps_runs_identical():
    """``set_num_threads`` fixes the one setting besides the seed that can change the bits."""
    before = bp.get_num_threads()
    try:
        bp.set_num_threads(1)
        a = train_fingerprint(0, epochs=2)
        assert train_fingerprint(0, epochs=2) == a
    finally:
        bp.set_num_threads(before)
