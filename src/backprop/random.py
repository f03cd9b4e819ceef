"""The library's one source of randomness: a seeded :class:`numpy.random.Generator`.

Every random draw in backprop (``rand``, ``randn``, initialisers, dropout masks, shuffling) goes
through :func:`generator`, never through the global ``np.random`` state, so ``manual_seed(n)``
makes a whole run reproducible.
"""

from __future__ import annotations

import numpy as np

__all__ = ["manual_seed", "seed", "generator", "get_rng_state", "set_rng_state", "initial_seed"]

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
    except (TypeError, ValueError, KeyError) as e:
        raise ValueError(f"set_rng_state: malformed state ({e})") from None
