"""The command line as a user meets it when things go wrong (issue 20, items 5-7).

Every user-caused condition (a full disk, a read-only folder, an out_dir that cannot hold folders,
sizes too large for memory, malformed or tampered files, bad predict inputs) ends in one line on
stderr naming the file or the setting, exit code 2 (1 for a failed run), no traceback, and
nothing left behind; ``--debug`` shows the traceback. Then the messages of a first session:
warnings for inputs of another size, "did you mean", the "best" epoch, ``--overfit-batch``'s
figures, the exit codes of a bare ``backprop`` and of a search whose trials all fail.

Most cases run ``backprop.cli.main`` in this process on a tiny model (the same code as the
``backprop`` script, without an interpreter start per case); the ones about the process itself
(exit codes, Ctrl-C, a real full disk) run ``python -m backprop``.
"""

from __future__ import annotations

import contextlib
import errno
import io
import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from backprop import cli, fileio
from backprop import serialization as S
from backprop.app.errors import ConfigError, UsageError
from backprop.app.runner import config_of, train_run
from backprop.serialization import SerializationError
from backprop.train.callbacks import NonFiniteLossError
from backprop.train.checkpoint import read_checkpoint

# A 2-4-2 MLP on 64 moons: an epoch takes milliseconds.
TOY = [
    "--set", "dataset.name=moons", "--set", "dataset.n=64", "--set", "model.name=mlp",
    "--set", "model.sizes=[2, 4, 2]", "--set", "batch_size=16", "-q",
]  # fmt: skip
# A tiny CNN on the 8x8 digits (predict takes images and arrays of its 1x8x8 inputs).
DIGITS = ["--set", "model.channels=[4, 8]", "--set", "model.hidden=16", "-q"]


def run(*args) -> tuple[int, str, str]:
    """``backprop ARGS`` in this process: (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main([str(a) for a in args])
    return code, out.getvalue(), err.getvalue()


def bp(*args, cwd, timeout=180, **kw):
    """``python -m backprop ARGS`` in a fresh process."""
    return subprocess.run(
        [sys.executable, "-u", "-m", "backprop", *map(str, args)],
        cwd=cwd, capture_output=True, text=True, timeout=timeout, **kw,
    )  # fmt: skip


def one_error_line(err: str) -> str:
    """The error line of a refused command: one line, no traceback."""
    assert "Traceback" not in err, err
    lines = [line for line in err.splitlines() if line.startswith("backprop: error: ")]
    assert len(lines) == 1, err
    return lines[0]


def tree(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


@pytest.fixture(scope="module")
def toy_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("toy")
    code, _, err = run(
        "train", "--name", "toy", "--out-dir", out, "--epochs", 2, *TOY,
        "--set", "early_stopping.enabled=true", "--set", "early_stopping.patience=5",
        "--set", "scheduler.name=step", "--set", "scheduler.step_size=1",
    )  # fmt: skip
    assert code == 0, err
    return out / "toy"


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("digits")
    code, _, err = run("train", "--name", "d", "--out-dir", out, "--epochs", 1, *DIGITS)
    assert code == 0, err
    return out / "d"


# ---------------------------------------------------------------------------------- exit codes
def test_a_bare_backprop_exits_2_with_the_usage(tmp_path):
    r = bp(cwd=tmp_path)
    assert r.returncode == 2 and "usage: backprop" in r.stderr and "train" in r.stderr
    assert "Traceback" not in r.stderr


def test_debug_shows_the_traceback_before_or_after_the_command(tmp_path):
    r = bp("train", "--out-dir", "/dev/null", *TOY, cwd=tmp_path)
    assert r.returncode == 2 and "out_dir" in one_error_line(r.stderr)
    for args in (["--debug", "train"], ["train", "--debug"]):
        r = bp(*args, "--out-dir", "/dev/null", *TOY, cwd=tmp_path)
        assert r.returncode == 2 and "Traceback" in r.stderr, r.stderr
        assert "backprop: error: out_dir" in r.stderr


def test_a_search_whose_every_trial_fails_exits_1(tmp_path):
    # Trial configs that pass validation but fail in their worker (the model does not fit).
    (tmp_path / "s.toml").write_text(
        "epochs = 1\n[model]\nname = 'mlp'\nsizes = [2, 4, 2]\n[dataset]\nname = 'moons'\n"
        "n = 64\n[scheduler]\nname = 'none'\n[search]\nmetric = 'val_loss'\n[search.space]\n"
        "'model.sizes' = [[3, 4, 2], [5, 4, 2]]\n"
    )
    r = bp("search", "s.toml", "--grid", "-q", cwd=tmp_path, timeout=300)
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert "every one of the 2 trials failed" in one_error_line(r.stderr)
    assert (tmp_path / "runs" / "mlp-moons-search" / "results.csv").is_file()


# ---------------------------------------------------------------------------------- out_dir, disk
@pytest.mark.parametrize("out_dir", ["/dev/null", "a_file/runs", "a_file"])
def test_an_out_dir_that_cannot_hold_run_folders_is_a_config_error(tmp_path, out_dir):
    (tmp_path / "a_file").write_text("not a folder")
    target = out_dir if out_dir.startswith("/") else tmp_path / out_dir
    code, out, err = run("train", "--out-dir", target, *TOY)
    line = one_error_line(err)
    assert code == 2 and "out_dir" in line and "cannot create the run folder" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a_file"]


def test_a_device_or_file_in_the_way_of_a_folder_is_named(digits_run, tmp_path):
    code, out, err = run("train", "--out-dir", "/dev/null", *TOY)
    assert code == 2 and "/dev/null: exists and is not a folder" in one_error_line(err)
    pytest.importorskip("onnx")
    code, out, err = run("export", digits_run, "/dev/null/model.onnx")
    assert code == 1 and "/dev/null: exists and is not a folder" in one_error_line(err)


def test_summary_of_an_input_too_large_for_memory_names_the_shape():
    code, out, err = run("summary", "mlp", "--input-shape", 10**11)
    line = one_error_line(err)
    assert code == 2 and "--input-shape 100000000000: too large for this machine's memory" in line


def test_a_config_refused_while_building_leaves_no_run_folder(tmp_path):
    # The model does not fit the digits: found when the model is built, after the folder was
    # made; the empty folder (and its released lock file) goes.
    code, out, err = run("train", "--out-dir", tmp_path, "--set", "model.name=mlp", "-q")
    assert code == 2 and "does not fit dataset 'digits'" in one_error_line(err)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "overrides, setting",
    [
        (["--set", "model.sizes=[2, 100000000000, 2]"], "model.sizes = [2, 100000000000, 2]"),
        (["--set", "model.sizes=[2, 1000000000000000000000, 2]"], "model.sizes"),
        (["--set", "dataset.n=100000000000"], "dataset.n = 100000000000"),
        (["--set", "dataset.n=10000000000000000000"], "dataset.n"),
    ],
)
def test_sizes_too_large_for_memory_name_the_setting(tmp_path, overrides, setting):
    code, out, err = run("train", "--out-dir", tmp_path, *TOY, *overrides)
    line = one_error_line(err)
    assert code == 2 and setting in line and "too large for this machine's memory" in line
    assert list(tmp_path.iterdir()) == []


def test_a_full_disk_while_writing_is_one_line_naming_the_file(tmp_path, monkeypatch):
    real_fsync = os.fsync
    calls = []

    def full(fd):  # the third file written (config, run record, checkpoint...) finds no space
        if stat.S_ISREG(os.fstat(fd).st_mode):
            calls.append(fd)
            if len(calls) >= 3:
                raise OSError(errno.ENOSPC, "No space left on device")
        return real_fsync(fd)

    monkeypatch.setattr(fileio.os, "fsync", full)
    code, out, err = run("train", "--name", "r", "--out-dir", tmp_path, "--epochs", 2, *TOY)
    line = one_error_line(err)
    assert code == 1 and "No space left on device" in line and "the disk is full" in line
    assert str(tmp_path / "r") in line  # the file that could not be written
    assert not [p for p in (tmp_path / "r").rglob("*") if fileio.is_temporary(p.name)]


def test_permission_and_folder_errors_inside_a_run_are_one_line(tmp_path, monkeypatch):
    def refuse(name, folder, dfd):
        raise PermissionError(errno.EACCES, "Permission denied", str(folder / name))

    monkeypatch.setattr(fileio, "_create_temporary", refuse)
    code, out, err = run("train", "--name", "r", "--out-dir", tmp_path, "--epochs", 1, *TOY)
    line = one_error_line(err)
    assert code == 1 and "Permission denied" in line and str(tmp_path / "r") in line


def test_out_of_memory_while_running_is_one_line(tmp_path, monkeypatch):
    from backprop.app import runner

    def no_memory(*a, **k):
        raise MemoryError("Unable to allocate 12.0 TiB for an array")

    monkeypatch.setattr(runner, "evaluate_model", no_memory)
    code, out, err = run("train", "--name", "r", "--out-dir", tmp_path, "--epochs", 1, *TOY)
    line = one_error_line(err)
    assert code == 1 and line.startswith("backprop: error: out of memory: Unable to allocate")


def _mount_tmpfs(where: Path, options: str) -> bool:
    if sys.platform != "linux" or os.geteuid() != 0 or shutil.which("mount") is None:
        return False
    where.mkdir(exist_ok=True)
    r = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)], capture_output=True
    )
    return r.returncode == 0


@pytest.mark.parametrize("options", ["size=64k", "size=1m,ro"])
def test_a_real_full_or_read_only_disk(tmp_path, options):
    """A tiny tmpfs, full after a few files, or mounted read-only (EROFS: root is refused
    too). Skipped where the test cannot mount one."""
    mnt = tmp_path / "mnt"
    if not _mount_tmpfs(mnt, options):
        pytest.skip("cannot mount a tmpfs here (needs root on Linux)")
    try:
        r = bp("train", "--name", "r", "--out-dir", mnt, "--epochs", 2, *DIGITS, cwd=tmp_path)
        line = one_error_line(r.stderr)
        if "ro" in options.split(","):
            assert r.returncode == 2 and "out_dir" in line and "Read-only file system" in line
        else:
            assert r.returncode == 1 and "No space left on device" in line, r.stderr
            assert str(mnt / "r") in line
    finally:
        subprocess.run(["umount", str(mnt)], capture_output=True)


# ---------------------------------------------------------------------------------- predict
def _npy(folder: Path, name: str, a) -> Path:
    path = folder / f"{name}.npy"
    np.save(path, a)
    return path


BAD_ARRAYS = [
    ("nan", np.full((1, 8, 8), np.nan, np.float32), "NaN or infinite"),
    ("inf", np.full((8, 8), -np.inf), "NaN or infinite"),
    ("complex", np.ones((8, 8), np.complex64), "complex numbers"),
    ("datetime", np.zeros((8, 8), "datetime64[s]"), "dates"),
    ("timedelta", np.zeros((8, 8), "timedelta64[s]"), "time spans"),
    ("string", np.full((8, 8), "a"), "strings"),
    ("bytes", np.full((8, 8), b"a"), "byte strings"),
    ("bool", np.ones((8, 8), bool), "booleans"),
    ("record", np.zeros((8, 8), [("a", "<f4")]), "records"),
    ("empty", np.zeros((0, 1, 8, 8), np.float32), "empty array"),
    ("overflow", np.full((8, 8), 1e300), "overflow float32"),
    ("shape", np.zeros((28, 28), np.float32), "the model takes (1, 8, 8)"),
]


@pytest.mark.parametrize("name, a, reason", BAD_ARRAYS, ids=[b[0] for b in BAD_ARRAYS])
def test_predict_refuses_arrays_that_are_not_finite_real_inputs(
    digits_run, tmp_path, name, a, reason
):
    path = _npy(tmp_path, name, a)
    code, out, err = run("predict", digits_run, path)
    line = one_error_line(err)
    assert code == 2 and str(path) in line and reason in line, line
    assert out == ""


def test_predict_refuses_an_object_array_unread(digits_run, tmp_path):
    path = tmp_path / "obj.npy"
    np.save(path, np.array([[1] * 8] * 8, dtype=object), allow_pickle=True)
    code, out, err = run("predict", digits_run, path)
    assert code == 2 and "never loaded" in one_error_line(err) and out == ""


def test_predict_refuses_a_zero_size_array_with_huge_dimensions(digits_run, tmp_path):
    from numpy.lib import format as npy

    path = tmp_path / "huge.npy"
    with open(path, "wb") as f:
        npy.write_array_header_2_0(
            f, {"descr": "<f4", "fortran_order": False, "shape": (0, 2**62, 2**62)}
        )
    code, out, err = run("predict", digits_run, path)
    assert code == 2 and str(path) in one_error_line(err) and out == ""


def test_predict_takes_finite_floats_and_integer_pixels(digits_run, tmp_path):
    from backprop.data import Digits

    x = Digits(train=False)[0][0]
    ok = [_npy(tmp_path, "f16", x.astype(np.float16)), _npy(tmp_path, "f64", x.astype(np.float64))]
    ok.append(_npy(tmp_path, "pixels", np.round(x * 16).astype(np.uint8)))
    code, out, err = run("predict", digits_run, *ok, "--json")
    assert code == 0 and err == "", err
    assert len({p["class"] for p in json.loads(out)}) == 1  # the same digit three ways
    code, out, err = run("predict", digits_run, _npy(tmp_path, "neg", -np.ones((8, 8), np.int64)))
    assert code == 0 and "outside the pixel range [0, 16]" in err


def test_predict_warns_when_an_image_is_resized_to_the_model_input(digits_run, tmp_path):
    import matplotlib.image as mpimg

    rng = np.random.default_rng(0)
    mpimg.imsave(tmp_path / "mnist_sized.png", rng.random((28, 28)), cmap="gray")
    mpimg.imsave(tmp_path / "digits_sized.png", rng.random((8, 8)), cmap="gray")
    code, out, err = run("predict", digits_run, tmp_path / "mnist_sized.png")
    assert code == 0 and out.startswith(f"{tmp_path / 'mnist_sized.png'}: ")
    assert "backprop: warning:" in err and "a 28x28 image, resized to the model's 8x8" in err
    code, out, err = run("predict", digits_run, tmp_path / "digits_sized.png")
    assert code == 0 and err == ""


def test_predict_with_weights_tampered_to_nan_is_refused(digits_run, tmp_path):
    ckpt = S.load(digits_run / "checkpoints" / "best.safetensors")
    for t in ckpt["model"].values():
        t.data[...] = np.nan
    bad = tmp_path / "nan.safetensors"
    S.save(ckpt, bad, metadata={"format": "backprop-checkpoint"})  # a valid checksum
    x = _npy(tmp_path, "x", np.zeros((1, 8, 8), np.float32))
    code, out, err = run("predict", bad, x)
    assert code == 1 and "NaN or infinite" in one_error_line(err) and out == ""


# ---------------------------------------------------------------------------------- tampered files
def _leaves(node, path=()):
    """The paths of the scalar values in a checkpoint's tree (not its tensors)."""
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _leaves(v, (*path, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _leaves(v, (*path, i))
    elif not isinstance(node, (tuple, np.ndarray)) and not hasattr(node, "data"):
        yield path


def _tampered(run_dir: Path, where: Path, path: tuple, value) -> Path:
    """A copy of ``run_dir`` whose last checkpoint has ``value`` at ``path``, re-checksummed
    (what an attacker, or a careless script, writes: the checksum is valid). A key written
    ``":Name"`` is the callback ``"<i>:Name"``, whatever its index."""
    obj = S.load(run_dir / "checkpoints" / "last.safetensors")
    node = obj
    for k in path[:-1]:
        if isinstance(k, str) and k.startswith(":"):
            k = next(key for key in node if key.endswith(k))
        node = node[k]
    node[path[-1]] = value
    shutil.rmtree(where, ignore_errors=True)
    shutil.copytree(run_dir, where)
    S.save(obj, where / "checkpoints" / "last.safetensors", metadata={"format": obj["format"]})
    return where


# The errors a user sees as one line (the command line maps them to exit codes 1 and 2).
USER_ERRORS = (SerializationError, ConfigError, UsageError, NonFiniteLossError)


def test_every_value_of_a_checkpoint_tampered_is_refused_or_harmless(toy_run, tmp_path):
    """Each scalar of the last checkpoint (optimiser step and hyper-parameters, scheduler
    counters, callback states, history rows, RNG state, config...) replaced by a value of
    another type or out of range, with a valid checksum: resuming either works or raises one of
    the user errors, never a TypeError/OverflowError from inside training."""
    obj = S.load(toy_run / "checkpoints" / "last.safetensors")
    skip = {"format", "format_version", "backprop_version", "model"}
    paths = [p for p in _leaves({k: v for k, v in obj.items() if k not in skip})]
    assert len(paths) > 60 and ("optimizer", "state", 0, "step") in paths
    escaped = []
    with warnings.catch_warnings():
        _resume_each(toy_run, tmp_path, paths, escaped)
    assert not escaped, "\n".join(escaped[:20])


def _resume_each(toy_run: Path, tmp_path: Path, paths: list, escaped: list) -> None:
    for path in paths:
        for value in ("x", None, [1], -1, 1e300):
            run_dir = _tampered(toy_run, tmp_path / "t", path, value)
            try:
                cfg = config_of(read_checkpoint(run_dir / "checkpoints" / "last.safetensors"))
                # (An lr of 1e300 overflows: NumPy warns, then the NaN guard stops the run.)
                warnings.simplefilter("ignore", RuntimeWarning)
                train_run(
                    cfg, run_dir, verbose=0, resume=True, epochs=3, test=False, plots=False,
                    handle_sigint=False,
                )  # fmt: skip
            except USER_ERRORS:
                pass
            except Exception as e:  # noqa: BLE001 - what this test looks for
                escaped.append(f"{path} = {value!r}: {type(e).__name__}: {e}")


@pytest.mark.parametrize(
    "path, value, needle",
    [
        (("optimizer", "state", 0, "step"), "x", "'step' must be an int >= 0"),
        (("optimizer", "state", 0, "step"), 1.5, "'step' must be an int >= 0"),
        (("optimizer", "param_groups", 0, "maximize"), {"a": 1}, "'maximize' is dict"),
        (("trainer", "callbacks", ":EarlyStopping", "best"), None, "'best' must be a number"),
        (("trainer", "history", "rows", 0, "loss"), "x", "a row of non-numbers"),
        (("rng", "backprop", "state", "state"), -1, "malformed state"),
        (("scheduler", "last_epoch"), None, "'last_epoch' is NoneType"),
    ],
)
def test_tampered_values_reach_the_user_as_one_line(toy_run, tmp_path, path, value, needle):
    run_dir = _tampered(toy_run, tmp_path / "t", path, value)
    before = tree(run_dir)
    code, out, err = run("resume", run_dir, "--epochs", 3, "-q")
    line = one_error_line(err)
    assert code in (1, 2) and "last.safetensors" in line and needle in line, line
    assert tree(run_dir) == before  # refused before anything was written


# ---------------------------------------------------------------------------------- messages
@pytest.mark.parametrize(
    "setting, meant",
    [
        ("optimizer.learning_rate=0.1", "did you mean lr?"),
        ("optimizer.epsilon=1e-8", "did you mean eps?"),
        ("optimizer.beta_1=0.9", "did you mean betas?"),
        ("optimizer.lrr=0.1", "did you mean lr?"),
        ("model.hiden=3", "did you mean hidden?"),
        ("scheduler.patiance=3", "did you mean patience?"),
        ("learning_rate=0.1", "did you mean 'optimizer.lr'?"),
    ],
)
def test_an_unknown_option_lists_the_allowed_ones_and_suggests_one(tmp_path, setting, meant):
    code, out, err = run("train", "--out-dir", tmp_path, "--set", setting, "-q")
    line = one_error_line(err)
    assert code == 2 and meant in line, line
    if setting.startswith("optimizer."):
        assert "allowed: name, lr, betas, eps, weight_decay" in line
    assert list(tmp_path.iterdir()) == []


def test_a_monitor_that_is_never_logged_is_refused_before_training(tmp_path):
    code, out, err = run(
        "train", "--out-dir", tmp_path, *TOY, "--set", "early_stopping.enabled=true",
        "--set", "early_stopping.monitor=val_acc",
    )  # fmt: skip
    line = one_error_line(err)
    assert code == 2 and "early_stopping.monitor: 'val_acc' is not logged" in line
    assert "did you mean 'val_accuracy'?" in line and "allowed: loss, accuracy, val_loss" in line
    assert list(tmp_path.iterdir()) == []


def test_a_run_names_one_best_epoch(tmp_path):
    """Early stopping on val_accuracy, the best checkpoint by val_loss: the test scores the
    checkpoint, and only it is called "best" (no "restored the weights of epoch k" line for
    weights the test does not use)."""
    code, out, err = run(
        "train", "--name", "r", "--out-dir", tmp_path, "--epochs", 30, *TOY[:-1],
        "--set", "early_stopping.enabled=true", "--set", "early_stopping.monitor=val_accuracy",
        "--set", "early_stopping.patience=2", "--set", "scheduler.name=none",
    )  # fmt: skip
    assert code == 0, err
    assert "Stopped: early stopping after epoch" in out
    assert "restored" not in out.lower()
    report = [line for line in out.replace(str(tmp_path), "RUN").splitlines() if "best" in line]
    assert len(report) == 1 and "(the best checkpoint: epoch" in report[0], out


def test_ctrl_c_with_early_stopping_restores_nothing_and_says_so(tmp_path):
    """Without a best checkpoint early stopping's restored weights are the ones tested, so it
    says when it restores; on Ctrl-C it must not (the checkpoint saved holds the weights of the
    interrupted batch, and resume continues from them)."""
    proc = subprocess.Popen(
        [
            sys.executable, "-u", "-m", "backprop", "train", "--name", "c", "--epochs", "200",
            "--set", "model.channels=[4, 8]", "--set", "model.hidden=16",
            "--set", "early_stopping.enabled=true", "--set", "early_stopping.patience=500",
            "--set", "checkpoint.save_best=false",
        ],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    for line in proc.stdout:
        if line.startswith("Epoch 2/200"):
            break
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, (out, err)
    assert "Interrupted: saved a resumable checkpoint" in out and "Traceback" not in err
    assert "restored" not in out.lower(), out


def test_overfit_batch_does_not_call_training_examples_validation(tmp_path):
    code, out, err = run("train", "--overfit-batch", 16, "--out-dir", tmp_path, *DIGITS[:-1])
    assert code == 0 and "OK: training accuracy reached 100% on 16 examples" in out, (out, err)
    assert "train_eval_accuracy" in out and not re.search(r"\bval_", out)
    assert list(tmp_path.iterdir()) == []


def test_eval_accepts_the_dataset_settings_its_hint_names(digits_run, tmp_path):
    # Another dataset whose files are missing: the hint names --set dataset.download=true ...
    code, out, err = run("eval", digits_run, "--dataset", "mnist", "--root", tmp_path / "none")
    assert code == 1 and "--set dataset.download=true" in one_error_line(err) + err
    # ... which eval takes, as it takes the other dataset settings.
    code, out, err = run("eval", digits_run, "--set", "dataset.download=false", "--json")
    assert code == 0 and json.loads(out)["accuracy"] > 0, err
    code, out, err = run("eval", digits_run, "--set", "dataset.eval_batch_size=7", "--json")
    assert code == 0, err
    code, out, err = run("eval", digits_run, "--set", "optimizer.lr=1")
    assert code == 2 and "eval changes dataset settings only" in one_error_line(err)


def test_readme_says_how_to_reach_the_backprop_command_after_make_demo():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    block = readme[readme.index("\nbackprop train ") - 400 : readme.index("\nbackprop train ")]
    assert "source .venv/bin/activate" in block and ".venv/bin/backprop" in block


def test_the_tests_leave_no_mount_behind():
    """(A guard for the tmpfs tests: a leftover mount would fill /proc/mounts on a CI box.)"""
    if not Path("/proc/mounts").is_file():
        pytest.skip("no /proc/mounts")
    mine = [m for m in Path("/proc/mounts").read_text().splitlines() if "test_a_real_full" in m]
    assert not mine, mine
