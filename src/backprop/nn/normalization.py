"""Normalisation layers: `BatchNorm1d`, `BatchNorm2d` (one fused op, closed-form backward),
`LayerNorm`, and `GroupNorm`, `RMSNorm` (built from the differentiable ops)."""

from __future__ import annotations

import numpy as np

from ..autograd.grad_mode import no_grad
from ..functional.normalization import batch_norm, group_norm, layer_norm, rms_norm
from ..tensor import Tensor
from . import init
from ._util import check_size, factory_dtype
from .module import Module
from .parameter import Parameter

__all__ = ["BatchNorm1d", "BatchNorm2d", "LayerNorm", "GroupNorm", "RMSNorm"]


class _BatchNorm(Module):
    """Shared by the batch-norm layers; subclasses say which input ranks they accept."""

    _ranks: tuple[int, ...] = ()
    _expected: str = ""

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        dtype=None,
        *,
        bias: bool = True,
    ):
        super().__init__()
        name = type(self).__name__
        self.num_features = check_size(num_features, "num_features", name, 1)
        if not eps > 0:
            raise ValueError(f"{name}: eps must be positive, got {eps}")
        if momentum is not None and not 0.0 <= momentum <= 1.0:
            raise ValueError(f"{name}: momentum must be in [0, 1] or None, got {momentum}")
        self.eps, self.momentum = float(eps), momentum
        self.affine, self.track_running_stats = bool(affine), bool(track_running_stats)
        dt = factory_dtype(dtype, name)
        C = self.num_features
        if self.affine:
            self.weight = Parameter(np.ones(C, dtype=dt))
            if bias:
                self.bias = Parameter(np.zeros(C, dtype=dt))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if self.track_running_stats:
            self.register_buffer("running_mean", Tensor(np.zeros(C, dtype=dt)))
            self.register_buffer("running_var", Tensor(np.ones(C, dtype=dt)))
            self.register_buffer("num_batches_tracked", Tensor(np.array(0, dtype=np.int64)))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()

    def reset_running_stats(self) -> None:
        """Running mean 0, running variance 1, no batches seen."""
        if self.track_running_stats:
            with no_grad():
                self.running_mean.zero_()
                self.running_var.fill_(1)
                self.num_batches_tracked.zero_()

    def reset_parameters(self) -> None:
        self.reset_running_stats()
        if self.affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def forward(self, input: Tensor) -> Tensor:
        name = type(self).__name__
        if not isinstance(input, Tensor) or input.ndim not in self._ranks:
            got = input.shape if isinstance(input, Tensor) else type(input).__name__
            raise ValueError(f"{name}: expected {self._expected} input, got shape {got}")
        if input.shape[1] != self.num_features:
            raise ValueError(
                f"{name}({self.num_features}): input of shape {input.shape} has "
                f"{input.shape[1]} channels (dim 1), expected {self.num_features}"
            )
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked.data += 1
            self.num_batches_tracked._bump_version()
            if self.momentum is None:
                # A cumulative moving average: the running stats are the mean over all batches.
                factor = 1.0 / float(self.num_batches_tracked.data)
        # Batch statistics in training, or always when no running statistics are kept.
        use_batch = self.training or self.running_mean is None
        track = not self.training or self.track_running_stats
        return batch_norm(
            input,
            self.running_mean if track else None,
            self.running_var if track else None,
            self.weight,
            self.bias,
            use_batch,
            factor,
            self.eps,
        )

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
            f"affine={self.affine}, bias={self.bias is not None}, "
            f"track_running_stats={self.track_running_stats}"
        )


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of (N, C) features or (N, C, L) sequences, per channel C.

    Training mode: normalise with the batch mean and biased variance over N (and L), then
    ``y = gamma * xhat + beta``; update ``running_mean`` / ``running_var`` with
    ``running = (1 - momentum) * running + momentum * batch`` (unbiased variance for the running
    one). ``momentum=None`` makes them a cumulative average over all batches. Eval mode: normalise
    with the running statistics. PyTorch's conventions (momentum 0.1, eps 1e-5; Keras uses 0.99
    for 1 - momentum, and 1e-3).

    Args:
        num_features: C.
        eps: added to the variance.
        momentum: running-statistics update factor, or None for a cumulative average.
        affine: learn gamma (``weight``, ones) and beta (``bias``, zeros).
        track_running_stats: keep running statistics (else batch statistics in eval too).
        dtype: parameter and buffer dtype (float32 by default).
        bias: (keyword) learn beta when affine (default True).

    Shape: (N, C) or (N, C, L) -> same.
    """

    _ranks = (2, 3)
    _expected = "2D (N, C) or 3D (N, C, L)"


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of (N, C, H, W) maps, per channel C (statistics over N, H, W).

    See :class:`BatchNorm1d` for the training / eval behaviour and the arguments.

    Shape: (N, C, H, W) -> same.
    """

    _ranks = (4,)
    _expected = "4D (N, C, H, W)"


class LayerNorm(Module):
    """Layer normalisation: each sample normalised over its last ``len(normalized_shape)`` dims
    (biased variance), then ``y = weight * xhat + bias`` elementwise. No running statistics:
    training and eval are the same.

    Args:
        normalized_shape: an int or tuple: the trailing dims to normalise over.
        eps: added to the variance.
        elementwise_affine: learn ``weight`` (ones) and ``bias`` (zeros) of that shape.
        bias: learn the bias (when elementwise_affine).
        dtype: parameter dtype (float32 by default).

    Shape: (*, *normalized_shape) -> same.
    """

    def __init__(
        self,
        normalized_shape,
        eps: float = 1e-5,
        elementwise_affine: bool = True,
        bias: bool = True,
        dtype=None,
    ):
        super().__init__()
        ns = (normalized_shape,) if isinstance(normalized_shape, (int, np.integer)) else tuple(
            normalized_shape
        )  # fmt: skip
        if not ns or any(
            isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 1 for s in ns
        ):
            raise ValueError(
                f"LayerNorm: normalized_shape must be positive ints, got {normalized_shape!r}"
            )
        if not eps > 0:
            raise ValueError(f"LayerNorm: eps must be positive, got {eps}")
        self.normalized_shape = tuple(int(s) for s in ns)
        self.eps, self.elementwise_affine = float(eps), bool(elementwise_affine)
        dt = factory_dtype(dtype, "LayerNorm")
        if self.elementwise_affine:
            self.weight = Parameter(np.ones(self.normalized_shape, dtype=dt))
            if bias:
                self.bias = Parameter(np.zeros(self.normalized_shape, dtype=dt))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def reset_parameters(self) -> None:
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def forward(self, input: Tensor) -> Tensor:
        k = len(self.normalized_shape)
        if not isinstance(input, Tensor) or input.shape[input.ndim - k :] != self.normalized_shape:
            got = input.shape if isinstance(input, Tensor) else type(input).__name__
            raise ValueError(
                f"LayerNorm({self.normalized_shape}): expected input of shape "
                f"(*, {', '.join(map(str, self.normalized_shape))}), got {got}"
            )
        return layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.normalized_shape}, eps={self.eps}, "
            f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}"
        )


class GroupNorm(Module):
    """Group normalisation: the ``num_channels`` channels are split into ``num_groups`` groups,
    each sample normalised over each group (biased variance), then a per-channel affine. As
    LayerNorm, no running statistics: training and eval are the same.

    Shape: (N, C, *) -> same.
    """

    def __init__(
        self, num_groups: int, num_channels: int, eps: float = 1e-5, affine: bool = True,
        dtype=None,
    ):  # fmt: skip
        super().__init__()
        for what, v in (("num_groups", num_groups), ("num_channels", num_channels)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"GroupNorm: {what} must be a positive int, got {v!r}")
        if num_channels % num_groups:
            raise ValueError(
                f"GroupNorm: num_channels ({num_channels}) must be divisible by num_groups "
                f"({num_groups})"
            )
        if not eps > 0:
            raise ValueError(f"GroupNorm: eps must be positive, got {eps}")
        self.num_groups, self.num_channels = int(num_groups), int(num_channels)
        self.eps, self.affine = float(eps), bool(affine)
        dt = factory_dtype(dtype, "GroupNorm")
        if self.affine:
            self.weight = Parameter(np.ones(self.num_channels, dtype=dt))
            self.bias = Parameter(np.zeros(self.num_channels, dtype=dt))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def reset_parameters(self) -> None:
        if self.affine:
            init.ones_(self.weight)
            init.zeros_(self.bias)

    def forward(self, input: Tensor) -> Tensor:
        if not isinstance(input, Tensor) or input.ndim < 2 or input.shape[1] != self.num_channels:
            got = input.shape if isinstance(input, Tensor) else type(input).__name__
            raise ValueError(
                f"GroupNorm({self.num_groups}, {self.num_channels}): expected input of shape "
                f"(N, {self.num_channels}, *), got {got}"
            )
        return group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}"


class RMSNorm(Module):
    """Root-mean-square normalisation over the trailing ``normalized_shape`` (no centring, no
    bias): ``x / sqrt(mean(x ** 2) + eps) * weight``; ``eps=None`` is the dtype's epsilon.

    Shape: (*, *normalized_shape) -> same.
    """

    def __init__(
        self, normalized_shape, eps: float | None = None, elementwise_affine: bool = True,
        dtype=None,
    ):  # fmt: skip
        super().__init__()
        ns = (normalized_shape,) if isinstance(normalized_shape, (int, np.integer)) else tuple(
            normalized_shape
        )  # fmt: skip
        if not ns or any(
            isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 1 for s in ns
        ):
            raise ValueError(
                f"RMSNorm: normalized_shape must be positive ints, got {normalized_shape!r}"
            )
        self.normalized_shape = tuple(int(s) for s in ns)
        self.eps = None if eps is None else float(eps)
        self.elementwise_affine = bool(elementwise_affine)
        dt = factory_dtype(dtype, "RMSNorm")
        if self.elementwise_affine:
            self.weight = Parameter(np.ones(self.normalized_shape, dtype=dt))
        else:
            self.register_parameter("weight", None)

    def reset_parameters(self) -> None:
        if self.weight is not None:
            init.ones_(self.weight)

    def forward(self, input: Tensor) -> Tensor:
        return rms_norm(input, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"
        )
