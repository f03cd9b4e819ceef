"""The NumPy backend: the array module every op uses through ``ctx.xp``."""

from __future__ import annotations

import numpy as np

from . import Backend, register_backend

__all__ = ["NUMPY", "np"]

NUMPY = Backend(name="numpy", xp=np, owns=lambda a: isinstance(a, (np.ndarray, np.generic)))
register_backend(NUMPY)
