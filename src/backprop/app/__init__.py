"""The command-line application: run configs, the run builder, search, and the component tables.

``backprop.train`` is a library (the Trainer, callbacks, metrics, checkpoints) that knows nothing
of configs; this package turns a TOML config into a run with it, and :mod:`backprop.cli` is a thin
layer over this package. It sits at the top of the library's layers: it may import every layer
below (models, data, nn, optim, train, viz), and nothing below imports it
(``tests/test_architecture.py`` checks this from the imports).

Modules:

- :mod:`~backprop.app.config`: the config schema (dataclasses), TOML reading and writing,
  ``--set`` overrides, validation section by section.
- :mod:`~backprop.app.registry`, :mod:`~backprop.app.components`, :mod:`~backprop.app.datasets`:
  one registry per component family (optimisers, schedules, losses, augmentations, datasets;
  models register in :mod:`backprop.models`, metrics in :mod:`backprop.train.metrics`).
- :mod:`~backprop.app.runner`: from a config to a finished run folder, and back (``load_model``).
- :mod:`~backprop.app.space`, :mod:`~backprop.app.search`: grid and random search in worker
  processes.
- :mod:`~backprop.app.inputs`: decoding ``predict``'s inputs (``.npy`` arrays, images).
- :mod:`~backprop.app.export`: ``backprop export``: a run's model to ONNX (``export_checkpoint``).
- :mod:`~backprop.app.errors`: the error types the command line maps to exit codes.

Adding a component is one edit. An optimiser, once it exists in :mod:`backprop.optim`, is one row
in :mod:`backprop.app.components`::

    OPTIMIZERS.register("lion", optim.Lion, summary="sign of a momentum average")

and a dataset is one registered builder in :mod:`backprop.app.datasets`::

    @DATASETS.register("kmnist", options={}, files=True, summary="Kuzushiji-MNIST (28x28)")
    def _kmnist(d: DatasetSection) -> DatasetParts:
        return _vision(d, D.KMNIST)

Validation (names, options checked against the class's signature), the builder and the
``backprop train --help`` listing all read that row.

Example:
    >>> from backprop.app import load_config, make_run_dir, train_run
    >>> cfg = load_config("examples/lenet5_mnist.toml", ["optimizer.lr=0.02"])
    >>> result = train_run(cfg, make_run_dir(cfg))
    >>> result.test["accuracy"]
    0.99
"""

from .components import AUGMENTATIONS, LOSSES, OPTIMIZERS, SCHEDULERS
from .config import Config, load_config
from .datasets import DATASETS
from .errors import ConfigError, DataError, UsageError
from .registry import Entry, Registry
from .runner import (
    RunResult,
    evaluate_model,
    find_checkpoint,
    load_model,
    make_run_dir,
    open_checkpoint,
    train_run,
)

__all__ = [
    "Config", "ConfigError", "DataError", "UsageError", "load_config", "Registry", "Entry",
    "OPTIMIZERS", "SCHEDULERS", "LOSSES", "AUGMENTATIONS", "DATASETS", "RunResult", "train_run",
    "make_run_dir", "load_model", "open_checkpoint", "evaluate_model", "find_checkpoint",
]  # fmt: skip
