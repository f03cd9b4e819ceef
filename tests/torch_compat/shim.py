"""Run a PyTorch script with backprop in torch's place: ``python shim.py SCRIPT``.

The script is not edited: ``import torch``, ``import torch.nn as nn``, ``from torch.utils.data
import DataLoader`` and the like resolve to backprop's modules of the same names.
"""

import runpy
import sys

import backprop
import backprop.distributed
import backprop.nn
import backprop.nn.functional
import backprop.nn.init
import backprop.optim
import backprop.optim.lr_scheduler
import backprop.utils
import backprop.utils.data

ALIASES = {
    "torch": backprop,
    "torch.nn": backprop.nn,
    "torch.nn.functional": backprop.nn.functional,
    "torch.nn.init": backprop.nn.init,
    "torch.optim": backprop.optim,
    "torch.optim.lr_scheduler": backprop.optim.lr_scheduler,
    "torch.utils": backprop.utils,
    "torch.utils.data": backprop.utils.data,
    "torch.autograd": backprop.autograd,
    "torch.distributed": backprop.distributed,
}

if __name__ == "__main__":
    sys.modules.update(ALIASES)
    script = sys.argv[1]
    sys.argv = sys.argv[1:]
    runpy.run_path(script, run_name="__main__")
