"""The common base of the image datasets: raw integer pixels in ``.data``, labels in ``.targets``.

Pixels stay in their compact integer form in memory and are scaled to float32 only for the items
or batches asked for; converting a whole batch at once is what keeps a loader epoch cheap.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from ..dataset import Dataset, _index
from ..transforms import is_batchable

__all__ = ["ImageDataset"]


class ImageDataset(Dataset):
    """Images held as integer arrays, served as float32 ``(C, H, W)`` arrays in [0, 1].

    Items are ``(image, label)``: the image a float32 ``(C, H, W)`` array (after ``transform``),
    the label an int64 scalar (after ``target_transform``).

    Attributes:
        data: the raw pixels, uint8, ``(N, H, W)`` for one channel or ``(N, C, H, W)``.
        targets: int64 labels, ``(N,)``.
        classes: the class names.
        transform: applied to each image (or to a batch of images, when it can be).
        target_transform: applied to each label.
    """

    classes: Sequence[str] = ()

    def __init__(
        self,
        data: np.ndarray,
        targets: np.ndarray,
        *,
        max_value: int,
        transform: Callable | None = None,
        target_transform: Callable | None = None,
    ) -> None:
        self.data = data
        self.targets = np.asarray(targets, dtype=np.int64)
        self.transform = transform
        self.target_transform = target_transform
        self._max_value = np.float32(max_value)

    def __len__(self) -> int:
        return len(self.targets)

    @property
    def class_to_idx(self) -> dict[str, int]:
        return {c: i for i, c in enumerate(self.classes)}

    def _images(self, raw: np.ndarray) -> np.ndarray:
        """Raw pixels ``(N, H, W)`` or ``(N, C, H, W)`` -> float32 ``(N, C, H, W)`` in [0, 1]."""
        if raw.ndim == 3:
            raw = raw[:, None]
        # Division (not multiplication by 1/255): bit-identical to torchvision's ToTensor.
        return np.divide(raw, self._max_value, dtype=np.float32)

    def __getitem__(self, index: int) -> tuple:
        i = _index(index, len(self), type(self).__name__)
        image = self._images(self.data[i : i + 1])[0]
        target = self.targets[i]
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target

    @property
    def supports_batching(self) -> bool:
        return is_batchable(self.transform) and is_batchable(self.target_transform)

    def get_batch(self, indices: np.ndarray) -> tuple:
        images = self._images(self.data[indices])
        targets = self.targets[indices]
        if self.transform is not None:
            images = self.transform.apply_batch(images)
        if self.target_transform is not None:
            targets = self.target_transform.apply_batch(targets)
        return images, targets

    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__}(", f"    items: {len(self)}"]
        extra = self.extra_repr()
        if extra:
            lines.append(f"    {extra}")
        if self.transform is not None:
            lines.append(f"    transform: {self.transform!r}")
        if self.target_transform is not None:
            lines.append(f"    target_transform: {self.target_transform!r}")
        return "\n".join(lines) + "\n)"


def find_file(folders: Sequence[Path], names: Sequence[str]) -> Path | None:
    """The first existing file among ``names`` in the first folder holding one, or None."""
    for folder in folders:
        for name in names:
            p = folder / name
            if p.is_file():
                return p
    return None
