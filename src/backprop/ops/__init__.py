"""Every differentiable op, one `Function` subclass each, registered by name.

The registry lets the test suite check that no op lacks a row in its table of op tests.
"""

from __future__ import annotations

__all__ = ["OPS", "register_op"]

OPS: dict[str, type] = {}


def register_op(name: str):
    """Class decorator: register a Function under ``name`` (also stored as ``cls.name``)."""

    def deco(cls):
        if name in OPS:
            raise ValueError(f"register_op: an op named {name!r} is already registered")
        cls.name = name
        OPS[name] = cls
        return cls

    return deco


def _load_all() -> None:
    # Importing the families registers their ops.
    from . import (  # noqa: F401
        activation,
        attention,
        conv,
        conv3d,
        conv_transpose,
        dropout,
        elementwise,
        embedding,
        embedding_bag,
        fold,
        indexing,
        inplace,
        layout,
        linalg,
        loss,
        math,
        math_binary,
        normalization,
        padding,
        pool3d,
        pooling,
        recurrent,
        reduction,
        rounding,
        scan,
        scatter,
        shape,
        upsample,
    )


_load_all()
