"""A tiny, fast training setup shared by the training tests: 3 Gaussian blobs, a small MLP with
dropout (so that the RNG matters), Adam, shuffled mini-batches."""

import numpy as np
import pytest

import backprop as bp
from backprop import nn, optim
from backprop.data import DataLoader, TensorDataset, make_blobs


class Setup:
    def __init__(self, seed=0, loader_generator=None, dropout=0.2, lr=0.05, n=240):
        bp.manual_seed(seed)
        x, y = make_blobs(n=n, seed=1)
        perm = np.random.default_rng(2).permutation(n)  # the blobs come sorted by class
        x, y = x[perm].astype(np.float32), y[perm]
        split = int(0.75 * n)
        self.train = DataLoader(
            TensorDataset(x[:split], y[:split]),
            batch_size=32,
            shuffle=True,
            generator=loader_generator,
        )
        self.val = DataLoader(TensorDataset(x[split:], y[split:]), batch_size=64)
        self.model = nn.Sequential(
            nn.Linear(2, 16), nn.ReLU(), nn.Dropout(dropout), nn.Linear(16, 3)
        )
        self.optimizer = optim.Adam(self.model.parameters(), lr=lr)
        self.loss_fn = nn.CrossEntropyLoss()

    def weights(self):
        return {k: v.data.copy() for k, v in self.model.state_dict().items()}


@pytest.fixture
def setup():
    return Setup
