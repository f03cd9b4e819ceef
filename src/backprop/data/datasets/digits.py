"""The 8x8 handwritten digits that ship with scikit-learn: a dataset that needs no network."""

from __future__ import annotations

import functools
import importlib.util
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ..dataset import stratified_indices
from ._vision import ImageDataset

__all__ = ["Digits"]


@functools.lru_cache(maxsize=1)
def _load_digits() -> tuple[np.ndarray, np.ndarray]:
    """(images uint8 (1797, 8, 8) in 0..16, labels int64 (1797,)), read once per process."""
    # Importing sklearn.datasets costs about a second (it pulls in SciPy); the data are one small
    # CSV inside the package, so read it directly when it is where scikit-learn keeps it.
    spec = importlib.util.find_spec("sklearn")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(
            "Digits: the 8x8 digits ship with scikit-learn; install it (pip install scikit-learn)"
        )
    csv = Path(next(iter(spec.submodule_search_locations))) / "datasets" / "data" / "digits.csv.gz"
    if csv.is_file():
        table = np.loadtxt(csv, delimiter=",", dtype=np.float64)
        pixels, labels = table[:, :-1], table[:, -1]
    else:  # a future layout: go through the public API
        from sklearn.datasets import load_digits

        bunch = load_digits()
        pixels, labels = bunch.data, bunch.target
    if pixels.shape != (1797, 64) or pixels.min() < 0 or pixels.max() > 16:
        raise ValueError(f"Digits: unexpected digits data of shape {pixels.shape} in {csv}")
    images = pixels.astype(np.uint8).reshape(-1, 8, 8)
    images.flags.writeable = False
    targets = labels.astype(np.int64)
    targets.flags.writeable = False
    return images, targets


class Digits(ImageDataset):
    """The 8x8 handwritten digits bundled with scikit-learn (``sklearn.datasets.load_digits``).

    - Items: ``(image, label)``, image float32 ``(1, 8, 8)`` in [0, 1] (the 0..16 counts divided
      by 16), label int64 in 0..9. ``data`` holds the raw uint8 ``(N, 8, 8)`` counts.
    - Size: 1,797 images, 10 classes (~180 each); the split is a fixed stratified 80/20:
      1,438 training and 359 test images (``train=None``: all 1,797).
    - Source: the test set of the UCI "Optical Recognition of Handwritten Digits" data
      (E. Alpaydin, C. Kaynak, 1998), 32x32 bitmaps counted in 4x4 blocks; shipped in
      scikit-learn (BSD-3-Clause); the UCI data are under CC BY 4.0.

    It loads in milliseconds with no network: the default dataset of ``backprop train``.

    Args:
        train: the training part (True), the test part (False) or everything (None).
        transform: applied to each image (a float32 ``(1, 8, 8)`` array).
        target_transform: applied to each label.
        test_fraction: the share held out for testing.
        seed: the seed of the split (the same seed gives the same split everywhere).
    """

    classes = [str(d) for d in range(10)]

    def __init__(
        self,
        train: bool | None = True,
        transform: Callable | None = None,
        target_transform: Callable | None = None,
        test_fraction: float = 0.2,
        seed: int = 0,
    ) -> None:
        if not 0.0 < test_fraction < 1.0:
            raise ValueError(f"Digits: test_fraction must be in (0, 1), got {test_fraction}")
        images, targets = _load_digits()
        self.train = train
        if train is not None:
            n_test = round(len(targets) * test_fraction)
            gen = np.random.default_rng(seed)  # its own generator: the split never varies
            train_idx, test_idx = stratified_indices(
                targets, [len(targets) - n_test, n_test], generator=gen
            )
            idx = np.sort(train_idx if train else test_idx)
            images, targets = images[idx], targets[idx]
        super().__init__(
            images,
            targets,
            max_value=16,
            transform=transform,
            target_transform=target_transform,
        )

    def extra_repr(self) -> str:
        split = {True: "train", False: "test", None: "all"}[self.train]
        return f"split: {split}"
