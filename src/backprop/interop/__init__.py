"""Interchange with other frameworks. ``backprop.interop.torch``: state dicts and safetensors
weight files to and from PyTorch (tied weights, float16/bfloat16, ``module.`` prefixes, nested
checkpoints). ONNX export lives in :mod:`backprop.onnx`.

>>> from backprop.interop.torch import save_weights, load_weights, to_torch
>>> save_weights(net, "lenet5.safetensors")          # PyTorch's names and layouts
>>> torch_net.load_state_dict(to_torch(net), strict=True)
"""

from .torch import from_torch, load_weights, save_weights, to_torch, unwrap_state_dict

__all__ = ["to_torch", "from_torch", "save_weights", "load_weights", "unwrap_state_dict"]
