"""The command line end to end, in subprocesses, on the embedded digits: train, eval, predict,
resume (bit-identical), Ctrl-C, search, and the exit codes of bad input."""

import json
import signal
import subprocess
import sys

import numpy as np
import pytest

from backprop import cli
from backprop.serialization import load_file


def bp(*args, cwd, timeout=180):
    return subprocess.run(
        [sys.executable, "-u", "-m", "backprop", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    return tmp_path_factory.mktemp("cli")


@pytest.fixture(scope="module")
def run_a(work):
    """`backprop train` exactly as `make demo` runs it (the default config), but named."""
    r = bp("train", "--name", "a", cwd=work)
    assert r.returncode == 0, r.stderr
    return work / "runs" / "a", r


def test_train_writes_a_complete_run_folder(run_a):
    run, r = run_a
    assert "Epoch 1/15: loss " in r.stdout and "val_accuracy" in r.stdout
    assert "Test accuracy: " in r.stdout and r.stdout.rstrip().endswith("Run folder: runs/a")
    for name in (
        "config.toml",
        "history.csv",
        "results.json",
        "curves.png",
        "confusion.png",
        "checkpoints/best.safetensors",
        "checkpoints/last.safetensors",
    ):
        assert (run / name).is_file(), name
    assert len((run / "history.csv").read_text().splitlines()) == 16
    results = json.loads((run / "results.json").read_text())
    # the promise of `backprop train`: >= 97% test accuracy on the digits (98.6% measured)
    assert results["test"]["accuracy"] >= 0.97 and len(results["test"]["confusion_matrix"]) == 10
    assert "Traceback" not in r.stderr


def test_eval_reports_the_test_metrics(run_a):
    run, _ = run_a
    r = bp("eval", run, "--json", cwd=run.parent.parent)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    saved = json.loads((run / "results.json").read_text())["test"]
    assert (
        out["accuracy"] == saved["accuracy"]
        and out["confusion_matrix"] == saved["confusion_matrix"]
    )
    r = bp(
        "eval", run / "checkpoints" / "last.safetensors", "--split", "val", cwd=run.parent.parent
    )
    assert r.returncode == 0 and "val split, 144 examples" in r.stdout and "precision" in r.stdout


def test_predict_npy_and_png_inputs(run_a, work):
    import matplotlib.image as mpimg

    from backprop.data import Digits

    test = Digits(train=False)
    xs = np.stack([test[i][0] for i in range(4)])
    ys = [int(test[i][1]) for i in range(4)]
    np.save(work / "batch.npy", xs)
    mpimg.imsave(work / "digit.png", np.kron(1.0 - xs[0, 0], np.ones((4, 4))), cmap="gray")
    run, _ = run_a
    r = bp("predict", run, "batch.npy", "digit.png", "--json", cwd=work)
    assert r.returncode == 0, r.stderr
    preds = json.loads(r.stdout)
    assert [p["input"] for p in preds] == [f"batch.npy[{i}]" for i in range(4)] + ["digit.png"]
    assert sum(int(p["class"]) == y for p, y in zip(preds, ys)) >= 3
    assert preds[4]["class"] == preds[0]["class"]  # the picture of the first digit
    assert abs(sum(preds[0]["probabilities"].values()) - 1) < 0.05
    r = bp("predict", run, "batch.npy", cwd=work)
    assert r.stdout.startswith("batch.npy[0]: ") and "(p=" in r.stdout


# A tiny CNN on the digits: a fast epoch, for the runs compared bit for bit.
TINY = ["--set", "model.channels=[4, 8]", "--set", "model.hidden=16", "-q"]


@pytest.fixture(scope="module")
def run_b(work):
    """12 epochs straight: what resumed runs must reproduce exactly."""
    r = bp("train", "--name", "b", "--epochs", 12, *TINY, cwd=work)
    assert r.returncode == 0, r.stderr
    return work / "runs" / "b"


def _same_run(x, y):
    assert (x / "history.csv").read_text() == (y / "history.csv").read_text()
    wx = load_file(x / "checkpoints/last.safetensors")
    wy = load_file(y / "checkpoints/last.safetensors")
    assert all(np.array_equal(wx[k], wy[k]) for k in wy if k.startswith("t.model"))


def test_resume_is_bit_identical_to_an_uninterrupted_run(run_b, work):
    r = bp("train", "--name", "a2", "--epochs", 5, *TINY, cwd=work)
    assert r.returncode == 0, r.stderr
    r = bp("resume", "runs/a2", "--epochs", 12, "-q", cwd=work)
    assert r.returncode == 0, r.stderr
    assert "Resuming runs/a2 at epoch 6 (of 12 epochs)" in r.stdout
    _same_run(work / "runs" / "a2", run_b)
    r = bp("resume", "runs/b", cwd=work)
    assert r.returncode == 0 and "already completed 12 of 12 epochs" in r.stdout


def test_ctrl_c_writes_a_checkpoint_and_resume_finishes_the_same_run(run_b, work):
    proc = subprocess.Popen(
        [
            sys.executable,
            "-u",
            "-m",
            "backprop",
            "train",
            "--name",
            "c",
            "--epochs",
            "12",
            *TINY[:-1],
        ],
        cwd=work,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    for line in proc.stdout:
        if line.startswith("Epoch 1/12"):
            break
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, (out, err)
    assert "Interrupted: saved a resumable checkpoint" in out and "backprop resume runs/c" in out
    assert "Traceback" not in err
    r = bp("resume", "runs/c", "-q", cwd=work)
    assert r.returncode == 0, r.stderr
    _same_run(work / "runs" / "c", run_b)


def test_overfit_batch_reports_success_and_failure(work):
    r = bp("train", "--overfit-batch", 20, "-q", cwd=work)
    assert r.returncode == 0, r.stderr
    assert "OK: training accuracy reached 100% on 20 examples" in r.stdout
    r = bp(
        "train", "--overfit-batch", 20, "--epochs", 1, "--set", "optimizer.lr=1e-7", "-q", cwd=work
    )
    assert r.returncode == 0 and "WARNING: training accuracy is" in r.stderr
    assert not (work / "runs").exists() or "overfit" not in str(list((work / "runs").iterdir()))


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["train", "--set", "optimizer.name=adamax"],
            "optimizer.name: unknown value 'adamax'; allowed: sgd, adam, adamw",
        ),
        (["train", "--set", "epochs=many"], "epochs must be int, got string 'many'"),
        (
            ["train", "--set", "model.name=lenet5", "--set", "model.widht=3"],
            "model.widht: lenet5 has no option 'widht'",
        ),
        (["train", "--config", "missing.toml"], "config file not found: missing.toml"),
        (["train", "--bogus"], "unrecognized arguments: --bogus"),
        (["resume", "runs/none"], "no such run folder: runs/none"),
        (["eval", "runs/none"], "no such file or folder: runs/none"),
        (["predict", "runs/none", "x.npy"], "no such file or folder: runs/none"),
        (["search", "nosearch.toml", "--grid"], "no [search] section"),
        (["train", "--set", "model.name=mlp"], "does not fit dataset 'digits'"),
    ],
)
def test_usage_and_config_errors_exit_2_without_a_traceback(work, args, message):
    (work / "nosearch.toml").write_text("epochs = 1\n")
    r = bp(*args, cwd=work)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert message in r.stderr and "Traceback" not in r.stderr


def test_bad_checkpoints_exit_1_with_a_clear_message(run_a, work):
    run, _ = run_a
    data = (run / "checkpoints" / "best.safetensors").read_bytes()
    (work / "cut.safetensors").write_bytes(data[: len(data) // 2])
    r = bp("eval", "cut.safetensors", cwd=work)
    assert r.returncode == 1 and "truncated" in r.stderr and "Traceback" not in r.stderr
    (work / "model.pt").write_bytes(b"\x80\x04\x95" + b"\x00" * 40)
    r = bp("predict", "model.pt", "batch.npy", cwd=work)
    assert r.returncode == 1 and "pickle" in r.stderr and "Traceback" not in r.stderr


def test_search_in_parallel_from_the_command_line(work):
    (work / "search.toml").write_text(
        "epochs = 2\nbatch_size = 32\n[model]\nname = 'mlp'\nsizes = [2, 16, 2]\n"
        "[dataset]\nname = 'moons'\nn = 300\n[optimizer]\nname = 'sgd'\nlr = 0.1\n"
        "[scheduler]\nname = 'none'\n[search]\nmetric = 'val_loss'\n"
        "[search.space]\n"
        "'optimizer.lr' = { dist = 'loguniform', low = 1e-5, high = 0.5, num = 3 }\n"
    )
    r = bp("search", "search.toml", "--grid", "--jobs", 2, cwd=work)
    assert r.returncode == 0, r.stderr
    assert "Grid search: 3 trials, 2 worker(s), ranking by val_loss" in r.stdout
    assert "Best configuration: runs/mlp-moons-search/best.toml" in r.stdout
    table = r.stdout.split("rank  trial")[1].splitlines()
    assert table[1].split()[4] == "0.5"  # the largest learning rate wins in 2 epochs


@pytest.mark.parametrize(
    "command", ["train", "resume", "eval", "predict", "search", "models", "summary"]
)
def test_every_subcommand_has_help(command, capsys):
    with pytest.raises(SystemExit) as e:
        cli.main([command, "--help"])
    assert e.value.code == 0
    assert f"usage: backprop {command}" in capsys.readouterr().out


def test_models_lists_the_zoo(capsys):
    assert cli.main(["models"]) == 0
    out = capsys.readouterr().out
    assert "digits_cnn" in out and "lenet5" in out and "1x28x28" in out


def test_help_lists_a_metric_registered_after_import(monkeypatch):
    from backprop import cli
    from backprop.train import metrics

    monkeypatch.setattr(metrics, "_METRICS", dict(metrics._METRICS))
    monkeypatch.setattr(metrics, "_ALIASES", dict(metrics._ALIASES))
    metrics.register_metric("median_error", lambda num_classes: metrics.MeanAbsoluteError())
    assert "median_error" in metrics.metric_names()
    assert "median_error" in cli._components_help()
