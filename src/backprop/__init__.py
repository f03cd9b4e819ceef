"""backprop: a small, fast deep-learning library on NumPy with PyTorch's vocabulary.

>>> import backprop
>>> x = backprop.tensor([1.0, 2.0, 3.0], requires_grad=True)
>>> y = (x ** 2).sum()
>>> y.backward()
>>> x.grad
tensor([2., 4., 6.])
"""

from __future__ import annotations

from . import threads as threads  # isort: skip  (before NumPy: it sets OpenBLAS's spin time)

import numpy as _np

from . import backend, cuda, nn, random
from .autograd import Function, enable_grad, gradcheck, is_grad_enabled, no_grad, set_grad_enabled
from .autograd.grad_mode import inference_mode, is_inference_mode_enabled
from .device import device
from .functional import *  # noqa: F401,F403
from .functional import __all__ as _functional_all
from .random import Generator, initial_seed, manual_seed, seed
from .tensor import Tensor
from .threads import get_num_threads, set_num_threads

__version__ = "0.1.0"

# Dtypes, named as in PyTorch (they are NumPy dtypes).
float16 = half = _np.dtype(_np.float16)
float32 = float = _np.dtype(_np.float32)
float64 = double = _np.dtype(_np.float64)
int8 = _np.dtype(_np.int8)
uint8 = _np.dtype(_np.uint8)
int16 = short = _np.dtype(_np.int16)
int32 = int = _np.dtype(_np.int32)
int64 = long = _np.dtype(_np.int64)
bool = _np.dtype(_np.bool_)

__all__ = [
    "Tensor", "Function", "backend", "nn", "random", "manual_seed", "seed", "initial_seed",
    "Generator", "set_num_threads", "save", "load",
    "get_num_threads",
    "no_grad", "enable_grad", "inference_mode", "is_inference_mode_enabled", "device", "cuda",
    "set_grad_enabled", "is_grad_enabled", "gradcheck", "float16", "half", "float32", "float",
    "float64", "double", "int8", "uint8", "int16", "short", "int32", "int", "int64", "long", "bool",
    *_functional_all,
]  # fmt: skip


def save(obj, f, **kwargs) -> None:
    """PyTorch's ``torch.save(obj, f)``: tensors, state dicts, optimiser and scheduler states and
    nested dicts/lists of them with numbers and strings, to a safetensors file with a JSON
    skeleton (never pickle; see :mod:`backprop.serialization`), written atomically."""
    from .serialization import save as _save

    _save(obj, f)


def load(f, map_location=None, weights_only: bool = True, **kwargs):
    """PyTorch's ``torch.load(f)`` for files written by :func:`save` (or any safetensors file).
    ``map_location`` may only name the CPU; ``weights_only`` is accepted for PyTorch code: the
    file is never unpickled either way (a pickle is refused, saying how to convert it)."""
    from .serialization import load as _load

    if map_location is not None and not callable(map_location):
        from .device import as_device

        as_device(map_location, "load")
    return _load(f)


# Heavier subpackages load on first use, so `import backprop` stays light (as `torch.optim` is
# reachable from `torch`, `backprop.optim` is from `backprop`).
_LAZY_SUBMODULES = ("data", "optim", "train", "models", "viz", "serialization", "cli", "utils",
                    "onnx", "interop")  # fmt: skip


def __getattr__(name: str):
    if name in _LAZY_SUBMODULES:
        import importlib

        return importlib.import_module(f".{name}", __name__)
    if name == "summary":  # the model zoo's summary(), imported when first used
        from .models.summary import summary

        return summary
    raise AttributeError(f"module 'backprop' has no attribute {name!r}")
