"""Neural-network building blocks: ``backprop.nn.functional`` (and, as they land, modules)."""

from . import functional

__all__ = ["functional"]
