"""Every writer goes through backprop.fileio: exclusive random temporaries, no symlink writes,
crash-safe replacement, and cleanup of what a killed writer left.

Each test asserts that nothing outside the target folder changed and that the previous file is
intact and loadable whatever happened to the writer.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from _folders import snapshot

from backprop import fileio, serialization
from backprop.fileio import UnsafePathError, atomic_write, remove_stale_temporaries, write_atomic

posix_only = pytest.mark.skipif(os.name != "posix", reason="symlinks and kill -9 are POSIX")


@pytest.fixture
def layout(tmp_path):
    """A run folder and, beside it, an outside folder with a file an attacker would aim at."""
    run, outside = tmp_path / "run", tmp_path / "outside"
    run.mkdir()
    outside.mkdir()
    (outside / "victim.txt").write_text("precious\n")
    return run, outside


# ------------------------------------------------------------------------------ temporaries
def test_temporaries_are_random_exclusive_and_private(layout, monkeypatch):
    run, _ = layout
    seen = []
    real_open = os.open

    def spy(path, flags, mode=0o777, *, dir_fd=None):
        if str(path).endswith(fileio.TEMP_SUFFIX):
            seen.append((os.path.basename(path), flags, mode))
        return real_open(path, flags, mode, dir_fd=dir_fd)

    monkeypatch.setattr(fileio.os, "open", spy)
    write_atomic(run / "a.json", "{}")
    write_atomic(run / "a.json", "{}")
    (name1, flags, mode), (name2, _, _) = seen
    assert name1 != name2 and fileio.is_temporary(name1) and name1.startswith(".a.json.")
    for flag in (os.O_CREAT, os.O_EXCL, os.O_NOFOLLOW, os.O_WRONLY):
        assert flags & flag
    assert mode == 0o600
    assert [p.name for p in run.iterdir()] == ["a.json"]


def test_final_mode_follows_the_umask(layout):
    run, _ = layout
    old = os.umask(0o027)
    try:
        write_atomic(run / "m.txt", "x")
    finally:
        os.umask(old)
    assert (run / "m.txt").stat().st_mode & 0o777 == 0o640
    write_atomic(run / "n.txt", "x")
    assert (run / "n.txt").stat().st_mode & 0o777 == 0o666 & ~old


@posix_only
def test_a_symlink_planted_on_the_temporary_name_is_never_followed(layout, monkeypatch):
    run, outside = layout
    before = snapshot(outside)
    # The attacker guesses (here: is told) the random part, and plants links on every name the
    # writer could use: the old fixed names and the exact temporary.
    monkeypatch.setattr(fileio.secrets, "token_hex", lambda n: "0" * (2 * n))
    planted = f".a.safetensors.{os.getpid()}-{'0' * 16}{fileio.TEMP_SUFFIX}"
    for name in (planted, ".a.safetensors.tmp", ".a.safetensors.part"):
        os.symlink(outside / "victim.txt", run / name)
    with pytest.raises(FileExistsError):  # every draw is taken: refuse rather than follow
        serialization.save_file({"w": np.ones(3)}, run / "a.safetensors")
    assert snapshot(outside) == before
    assert not (run / "a.safetensors").exists()
    # with one guess right and the next draw fresh, the write goes to a new file of its own
    draws = iter(["0" * 16, "1" * 16])
    monkeypatch.setattr(fileio.secrets, "token_hex", lambda n: next(draws))
    serialization.save_file({"w": np.ones(3)}, run / "a.safetensors")
    np.testing.assert_array_equal(serialization.load_file(run / "a.safetensors")["w"], np.ones(3))
    assert snapshot(outside) == before
    assert (run / planted).is_symlink()  # left as it was, not written through


@posix_only
def test_a_symlink_at_the_target_is_replaced_not_written_through(layout):
    run, outside = layout
    before = snapshot(outside)
    for i, name in enumerate(["last.safetensors", "history.csv", "plot.png"]):
        os.symlink(outside / "victim.txt", run / name)
        if name.endswith(".safetensors"):
            serialization.save({"step": i}, run / name)
            assert serialization.load(run / name) == {"step": i}
        else:
            write_atomic(run / name, b"new", within=run)
            assert (run / name).read_bytes() == b"new"
        assert not (run / name).is_symlink()
    assert snapshot(outside) == before


@posix_only
@pytest.mark.parametrize("depth", [1, 2])
def test_a_symlinked_folder_below_the_root_is_refused(layout, depth):
    run, outside = layout
    before = snapshot(outside)
    link = run / "plots" if depth == 1 else run / "a" / "plots"
    link.parent.mkdir(exist_ok=True)
    os.symlink(outside, link)
    with pytest.raises(UnsafePathError, match="refusing to write through") as e:
        write_atomic(link / "victim.txt", b"pwned", within=run)
    assert str(link) in str(e.value) and "Errno" not in str(e.value)
    with pytest.raises(UnsafePathError):
        with atomic_write(link / "new.png", within=run) as f:
            f.write(b"pwned")
    with pytest.raises(UnsafePathError):
        serialization.save({"step": 1}, link / "last.safetensors", within=run)
    assert snapshot(outside) == before
    # a target outside the root is refused too
    with pytest.raises(UnsafePathError, match="not inside"):
        write_atomic(outside / "victim.txt", b"pwned", within=run)
    assert snapshot(outside) == before
    # without a root, a symlinked folder is the user's choice and is followed (as open does)
    write_atomic(link / "chosen.txt", b"ok")
    assert (outside / "chosen.txt").read_bytes() == b"ok"


def test_missing_folders_below_the_root_are_created(layout):
    run, _ = layout
    write_atomic(run / "plots" / "epoch1" / "loss.png", b"png", within=run)
    assert (run / "plots" / "epoch1" / "loss.png").read_bytes() == b"png"


def test_a_failing_writer_leaves_the_old_file_and_no_temporary(layout):
    run, _ = layout
    write_atomic(run / "results.json", '{"ok": 1}')

    def half_then_fail(f):
        f.write(b'{"ok": 2')
        raise OSError("disk full (injected)")

    with pytest.raises(OSError, match="injected"):
        write_atomic(run / "results.json", half_then_fail)
    with pytest.raises(KeyboardInterrupt):
        with atomic_write(run / "results.json", "w") as f:
            f.write("partial")
            raise KeyboardInterrupt
    assert json.loads((run / "results.json").read_text()) == {"ok": 1}
    assert [p.name for p in run.iterdir()] == ["results.json"]


# ------------------------------------------------------------------------------ stale files
def test_remove_stale_temporaries_matches_only_its_own_dead_files(layout):
    run, outside = layout
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    dead_pid = int(dead.stdout)  # exited: nobody writes under this id any more
    own = f".a.json.{os.getpid()}-{'a' * 16}.bptmp"
    stale = [
        f".last.safetensors.{dead_pid}-0123456789abcdef.bptmp",
        f".history.csv.{dead_pid}-fedcba9876543210.bptmp",
    ]
    stale_link = f".x.{dead_pid}-{'b' * 16}.bptmp"
    kept = [
        own,  # a live writer's (this process)
        ".history.csv.tmp",  # other naming schemes are not ours to delete
        ".a.json.abc123.tmp",
        "a.bptmp",
        f".a.json.{dead_pid}-0123.bptmp",  # not 16 hex digits
        f".a.json.{dead_pid}-0123456789ABCDEF.bptmp",  # upper case: not ours
        "notes.txt",
    ]
    for name in stale + kept:
        (run / name).write_text("x")
    os.symlink(outside / "victim.txt", run / stale_link)
    (run / f".dir.{dead_pid}-{'c' * 16}.bptmp").mkdir()  # a folder: left alone
    before = snapshot(outside)
    removed = remove_stale_temporaries(run)
    assert sorted(removed) == sorted(stale + [stale_link])
    assert sorted(p.name for p in run.iterdir()) == sorted(
        kept + [f".dir.{dead_pid}-{'c' * 16}.bptmp"]
    )
    assert snapshot(outside) == before  # the link was removed, its target untouched
    assert remove_stale_temporaries(run / "missing") == []


# ------------------------------------------------------------------------------ kill -9
_KILL_LOOP = textwrap.dedent(
    """
    import json, os, random, signal, sys, time
    import numpy as np
    from backprop import fileio, serialization

    folder, rounds = sys.argv[1], int(sys.argv[2])
    ckpt, text = os.path.join(folder, "last.safetensors"), os.path.join(folder, "history.json")
    rng = random.Random(0)
    serialization.save({"step": 0, "w": np.zeros(1 << 18, np.float32)}, ckpt)
    fileio.write_atomic(text, json.dumps({"step": 0, "rows": [0]}))
    report = []
    for r in range(rounds):
        pid = os.fork()
        if pid == 0:  # the writer: rewrites both files until it is killed
            k = 1000 * (r + 1)
            while True:
                k += 1
                serialization.save({"step": k, "w": np.full(1 << 18, k, np.float32)}, ckpt)
                with fileio.atomic_write(text, "w") as f:
                    json.dump({"step": k, "rows": list(range(k % 5000))}, f)
        time.sleep(rng.uniform(0.0, 0.08))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        left = sorted(n for n in os.listdir(folder) if fileio.is_temporary(n))
        obj = serialization.load(ckpt)  # must load: the old file or a complete new one
        w, step = obj["w"], obj["step"]
        consistent = bool(w.shape == (1 << 18,) and (w == step).all())
        hist = json.loads(open(text).read())
        consistent &= hist["rows"] == list(range(hist["step"] % 5000))
        removed = fileio.remove_stale_temporaries(folder)
        report.append({"step": step, "consistent": consistent, "left": len(left),
                       "removed_all": sorted(removed) == left})
    print(json.dumps(report))
    """
)


@posix_only
@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_kill_9_during_a_write_loop_leaves_old_files_intact_and_loadable(tmp_path):
    rounds = 60
    res = subprocess.run(
        [sys.executable, "-c", _KILL_LOOP, str(tmp_path), str(rounds)],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert res.returncode == 0, res.stderr[-3000:]
    report = json.loads(res.stdout)
    assert len(report) == rounds
    assert all(r["consistent"] for r in report), [r for r in report if not r["consistent"]]
    assert all(r["removed_all"] for r in report)  # every killed writer's leftover is cleaned
    # the kills landed both mid-write (a temporary left) and between writes, and the writers
    # made progress (some rounds read a newer file than the previous round's)
    assert sum(r["left"] > 0 for r in report) >= 5, report
    steps = [r["step"] for r in report]
    assert sum(b > a for a, b in zip(steps, steps[1:])) >= 5, steps
    assert not [n for n in os.listdir(tmp_path) if fileio.is_temporary(n)]
    print(
        f"\nkill -9: {rounds} rounds, {sum(r['left'] > 0 for r in report)} mid-write, "
        f"last step {steps[-1]}"
    )
