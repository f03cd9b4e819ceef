"""The library's one source of randomness: a seeded :class:`numpy.random.Generator`.

Every random draw in backprop (``rand``, ``randn``, initialisers, dropout masks, shuffling) goes
through :func:`generator`, never through the global ``np.random`` state, so ``manual_seed(n)``
makes a whole run reproducible.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "manual_seed", "seed", "generator", "get_rng_state", "set_rng_state", "initial_seed",
    "Generator", "resolve",
]  # fmt: skip

_initial_seed: int = 0
_generator: np.random.Generator = np.random.default_rng(_initial_seed)


def manual_seed(n: int) -> np.random.Generator:
    """Seed the library's generator (in place: code holding ``generator()`` sees it); returns it."""
    global _initial_seed
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool):
        raise TypeError(f"manual_seed: seed must be an int, got {type(n).__name__}")
    if n < 0:
        raise ValueError(f"manual_seed: seed must be non-negative, got {n}")
    _initial_seed = int(n)
    # The same stream as np.random.default_rng(n), set into the one existing generator.
    _generator.bit_generator.state = np.random.PCG64(_initial_seed).state
    return _generator


def seed() -> int:
    """Seed from OS entropy; returns the seed used."""
    n = int(np.random.SeedSequence().entropy % (2**63))
    manual_seed(n)
    return n


def initial_seed() -> int:
    return _initial_seed


def generator() -> np.random.Generator:
    """The library's generator: always the same object; seeding and restoring change it in place."""
    return _generator


def get_rng_state() -> dict:
    """A JSON-serialisable snapshot of the generator's state (for checkpoints)."""
    return _generator.bit_generator.state


def set_rng_state(state: dict) -> None:
    """Restore a snapshot taken by :func:`get_rng_state` (in place)."""
    if not isinstance(state, dict) or "bit_generator" not in state:
        raise ValueError("set_rng_state: expected a dict from get_rng_state()")
    kind = type(_generator.bit_generator).__name__
    if state["bit_generator"] != kind:
        raise ValueError(
            f"set_rng_state: the state is for bit generator {state['bit_generator']!r}, "
            f"the library uses {kind!r}"
        )
    try:
        _generator.bit_generator.state = state
    except (TypeError, ValueError, KeyError, OverflowError) as e:  # (a number out of range)
        raise ValueError(f"set_rng_state: malformed state ({e})") from None


class Generator:
    """An independent random stream, as ``torch.Generator``: pass it as ``generator=`` to the
    random functions, ``DataLoader`` and ``random_split`` so that one part of a program draws
    reproducibly whatever the rest does.

        >>> g = backprop.Generator().manual_seed(42)
        >>> backprop.randn(3, generator=g)

    Its stream is NumPy's PCG64 seeded with the same number as ``np.random.default_rng(seed)``
    (torch's Mersenne Twister draws other numbers from the same seed).
    """

    def __init__(self, device="cpu"):
        from .device import as_device

        self.device = as_device(device, "Generator")
        self._seed = 0
        self._rng = np.random.default_rng(0)

    def manual_seed(self, seed: int) -> Generator:
        """Seed this generator in place; returns it (so ``Generator().manual_seed(n)`` works)."""
        if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
            raise TypeError(
                f"Generator.manual_seed: seed must be an int, got {type(seed).__name__}"
            )
        if seed < 0:
            raise ValueError(f"Generator.manual_seed: seed must be non-negative, got {seed}")
        self._seed = int(seed)
        self._rng.bit_generator.state = np.random.PCG64(self._seed).state
        return self

    def seed(self) -> int:
        """Seed from OS entropy; returns the seed."""
        n = int(np.random.SeedSequence().entropy % (2**63))
        self.manual_seed(n)
        return n

    def initial_seed(self) -> int:
        return self._seed

    def get_state(self) -> dict:
        return self._rng.bit_generator.state

    def set_state(self, state: dict) -> Generator:
        try:
            self._rng.bit_generator.state = state
        except (TypeError, ValueError, KeyError) as e:
            raise ValueError(f"Generator.set_state: malformed state ({e})") from None
        return self

    def __repr__(self) -> str:
        return f"Generator(seed={self._seed})"


def resolve(gen, where: str) -> np.random.Generator:
    """The NumPy generator to draw from: ``gen`` (a :class:`Generator` or a
    ``numpy.random.Generator``), or the library's when None."""
    if gen is None:
        return _generator
    if isinstance(gen, Generator):
        return gen._rng
    if isinstance(gen, np.random.Generator):
        return gen
    raise TypeError(
        f"{where}: generator must be a backprop.Generator (or a numpy.random.Generator), got "
        f"{type(gen).__name__}"
    )
