"""``backprop.utils``: PyTorch's ``torch.utils`` namespace (``backprop.utils.data``)."""

from . import data

__all__ = ["data"]
