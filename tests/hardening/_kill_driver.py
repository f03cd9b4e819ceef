"""The driver of test_fault_injection's ``kill -9`` loop (run as a script, not collected).

``python _kill_driver.py WORK SECONDS KILLS SEED`` trains a tiny run uninterrupted (the
reference), then, in fresh folders, runs ``backprop train`` / ``backprop resume`` on the same
config and kills each process with SIGKILL after a random delay, until ``KILLS`` processes were
killed or ``SECONDS`` have passed; each sequence of kills ends with one ``resume`` left to finish.
It prints one JSON report: every kill, every sequence, and every problem found.

Each command is ``backprop.cli.main`` in a process forked from this one (which has imported and
warmed up the library once), so that a kill costs the delay, not an interpreter start: the code
killed is the real command line's, in a real process, with its real files. After every kill it
checks that what is on disk is intact (the last checkpoint loads; history.csv is the first rows of
the reference's; config.toml and results.json are absent or the reference's bytes) and that
nothing beside the run folder changed; after every finished sequence, that the run equals the
reference bit for bit (history.csv, results.json, config.toml, every tensor of last and best
checkpoints) and holds no temporary.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import random
import shutil
import signal
import sys
import time
import traceback
from pathlib import Path

import matplotlib.pyplot  # noqa: F401  (imported once here, not in every killed child)
from _folders import snapshot, tensors

import backprop.viz  # noqa: F401
from backprop import cli, fileio
from backprop.train.checkpoint import read_checkpoint

PER_SEQUENCE = 8  # kills before a sequence's run is left to finish
TOY = [
    "--set", "dataset.name=moons", "--set", "dataset.n=256", "--set", "model.name=mlp",
    "--set", "model.sizes=[2, 16, 2]", "--set", "batch_size=16", "-q",
]  # fmt: skip
EPOCHS = 20
TRAIN = ["train", "--name", "r", "--out-dir", "runs", "--epochs", str(EPOCHS), *TOY]
RESUME = ["resume", "runs/r", "-q"]
# resume's refusal of a folder killed before it recorded its config: what the user does is
# what it says (delete the folder, train again)
EARLY = "delete it and start the run again with backprop train"


def start(argv: list[str], cwd: Path, log: Path) -> int:
    """Fork a process that runs ``backprop ARGV`` in ``cwd``, its output appended to ``log``."""
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        code = 99
        try:
            fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
            os.dup2(fd, 1)
            os.dup2(fd, 2)
            os.chdir(cwd)
            code = cli.main(argv)
        except BaseException:
            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    return pid


def wait(pid: int, timeout: float = 120.0) -> int | str:
    """The exit code (-9: killed), or "timeout" (then killed)."""
    deadline = time.monotonic() + timeout
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return "timeout"
        time.sleep(0.005)


def temporaries(run: Path) -> list[str]:
    if not run.exists():
        return []
    return [str(p) for p in run.rglob("*") if fileio.is_temporary(p.name) or ".tmp" in p.name]


def step(kill_after, home: Path, run: Path, log: Path, s: int, counts: dict, problems: list):
    """Run train (no run folder yet) or resume in ``home``; kill it after ``kill_after``
    seconds (None: let it end). Returns its exit code (-9: killed)."""
    for _ in range(3):
        log.write_text("")
        argv = RESUME if run.exists() else TRAIN
        pid = start(argv, home, log)
        if kill_after is not None:
            time.sleep(kill_after)
            os.kill(pid, signal.SIGKILL)
        code = wait(pid)
        out = log.read_text()
        counts["started_over"] += "over: it was stopped in its first epoch" in out
        if code == 2 and EARLY in out and argv is RESUME:
            err = [ln for ln in out.splitlines() if ln.startswith("backprop: error:")]
            if len(err) != 1 or "Traceback" in out:
                problems.append({"seq": s, "refusal": out[-2000:]})
            shutil.rmtree(run)
            counts["restarts"] += 1
            continue
        if code not in (0, -9):
            problems.append({"seq": s, "argv": argv[0], "code": code, "log": out[-3000:]})
        return code
    return "looped"


def main() -> None:
    work, budget, want, seed = (
        Path(sys.argv[1]).resolve(),
        float(sys.argv[2]),
        *map(int, sys.argv[3:5]),
    )
    t_start = time.monotonic()
    rng = random.Random(seed)
    # Warm up in this process (imports, first calls), so the children start at full speed.
    (work / "warm").mkdir()
    os.chdir(work / "warm")
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        assert cli.main(TRAIN) == 0
    os.chdir(work)
    shutil.rmtree(work / "warm")

    # The uninterrupted reference, and its timeline: training ends when last.safetensors was
    # written for the last time, the run when results.json was.
    ref = work / "ref"
    ref.mkdir()
    t0 = time.time()
    code = wait(start(TRAIN, ref, work / "ref.log"))
    assert code == 0, (work / "ref.log").read_text()
    R = ref / "runs" / "r"
    t_fit = (R / "checkpoints" / "last.safetensors").stat().st_mtime - t0
    t_end = max(time.time() - t0, t_fit + 0.05)
    REF = {n: (R / n).read_bytes() for n in ("history.csv", "results.json", "config.toml")}
    REF_T = {n: tensors(R / "checkpoints" / f"{n}.safetensors") for n in ("last", "best")}
    ref_lines = REF["history.csv"].splitlines(keepends=True)

    kills, sequences, problems = [], [], []
    # runs deleted and trained again, as resume's refusal said; runs resume started over
    counts = {"restarts": 0, "started_over": 0}
    s = 0
    while len(kills) < want and time.monotonic() - t_start < budget:
        s += 1
        home = work / f"s{s}"
        (home / "runs" / "other").mkdir(parents=True)
        (home / "runs" / "other" / "keep.txt").write_text("another run's file\n")
        (home / "beside.txt").write_text("precious\n")
        before = snapshot(home, ("runs", "r"))
        run, log = home / "runs" / "r", work / f"s{s}.log"

        n_here = 0
        while n_here < PER_SEQUENCE and len(kills) < want and time.monotonic() - t_start < budget:
            # Most kills in setup and training (checkpoint and history writes), the rest in the
            # test, the plots and results.json; a resume trains only the epochs left.
            last = run / "checkpoints" / "last.safetensors"
            done = read_checkpoint(last).epoch if last.is_file() else 0
            fit = t_fit * max(0.2, 1 - done / EPOCHS)
            if n_here == 0 or rng.random() < 0.75:  # (a sequence's first kill: in training)
                delay = rng.uniform(0.0, fit)
            else:
                delay = rng.uniform(fit, fit + t_end - t_fit)
            code = step(delay, home, run, log, s, counts, problems)
            if code != -9:  # it ended before the kill: the run is complete (or failed)
                break
            n_here += 1
            left = sorted({Path(p).name.split(".")[1] for p in temporaries(run)})
            state = {"seq": s, "delay": round(delay, 3), "left": left}
            try:
                last = run / "checkpoints" / "last.safetensors"
                state["epoch"] = read_checkpoint(last).epoch if last.is_file() else None
                if (run / "history.csv").exists():
                    lines = (run / "history.csv").read_bytes().splitlines(keepends=True)
                    assert lines == ref_lines[: len(lines)] or lines == [b"epoch\r\n"], lines
                for n in ("config.toml", "results.json"):
                    if (run / n).exists():
                        assert (run / n).read_bytes() == REF[n], f"{n} differs"
                assert snapshot(home, ("runs", "r")) == before, "a file beside the run changed"
            except Exception as e:
                problems.append({"seq": s, "kill": state, "error": repr(e)[:2000]})
            kills.append(state)
        # The last resume of the sequence, not killed: it must finish the run.
        code = step(None, home, run, log, s, counts, problems)
        try:
            assert code == 0, f"the final resume exited {code}: {log.read_text()[-3000:]}"
            assert "Traceback" not in log.read_text()
            for n, data in REF.items():
                assert (run / n).read_bytes() == data, f"{n} differs from the reference"
            for n, t in REF_T.items():
                assert tensors(run / "checkpoints" / f"{n}.safetensors") == t, f"{n} differs"
            assert (run / "curves.png").is_file() and (run / "confusion.png").is_file()
            assert not temporaries(run), temporaries(run)
            assert snapshot(home, ("runs", "r")) == before, "a file beside the run changed"
            assert sorted(p.name for p in (home / "runs").iterdir()) == ["other", "r"]
        except AssertionError as e:
            problems.append({"seq": s, "final": str(e)[-3000:]})
        sequences.append({"seq": s, "kills": n_here})
        shutil.rmtree(home)
    report = {
        "kills": kills, "sequences": sequences, "problems": problems, **counts,
        "t_fit": t_fit, "t_end": t_end, "seconds": time.monotonic() - t_start,
    }  # fmt: skip
    print(json.dumps(report))


if __name__ == "__main__":
    main()
