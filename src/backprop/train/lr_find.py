"""`lr_find`: the learning-rate range test (Smith, "Cyclical Learning Rates for Training Neural
Networks", 2017; fastai's ``lr_find``).

Train for a few batches while the learning rate grows exponentially from tiny to huge, and
watch the loss: flat while the rate is too small to move anything, falling once it is large
enough, then rising and exploding once it overshoots. A good learning rate lies on the steep
descent, before the minimum (the lectures' "too small converges slowly, too large diverges",
measured in one short sweep instead of one training run per guess)::

    >>> result = lr_find(model, train_loader, nn.CrossEntropyLoss(), optim.SGD(model.parameters()))
    >>> result.suggestion                    # the steepest descent of the smoothed loss
    0.12
    >>> backprop.viz.plot_lr_find(result, "lr_find.png")

The model, the optimiser, the gradients and the random generators are put back as they were,
so training afterwards is exactly what it would have been without the sweep.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

import numpy as np

from ..tensor import Tensor
from .resume import rng_state, set_rng_state

__all__ = ["lr_find", "LRFindResult"]


@dataclass
class LRFindResult:
    """What :func:`lr_find` measured.

    Attributes:
        lrs: the learning rate of each step taken.
        losses: the smoothed loss at each step (an exponential moving average of ``raw_losses``).
        raw_losses: the batch loss at each step, computed before that step's update.
        suggestion: the learning rate where the smoothed loss falls fastest (per unit of
            ``log lr``), looked for before the smoothed loss's minimum; None when the loss never
            fell (the range starts too high, or the model does not learn).
        diverged: whether the sweep stopped because the loss exploded (above ``diverge`` times
            its best, or not finite) rather than at ``end_lr``.
    """

    lrs: list[float] = field(default_factory=list)
    losses: list[float] = field(default_factory=list)
    raw_losses: list[float] = field(default_factory=list)
    suggestion: float | None = None
    diverged: bool = False

    @property
    def best_lr(self) -> float | None:
        """The learning rate at the smoothed loss's minimum (too large to train with: the loss
        is about to rise there; the suggestion is usually a few times smaller)."""
        return self.lrs[int(np.argmin(self.losses))] if self.losses else None

    def __repr__(self) -> str:
        if not self.lrs:
            return "LRFindResult(no step taken)"
        sug = "None" if self.suggestion is None else f"{self.suggestion:.3g}"
        end = "diverged" if self.diverged else "reached end_lr"
        return (
            f"LRFindResult({len(self.lrs)} steps, lr {self.lrs[0]:.3g} .. {self.lrs[-1]:.3g} "
            f"({end}), suggestion={sug}, best_lr={self.best_lr:.3g})"
        )


def lr_find(
    model,
    loader: Iterable,
    loss_fn: Callable,
    optimizer,
    start_lr: float = 1e-7,
    end_lr: float = 10,
    num_iter: int = 100,
    smooth: float = 0.05,
    diverge: float = 4.0,
) -> LRFindResult:
    """Sweep the learning rate exponentially over ``num_iter`` training steps and record the loss.

    Step ``i`` (0-based) trains one batch at ``lr_i = start_lr * (end_lr / start_lr) ** (i /
    (num_iter - 1))``, set in every parameter group. The recorded loss is smoothed as
    ``s_0 = loss_0``, ``s_i = smooth * loss_i + (1 - smooth) * s_{i-1}``; the sweep stops early
    when ``s_i > diverge * min(s_0 .. s_i)`` or a loss is not finite. The loader is iterated
    again from the start when it runs out of batches. The suggested learning rate is the one
    where the smoothed loss descends most steeply against ``log lr`` (fastai's "steep"), looked
    for up to the smoothed loss's minimum.

    Everything the sweep changes is restored afterwards, also when it raises: the model's
    parameters and buffers (bitwise), each module's train/eval mode, the optimiser's state and
    parameter groups (learning rates included), the parameters' gradients, the library's random
    generator and the loader's own shuffling generator, if it has one.

    Args:
        model: the Module to train (put in training mode for the sweep).
        loader: a re-iterable of ``(inputs, targets)`` batches (a DataLoader); inputs that are a
            tuple or list are passed as several arguments, as the Trainer does.
        loss_fn: ``loss_fn(output, target) -> scalar Tensor``.
        optimizer: an optimiser over the model's parameters (its momentum, Adam moments... are
            used during the sweep and then put back).
        start_lr, end_lr: the first and the last learning rate, ``0 < start_lr < end_lr``.
        num_iter: the number of steps (at least 2).
        smooth: the weight of the newest loss in the moving average, in (0, 1] (1: no
            smoothing).
        diverge: stop once the smoothed loss exceeds this multiple of its best (> 1).

    Returns:
        an :class:`LRFindResult` (``lrs``, ``losses``, ``raw_losses``, ``suggestion``...).

    Raises:
        ValueError: a bad setting, a loader without batches, or a loss that is not one number.
        TypeError: a loss function that does not return a Tensor, or batches that are not
            ``(inputs, targets)`` pairs.

    Example:
        >>> opt = optim.SGD(model.parameters(), lr=0.1)
        >>> result = lr_find(model, train_loader, nn.CrossEntropyLoss(), opt)
        >>> result.suggestion, result.best_lr      # the steepest descent, the minimum
        (1.1, 1.9)
        >>> for group in opt.param_groups:
        ...     group["lr"] = result.suggestion    # or a few times less, to be safe
        >>> backprop.viz.plot_lr_find(result, "lr_find.png")
    """
    _check_settings(start_lr, end_lr, num_iter, smooth, diverge)
    if not (hasattr(optimizer, "param_groups") and hasattr(optimizer, "state_dict")):
        raise TypeError(
            f"lr_find: optimizer must be an optimiser with param_groups and state_dict(), got "
            f"{type(optimizer).__name__}"
        )
    # (Not iter(loader) is loader: a DataLoader draws its shuffle when an iterator is made.)
    if not hasattr(loader, "__iter__") or isinstance(loader, Iterator):
        raise TypeError(
            f"lr_find: loader must be a re-iterable of (inputs, targets) batches (a DataLoader or "
            f"a list), got {type(loader).__name__}"
        )
    ratio = end_lr / start_lr
    lrs = [start_lr * ratio ** (i / (num_iter - 1)) for i in range(num_iter)]
    saved = _Saved(model, optimizer, loader)
    result = LRFindResult()
    try:
        model.train()
        batches = _cycle(loader)
        best = math.inf
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):  # divergence: expected
            for lr in lrs:
                for group in optimizer.param_groups:
                    group["lr"] = lr
                x, y = next(batches)
                output = model(*x) if isinstance(x, (tuple, list)) else model(x)
                loss = _checked_loss(loss_fn(output, y))
                value = float(loss.item())
                if not math.isfinite(value):
                    result.diverged = True
                    break
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                s = (
                    value
                    if not result.losses
                    else smooth * value + (1 - smooth) * result.losses[-1]
                )
                result.lrs.append(lr)
                result.raw_losses.append(value)
                result.losses.append(s)
                best = min(best, s)
                if best > 0 and s > diverge * best:
                    result.diverged = True
                    break
    finally:
        saved.restore()
    result.suggestion = _steepest(result.lrs, result.losses)
    return result


def _steepest(lrs: list[float], losses: list[float]) -> float | None:
    """The lr where the smoothed loss falls fastest per unit of log lr, before its minimum."""
    if len(losses) < 2:
        return None
    stop = int(np.argmin(losses)) + 1
    if stop < 2:
        return None  # the loss only rose
    slope = np.gradient(np.asarray(losses[:stop]), np.log(np.asarray(lrs[:stop])))
    i = int(np.argmin(slope))
    return float(lrs[i]) if slope[i] < 0 else None


class _Saved:
    """Everything the sweep may change, copied, and put back by ``restore()``."""

    def __init__(self, model, optimizer, loader) -> None:
        self.model, self.optimizer, self.loader = model, optimizer, loader
        self.weights = {k: v.data.copy() for k, v in model.state_dict().items()}
        self.modes = [(m, m.training) for m in model.modules()]
        self.groups = list(optimizer.param_groups)
        self.opt_state = optimizer.state_dict()
        params = {id(p): p for p in model.parameters()}
        for group in optimizer.param_groups:
            params.update({id(p): p for p in group["params"]})
        self.grads = [
            (p, p.grad, None if p.grad is None else p.grad.data.copy()) for p in params.values()
        ]
        self.rng = rng_state(loader)

    def restore(self) -> None:
        self.model.load_state_dict(self.weights)
        for m, mode in self.modes:
            m.training = mode
        self.optimizer.load_state_dict(self.opt_state)
        # The same group dicts as before (a scheduler or the caller may hold them).
        for group, new in zip(self.groups, self.optimizer.param_groups):
            group.clear()
            group.update(new)
        self.optimizer.param_groups = self.groups
        for p, grad, data in self.grads:
            if grad is not None:
                np.copyto(grad.data, data)
            p.grad = grad
        set_rng_state(self.rng, self.loader)


def _cycle(loader):
    while True:
        empty = True
        for batch in loader:
            empty = False
            if not isinstance(batch, (tuple, list)) or len(batch) != 2:
                raise TypeError(
                    f"lr_find: each batch must be an (inputs, targets) pair, got "
                    f"{type(batch).__name__}"
                )
            yield batch
        if empty:
            raise ValueError("lr_find: the loader yielded no batch (an empty dataset?)")


def _checked_loss(loss) -> Tensor:
    if not isinstance(loss, Tensor):
        raise TypeError(f"lr_find: loss_fn must return a Tensor, got {type(loss).__name__}")
    if loss.data.size != 1:
        raise ValueError(
            f"lr_find: loss_fn returned a tensor of shape {tuple(loss.shape)}; it must return one "
            f"number (reduction='mean' or 'sum')"
        )
    return loss


def _number(v, name: str) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float, np.number)):
        raise TypeError(f"lr_find: {name} must be a number, got {type(v).__name__} {v!r:.40}")
    return float(v)


def _check_settings(start_lr, end_lr, num_iter, smooth, diverge) -> None:
    start, end = _number(start_lr, "start_lr"), _number(end_lr, "end_lr")
    if not (0 < start < end < math.inf):
        raise ValueError(
            f"lr_find: need 0 < start_lr < end_lr (finite), got start_lr={start_lr!r}, "
            f"end_lr={end_lr!r}"
        )
    if isinstance(num_iter, bool) or not isinstance(num_iter, (int, np.integer)) or num_iter < 2:
        raise ValueError(f"lr_find: num_iter must be an int >= 2, got {num_iter!r}")
    if not 0 < _number(smooth, "smooth") <= 1:
        raise ValueError(f"lr_find: smooth must be in (0, 1], got {smooth!r}")
    if not 1 < _number(diverge, "diverge") < math.inf:
        raise ValueError(f"lr_find: diverge must be a finite number > 1, got {diverge!r}")
