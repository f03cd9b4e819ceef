"""Shared helpers of the optimiser tests: one small MLP trained side by side in backprop and torch.

Both libraries start from the same float64 weights and see the same batches; each computes its own
gradients, so the comparison covers the whole training loop, not the update alone.
"""

from __future__ import annotations

import numpy as np
import torch

import backprop as bp

SHAPES = [(10, 6), (10,), (8, 10), (8,), (3, 8), (3,)]
N_POOL, BATCH = 64, 16


def initial_weights(seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s) * (0.5 if len(s) == 2 else 0.1) for s in SHAPES]


def data(seed: int = 1):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N_POOL, 6))
    y = np.stack([np.sin(x[:, 0] + x[:, 1]), x[:, 2] * x[:, 3], np.cos(x[:, 4]) - x[:, 5]], 1)
    return x, y


def batch(step: int, x: np.ndarray, y: np.ndarray):
    lo = (step * BATCH) % N_POOL
    return x[lo : lo + BATCH], y[lo : lo + BATCH]


def loss(params, x, y):
    """MSE of a 6-10-8-3 MLP (tanh, relu) built from raw tensor ops; works for both libraries."""
    w1, b1, w2, b2, w3, b3 = params
    h = (x @ w1.T + b1).tanh()
    h = (h @ w2.T + b2).relu()
    out = h @ w3.T + b3
    return ((out - y) ** 2).mean()


class Pair:
    """The same model and data in backprop and torch, with an optimiser each."""

    def __init__(self, weights=None, dtype=np.float64):
        weights = initial_weights() if weights is None else weights
        self.bp_params = [bp.tensor(w.astype(dtype), requires_grad=True) for w in weights]
        self.t_params = [torch.tensor(w.astype(dtype), requires_grad=True) for w in weights]
        x, y = data()
        self.x, self.y = x.astype(dtype), y.astype(dtype)
        self.step_index = 0

    def groups(self, bp_side: bool, split: list[dict] | None):
        params = self.bp_params if bp_side else self.t_params
        if split is None:
            return params
        # Two groups: the first layer, and the rest, each with its own options.
        return [{"params": params[:2], **split[0]}, {"params": params[2:], **split[1]}]

    def step(self, bp_opt, t_opt) -> None:
        xb, yb = batch(self.step_index, self.x, self.y)
        self.step_index += 1
        bp_opt.zero_grad()
        loss(self.bp_params, bp.tensor(xb), bp.tensor(yb)).backward()
        bp_opt.step()
        t_opt.zero_grad()
        loss(self.t_params, torch.tensor(xb), torch.tensor(yb)).backward()
        t_opt.step()

    def assert_close(self, rtol: float = 1e-10, atol: float = 1e-12, what: str = "") -> None:
        for i, (b, t) in enumerate(zip(self.bp_params, self.t_params)):
            np.testing.assert_allclose(
                b.data, t.detach().numpy(), rtol=rtol, atol=atol, err_msg=f"{what} param {i}"
            )
