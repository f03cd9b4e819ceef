"""From a config to a run: data bundles (splits, normalisation, augmentation), model checks, the
real MNIST path, run folders, and inference from a checkpoint."""

import numpy as np
import pytest

from backprop.app.config import Config, ConfigError
from backprop.app.runner import (
    build_data,
    build_model,
    default_mnist_root,
    find_checkpoint,
    load_model,
    make_run_dir,
    open_checkpoint,
    train_run,
)
from backprop.train import checkpoint as ckpt_module


def test_digits_bundle_splits_and_normalises_with_the_training_part_only():
    cfg = Config.from_dict({"dataset": {"augment": [{"name": "random_shift", "max_shift": 1}]}})
    data = build_data(cfg)
    info = data.info
    assert info["input_shape"] == [1, 8, 8] and info["num_classes"] == 10
    assert info["sizes"] == {"train": 1294, "val": 144, "test": 359}
    x = np.concatenate([xb.data for xb, _ in data.val])
    assert abs(x.mean()) < 0.1  # normalised with statistics of the training part
    assert data.train.dataset.transform is not data.val.dataset.transform  # augmentation: train
    assert len(info["mean"]) == 1 and info["raw_max"] == 16


def test_the_validation_split_does_not_depend_on_the_training_seed():
    a = build_data(Config.from_dict({"seed": 1}))
    b = build_data(Config.from_dict({"seed": 2}))
    np.testing.assert_array_equal(a.val.dataset.base.indices, b.val.dataset.base.indices)


def test_overfit_mode_uses_the_same_examples_for_training_and_checking():
    data = build_data(Config.from_dict({}), overfit=20)
    assert data.info["sizes"]["train"] == 20 and data.val.dataset.base is data.train.dataset.base
    with pytest.raises(ConfigError, match="--overfit-batch must be in"):
        build_data(Config.from_dict({}), overfit=10**6)


def test_a_model_that_does_not_fit_the_data_is_a_config_error():
    cfg = Config.from_dict({"model": {"name": "mlp", "sizes": [784, 10]}})
    with pytest.raises(ConfigError, match="does not fit dataset 'digits'.*inputs of shape"):
        build_model(cfg, build_data(cfg).info)
    cfg = Config.from_dict({"model": {"name": "mlp", "sizes": [64, 5]}})
    with pytest.raises(ConfigError, match="outputs of shape \\(5,\\).*10 classes"):
        build_model(cfg, build_data(cfg).info)


def test_toy_datasets_build_with_a_fixed_test_split():
    cfg = Config.from_dict({"dataset": {"name": "moons", "n": 200, "noise": 0.1},
                            "model": {"name": "mlp", "sizes": [2, 8, 2]}})  # fmt: skip
    data = build_data(cfg)
    assert data.info["input_shape"] == [2] and data.info["sizes"]["test"] == 40
    build_model(cfg, data.info)


def test_mnist_is_found_beside_the_project(mnist_dir):
    assert default_mnist_root() == mnist_dir.resolve()
    cfg = Config.from_dict({"model": {"name": "lenet5"}, "dataset": {"name": "mnist",
                                                                      "limit": 100}})  # fmt: skip
    data = build_data(cfg)
    assert data.info["sizes"] == {"train": 100, "val": 2000, "test": 10000}
    assert data.info["input_shape"] == [1, 28, 28] and data.info["raw_max"] == 255


def _short_run(tmp_path):
    raw = {"out_dir": str(tmp_path), "name": "r", "epochs": 2,
           "model": {"channels": [4, 8], "hidden": 16}}  # fmt: skip
    cfg = Config.from_dict(raw)
    run = make_run_dir(cfg)
    assert make_run_dir(cfg).name == "r-2"  # never reuses a folder
    return run, train_run(cfg, run, verbose=0)


def test_a_short_run_writes_its_folder_and_reloads(tmp_path):
    run, result = _short_run(tmp_path)
    assert result.test["accuracy"] > 0.5 and result.best_epoch in (1, 2)
    path = find_checkpoint(run)
    assert path.name == "best.safetensors"
    model, ckpt = load_model(path)
    assert not model.training and ckpt.metadata["data"]["name"] == "digits"
    assert ckpt.metadata["model"]["options"]["in_channels"] == 1
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        find_checkpoint(tmp_path)


def test_open_checkpoint_reads_each_file_once(tmp_path, monkeypatch):
    run, _ = _short_run(tmp_path)
    reads = []
    real = ckpt_module.read_checkpoint
    monkeypatch.setattr(ckpt_module, "read_checkpoint", lambda p: reads.append(p) or real(p))
    n_files = len(list((run / "checkpoints").glob("*.safetensors")))
    for target, name in ((run, "best"), (run / "checkpoints" / "last.safetensors", "last")):
        reads.clear()
        path, model, ckpt = open_checkpoint(target)
        assert path.name == f"{name}.safetensors" and not model.training
        # A run folder: every checkpoint read once to check the run's identity, the chosen one
        # loaded from that read; a file inside a run: that file only.
        assert len(reads) == (n_files if target == run else 1)
        want, _ = load_model(path)
        for a, b in zip(model.state_dict().values(), want.state_dict().values()):
            np.testing.assert_array_equal(a.numpy(), b.numpy())
    reads.clear()
    outside = tmp_path / "copy.safetensors"
    outside.write_bytes((run / "checkpoints" / "best.safetensors").read_bytes())
    open_checkpoint(outside)  # not in a run folder: no identity check, one read
    assert len(reads) == 1
