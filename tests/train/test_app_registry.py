"""One registry per component family: what config validation, the run builder and the listings
read, so that adding a dataset, optimiser, schedule or loss is one registration."""

import numpy as np
import pytest

from backprop import cli, nn, optim
from backprop.app import AUGMENTATIONS, DATASETS, LOSSES, OPTIMIZERS, SCHEDULERS, Registry
from backprop.app.config import Config, ConfigError
from backprop.app.datasets import DatasetParts
from backprop.app.runner import build_data, build_loss, build_optimizer, build_scheduler, train_run
from backprop.data import TensorDataset


def test_a_registry_keeps_order_refuses_duplicates_and_names_the_allowed_values():
    reg = Registry("gadget")
    reg.register("b", int, summary="bee")

    @reg.register("a", colour="red")
    def make_a():
        """An a.

        More text."""

    assert reg.names() == ["b", "a"] and "a" in reg and len(reg) == 2
    assert reg.get("a", "x.name").info == {"colour": "red"} and reg.get("a", "x").target is make_a
    assert reg.get("a", "x").summary == "An a" and reg.get("b", "x").summary == "bee"
    reg.register("b", int)  # the same target again: harmless
    with pytest.raises(ValueError, match="'b' is already registered"):
        reg.register("b", float)
    with pytest.raises(ConfigError, match=r"^x\.name: unknown value 'c'; allowed: b, a$"):
        reg.get("c", "x.name")
    with pytest.raises(ValueError, match="non-empty string"):
        reg.register("", int)
    reg.register("none", None)
    assert reg.get("none", "x").target is None
    assert reg.unregister("a").target is make_a and reg.names() == ["b", "none"]
    with pytest.raises(KeyError, match="'a' is not registered"):
        reg.unregister("a")


def test_every_registered_component_builds():
    model = nn.Linear(64, 10)
    for name in OPTIMIZERS:
        cfg = Config.from_dict({"optimizer": {"name": name}})
        assert isinstance(build_optimizer(cfg, model), optim.Optimizer), name
    required = {"step": {"step_size": 2}, "multistep": {"milestones": [2]}, "exponential":
                {"gamma": 0.9}}  # fmt: skip
    for name in SCHEDULERS:
        cfg = Config.from_dict({"scheduler": {"name": name, **required.get(name, {})}})
        sched = build_scheduler(cfg, build_optimizer(cfg, model), steps_per_epoch=5)
        assert (sched is None) == (name == "none"), name
    for name in LOSSES:
        assert isinstance(build_loss(Config.from_dict({"loss": {"name": name}})), nn.Module)
    for name in AUGMENTATIONS:
        assert callable(AUGMENTATIONS.get(name, "augment").target)
    assert DATASETS.names()[:4] == ["digits", "mnist", "fashion_mnist", "cifar10"]


def test_cosine_fills_in_t_max_from_the_run_length():
    model = nn.Linear(64, 10)
    cfg = Config.from_dict({"epochs": 7, "scheduler": {"name": "cosine"}})
    assert build_scheduler(cfg, build_optimizer(cfg, model), 5).T_max == 7
    cfg = Config.from_dict({"epochs": 7, "scheduler": {"name": "cosine", "interval": "step"}})
    assert build_scheduler(cfg, build_optimizer(cfg, model), 5).T_max == 35


def _stripes(d):
    """A made-up dataset: 4-pixel rows, class 1 where the left half is brighter."""
    rng = np.random.default_rng(d.split_seed)
    x = rng.random((d.options.get("n", 80), 4)).astype(np.float32)
    y = (x[:, :2].sum(1) > x[:, 2:].sum(1)).astype(np.int64)
    cut = len(x) * 3 // 4
    return DatasetParts(TensorDataset(x[:cut], y[:cut]), TensorDataset(x[cut:], y[cut:]),
                        ["right", "left"], None)  # fmt: skip


def test_adding_a_dataset_is_one_registration(tmp_path, capsys):
    DATASETS.register("stripes", _stripes, options={"n": 80}, files=False, summary="stripes")
    try:
        raw = {"dataset": {"name": "stripes", "n": 120}, "model": {"name": "mlp",
               "sizes": [4, 8, 2]}, "epochs": 2, "scheduler": {"name": "none"}}  # fmt: skip
        cfg = Config.from_dict(raw)
        data = build_data(cfg)
        assert data.info["sizes"] == {"train": 81, "val": 9, "test": 30}
        assert data.info["classes"] == ["right", "left"]
        result = train_run(cfg, None, verbose=0, plots=False)
        assert set(result.test["per_class"]) == {"right", "left"}
        with pytest.raises(ConfigError, match="dataset.noise: not an option of dataset 'stripes'"):
            Config.from_dict({**raw, "dataset": {"name": "stripes", "noise": 0.1}})
        with pytest.raises(SystemExit):
            cli.main(["train", "--help"])
        assert "stripes" in capsys.readouterr().out  # the listing reads the registry too
    finally:
        DATASETS.unregister("stripes")
    with pytest.raises(ConfigError, match="dataset.name: unknown value 'stripes'"):
        Config.from_dict({"dataset": {"name": "stripes"}})


def test_a_registered_optimizer_is_validated_against_its_signature():
    class Plain(optim.SGD):
        def __init__(self, params, lr=0.1, damping=0.5):
            super().__init__(params, lr=lr)
            self.damping = damping

    OPTIMIZERS.register("plain", Plain, summary="test")
    try:
        cfg = Config.from_dict({"optimizer": {"name": "plain", "damping": 1}})
        assert cfg.optimizer.options == {"damping": 1.0}
        assert build_optimizer(cfg, nn.Linear(2, 2)).damping == 1.0
        with pytest.raises(ConfigError, match="optimizer.momentum: plain has no option"):
            Config.from_dict({"optimizer": {"name": "plain", "momentum": 0.9}})
    finally:
        OPTIMIZERS.unregister("plain")
