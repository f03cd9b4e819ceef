"""Rosenblatt's perceptron: the mistake-driven rule, binary and multiclass."""

from __future__ import annotations

import warnings
from typing import NamedTuple

import numpy as np

from .. import nn
from ..autograd.grad_mode import no_grad
from ..random import generator
from ..tensor import Tensor
from . import register_model

__all__ = ["Perceptron", "PerceptronFit", "ConvergenceWarning"]


class ConvergenceWarning(UserWarning):
    """``Perceptron.fit`` ran out of epochs with training points still misclassified."""


class PerceptronFit(NamedTuple):
    """What :meth:`Perceptron.fit` returns.

    Attributes:
        converged: an epoch went by without a mistake (the data are separated).
        epochs: epochs run (the last one is the mistake-free one when converged).
        updates: total weight updates (= mistakes made during training).
        mistakes_per_epoch: the mistakes of each epoch.
    """

    converged: bool
    epochs: int
    updates: int
    mistakes_per_epoch: list[int]


def _array(x) -> np.ndarray:
    return x.data if isinstance(x, Tensor) else np.asarray(x)


@register_model("perceptron", input_shape=(2,))
class Perceptron(nn.Module):
    """The classic perceptron, trained by its mistake-driven rule rather than by gradients.

    Binary (``num_classes=2``): one weight vector, ``y_hat = sign(w.x + b)`` and, on a mistake
    (``y (w.x + b) <= 0`` with ``y`` in {-1, +1}), ``w <- w + lr y x``, ``b <- b + lr y``.

    Multiclass: one row per class, ``y_hat = argmax_c (W x + b)_c`` and, on a mistake (the true
    score not strictly above every other), ``W[y] += lr x``, ``W[y_hat] -= lr x`` (the lecture's
    ``W <- W - lr (h - t) x^T`` with a one-hot ``h``).

    Weights start at zero. Convergence (Novikoff, 1962): if some unit vector ``(w*, b*)``
    separates the data with margin ``gamma = min_i y_i (w*.x_i + b*)`` and
    ``R = max_i ||(x_i, 1)||``, the binary rule makes at most ``(R / gamma)^2`` updates, whatever
    ``lr`` (starting from zero, ``lr`` only scales ``w``). On data that no line separates (XOR)
    it never settles: :meth:`fit` then says so.

    Args:
        in_features: input dimension.
        num_classes: 2 for the binary rule, more for the multiclass one.
        lr: the step of each update.

    Shape:
        input: ``(N, in_features)``; ``forward`` gives scores ``(N, 1)`` (binary) or
        ``(N, num_classes)``.

    Example:
        >>> p = Perceptron(2)
        >>> fit = p.fit(x, y)            # y in {0, 1} or {-1, +1}
        >>> fit.converged, fit.updates
    """

    def __init__(self, in_features: int = 2, num_classes: int = 2, lr: float = 1.0) -> None:
        super().__init__()
        if in_features < 1:
            raise ValueError(f"Perceptron: in_features must be positive, got {in_features}")
        if num_classes < 2:
            raise ValueError(f"Perceptron: num_classes must be at least 2, got {num_classes}")
        if lr <= 0:
            raise ValueError(f"Perceptron: lr must be positive, got {lr}")
        self.in_features = int(in_features)
        self.num_classes = int(num_classes)
        self.lr = float(lr)
        rows = 1 if num_classes == 2 else num_classes
        self.weight = nn.Parameter(np.zeros((rows, in_features), dtype=np.float32))
        self.bias = nn.Parameter(np.zeros((rows,), dtype=np.float32))
        self.classes_: np.ndarray | None = None

    def reset_parameters(self) -> None:
        with no_grad():
            self.weight.zero_()
            self.bias.zero_()

    def forward(self, x: Tensor) -> Tensor:
        return x @ self.weight.T + self.bias

    def _labels(self, y: np.ndarray) -> np.ndarray:
        """Class indices 0..C-1 from the user's labels (remembered in ``classes_``)."""
        classes = np.unique(y)
        if len(classes) > self.num_classes:
            raise ValueError(
                f"Perceptron.fit: {len(classes)} distinct labels but num_classes={self.num_classes}"
            )
        if self.num_classes == 2 and len(classes) == 2 and set(classes.tolist()) == {-1, 1}:
            self.classes_ = np.array([-1, 1])
        elif (
            np.issubdtype(y.dtype, np.integer)
            and classes.min() >= 0
            and (classes.max() < self.num_classes)
        ):
            self.classes_ = np.arange(self.num_classes)
        else:
            self.classes_ = classes
        return np.searchsorted(self.classes_, y)

    def fit(
        self, x, y, max_epochs: int = 100, shuffle: bool = True, warn: bool = True
    ) -> PerceptronFit:
        """Cycle through the data, updating on each mistake, until an epoch is mistake-free.

        Args:
            x: ``(N, in_features)`` inputs (Tensor or array).
            y: ``(N,)`` labels: {-1, +1}, or 0..num_classes-1, or any ``num_classes`` values.
            max_epochs: give up after this many epochs.
            shuffle: visit the points in a fresh random order each epoch
                (``backprop.random``'s generator, so ``manual_seed`` repeats it).
            warn: emit a :class:`ConvergenceWarning` when it gives up.

        Returns:
            :class:`PerceptronFit` (``converged``, ``epochs``, ``updates``,
            ``mistakes_per_epoch``).
        """
        xs = _array(x).astype(self.weight.dtype, copy=False)
        ys = _array(y).reshape(-1)
        if xs.ndim != 2 or xs.shape[1] != self.in_features:
            raise ValueError(
                f"Perceptron.fit: x must be (N, {self.in_features}), got {tuple(xs.shape)}"
            )
        if ys.shape[0] != xs.shape[0]:
            raise ValueError(f"Perceptron.fit: {xs.shape[0]} inputs but {ys.shape[0]} labels")
        if max_epochs < 1:
            raise ValueError(f"Perceptron.fit: max_epochs must be positive, got {max_epochs}")
        idx = self._labels(ys)
        w, b = self.weight.data, self.bias.data
        lr = w.dtype.type(self.lr)
        binary = self.num_classes == 2
        sign = (2 * idx - 1).astype(w.dtype)  # binary targets in {-1, +1}
        history: list[int] = []
        order = np.arange(len(xs))
        for _ in range(max_epochs):
            if shuffle:
                order = generator().permutation(len(xs))
            mistakes = 0
            for i in order:
                xi = xs[i]
                if binary:
                    if sign[i] * (w[0] @ xi + b[0]) <= 0:
                        w[0] += lr * sign[i] * xi
                        b[0] += lr * sign[i]
                        mistakes += 1
                else:
                    scores = w @ xi + b
                    target = idx[i]
                    true_score = scores[target]
                    scores[target] = -np.inf
                    rival = int(np.argmax(scores))
                    if true_score <= scores[rival]:
                        w[target] += lr * xi
                        b[target] += lr
                        w[rival] -= lr * xi
                        b[rival] -= lr
                        mistakes += 1
            history.append(mistakes)
            if mistakes:  # the rule wrote into the parameters' arrays
                self.weight._bump_version()
                self.bias._bump_version()
            if mistakes == 0:
                return PerceptronFit(True, len(history), sum(history), history)
        if warn:
            warnings.warn(
                f"Perceptron.fit: not converged after {max_epochs} epochs ({history[-1]} "
                f"mistakes in the last one): the data may not be linearly separable",
                ConvergenceWarning,
                stacklevel=2,
            )
        return PerceptronFit(False, len(history), sum(history), history)

    def predict(self, x) -> np.ndarray:
        """Labels for ``x`` ``(N, in_features)``, in the label set seen by :meth:`fit`."""
        xs = x if isinstance(x, Tensor) else Tensor(np.asarray(x, dtype=self.weight.dtype))
        with no_grad():
            scores = self(xs).data
        idx = (scores[:, 0] > 0).astype(np.int64) if self.num_classes == 2 else scores.argmax(1)
        classes = self.classes_ if self.classes_ is not None else np.arange(self.num_classes)
        return classes[idx]

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, num_classes={self.num_classes}, lr={self.lr}"
