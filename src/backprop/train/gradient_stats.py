"""`GradientStats`: the gradient flow through a network, per layer and per epoch, in History.

The lectures' vanishing gradients (a deep sigmoid network whose first layers hardly learn) and
dead ReLUs (units that output 0 for every input, so that no gradient ever reaches their weights)
are seen here as numbers, one per layer and epoch, and drawn by
:func:`backprop.viz.plot_gradient_stats`::

    >>> trainer = Trainer(model, nn.CrossEntropyLoss(), opt, callbacks=[GradientStats()])
    >>> history = trainer.fit(train_loader, epochs=10)
    >>> history["grad_norm/0"]          # the first layer's gradient norm, one value per epoch
    >>> backprop.viz.plot_gradient_stats(history, "gradient_flow.png")
"""

from __future__ import annotations

import math
from functools import partial

import numpy as np

from ..nn.activation import ReLU
from .callbacks import Callback

__all__ = ["GradientStats", "STATS"]

#: The History key prefixes GradientStats writes (``"grad_norm/fc1"``...).
STATS = ("grad_norm", "grad_abs_mean", "dead_relu")


class GradientStats(Callback):
    """Per-layer gradient statistics and dead-ReLU fractions, averaged over each epoch's batches
    and logged into the epoch's logs (and so into :class:`~backprop.train.History`).

    A *layer* is a module that owns parameters itself, named as ``model.named_modules()`` names
    it (``"0"``, ``"fc1"``, ``"features.3"``; the model itself, when it holds parameters directly,
    under its class name). For every training batch, after ``loss.backward()`` and before the
    optimiser step (and before :class:`~backprop.train.GradientClipping`: the gradients as
    backward computed them), it measures for each layer, over all its parameters' gradients
    together:

    - ``grad_norm/<layer>``: the L2 norm ``sqrt(sum g^2)``;
    - ``grad_abs_mean/<layer>``: the mean absolute value ``sum |g| / (number of values)``;

    and, through a forward hook on every :class:`~backprop.nn.ReLU` module (not ``F.relu`` calls):

    - ``dead_relu/<module>``: the fraction of the ReLU's units that are zero for every example of
      the batch. A unit is one value of one example's output (a feature of a Linear layer, a
      position of one channel of a convolution); dimension 0 is the batch. A ReLU module called
      several times per forward counts the units of every call.

    Each logged value is the mean over the epoch's training batches of the per-batch value
    (validation batches are not measured). A parameter shared by several modules is counted once,
    under its first name, as ``named_parameters()`` yields it; parameters without a gradient in a
    batch are skipped, and a layer none of whose parameters had one is not counted for that batch.

    Measuring reads the gradients and activations and changes nothing: training with it gives
    bitwise the same weights and losses as without it. It keeps its running sums in checkpoints,
    so a run interrupted inside an epoch and resumed logs the same values.

    Args:
        dead_relu: measure dead ReLUs (forward hooks on the ReLU modules during training
            batches; removed when training ends).

    Attributes:
        layers: the layer names, input side first (set when training begins).
        relus: the names of the ReLU modules watched.

    Example:
        >>> trainer = Trainer(model, nn.CrossEntropyLoss(), opt, callbacks=[GradientStats()])
        >>> history = trainer.fit(train_loader, epochs=10)
        >>> history["grad_norm/0"]         # the first layer's gradient norm, one value per epoch
        >>> backprop.viz.plot_gradient_stats(history, "gradient_flow.png")
    """

    order = -75  # after NaNGuard (-100), before GradientClipping (-50) and History (80)

    def __init__(self, dead_relu: bool = True) -> None:
        if not isinstance(dead_relu, bool):
            raise TypeError(f"GradientStats: dead_relu must be a bool, got {dead_relu!r}")
        self.dead_relu = dead_relu
        self.layers: list[str] = []
        self.relus: list[str] = []
        self._params: list[tuple[str, list]] = []
        self._handles: list = []
        self._recording = False
        self._batch_units: dict[str, list[int]] = {}  # relu -> [dead units, units] this batch
        self._reset(None)

    # ------------------------------------------------------------------ set-up
    def on_train_begin(self, logs: dict | None = None) -> None:
        model = self.trainer.model
        self._remove_hooks()  # (a fit that raised never reached on_train_end)
        groups: dict[str, list] = {}
        for name, p in model.named_parameters():
            if p.requires_grad:
                owner = name.rsplit(".", 1)[0] if "." in name else type(model).__name__
                groups.setdefault(owner, []).append(p)
        self._params = list(groups.items())
        self.layers = list(groups)
        self.relus = []
        if self.dead_relu:
            for name, m in model.named_modules():
                if isinstance(m, ReLU):
                    name = name or type(model).__name__
                    self.relus.append(name)
                    self._handles.append(m.register_forward_hook(partial(self._relu_hook, name)))

    def on_train_end(self, logs: dict | None = None) -> None:
        self._remove_hooks()
        self._recording = False

    def _remove_hooks(self) -> None:
        for h in self._handles:
            h.remove()
        self._handles = []

    # ------------------------------------------------------------------ measuring
    def _relu_hook(self, name: str, module, args, output) -> None:
        if not self._recording:
            return
        a = getattr(output, "data", None)
        if a is None or a.ndim == 0 or a.shape[0] == 0:
            return
        alive = (a != 0).reshape(a.shape[0], -1).any(axis=0)  # (units,)
        counts = self._batch_units.setdefault(name, [0, 0])
        counts[0] += int(alive.size - alive.sum())
        counts[1] += int(alive.size)

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        if epoch != self._resumed_epoch:  # a resumed epoch keeps the sums of its first part
            self._reset(epoch)
        self._resumed_epoch = None
        self._epoch = epoch

    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        self._batch_units = {}
        self._recording = self.dead_relu

    def on_before_optimizer_step(self, batch: int, logs: dict | None = None) -> None:
        self._recording = False
        for name, params in self._params:
            grads = [p.grad.data for p in params if p.grad is not None]
            if not grads:
                continue
            sq = sum(float((g.astype(np.float64) ** 2).sum()) for g in grads)
            ab = sum(float(abs(g.astype(np.float64)).sum()) for g in grads)
            n = sum(int(g.size) for g in grads)
            self._add("grad_norm", name, math.sqrt(sq))
            self._add("grad_abs_mean", name, ab / n if n else math.nan)
        for name, (dead, units) in self._batch_units.items():
            if units:
                self._add("dead_relu", name, dead / units)
        self._batch_units = {}

    def _add(self, stat: str, name: str, value: float) -> None:
        key = f"{stat}/{name}"
        self._sums[key] = self._sums.get(key, 0.0) + value
        self._counts[key] = self._counts.get(key, 0) + 1

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if logs is None:
            return
        names = {"grad_norm": self.layers, "grad_abs_mean": self.layers, "dead_relu": self.relus}
        for stat in STATS:  # a fixed order: the layers input side first, per statistic
            for name in names[stat]:
                key = f"{stat}/{name}"
                if self._counts.get(key):
                    logs[key] = self._sums[key] / self._counts[key]

    # ------------------------------------------------------------------ resume
    def _reset(self, epoch: int | None) -> None:
        self._sums: dict[str, float] = {}
        self._counts: dict[str, int] = {}
        self._epoch = epoch
        self._resumed_epoch: int | None = None

    def state_dict(self) -> dict:
        return {"epoch": self._epoch, "sums": dict(self._sums), "counts": dict(self._counts)}

    def load_state_dict(self, state: dict) -> None:
        if not state:  # (a callback added since the checkpoint was written)
            self._reset(None)
            return
        self._sums = {str(k): float(v) for k, v in state["sums"].items()}
        self._counts = {str(k): int(v) for k, v in state["counts"].items()}
        self._epoch = None if state["epoch"] is None else int(state["epoch"])
        self._resumed_epoch = self._epoch

    def __repr__(self) -> str:
        return f"GradientStats(dead_relu={self.dead_relu})"
