"""Composable transforms for samples and for whole batches, after ``torchvision.transforms``.

Every transform works on one sample (``t(x)``) and on a stacked batch (``t.apply_batch(xb)``,
leading batch dimension), each sample drawing its own random parameters. Datasets use the batch
form when the loader fetches whole batches, so augmentation costs a few vectorised NumPy calls per
batch instead of a Python loop per image.

Samples are NumPy arrays (images as ``(C, H, W)`` or ``(H, W)``); a Tensor input gives a Tensor
output. Random transforms draw from their ``generator`` if given, else from
``backprop.random.generator()`` at call time, so ``backprop.manual_seed(n)`` fixes them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from ..tensor import Tensor

__all__ = [
    "Transform",
    "Compose",
    "Lambda",
    "ToFloat",
    "ToTensor",
    "Normalize",
    "OneHot",
    "Flatten",
    "RandomCrop",
    "RandomShift",
    "RandomHorizontalFlip",
    "RandomAffine",
    "compute_mean_std",
    "fit_normalize",
    "is_batchable",
]


def _unwrap(x) -> tuple[np.ndarray, bool]:
    if isinstance(x, Tensor):
        return x.data, True
    return np.asarray(x), False


def _wrap(arr: np.ndarray, as_tensor: bool):
    return Tensor._make(np.asarray(arr), False, None) if as_tensor else arr


def is_batchable(transform) -> bool:
    """Whether ``transform`` (or None) can be applied to a stacked batch with ``apply_batch``."""
    return transform is None or (
        isinstance(transform, Transform) and bool(getattr(transform, "batchable", False))
    )


class Transform:
    """Base class: subclasses implement ``_apply(batch)`` on an array with a leading batch dim.

    ``t(x)`` applies it to one sample (as a batch of one); ``t.apply_batch(xb)`` to many.
    """

    batchable: bool = True

    def _apply(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def __call__(self, x):
        arr, was_tensor = _unwrap(x)
        return _wrap(self._apply(arr[None])[0], was_tensor)

    def apply_batch(self, x):
        """Apply to a stacked batch (first dimension = samples), each sample on its own."""
        arr, was_tensor = _unwrap(x)
        return _wrap(self._apply(arr), was_tensor)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Compose(Transform):
    """Apply transforms one after the other.

    Example:
        >>> t = Compose([RandomShift(2), Normalize([0.1307], [0.3081])])
    """

    def __init__(self, transforms: Sequence[Callable]) -> None:
        self.transforms = list(transforms)
        for t in self.transforms:
            if not callable(t):
                raise TypeError(f"Compose: {t!r} is not callable")

    @property
    def batchable(self) -> bool:
        return all(is_batchable(t) for t in self.transforms)

    def __call__(self, x):
        for t in self.transforms:
            x = t(x)
        return x

    def apply_batch(self, x):
        if not self.batchable:
            raise TypeError(f"Compose: not all of {self.transforms} can take a batch")
        for t in self.transforms:
            x = t.apply_batch(x)
        return x

    def __repr__(self) -> str:
        inner = "".join(f"\n    {t!r}," for t in self.transforms)
        return f"Compose([{inner}\n])"


class Lambda(Transform):
    """Wrap a function of one sample as a transform (samples only, not batches)."""

    batchable = False

    def __init__(self, fn: Callable) -> None:
        if not callable(fn):
            raise TypeError(f"Lambda: {fn!r} is not callable")
        self.fn = fn

    def __call__(self, x):
        return self.fn(x)

    def apply_batch(self, x):
        raise TypeError("Lambda: a function of one sample cannot take a batch")


def _to_float32(x: np.ndarray, scale: float | None) -> np.ndarray:
    if scale is not None:
        return np.multiply(x, np.float32(scale), dtype=np.float32)
    if x.dtype == np.uint8:
        # Divide rather than multiply by 1/255: bit-identical to torchvision's ToTensor.
        return np.divide(x, np.float32(255), dtype=np.float32)
    return x.astype(np.float32, copy=False)


class ToFloat(Transform):
    """Convert to float32, scaling uint8 pixels to [0, 1].

    Args:
        scale: multiply by this (e.g. ``1 / 16`` for 4-bit images); None: divide uint8 input by
            255 and convert other dtypes without scaling.
    """

    def __init__(self, scale: float | None = None) -> None:
        if scale is not None and (
            isinstance(scale, bool)
            or not isinstance(scale, (int, float, np.number))
            or not 0 < scale < np.inf
        ):
            raise ValueError(
                f"ToFloat: scale must be a positive finite number or None, got {scale!r}"
            )
        self.scale = scale

    def _apply(self, x):
        if x.dtype.kind not in "biuf":
            raise TypeError(f"ToFloat: expected a numeric array, got dtype {x.dtype}")
        return _to_float32(x, self.scale)

    def __repr__(self) -> str:
        return f"ToFloat(scale={self.scale})"


class ToTensor(Transform):
    """Like torchvision's ``ToTensor`` for arrays: an ``(H, W, C)`` or ``(H, W)`` image becomes a
    float32 ``(C, H, W)`` backprop Tensor, uint8 scaled to [0, 1].

    The datasets of this package already give float32 ``(C, H, W)`` arrays; this is for images of
    your own in the HWC layout of PIL and OpenCV.
    """

    def _apply(self, x):
        if x.ndim == 3:  # batch of (H, W)
            x = x[:, None]
        elif x.ndim == 4:  # batch of (H, W, C)
            x = x.transpose(0, 3, 1, 2)
        else:
            raise ValueError(f"ToTensor: expected an (H, W) or (H, W, C) image, got {x.shape[1:]}")
        return np.ascontiguousarray(_to_float32(x, None))

    def __call__(self, x):
        arr, _ = _unwrap(x)
        return _wrap(self._apply(arr[None])[0], True)

    def apply_batch(self, x):
        arr, _ = _unwrap(x)
        return _wrap(self._apply(arr), True)


def _per_leading(param: np.ndarray, sample_shape: tuple, who: str) -> np.ndarray:
    """Reshape ``param`` to broadcast over a sample whose leading dims it matches."""
    if param.shape != sample_shape[: param.ndim]:
        raise ValueError(
            f"{who}: statistics of shape {param.shape} do not match samples of shape "
            f"{sample_shape} (they must match its leading dimensions: (C,) per channel of a "
            "(C, H, W) image, (D,) per feature of a (D,) vector, () for one value)"
        )
    return param.reshape(param.shape + (1,) * (len(sample_shape) - param.ndim))


class Normalize(Transform):
    """``(x - mean) / std``, per channel or per feature.

    ``mean`` and ``std`` match the leading dimensions of a sample: ``(C,)`` normalises each
    channel of a ``(C, H, W)`` image, ``(D,)`` each feature of a ``(D,)`` vector, ``(C, H, W)``
    each pixel, a scalar everything. Fit them on the training split only, with
    :func:`fit_normalize`.

    Args:
        mean: the means.
        std: the standard deviations (positive).

    Example:
        >>> Normalize([0.1307], [0.3081])  # MNIST's usual statistics
    """

    def __init__(self, mean, std) -> None:
        mean = np.asarray(_unwrap(mean)[0], dtype=np.float32)
        std = np.asarray(_unwrap(std)[0], dtype=np.float32)
        if mean.shape != std.shape:
            raise ValueError(f"Normalize: mean {mean.shape} and std {std.shape} differ in shape")
        if not np.all(std > 0):
            raise ValueError(f"Normalize: std must be positive, got {std}")
        self.mean = mean
        self.std = std

    def _apply(self, x):
        m = _per_leading(self.mean, x.shape[1:], "Normalize")
        s = _per_leading(self.std, x.shape[1:], "Normalize")
        if x.dtype.kind != "f":
            x = x.astype(np.float32)  # no implicit /255 here: that is ToFloat's job
        return (x - m) / s

    def __repr__(self) -> str:
        return f"Normalize(mean={self.mean.tolist()}, std={self.std.tolist()})"


def _stacked_inputs(data) -> np.ndarray:
    """All inputs of ``data`` (array, Tensor or dataset of ``(x, y)`` items) as one array."""
    if isinstance(data, (np.ndarray, Tensor)):
        return _unwrap(data)[0]
    n = len(data)
    if getattr(data, "supports_batching", False):
        batch = data.get_batch(np.arange(n))
        first = batch[0] if isinstance(batch, (tuple, list)) else batch
        return _unwrap(first)[0]
    items = [data[i] for i in range(n)]
    return np.stack([_unwrap(it[0] if isinstance(it, (tuple, list)) else it)[0] for it in items])


def compute_mean_std(
    data, per: str = "channel", eps: float = 1e-8
) -> tuple[np.ndarray, np.ndarray]:
    """Mean and (population) standard deviation of the inputs, in float32.

    Args:
        data: an ``(N, ...)`` array or Tensor, or a dataset of ``(input, target)`` items (its
            current transform applies). Pass the training split only: statistics taken on
            validation or test data leak them into training.
        per: ``"channel"`` (axis 1 of ``(N, C, ...)``: shape ``(C,)``), ``"feature"`` (every
            position of a sample: the sample's shape), or ``"all"`` (scalars).
        eps: a standard deviation below this (a constant pixel, e.g. MNIST's border) is set to 1,
            as scikit-learn's StandardScaler does, so normalising never divides by zero.

    Returns:
        ``(mean, std)`` float32 arrays.
    """
    x = _stacked_inputs(data)
    if x.ndim < 1 or x.shape[0] == 0:
        raise ValueError(f"compute_mean_std: need a non-empty (N, ...) batch, got {x.shape}")
    if per == "channel":
        axes = (0,) + tuple(range(2, x.ndim)) if x.ndim > 1 else (0,)
    elif per == "feature":
        axes = (0,)
    elif per == "all":
        axes = None
    else:
        raise ValueError(
            f"compute_mean_std: per must be 'channel', 'feature' or 'all', got {per!r}"
        )
    # Accumulate in float64: a float32 sum over 10^7 pixels loses digits.
    mean = x.mean(axis=axes, dtype=np.float64)
    std = x.std(axis=axes, dtype=np.float64)
    std = np.where(std < eps, 1.0, std)
    return np.asarray(mean, np.float32), np.asarray(std, np.float32)


def fit_normalize(data, per: str = "channel", eps: float = 1e-8) -> Normalize:
    """A :class:`Normalize` fitted on ``data``: pass the training split only.

    Example:
        >>> full = MNIST(train=True)
        >>> train, val = train_val_split(full, 0.1)
        >>> full.transform = fit_normalize(train)  # statistics of the training part only,
        >>> # applied to both parts (validation data is normalised with the training statistics)
    """
    mean, std = compute_mean_std(data, per=per, eps=eps)
    return Normalize(mean, std)


class OneHot(Transform):
    """An integer label (or array of labels) to a one-hot vector along a new last axis.

    Args:
        num_classes: the number of classes.
        dtype: the output dtype (float32 by default).
    """

    def __init__(self, num_classes: int, dtype=np.float32) -> None:
        if num_classes < 1:
            raise ValueError(f"OneHot: num_classes must be positive, got {num_classes}")
        self.num_classes = int(num_classes)
        self.dtype = np.dtype(dtype)

    def _apply(self, y):
        if y.dtype.kind not in "iu":
            raise TypeError(f"OneHot: labels must be integers, got {y.dtype}")
        if y.size and (y.min() < 0 or y.max() >= self.num_classes):
            raise ValueError(
                f"OneHot: labels must be in [0, {self.num_classes}), got [{y.min()}, {y.max()}]"
            )
        return np.eye(self.num_classes, dtype=self.dtype)[y]

    def __repr__(self) -> str:
        return f"OneHot(num_classes={self.num_classes})"


class Flatten(Transform):
    """A sample to a 1-D vector (``(C, H, W)`` -> ``(C*H*W,)``), e.g. for an MLP."""

    def _apply(self, x):
        return x.reshape(x.shape[0], -1)


# The random transforms live in their own module; it needs Transform, defined above.
from .augment import RandomAffine, RandomCrop, RandomHorizontalFlip, RandomShift  # noqa: E402
