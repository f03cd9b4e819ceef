"""Run folders that refuse damage: one process per folder (a lock naming its holder), folders
named atomically, checkpoints checked against the run before anything is written, a run killed
before its results finished by ``resume``, and edits of ``config.toml`` refused unless asked for
with ``--set``.

Each refusal asserts that the message is one clean line, the exit code is 2, and every byte of
every file in the run folder (and beside it) is what it was.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing as mp
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from _folders import snapshot

from backprop.app import search
from backprop.app.config import load_config
from backprop.app.runner import find_checkpoint, make_run_dir, train_run

posix_only = pytest.mark.skipif(os.name != "posix", reason="flock and kill -9 are POSIX")

TINY = ["model.channels=[4, 8]", "model.hidden=16"]


def bp(*args, cwd, timeout=120):
    return subprocess.run(
        [sys.executable, "-u", "-m", "backprop", *map(str, args)],
        cwd=cwd, capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip


def _clean_refusal(r, *needles):
    """Exit 2, one line on stderr naming each needle, no traceback."""
    assert r.returncode == 2, (r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("backprop: error: "), r.stderr
    for needle in needles:
        assert str(needle) in lines[0], (needle, lines[0])


def _train(out: Path, name: str, epochs: int = 2, *extra: str) -> Path:
    cfg = load_config(None, [*TINY, f"epochs={epochs}", f"name={name!r}", f"out_dir={str(out)!r}"]
                      + list(extra))  # fmt: skip
    run = make_run_dir(cfg)
    train_run(cfg, run, verbose=0)
    return run


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Two finished runs of the same architecture (other seeds): ``a`` and ``b``."""
    work = tmp_path_factory.mktemp("runs")
    a = _train(work / "runs", "a", 2)
    b = _train(work / "runs", "b", 2, "seed=7")
    return work, a, b


@pytest.fixture
def run_a(runs, tmp_path):
    """A fresh copy of run ``a`` in ``tmp_path/runs/a`` (a test may damage it)."""
    import shutil

    work, a, b = runs
    shutil.copytree(a, tmp_path / "runs" / "a")
    return tmp_path, tmp_path / "runs" / "a", b


def _run_id(path: Path) -> str:
    from backprop.train.checkpoint import read_checkpoint

    return read_checkpoint(path).metadata["run_id"]


# ------------------------------------------------------------------------------ the lock
_HOLDER = textwrap.dedent(
    """
    import sys, time
    from backprop.app.runlock import RunLock
    with RunLock(sys.argv[1], "train"):
        print("locked", flush=True)
        time.sleep(float(sys.argv[2]))
    """
)


def _hold(run: Path, seconds: float = 60.0) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(run), str(seconds)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout.readline().strip() == "locked"
    return proc


@posix_only
def test_a_second_process_is_refused_with_the_holders_pid(run_a):
    from backprop.app.runlock import RunLock, RunLockedError

    work, run, _ = run_a
    holder = _hold(run)
    try:
        with pytest.raises(RunLockedError, match=f"in use by process {holder.pid} ") as info:
            RunLock(run, "resume").acquire()
        assert info.value.pid == holder.pid
        before = snapshot(work)
        r = bp("resume", run, "--epochs", 4, cwd=work)
        _clean_refusal(r, f"{run} is in use by process {holder.pid} (backprop train)")
        assert snapshot(work) == before
    finally:
        holder.kill()
        holder.wait()


@posix_only
def test_the_lock_dies_with_its_holder_and_is_reentrant(run_a):
    from backprop.app.runlock import LOCK_NAME, RunLock, RunLockedError

    _, run, _ = run_a
    holder = _hold(run)
    holder.send_signal(signal.SIGKILL)  # no cleanup of any kind
    holder.wait()
    with RunLock(run, "resume"):
        assert (run / LOCK_NAME).read_text().split()[0] == str(os.getpid())
        with RunLock(run, "inner"):  # the same process: re-entrant
            pass
        other = subprocess.run(
            [sys.executable, "-c", _HOLDER, str(run), "0"], capture_output=True, text=True
        )
        assert other.returncode != 0 and f"in use by process {os.getpid()}" in other.stderr
    assert (run / LOCK_NAME).read_text() == ""  # released: no holder named
    holder = _hold(run)  # and taken by the next process
    try:
        with pytest.raises(RunLockedError):
            RunLock(run).acquire()
    finally:
        holder.kill()
        holder.wait()


@posix_only
def test_a_planted_lock_file_is_never_followed(run_a, tmp_path):
    from backprop.app.runlock import LOCK_NAME, RunFolderError, RunLock

    _, run, _ = run_a
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    (run / LOCK_NAME).unlink()
    (run / LOCK_NAME).symlink_to(victim)
    with pytest.raises(RunFolderError, match="symlink"):
        RunLock(run).acquire()
    (run / LOCK_NAME).unlink()
    os.link(victim, run / LOCK_NAME)  # a hard link to a file elsewhere
    with pytest.raises(RunFolderError, match="hard link"):
        RunLock(run).acquire()
    assert victim.read_text() == "precious\n"


@posix_only
def test_two_resumes_of_one_run_one_is_refused_the_other_goes_on(run_a):
    from backprop.train.checkpoint import read_checkpoint

    work, run, _ = run_a
    first = subprocess.Popen(
        [sys.executable, "-u", "-m", "backprop", "resume", str(run), "--epochs", "1000", "-q"],
        cwd=work, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # until the first one holds the lock
            if (run / ".lock").is_file() and (run / ".lock").read_text().strip():
                break
            time.sleep(0.05)
        second = bp("resume", run, "--epochs", 1000, "-q", cwd=work)
        _clean_refusal(second, f"in use by process {first.pid} (backprop resume)")
        first.send_signal(signal.SIGINT)  # the first one was never disturbed: stop it cleanly
        out, err = first.communicate(timeout=120)
    finally:
        first.kill()
        first.wait()
    assert first.returncode == 130, (out, err)
    last = read_checkpoint(run / "checkpoints" / "last.safetensors")
    r = bp("resume", run, "--epochs", last.epoch + 1, "-q", cwd=work)
    assert r.returncode == 0, r.stderr
    assert len((run / "history.csv").read_text().splitlines()) == last.epoch + 2  # + header


@posix_only
def test_a_search_trial_holds_its_folders_lock(run_a):
    work, run, _ = run_a
    cfg = load_config(None, [*TINY, "epochs=1"])
    job = {"trial": 1, "params": {}, "config": cfg.to_dict(), "run_dir": str(run),
           "metric": "val_accuracy", "mode": "max"}  # fmt: skip
    holder = _hold(run)
    try:
        row = search._run_trial(job)
    finally:
        holder.kill()
        holder.wait()
    assert row["status"].startswith("failed: RunLockedError") and str(holder.pid) in row["status"]


# ------------------------------------------------------------------------------ run names
def test_a_name_taken_between_check_and_creation_gets_the_next_suffix(tmp_path, monkeypatch):
    cfg = load_config(None, [f"out_dir={str(tmp_path)!r}", "name='same'"])
    (tmp_path / "same").mkdir()
    # Another process creates the folder right after this one checked: every check says free.
    monkeypatch.setattr(Path, "exists", lambda self, **kw: False)
    assert make_run_dir(cfg) == tmp_path / "same-2"
    assert make_run_dir(cfg) == tmp_path / "same-3"


def _make_at(out: str, name: str, ready, go, results) -> None:
    cfg = load_config(None, [f"out_dir={out!r}", f"name={name!r}"])
    ready.put(1)
    go.wait()
    try:
        results.put(str(make_run_dir(cfg)))
    except Exception as e:
        results.put(f"error: {type(e).__name__}: {e}")


@pytest.mark.parametrize("name", ["same", ""])  # named, and auto-named (one timestamp)
def test_runs_started_at_once_get_distinct_folders(tmp_path, name):
    ctx = mp.get_context("spawn")
    ready, results, go = ctx.Queue(), ctx.Queue(), ctx.Event()
    procs = [ctx.Process(target=_make_at, args=(str(tmp_path), name, ready, go, results))
             for _ in range(6)]  # fmt: skip
    for p in procs:
        p.start()
    for _ in procs:
        ready.get(timeout=120)
    go.set()  # all at once
    got = [results.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(timeout=30)
    assert not [g for g in got if g.startswith("error")], got
    assert len(set(got)) == 6 and all(Path(p).is_dir() for p in got)


# ------------------------------------------------------------------------------ another run's files
@pytest.mark.parametrize("which", ["last", "best"])
def test_a_checkpoint_of_another_run_is_refused_and_nothing_changes(run_a, which):
    work, run, other = run_a
    name = f"{which}.safetensors"
    (run / "checkpoints" / name).write_bytes((other / "checkpoints" / name).read_bytes())
    before = snapshot(work)
    outside = snapshot(other)
    r = bp("resume", run, "--epochs", 4, cwd=work)
    _clean_refusal(r, run / "checkpoints" / name)
    theirs, ours = _run_id(other / "checkpoints" / name), json.loads((run / "run.json").read_text())
    assert f"the checkpoint is run {theirs}" in r.stderr and f"run {ours['run_id']}" in r.stderr
    r = bp("eval", run, cwd=work)
    _clean_refusal(r, run / "checkpoints" / name)
    r = bp("eval", run / "checkpoints" / name, cwd=work)
    _clean_refusal(r, run / "checkpoints" / name)
    assert snapshot(work) == before and snapshot(other) == outside


def test_a_folder_without_a_run_record_is_checked_against_its_last_checkpoint(run_a):
    work, run, other = run_a
    (run / "run.json").unlink(missing_ok=True)  # a run folder of an older backprop
    (run / "checkpoints" / "best.safetensors").write_bytes(
        (other / "checkpoints" / "best.safetensors").read_bytes()
    )
    before = snapshot(work)
    r = bp("resume", run, "--epochs", 4, cwd=work)
    _clean_refusal(r, run / "checkpoints" / "best.safetensors", "last.safetensors is")
    assert snapshot(work) == before


def test_a_tampered_run_record_is_refused(run_a):
    work, run, _ = run_a
    rec = json.loads((run / "run.json").read_text())
    rec["model"]["signature"] = 5
    (run / "run.json").write_text(json.dumps(rec))
    before = snapshot(work)
    _clean_refusal(bp("resume", run, "--epochs", 4, cwd=work), run / "run.json")
    assert snapshot(work) == before


def test_train_run_refuses_to_resume_from_another_runs_checkpoint(run_a):
    from backprop.app.runrecord import RunMismatchError

    work, run, other = run_a
    (run / "checkpoints" / "last.safetensors").write_bytes(
        (other / "checkpoints" / "last.safetensors").read_bytes()
    )
    before = snapshot(work)
    cfg = load_config(None, [*TINY, "epochs=4"])
    with pytest.raises(RunMismatchError, match="does not belong to this run"):
        train_run(cfg, run, verbose=0, resume=True)
    assert snapshot(work) == before
    with pytest.raises(RunMismatchError):
        find_checkpoint(run)


# ------------------------------------------------------------------------------ finishing
def _digest(folder: Path) -> dict[str, str]:
    return {k: hashlib.sha256(v).hexdigest() for k, v in snapshot(folder).items()
            if isinstance(v, bytes)}  # fmt: skip


@posix_only
def test_a_run_killed_before_its_results_is_finished_by_resume_even_when_killed_again(run_a):
    work, run, _ = run_a
    results = (run / "results.json").read_bytes()
    kept = {k: v for k, v in _digest(run).items() if k.startswith(("checkpoints", "history"))}
    # The state a `kill -9` between the final checkpoint and results.json leaves.
    for name in ("results.json", "curves.png", "confusion.png"):
        (run / name).unlink()
    rng = random.Random(0)
    for _ in range(4):  # kill -9 the finishing resume at random moments
        proc = subprocess.Popen(
            [sys.executable, "-u", "-m", "backprop", "resume", str(run)], cwd=work,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        time.sleep(rng.uniform(0.5, 4.0))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        if (run / "results.json").exists():
            (run / "results.json").unlink()  # finished before the kill: make it finish again
    r = bp("resume", run, cwd=work)
    assert r.returncode == 0, r.stderr
    assert "Finishing" in r.stdout and "Test accuracy: " in r.stdout
    assert (run / "results.json").read_bytes() == results  # what the uninterrupted run wrote
    assert (run / "curves.png").is_file() and (run / "confusion.png").is_file()
    assert not [p for p in run.rglob("*.bptmp")]  # the killed writers' temporaries removed
    assert {k: v for k, v in _digest(run).items() if k in kept} == kept  # checkpoints untouched
    r = bp("resume", run, cwd=work)
    assert r.returncode == 0 and "already completed 2 of 2 epochs" in r.stdout


# ------------------------------------------------------------------------------ config edits
def test_an_edited_config_is_refused_and_left_as_it_was(run_a):
    work, run, _ = run_a
    text = (run / "config.toml").read_text()
    assert "\nlr = 0.002\n" in text
    (run / "config.toml").write_text(text.replace("\nlr = 0.002\n", "\nlr = 0.5\n"))
    before = snapshot(work)
    r = bp("resume", run, "--epochs", 4, cwd=work)
    _clean_refusal(r, run / "config.toml", "optimizer.lr: 0.002 in the run, 0.5 in the file",
                   "--set optimizer.lr=0.5")  # fmt: skip
    _clean_refusal(bp("resume", run, cwd=work), run / "config.toml")  # even with nothing to do
    assert snapshot(work) == before


@pytest.mark.parametrize(
    "edit", [lambda t: t + "\n[[[broken\n", lambda t: t.replace("lr = 0.002", 'lr = "fast"')]
)
def test_a_tampered_config_is_refused(run_a, edit):
    work, run, _ = run_a
    (run / "config.toml").write_text(edit((run / "config.toml").read_text()))
    before = snapshot(work)
    r = bp("resume", run, "--epochs", 4, cwd=work)
    _clean_refusal(r, run / "config.toml", "no longer a valid config")
    assert snapshot(work) == before


def test_set_on_resume_applies_the_change_and_records_it(run_a):
    from backprop.train.checkpoint import read_checkpoint

    work, run, _ = run_a
    r = bp("resume", run, "--epochs", 3, "--set", "optimizer.lr=0.01", "-q", cwd=work)
    assert r.returncode == 0, r.stderr
    text = (run / "config.toml").read_bytes()
    assert b"\nlr = 0.01\n" in text and b"\nepochs = 3\n" in text
    rec = json.loads((run / "run.json").read_text())
    assert rec["config_sha256"] == hashlib.sha256(text).hexdigest()
    last = read_checkpoint(run / "checkpoints" / "last.safetensors")
    assert last.epoch == 3 and last.metadata["config"]["optimizer"]["lr"] == 0.01
    assert last.metadata["run_id"] == rec["run_id"]
    # An edit, then the same change asked for explicitly (with another one): accepted.
    (run / "config.toml").write_bytes(text.replace(b"\nlr = 0.01\n", b"\nlr = 0.02\n"))
    r = bp("resume", run, "--epochs", 4, "--set", "optimizer.lr=0.02", "-q", cwd=work)
    assert r.returncode == 0, r.stderr
    assert b"\nlr = 0.02\n" in (run / "config.toml").read_bytes()
    r = bp("resume", run, cwd=work)
    assert r.returncode == 0 and "already completed 4 of 4 epochs" in r.stdout


def test_set_on_resume_cannot_change_the_model_or_the_optimiser(run_a):
    work, run, _ = run_a
    before = snapshot(work)
    for kv in ("model.hidden=32", "optimizer.name=sgd"):
        _clean_refusal(bp("resume", run, "--epochs", 4, "--set", kv, cwd=work), kv.split("=")[0])
    assert snapshot(work) == before


def test_resume_writes_nothing_when_the_checkpoint_is_refused_mid_check(run_a):
    """A corrupted ``best.safetensors`` is found before the last checkpoint is used."""
    work, run, _ = run_a
    best = run / "checkpoints" / "best.safetensors"
    data = bytearray(best.read_bytes())
    data[-1] ^= 0xFF
    best.write_bytes(bytes(data))
    before = snapshot(work)
    r = bp("resume", run, "--epochs", 4, cwd=work)
    assert r.returncode == 1 and "Traceback" not in r.stderr and str(best) in r.stderr
    assert snapshot(work) == before
