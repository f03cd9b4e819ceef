"""Config validation: every bad key, type and name is rejected with the key and what is allowed."""

import tomllib

import pytest

from backprop.app.config import (
    Config,
    ConfigError,
    apply_overrides,
    load_config,
    parse_overrides,
    to_toml,
)


def test_defaults_are_valid_and_round_trip_through_toml():
    cfg = Config.from_dict({})
    assert cfg.model.name == "digits_cnn" and cfg.dataset.name == "digits"
    text = cfg.to_toml()
    again = Config.from_dict(tomllib.loads(text))
    assert again == cfg
    assert "[optimizer]" in text and 'name = "adam"' in text


@pytest.mark.parametrize(
    "raw, message",
    [
        ({"lr": 0.1}, "unknown key 'lr' (did you mean 'optimizer.lr'?); allowed: name, seed"),
        ({"epoch": 3}, "unknown key 'epoch' (did you mean 'epochs'?)"),
        ({"epochs": "ten"}, "epochs must be int, got string 'ten'"),
        ({"epochs": 2.5}, "epochs must be int, got float 2.5"),
        ({"batch_size": 0}, "batch_size must be > 0"),
        ({"early_stopping": {"enabled": "yes"}}, "early_stopping.enabled must be bool"),
        ({"model": {"name": "lenet"}}, "model.name: unknown value 'lenet'; allowed: alexnet"),
        (
            {"model": {"chanels": [8, 16]}},
            "model.chanels: digits_cnn has no option 'chanels' (did you mean channels?); "
            "allowed: name, num_classes, in_channels, image_size, channels, hidden, dropout",
        ),
        ({"model": {"dropout": "high"}}, "model.dropout must be float, got string 'high'"),
        (
            {"optimizer": {"name": "adamax"}},
            "optimizer.name: unknown value 'adamax'; allowed: "
            "sgd, adam, adamw, rmsprop, adagrad, adadelta",
        ),
        ({"optimizer": {"momentum": 0.9}}, "optimizer.momentum: adam has no option 'momentum'"),
        ({"optimizer": {"lr": -1.0}}, "optimizer.lr must be > 0"),
        ({"scheduler": {"name": "step"}}, "scheduler (step): missing required option(s) step_size"),
        ({"scheduler": {"name": "warp"}}, "scheduler.name: unknown value 'warp'"),
        ({"loss": {"name": "hinge"}}, "loss.name: unknown value 'hinge'; allowed: cross_entropy"),
        ({"dataset": {"name": "imagenet"}}, "dataset.name: unknown value 'imagenet'"),
        ({"dataset": {"noise": 0.1}}, "dataset.noise: not an option of dataset 'digits'"),
        ({"dataset": {"val_fraction": 1.5}}, "dataset.val_fraction must be in [0, 1)"),
        (
            {"dataset": {"augment": [{"name": "random_shift", "max_shit": 1}]}},
            "dataset.augment[0].max_shit: random_shift has no option 'max_shit'",
        ),
        (
            {"dataset": {"val_fraction": 0.0}},
            "scheduler.monitor is 'val_loss' but dataset.val_fraction = 0",
        ),
        ({"metrics": ["accuracy", "bleu"]}, "metrics: unknown metric 'bleu'"),
        ({"model": 3}, "model must be a table, got int 3"),
        ({"name": "../escape"}, "name must be a plain folder name"),
    ],
)
def test_bad_configs_are_rejected_with_the_key_and_the_allowed_values(raw, message):
    with pytest.raises(ConfigError) as e:
        Config.from_dict(raw)
    assert message in str(e.value)


def test_options_of_another_section_do_not_leak():
    # The default schedule is a plateau with factor/patience; naming another schedule in a file
    # gives exactly the options written there.
    cfg = Config.from_dict({"scheduler": {"name": "step", "step_size": 3}})
    assert cfg.scheduler.options == {"step_size": 3}
    cfg = Config.from_dict({"model": {"name": "mlp", "sizes": [64, 32, 10]}})
    assert cfg.model.options == {"sizes": (64, 32, 10)}  # the type of the default


def test_overrides_parse_toml_values_and_bare_words():
    assert parse_overrides(["optimizer.lr=0.01", "model.name=lenet5", "x=[16, 32]", "f=true"]) == [
        ("optimizer.lr", 0.01),
        ("model.name", "lenet5"),
        ("x", [16, 32]),
        ("f", True),
    ]
    with pytest.raises(ConfigError, match="key=value"):
        parse_overrides(["epochs"])
    raw = apply_overrides({"optimizer": {"name": "sgd"}}, [("optimizer.lr", 0.5), ("epochs", 2)])
    assert raw == {"optimizer": {"name": "sgd", "lr": 0.5}, "epochs": 2}


def test_load_config_reports_the_file(tmp_path):
    p = tmp_path / "c.toml"
    p.write_text("epochs = 3\n[optimizer]\nname = 'sgd'\nlr = 0.1\nmomentum = 0.9\n")
    cfg = load_config(p, ["optimizer.momentum=0.5"])
    assert cfg.epochs == 3 and cfg.optimizer.options == {"momentum": 0.5}
    p.write_text("epochs = \n")
    with pytest.raises(ConfigError, match=r"c\.toml: invalid TOML"):
        load_config(p)
    p.write_text("epochs = 'x'\n")
    with pytest.raises(ConfigError, match=r"c\.toml: epochs must be int"):
        load_config(p)
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "missing.toml")


def test_to_toml_writes_nested_values():
    text = to_toml(
        {
            "a": 1.5,
            "s": 'q"uote',
            "l": [1, 2],
            "t": {"x": [{"name": "n", "k": 2}]},
            "inf": float("inf"),
        }
    )
    assert tomllib.loads(text) == {
        "a": 1.5,
        "s": 'q"uote',
        "l": [1, 2],
        "t": {"x": [{"name": "n", "k": 2}]},
        "inf": float("inf"),
    }


def test_every_example_config_is_valid():
    from pathlib import Path

    examples = sorted((Path(__file__).resolve().parents[2] / "examples").glob("*.toml"))
    assert len(examples) >= 2
    for path in examples:
        cfg = load_config(path)
        assert cfg.epochs > 0, path
