"""Resuming a run folder in process (app/resume.py, app/runrecord.py): the run id kept across
resumes, config.toml left alone unless a change is asked for, edits refused, a run without
results finished."""

from __future__ import annotations

import json
import os
import shutil

import pytest

from backprop.app.config import load_config
from backprop.app.resume import resume_run
from backprop.app.runner import config_of, make_run_dir, train_run
from backprop.app.runrecord import (
    ConfigEditedError,
    check_checkpoints,
    read_record,
    resolve_resume_config,
)
from backprop.train.checkpoint import read_checkpoint

TINY = ["model.channels=[4, 8]", "model.hidden=16"]


def _cfg(out, *extra):
    return load_config(None, [*TINY, "epochs=2", "name='r'", f"out_dir={str(out)!r}", *extra])


@pytest.fixture(scope="module")
def done(tmp_path_factory):
    out = tmp_path_factory.mktemp("resume")
    run = make_run_dir(_cfg(out))
    train_run(_cfg(out), run, verbose=0)
    return run


@pytest.fixture
def run(done, tmp_path):
    shutil.copytree(done, tmp_path / "r")
    return tmp_path / "r"


def test_resume_keeps_the_run_id_and_leaves_an_unchanged_config_alone(run):
    rec = read_record(run)
    st = os.stat(run / "config.toml")
    out = resume_run(run, epochs=3, verbose=0)
    assert out.status == "trained" and out.result.test is not None
    for ckpt in check_checkpoints(run, read_record(run)).values():  # every file still of the run
        assert ckpt.metadata["run_id"] == rec["run_id"]
    # --epochs changed the config: rewritten once, with its new checksum recorded ...
    assert "\nepochs = 3\n" in (run / "config.toml").read_text()
    assert read_record(run)["config_sha256"] != rec["config_sha256"]
    assert read_record(run)["created"] == rec["created"]
    st = os.stat(run / "config.toml")
    # ... and a resume that changes nothing does not touch it.
    assert resume_run(run, epochs=4, verbose=0).status == "trained"
    assert resume_run(run, verbose=0).status == "completed"
    assert os.stat(run / "config.toml").st_ino != st.st_ino  # epochs=4: rewritten
    st = os.stat(run / "config.toml")
    assert resume_run(run, verbose=0).status == "completed"
    assert os.stat(run / "config.toml") == st


def test_a_run_without_results_is_finished_as_it_would_have_ended(run):
    results = json.loads((run / "results.json").read_text())
    (run / "results.json").unlink()
    (run / "curves.png").unlink()
    lines = []
    out = resume_run(run, verbose=0, say=lines.append)
    assert out.status == "finished" and lines[0].startswith("Finishing ")
    assert json.loads((run / "results.json").read_text()) == results
    assert out.result.test["accuracy"] == results["test"]["accuracy"]
    assert (run / "curves.png").is_file()
    assert resume_run(run, verbose=0).status == "completed"


def test_library_resume_refuses_an_edited_config(run):
    path = run / "config.toml"
    path.write_text(path.read_text().replace("\nlr = 0.002\n", "\nlr = 0.3\n"))
    edited = path.read_bytes()
    cfg = _cfg(run.parent, "epochs=3")
    with pytest.raises(ConfigEditedError, match=r"optimizer.lr: 0.002 in the run, 0.3 in the"):
        train_run(cfg, run, verbose=0, resume=True)
    assert path.read_bytes() == edited
    # The same edit asked for explicitly: the file is the one the run now uses.
    cfg = _cfg(run.parent, "epochs=3", "optimizer.lr=0.3")
    train_run(cfg, run, verbose=0, resume=True)
    assert read_checkpoint(run / "checkpoints/last.safetensors").metadata["config"]["optimizer"][
        "lr"
    ] == pytest.approx(0.3)


def test_resolve_resume_config_takes_explicit_changes_and_names_the_uncovered_edits(run):
    rec = read_record(run)
    recorded = config_of(read_checkpoint(run / "checkpoints" / "last.safetensors"))
    cfg = resolve_resume_config(run, rec, recorded, ["optimizer.lr=0.01"], epochs=5)
    assert cfg.optimizer.lr == 0.01 and cfg.epochs == 5
    path = run / "config.toml"
    path.write_text(path.read_text().replace("\nbatch_size = 32\n", "\nbatch_size = 16\n"))
    with pytest.raises(ConfigEditedError, match=r"--set batch_size=16") as info:
        resolve_resume_config(run, rec, recorded, ["optimizer.lr=0.01"])
    assert "optimizer.lr" not in str(info.value)  # only the edits the --set do not make
    cfg = resolve_resume_config(run, rec, recorded, ["batch_size=16"], epochs=5)
    assert cfg.batch_size == 16 and cfg.epochs == 5
    # Without run.json, the file is compared with the last checkpoint's config.
    (run / "run.json").unlink()
    with pytest.raises(ConfigEditedError, match="batch_size: 32 in the run, 16 in the file"):
        resolve_resume_config(run, None, recorded)
