"""MNIST and Fashion-MNIST, read from their official IDX gz files."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ..download import default_root, download_url
from ..idx import read_idx
from ._vision import ImageDataset, find_file

__all__ = ["MNIST", "FashionMNIST"]


class MNIST(ImageDataset):
    """MNIST handwritten digits (LeCun, Cortes and Burges).

    - Items: ``(image, label)``, image float32 ``(1, 28, 28)`` in [0, 1] (white digit on black),
      label int64 in 0..9. ``data`` holds the raw uint8 ``(N, 28, 28)`` pixels, ``targets`` the
      labels.
    - Size: 60,000 training and 10,000 test images, 10 classes, ~11 MB compressed.
    - Source: http://yann.lecun.com/exdb/mnist/ (IDX format). Licence: CC BY-SA 3.0, as stated
      by the authors. Cite: Y. LeCun, L. Bottou, Y. Bengio, P. Haffner, "Gradient-based learning
      applied to document recognition", Proc. IEEE 86(11), 1998.

    Files are looked for in ``root`` itself and in ``root/MNIST/raw`` (torchvision's layout);
    ``train-images-idx3-ubyte.gz`` and friends, gzipped or not. A folder given by hand is trusted
    as is (no checksum: it may hold a subset); downloads are verified against the published md5.

    Args:
        root: the folder holding the files; default ``$BACKPROP_DATA`` or ``~/.cache/backprop``
            (then only ``root/MNIST/raw`` is searched, so datasets do not mix).
        train: the training split (True) or the test split (False).
        download: fetch missing files (official URL first, then ``mirrors``) into
            ``root/MNIST/raw``.
        transform: applied to each image (a float32 ``(1, 28, 28)`` array).
        target_transform: applied to each label.

    Example:
        >>> train = MNIST(train=True, download=True)
        >>> image, label = train[0]            # (1, 28, 28) float32, int64
    """

    # Tried in order; tests and users can replace the list (e.g. with a local mirror).
    mirrors: list[str] = [
        "http://yann.lecun.com/exdb/mnist/",
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
    ]
    # split -> [(images file, md5), (labels file, md5)]; md5s as published.
    resources: dict[str, list[tuple[str, str]]] = {
        "train": [
            ("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
            ("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432"),
        ],
        "test": [
            ("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3"),
            ("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c"),
        ],
    }
    classes = [
        "0 - zero", "1 - one", "2 - two", "3 - three", "4 - four",
        "5 - five", "6 - six", "7 - seven", "8 - eight", "9 - nine",
    ]  # fmt: skip
    image_size = (28, 28)

    def __init__(
        self,
        root: str | os.PathLike | None = None,
        train: bool = True,
        download: bool = False,
        transform: Callable | None = None,
        target_transform: Callable | None = None,
    ) -> None:
        name = type(self).__name__
        explicit = root is not None
        self.root = Path(root).expanduser() if explicit else default_root()
        self.train = bool(train)
        self.raw_folder = self.root / name / "raw"
        folders = [self.root, self.raw_folder] if explicit else [self.raw_folder]
        split = "train" if self.train else "test"
        paths = []
        for filename, md5 in self.resources[split]:
            found = find_file(folders, [filename, filename.removesuffix(".gz")])
            if found is None:
                if not download:
                    where = " or ".join(str(f) for f in folders)
                    raise FileNotFoundError(
                        f"{name}: {filename} not found in {where}; pass download=True, or put "
                        f"the file there by hand (from {self.mirrors[0]}{filename})"
                    )
                urls = [m.rstrip("/") + "/" + filename for m in self.mirrors]
                found = download_url(urls, self.raw_folder, filename, md5=md5)
            paths.append(found)
        images = read_idx(paths[0])
        labels = read_idx(paths[1])
        _check_pair(name, paths, images, labels, self.image_size, len(self.classes))
        super().__init__(
            images,
            labels.astype(np.int64),
            max_value=255,
            transform=transform,
            target_transform=target_transform,
        )

    def extra_repr(self) -> str:
        return f"split: {'train' if self.train else 'test'}, root: {self.root}"


def _check_pair(name, paths, images, labels, image_size, num_classes) -> None:
    """Images and labels must agree with each other and with the dataset's format."""
    if images.ndim != 3 or images.shape[1:] != image_size or images.dtype != np.uint8:
        raise ValueError(
            f"{name}: {paths[0]} holds {images.dtype} data of shape {images.shape}, expected uint8 "
            f"(N, {image_size[0]}, {image_size[1]})"
        )
    if labels.ndim != 1 or labels.dtype != np.uint8:
        raise ValueError(
            f"{name}: {paths[1]} holds {labels.dtype} data of shape {labels.shape}, expected "
            "uint8 (N,) labels"
        )
    if len(labels) != len(images):
        raise ValueError(
            f"{name}: {paths[1]} has {len(labels)} labels but {paths[0]} has {len(images)} images"
        )
    if len(labels) and labels.max() >= num_classes:
        raise ValueError(
            f"{name}: {paths[1]} has label {labels.max()}, outside 0..{num_classes - 1}"
        )


class FashionMNIST(MNIST):
    """Fashion-MNIST: Zalando's article images, a drop-in replacement for MNIST.

    - Items: ``(image, label)``, image float32 ``(1, 28, 28)`` in [0, 1], label int64 in 0..9
      (``classes``: T-shirt/top, Trouser, Pullover, Dress, Coat, Sandal, Shirt, Sneaker, Bag,
      Ankle boot).
    - Size: 60,000 training and 10,000 test images, ~30 MB compressed, the same IDX format.
    - Source: https://github.com/zalandoresearch/fashion-mnist, MIT licence. Cite: H. Xiao,
      K. Rasul, R. Vollgraf, "Fashion-MNIST: a novel image dataset for benchmarking machine
      learning algorithms", arXiv:1708.07747, 2017.

    Arguments as for :class:`MNIST`; files live in ``root`` or ``root/FashionMNIST/raw``.
    """

    mirrors: list[str] = [
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
    ]
    resources: dict[str, list[tuple[str, str]]] = {
        "train": [
            ("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
            ("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe"),
        ],
        "test": [
            ("t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79"),
            ("t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310"),
        ],
    }
    classes = [
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
        "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    ]  # fmt: skip
