"""Fault injection on real runs (issue 20, item 8): ``kill -9`` at random moments of training and
of its file writes, a disk that fills up, symlinks planted on every name a run writes, a
read-only run folder and files where folders should be.

Each test asserts that the run's previous state is intact and loadable (or, after a kill, that
``resume`` ends in exactly what an uninterrupted run writes), that nothing outside the run folder
changed, and that a refusal is one clean line with exit code 2 (1 for a failed run).

The crafted-file cases for every reader are in test_fuzz_files.py and test_bounded_readers.py
(with the memory bound of a gzip bomb), the atomic writer's own kill and symlink cases in
test_safe_writes.py, two processes on one run in test_run_folders.py, predict on bad arrays and
tampered checkpoint values in test_cli_errors.py.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from _folders import snapshot, tensors

from backprop import cli, fileio
from backprop.app.config import load_config
from backprop.app.runner import make_run_dir, train_run
from backprop.train.checkpoint import read_checkpoint

posix_only = pytest.mark.skipif(os.name != "posix", reason="kill -9, symlinks and mounts are POSIX")
DRIVER = Path(__file__).with_name("_kill_driver.py")
# A 2-16-2 MLP on 256 moons: an epoch takes a few milliseconds, a run well under a second.
MOONS = ["dataset.name='moons'", "dataset.n=256", "model.name='mlp'", "model.sizes=[2, 16, 2]",
         "batch_size=16"]  # fmt: skip
ONE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def bp(*args, cwd, timeout=180):
    """``python -m backprop ARGS`` in a fresh process."""
    return subprocess.run(
        [sys.executable, "-u", "-m", "backprop", *map(str, args)],
        cwd=cwd, capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip


def cli_main(*args) -> tuple[int, str, str]:
    """``backprop ARGS`` in this process: (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main([str(a) for a in args])
    return code, out.getvalue(), err.getvalue()


def one_line(err: str, code: int, expected: tuple[int, ...], *needles) -> str:
    """The refusal: the exit code, one ``backprop: error:`` line on stderr, no traceback."""
    assert code in expected, (code, err)
    assert "Traceback" not in err, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("backprop: error: "), err
    for needle in needles:
        assert str(needle) in lines[0], (needle, lines[0])
    return lines[0]


def temporaries(run: Path) -> list[Path]:
    return [p for p in run.rglob("*") if fileio.is_temporary(p.name) or ".tmp" in p.name]


def same_run(run: Path, ref: Path) -> None:
    """``run`` holds what the uninterrupted ``ref`` holds, bit for bit (the run id aside)."""
    for name in ("history.csv", "results.json", "config.toml"):
        assert (run / name).read_bytes() == (ref / name).read_bytes(), name
    for name in ("last", "best"):
        path = f"checkpoints/{name}.safetensors"
        assert tensors(run / path) == tensors(ref / path), name
    assert (run / "curves.png").is_file() and (run / "confusion.png").is_file()
    assert not temporaries(run)


def lib_train(home: Path, *extra: str, epochs: int | None = None, sizes=None) -> Path:
    """Train ``runs/r`` below ``home`` through the library (as ``backprop train`` does)."""
    over = [*MOONS, "name='r'", "out_dir='runs'", "epochs=3", *extra]
    if sizes is not None:
        over.append(f"model.sizes={sizes}")
    with contextlib.chdir(home):
        cfg = load_config(None, over)
        run = make_run_dir(cfg)
        train_run(cfg, run, verbose=0, epochs=epochs)
    return home / run


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:
    """An uninterrupted 3-epoch run, ``runs/r`` (config.toml names the relative out_dir)."""
    return lib_train(tmp_path_factory.mktemp("reference"))


@pytest.fixture
def copy_of(reference, tmp_path):
    """``tmp_path/runs/r``, a copy of the reference run, and ``tmp_path/outside/``."""
    shutil.copytree(reference, tmp_path / "runs" / "r")
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "victim.txt").write_text("precious\n")
    return tmp_path / "runs" / "r"


# ------------------------------------------------------------------------------ kill -9
@pytest.mark.fault_injection
@posix_only
@pytest.mark.skipif(not hasattr(os, "fork"), reason="the driver forks its commands")
def test_kill_9_at_random_points_of_train_and_resume(tmp_path):
    """50 ``kill -9``s of ``backprop train`` / ``resume`` (90 s at most): after each, what is on
    disk is intact; after each sequence, one resume finishes the run, bit-identical to an
    uninterrupted one, with no temporary left and nothing beside the run folder changed (the
    checks are in _kill_driver.py)."""
    res = subprocess.run(
        [sys.executable, str(DRIVER), str(tmp_path), "90", "50", "0"],
        capture_output=True, text=True, timeout=300, env={**os.environ, **ONE_THREAD},
    )  # fmt: skip
    assert res.returncode == 0, res.stderr[-3000:]
    report = json.loads(res.stdout.strip().splitlines()[-1])
    assert not report["problems"], json.dumps(report["problems"][:3], indent=1)
    kills = report["kills"]
    assert len(kills) >= 50, f"only {len(kills)} kills in {report['seconds']:.0f} s"
    # the kills landed in training (before its last epoch) and in the middle of file writes
    in_training = [k for k in kills if k["epoch"] is None or k["epoch"] < 20]
    mid_write = [k for k in kills if k["left"]]
    assert len(in_training) >= 5 and len(mid_write) >= 5, kills
    assert len(report["sequences"]) >= 3
    print(
        f"\nkill -9: {len(kills)} kills in {len(report['sequences'])} runs "
        f"({report['seconds']:.0f} s): {len(in_training)} in training, {len(mid_write)} mid-write "
        f"({sorted({n for k in mid_write for n in k['left']})}); started over by resume: "
        f"{report['started_over']}, deleted and trained again as told: {report['restarts']}"
    )


# ------------------------------------------------------------------------------ killed early
def _killed_in_epoch_1(home: Path, state: str) -> Path:
    """The run folder a ``kill -9`` in the first epoch leaves (``state``: before any epoch end,
    after the first history row, or between the first best and last checkpoints)."""
    run = lib_train(home, epochs=1)  # the config says 3 epochs; trained 1
    for name in ("results.json", "curves.png", "confusion.png", "checkpoints/last.safetensors"):
        (run / name).unlink()
    if state != "between best and last":
        shutil.rmtree(run / "checkpoints")
    if state == "before any epoch end":
        (run / "history.csv").write_bytes(b"epoch\r\n")  # what training's start writes
    return run


@pytest.mark.parametrize(
    "state", ["before any epoch end", "after the first history row", "between best and last"]
)
def test_a_run_killed_in_its_first_epoch_is_started_over_by_resume(tmp_path, reference, state):
    run = _killed_in_epoch_1(tmp_path, state)
    run_id = json.loads((run / "run.json").read_text())["run_id"]
    with contextlib.chdir(tmp_path):
        code, out, err = cli_main("resume", "runs/r", "-q")
    assert code == 0 and "Traceback" not in err, (out, err)
    assert "Starting runs/r over: it was stopped in its first epoch" in out
    same_run(run, reference)
    assert json.loads((run / "run.json").read_text())["run_id"] == run_id  # its own identity
    for name in ("last", "best"):
        ckpt = read_checkpoint(run / "checkpoints" / f"{name}.safetensors")
        assert ckpt.metadata["run_id"] == run_id and ckpt.epoch == (3 if name == "last" else 3)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["runs"]


def _no_record(run: Path) -> str:
    for p in list(run.iterdir()):
        if p.name not in (".lock", "config.toml"):
            shutil.rmtree(p) if p.is_dir() else p.unlink()
    return "delete it and start the run again with backprop train"


def _no_checkpoints(run: Path) -> str:
    shutil.rmtree(run / "checkpoints")  # a finished run's results and plots would be replaced
    return "holds more than a run stopped in its first epoch leaves"


def _a_later_best(run: Path) -> str:
    (run / "checkpoints" / "last.safetensors").unlink()
    return "(best.safetensors is of epoch 3)"


def _checkpoints_a_file(run: Path) -> str:
    shutil.rmtree(run / "checkpoints")
    (run / "checkpoints").write_text("not a folder")
    return "holds more than a run stopped in its first epoch leaves"


def _edited_config(run: Path) -> str:
    shutil.rmtree(run / "checkpoints")
    for name in ("results.json", "curves.png", "confusion.png", "history.csv"):
        (run / name).unlink()
    text = (run / "config.toml").read_text()
    (run / "config.toml").write_text(text.replace("\nlr = 0.002\n", "\nlr = 0.5\n"))
    return "its config.toml is not the one run.json records"


@pytest.mark.parametrize(
    "damage", [_no_record, _no_checkpoints, _a_later_best, _checkpoints_a_file, _edited_config]
)
def test_resume_never_starts_over_a_run_with_something_to_lose(tmp_path, copy_of, damage):
    needle = damage(copy_of)
    before = snapshot(tmp_path)
    with contextlib.chdir(tmp_path):
        code, out, err = cli_main("resume", "runs/r", "-q")
    one_line(err, code, (2,), "runs/r has no checkpoints/last.safetensors", needle)
    assert snapshot(tmp_path) == before


# ------------------------------------------------------------------------------ disk full
@pytest.fixture
def tmpfs(tmp_path):
    """A 2 MiB tmpfs at ``tmp_path/disk`` (skipped where it cannot be mounted), unmounted after."""
    where = tmp_path / "disk"
    where.mkdir()
    if sys.platform != "linux" or shutil.which("mount") is None:
        pytest.skip("a tmpfs needs Linux and mount(8)")
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(where)],
                       capture_output=True, text=True)  # fmt: skip
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (root on Linux needed): {r.stderr.strip()}")
    try:
        yield where
    finally:
        if subprocess.run(["umount", str(where)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(where)], capture_output=True)


def _fill(disk: Path, free: int) -> None:
    """Fill ``disk`` (``disk/filler``) until ``free`` bytes are left."""
    fd = os.open(disk / "filler", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        for chunk in (b"\0" * (1 << 16), b"\0" * 4096):  # then the last pages one by one
            with contextlib.suppress(OSError):
                while os.write(fd, chunk) == len(chunk):
                    pass
        size = os.fstat(fd).st_size
    finally:
        os.close(fd)
    os.truncate(disk / "filler", max(0, size - size % 4096 - free))


@posix_only
def test_a_full_disk_during_resume_keeps_the_last_good_state(tmp_path, tmpfs):
    # A run of 2 of its 4 epochs, with checkpoints (~55 kB each) bigger than the space left.
    built = lib_train(tmp_path, "epochs=4", epochs=2, sizes="[2, 64, 64, 2]")
    run = tmpfs / "runs" / "r"
    shutil.copytree(built, run)
    shutil.rmtree(built.parent)
    old_last = (run / "checkpoints" / "last.safetensors").read_bytes()
    old_history = (run / "history.csv").read_bytes()
    seen = []
    for free in (0, 6 * 4096):  # nothing left; room for the lock's and the history's pages
        _fill(tmpfs, free)
        before = snapshot(tmp_path)
        r = bp("resume", run, "-q", cwd=tmp_path)
        line = one_line(r.stderr, r.returncode, (1,), "No space left on device", run)
        seen.append(line)
        assert (run / "checkpoints" / "last.safetensors").read_bytes() == old_last
        assert read_checkpoint(run / "checkpoints" / "last.safetensors").epoch == 2
        assert not temporaries(run), temporaries(run)
        after = snapshot(tmp_path)
        history = after.pop("disk/runs/r/history.csv")
        before.pop("disk/runs/r/history.csv")
        assert after == before  # every other file as it was, beside the run as inside it
        # history.csv: the old rows, and at most the row of the epoch whose checkpoint failed
        rows = history.splitlines(keepends=True)
        assert rows[: len(old_history.splitlines())] == old_history.splitlines(keepends=True)
        assert len(rows) - len(old_history.splitlines()) <= 1
        (tmpfs / "filler").unlink()
    assert any("history.csv" in line for line in seen), seen  # the history's write failed
    assert any(".safetensors" in line for line in seen), seen  # and a checkpoint's
    r = bp("resume", run, "-q", cwd=tmp_path)  # with space again: the run goes on
    assert r.returncode == 0, r.stderr
    assert read_checkpoint(run / "checkpoints" / "last.safetensors").epoch == 4
    assert len((run / "history.csv").read_text().splitlines()) == 5
    assert (run / "results.json").is_file() and not temporaries(run)


# ------------------------------------------------------------------------------ symlinks
RUN_FILES = ["config.toml", "run.json", "history.csv", "results.json", "curves.png",
             "confusion.png", "checkpoints/last.safetensors",
             "checkpoints/best.safetensors"]  # fmt: skip


@posix_only
def test_links_planted_on_every_name_a_run_writes_are_never_followed(
    tmp_path, reference, monkeypatch
):
    """Every writer of a run (the config, the run record, the history, both checkpoints, the
    plots, the results) finds a symlink to a file outside at its final name and at the
    temporary name it tries first (the attacker guessed the random part), and at the fixed
    names older versions used. The run writes its own files; no outside file changes."""
    outside = tmp_path / "outside"
    outside.mkdir()
    run = tmp_path / "runs" / "r"
    (run / "checkpoints").mkdir(parents=True)
    pid, guess = os.getpid(), "0" * 16
    planted = {}
    for rel in RUN_FILES:
        folder, name = (run / rel).parent, (run / rel).name
        for i, link in enumerate([name, f".{name}.{pid}-{guess}{fileio.TEMP_SUFFIX}",
                                  f".{name}.tmp", f"{name}.tmp", f"{name}.part"]):  # fmt: skip
            victim = outside / f"{name}.{i}"
            victim.write_text(f"precious {name} {i}\n")
            os.symlink(victim, folder / link)
            planted[folder / link] = victim
    before = snapshot(outside)
    # The first temporary name tried for each file is the guessed one (its link is there).
    real_temp_name, tried = fileio._temp_name, {}

    def guessed_first(name: str) -> str:
        tried[name] = tried.get(name, 0) + 1
        if tried[name] % 2:  # every write: the guessed name, then (taken) a fresh one
            return f".{name}.{pid}-{guess}{fileio.TEMP_SUFFIX}"
        return real_temp_name(name)

    monkeypatch.setattr(fileio, "_temp_name", guessed_first)
    with contextlib.chdir(tmp_path):
        cfg = load_config(None, [*MOONS, "name='r'", "out_dir='runs'", "epochs=3"])
        train_run(cfg, Path("runs/r"), verbose=0)
        # and a resume of it, which rewrites the config and its record (a new epochs)
        code, out, err = cli_main("resume", "runs/r", "--epochs", 4, "-q")
    assert code == 0, err
    assert snapshot(outside) == before
    assert {Path(n).name for n in RUN_FILES} <= set(tried)  # each writer met its planted link
    for rel in RUN_FILES:
        assert (run / rel).is_file() and not (run / rel).is_symlink(), rel
    for link, victim in planted.items():
        if link.name not in {Path(n).name for n in RUN_FILES}:
            assert link.is_symlink() and os.readlink(link) == str(
                victim
            )  # left alone, not followed
    assert read_checkpoint(run / "checkpoints" / "last.safetensors").epoch == 4
    assert (run / "history.csv").read_bytes().startswith((reference / "history.csv").read_bytes())


@posix_only
@pytest.mark.parametrize("where", [".lock", "checkpoints"])
def test_a_linked_lock_or_checkpoints_folder_is_refused_by_resume(tmp_path, copy_of, where):
    """``.lock`` linked to a file outside, or ``checkpoints/`` to a folder outside (holding the
    run's own checkpoints, so that they check out): one clean line, nothing written anywhere."""
    outside = tmp_path / "outside"
    if where == ".lock":
        (copy_of / ".lock").unlink()
        os.symlink(outside / "victim.txt", copy_of / ".lock")
    else:
        shutil.move(copy_of / "checkpoints", outside / "checkpoints")
        os.symlink(outside / "checkpoints", copy_of / "checkpoints")
    before = snapshot(tmp_path)
    with contextlib.chdir(tmp_path):
        code, out, err = cli_main("resume", "runs/r", "--epochs", 4, "-q")
    one_line(err, code, (1, 2), where, "symlink")
    if where == "checkpoints":  # the user's doing (exit 2), the path named once, no internals
        assert code == 2 and err.count("checkpoints") == 1 and "atomic_write" not in err, err
    assert snapshot(tmp_path) == before


# ------------------------------------------------------------------------------ read-only
@posix_only
def test_a_read_only_run_folder_is_read_and_never_changed(tmp_path, tmpfs, reference):
    run = tmpfs / "r"
    shutil.copytree(reference, run)
    r = subprocess.run(["mount", "-o", "remount,ro", str(tmpfs)], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot remount the tmpfs read-only: {r.stderr.strip()}")
    before = snapshot(tmp_path)
    for args in (["resume", run, "--epochs", 4, "-q"], ["resume", run, "-q"]):
        code, out, err = cli_main(*args)
        one_line(err, code, (1, 2), run / ".lock", "Read-only file system")
        assert "out_dir" not in err, err  # resume has no out_dir to choose
    if importlib.util.find_spec("onnx") is not None:
        code, out, err = cli_main("export", run, run / "model.onnx")
        one_line(err, code, (1, 2), run / "model.onnx", "Read-only file system")
    code, out, err = cli_main("eval", run)  # reading needs no writing
    assert code == 0 and "accuracy" in out.lower(), err
    assert snapshot(tmp_path) == before


def test_files_where_folders_are_wanted(tmp_path, copy_of):
    """A file given as the run folder, or as a search's out_dir; /dev/null as either."""
    (tmp_path / "a_file").write_text("not a folder")
    before = snapshot(tmp_path)
    for path in (tmp_path / "a_file", "/dev/null"):
        code, out, err = cli_main("resume", path, "-q")
        one_line(err, code, (2,), f"no such run folder: {path}")
    (tmp_path / "s.toml").write_text(
        "epochs = 1\n[model]\nname = 'mlp'\nsizes = [2, 4, 2]\n[dataset]\nname = 'moons'\n"
        "n = 64\n[search]\nmetric = 'val_loss'\n[search.space]\n'optimizer.lr' = [0.01, 0.1]\n"
    )
    before["s.toml"] = (tmp_path / "s.toml").read_bytes()
    for out_dir in ("/dev/null", tmp_path / "a_file", tmp_path / "a_file" / "x"):
        code, out, err = cli_main(
            "search", tmp_path / "s.toml", "--grid", "--set", f"out_dir={out_dir}", "-q"
        )
        one_line(err, code, (2,), "out_dir", "cannot create the search folder")
    assert snapshot(tmp_path) == before
