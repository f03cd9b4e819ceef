"""Two-dimensional toy problems for decision-boundary demos, generated in-house.

Every generator takes ``(n, noise, seed)`` and returns ``(X, y)``: X float32 ``(n, 2)``, y int64
``(n,)``, classes as balanced as ``n`` allows, rows in random order. ``seed`` is an int (the same
data everywhere), a ``numpy.random.Generator``, or None (draw from ``backprop.random``, so
``backprop.manual_seed`` fixes it). ``noise`` is the standard deviation of Gaussian noise added
to each coordinate.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ... import random as _random
from ..dataset import Dataset, _index

__all__ = [
    "make_moons",
    "make_circles",
    "make_spirals",
    "make_xor",
    "make_blobs",
    "Toy2D",
    "TOY_DATASETS",
]


def _rng(seed) -> np.random.Generator:
    if seed is None:
        return _random.generator()
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool) and seed >= 0:
        return np.random.default_rng(int(seed))
    raise TypeError(f"toy data: seed must be a non-negative int, a Generator or None, got {seed!r}")


def _check(who: str, n: int, noise: float, min_n: int = 1) -> None:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < min_n:
        raise ValueError(f"{who}: n must be an int >= {min_n}, got {n!r}")
    if not noise >= 0:
        raise ValueError(f"{who}: noise must be >= 0, got {noise!r}")


def _split(n: int, k: int) -> list[int]:
    """``n`` items over ``k`` classes, as evenly as possible."""
    return [n // k + (1 if c < n % k else 0) for c in range(k)]


def _finish(x: np.ndarray, y: np.ndarray, noise: float, rng) -> tuple[np.ndarray, np.ndarray]:
    if noise > 0:
        x = x + rng.normal(0.0, noise, size=x.shape)
    perm = rng.permutation(len(y))
    return x[perm].astype(np.float32), y[perm].astype(np.int64)


def make_moons(n: int = 200, noise: float = 0.1, seed=None) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles (scikit-learn's ``make_moons``): class 0 the upper arc of
    radius 1 centred at (0, 0), class 1 the lower arc centred at (1, 0.5)."""
    _check("make_moons", n, noise, 2)
    rng = _rng(seed)
    n0, n1 = _split(n, 2)
    t0, t1 = np.linspace(0, np.pi, n0), np.linspace(0, np.pi, n1)
    x = np.concatenate(
        [np.stack([np.cos(t0), np.sin(t0)], 1), np.stack([1 - np.cos(t1), 0.5 - np.sin(t1)], 1)]
    )
    y = np.repeat([0, 1], [n0, n1])
    return _finish(x, y, noise, rng)


def make_circles(
    n: int = 200, noise: float = 0.05, seed=None, factor: float = 0.5
) -> tuple[np.ndarray, np.ndarray]:
    """Two concentric circles: class 0 of radius 1, class 1 of radius ``factor`` (< 1)."""
    _check("make_circles", n, noise, 2)
    if not 0 < factor < 1:
        raise ValueError(f"make_circles: factor must be in (0, 1), got {factor}")
    rng = _rng(seed)
    n0, n1 = _split(n, 2)
    t0 = np.linspace(0, 2 * np.pi, n0, endpoint=False)
    t1 = np.linspace(0, 2 * np.pi, n1, endpoint=False)
    x = np.concatenate(
        [np.stack([np.cos(t0), np.sin(t0)], 1), factor * np.stack([np.cos(t1), np.sin(t1)], 1)]
    )
    y = np.repeat([0, 1], [n0, n1])
    return _finish(x, y, noise, rng)


def make_spirals(
    n: int = 300, noise: float = 0.05, seed=None, classes: int = 3, turns: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """``classes`` interleaved spiral arms from the origin out to radius 1 (cs231n's spiral
    data), each turning ``turns`` times, arm c rotated by ``2 pi c / classes``."""
    _check("make_spirals", n, noise, classes)
    if classes < 2 or turns <= 0:
        raise ValueError(f"make_spirals: need classes >= 2 and turns > 0, got {classes}, {turns}")
    rng = _rng(seed)
    sizes = _split(n, classes)
    parts = []
    for c, m in enumerate(sizes):
        r = np.linspace(0.05, 1.0, m)
        t = 2 * np.pi * (turns * r + c / classes)
        parts.append(np.stack([r * np.cos(t), r * np.sin(t)], 1))
    y = np.repeat(np.arange(classes), sizes)
    return _finish(np.concatenate(parts), y, noise, rng)


def make_xor(n: int = 200, noise: float = 0.05, seed=None) -> tuple[np.ndarray, np.ndarray]:
    """Points uniform in [-1, 1]^2; class 1 where the signs of the two coordinates differ (the
    XOR of ``x0 > 0`` and ``x1 > 0``), the problem a single perceptron cannot solve. Labels come
    from the clean points; ``noise`` then blurs the boundary."""
    _check("make_xor", n, noise, 2)
    rng = _rng(seed)
    n0, n1 = _split(n, 2)
    # Draw each quadrant pair directly so that the classes are exactly balanced.
    a = rng.uniform(0, 1, size=(n0, 2)) * rng.choice([-1, 1], size=(n0, 1))  # same signs
    b = rng.uniform(0, 1, size=(n1, 2)) * np.array([1, -1]) * rng.choice([-1, 1], size=(n1, 1))
    y = np.repeat([0, 1], [n0, n1])
    return _finish(np.concatenate([a, b]), y, noise, rng)


def make_blobs(
    n: int = 300, noise: float = 0.5, seed=None, centers=3
) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian blobs of standard deviation ``noise``, one class per centre.

    Args:
        centers: an int k (k centres evenly spaced on a circle of radius 2.5) or a ``(k, 2)``
            array of centres.
    """
    _check("make_blobs", n, noise)
    if isinstance(centers, (int, np.integer)):
        if centers < 1:
            raise ValueError(f"make_blobs: centers must be >= 1, got {centers}")
        t = 2 * np.pi * np.arange(centers) / centers + np.pi / 2
        centers = 2.5 * np.stack([np.cos(t), np.sin(t)], 1)
    centers = np.asarray(centers, dtype=np.float64)
    if centers.ndim != 2 or centers.shape[1] != 2:
        raise ValueError(f"make_blobs: centers must be (k, 2), got shape {centers.shape}")
    rng = _rng(seed)
    sizes = _split(n, len(centers))
    y = np.repeat(np.arange(len(centers)), sizes)
    return _finish(centers[y], y, noise, rng)


TOY_DATASETS: dict[str, Callable] = {
    "moons": make_moons,
    "circles": make_circles,
    "spirals": make_spirals,
    "xor": make_xor,
    "blobs": make_blobs,
}


class Toy2D(Dataset):
    """A 2-D toy problem as a dataset: ``(x, y)`` items, x float32 ``(2,)``, y int64.

    - Kinds: ``"moons"``, ``"circles"``, ``"spirals"``, ``"xor"``, ``"blobs"``
      (see :func:`make_moons` and friends for their parameters).
    - Size: ``n`` points; classes: 2 (3 for spirals and blobs by default).
    - Generated in-house; no licence or download involved.

    Example:
        >>> ds = Toy2D("moons", n=500, noise=0.2, seed=0)
        >>> loader = DataLoader(ds, batch_size=32, shuffle=True)
    """

    def __init__(self, kind: str, n: int = 200, noise: float | None = None, seed=None, **kwargs):
        if kind not in TOY_DATASETS:
            raise ValueError(f"Toy2D: kind must be one of {sorted(TOY_DATASETS)}, got {kind!r}")
        if noise is not None:
            kwargs["noise"] = noise
        self.kind = kind
        self.data, self.targets = TOY_DATASETS[kind](n=n, seed=seed, **kwargs)
        self.classes = [str(c) for c in range(int(self.targets.max()) + 1)]

    def __len__(self) -> int:
        return len(self.targets)

    def __getitem__(self, index: int) -> tuple:
        i = _index(index, len(self), "Toy2D")
        return self.data[i], self.targets[i]

    @property
    def supports_batching(self) -> bool:
        return True

    def get_batch(self, indices: np.ndarray) -> tuple:
        return self.data[indices], self.targets[indices]

    def __repr__(self) -> str:
        return f"Toy2D({self.kind!r}, n={len(self)})"
