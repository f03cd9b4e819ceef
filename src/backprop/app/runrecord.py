"""What a run folder is, recorded once, and the checks that refuse files that do not belong.

A run created by :func:`~backprop.app.runner.train_run` gets ``run.json``::

    {"format": "backprop-run", "version": 1, "run_id": "<32 hex digits>",
     "model": {"name": "digits_cnn", "signature": "<16 hex digits>"}, "optimizer": "SGD",
     "config_sha256": "<sha-256 of config.toml>", "created": "2025-01-31T12:00:00"}

The model's *signature* digests its parameter and buffer names, shapes and dtypes; every
checkpoint of the run carries the run id in its metadata (``"run_id"``). Before ``resume`` or
``eval`` uses a run folder, :func:`check_checkpoints` reads every checkpoint in it and compares
each one's identity (run id, model name and signature, optimiser class) with the record: a
``last.safetensors`` copied from another run is refused with a :class:`RunMismatchError` that
names the file and both identities, before anything is written.

The checksum detects edits of ``config.toml`` (:func:`resolve_resume_config`): resume does not
read a file that changed behind its back, nor overwrite it; a change is made explicitly with
``--set key=value``, which records the new config and its checksum.

A run folder written before run ids existed (no ``run.json``) is checked against its own last
checkpoint: every checkpoint must have its identity, and ``config.toml`` must say what the last
checkpoint's config says.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import shlex
import tomllib
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..fileio import write_atomic
from ..tensor import Tensor
from ..train import checkpoint as _ckpt
from .config import Config, apply_overrides, parse_overrides, to_toml
from .errors import ConfigError
from .runlock import RunFolderError

__all__ = [
    "RECORD_NAME",
    "RunIdentity",
    "RunMismatchError",
    "ConfigEditedError",
    "state_signature",
    "new_run_id",
    "identity_of_checkpoint",
    "read_record",
    "write_record",
    "record_identity",
    "check_checkpoints",
    "config_sha256",
    "check_config_edits",
    "resolve_resume_config",
]

RECORD_NAME = "run.json"
RECORD_FORMAT = "backprop-run"
RECORD_VERSION = 1
MAX_RECORD_BYTES = 1 << 16  # run.json is a few hundred bytes
MAX_CONFIG_BYTES = 1 << 20  # config.toml: a few kilobytes


class RunMismatchError(RunFolderError, _ckpt.CheckpointError):
    """A checkpoint in a run folder belongs to another run (exit 2; nothing was written)."""


class ConfigEditedError(RunFolderError):
    """``config.toml`` of a stopped run was edited; resume refuses it (exit 2)."""


@dataclass(frozen=True)
class RunIdentity:
    """Who a run (or one of its checkpoints) is: what ``check_checkpoints`` compares."""

    run_id: str | None
    model: str
    signature: str
    optimizer: str | None

    def __str__(self) -> str:
        run = f"run {self.run_id}" if self.run_id else "no run id"
        return f"{run}, model {self.model} [{self.signature}], optimizer {self.optimizer}"


def new_run_id() -> str:
    """A fresh random run id (32 hex digits)."""
    return uuid.uuid4().hex


def state_signature(state: dict) -> str:
    """A digest (16 hex digits) of a state dict's names, shapes and dtypes (not the values)."""
    h = hashlib.sha256()
    for name in sorted(state):
        v = state[name]
        a = v.data if isinstance(v, Tensor) else np.asarray(v)
        h.update(f"{name}:{tuple(a.shape)}:{a.dtype.str}\n".encode())
    return h.hexdigest()[:16]


def identity_of_checkpoint(ckpt: _ckpt.Checkpoint) -> RunIdentity:
    meta = ckpt.metadata
    model = meta.get("model")
    name = model.get("name") if isinstance(model, dict) else None
    run_id = meta.get("run_id")
    return RunIdentity(
        run_id=run_id if isinstance(run_id, str) else None,
        model=name if isinstance(name, str) else f"? (a {ckpt.model_class})",
        signature=state_signature(ckpt.model_state),
        optimizer=ckpt.optimizer_class,
    )


def config_sha256(data: bytes | str) -> str:
    return hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()


# ---------------------------------------------------------------------------------- run.json
def _read_small(path: Path, limit: int) -> bytes | None:
    """The bytes of ``path`` (None when it does not exist), refusing one above ``limit``."""
    try:
        with open(path, "rb") as f:
            data = f.read(limit + 1)
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        raise RunFolderError(f"{path} is a folder, not a file") from None
    if len(data) > limit:
        raise RunFolderError(f"{path} is larger than {limit} bytes: not a file backprop wrote")
    return data


def read_record(run_dir: str | os.PathLike) -> dict | None:
    """The run's ``run.json`` (None for a run folder that has none), checked field by field.

    Raises:
        RunFolderError: the file is not a run record (malformed, fields of the wrong type).
    """
    path = Path(run_dir) / RECORD_NAME
    data = _read_small(path, MAX_RECORD_BYTES)
    if data is None:
        return None
    try:
        rec = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise RunFolderError(f"{path}: not a run record ({e})") from None

    def is_str(*keys) -> bool:
        node: Any = rec
        for k in keys:
            node = node.get(k) if isinstance(node, dict) else None
        return isinstance(node, str) and 0 < len(node) <= 200

    ok = (
        isinstance(rec, dict)
        and rec.get("format") == RECORD_FORMAT
        and all(is_str(*k) for k in (("run_id",), ("model", "name"), ("model", "signature")))
        and all(is_str(k) for k in ("config_sha256",))
        and (rec.get("optimizer") is None or is_str("optimizer"))
    )
    if not ok:
        raise RunFolderError(
            f"{path}: not a valid run record (format {RECORD_FORMAT!r} with run_id, model.name, "
            f"model.signature, optimizer, config_sha256); it was changed by hand or by another "
            f"program; restore it, or delete it to check the run against its checkpoints alone"
        )
    return rec


def record_identity(rec: dict) -> RunIdentity:
    return RunIdentity(
        rec["run_id"], rec["model"]["name"], rec["model"]["signature"], rec.get("optimizer")
    )


def write_record(
    run_dir: str | os.PathLike, identity: RunIdentity, config_text: str, created: str = ""
) -> dict:
    """Write ``run.json`` (atomically) for ``identity`` and the config text just written."""
    rec = {
        "format": RECORD_FORMAT,
        "version": RECORD_VERSION,
        "run_id": identity.run_id,
        "model": {"name": identity.model, "signature": identity.signature},
        "optimizer": identity.optimizer,
        "config_sha256": config_sha256(config_text),
        "created": created or datetime.datetime.now().isoformat(timespec="seconds"),
    }
    write_atomic(Path(run_dir) / RECORD_NAME, json.dumps(rec, indent=1) + "\n", within=run_dir)
    return rec


# ---------------------------------------------------------------------------------- checks
def check_checkpoints(
    run_dir: str | os.PathLike, rec: dict | None, files: list[Path] | None = None
) -> dict[str, _ckpt.Checkpoint]:
    """Read every checkpoint of a run (``checkpoints/*.safetensors``, or ``files``) and check
    that each belongs to it; returns them by stem (``"last"``, ``"best"``).

    The reference is the record (``run.json``); without one, the last checkpoint (else the
    first file read).

    Raises:
        RunMismatchError: a checkpoint of another run: the message names the file and both
            identities.
        CheckpointError: a file that is not a usable checkpoint.
    """
    run_dir = Path(run_dir)
    folder = run_dir / "checkpoints"
    if files is None:
        files = sorted(
            (p for p in folder.glob("*.safetensors") if p.is_file()),
            key=lambda p: (p.name != "last.safetensors", p.name),  # last first: the reference
        )
    read = {p.stem: _ckpt.read_checkpoint(p) for p in files}
    if rec is not None:
        reference, source = record_identity(rec), f"{run_dir / RECORD_NAME} records"
    elif read:
        first = next(iter(read.values()))
        reference, source = identity_of_checkpoint(first), f"{first.path} is"
    else:
        return read
    for ckpt in read.values():
        ident = identity_of_checkpoint(ckpt)
        if ident != reference:
            raise RunMismatchError(
                f"{ckpt.path} does not belong to run folder {run_dir}: the checkpoint is "
                f"{ident}; {source} {reference}. Nothing was changed: restore the run's own "
                f"checkpoint, or remove this one"
            )
    return read


def _flat(d: dict, prefix: str = "") -> dict[str, Any]:
    out = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(_flat(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


_ABSENT = object()


def _toml(v) -> str:
    if v is _ABSENT:
        return "(absent)"
    return to_toml({"v": v}).split("=", 1)[1].strip()


def _differences(recorded: dict, edited: dict) -> list[tuple[str, Any, Any]]:
    """(dotted key, recorded value, edited value) for every key whose value differs."""
    a, b = _flat(recorded), _flat(edited)
    return [
        (k, a.get(k, _ABSENT), b.get(k, _ABSENT))
        for k in sorted(set(a) | set(b))
        if a.get(k, _ABSENT) != b.get(k, _ABSENT)
    ]


# Keys a resume cannot change: the checkpoints hold this model and this optimiser's state.
_FIXED = ("model.", "optimizer.name")


def _read_config(path: Path) -> tuple[bytes | None, Config | None, str]:
    """``config.toml``'s bytes (None: no file), its config (None: not a valid one) and why not."""
    data = _read_small(path, MAX_CONFIG_BYTES)
    if data is None:
        return None, None, "no file"
    try:
        return data, Config.from_dict(tomllib.loads(data.decode("utf-8"))), ""
    except (UnicodeDecodeError, ValueError, RecursionError) as e:  # TOMLDecodeError too
        return data, None, str(e).splitlines()[0][:200]


def _edited(data: bytes | None, file_cfg: Config | None, rec: dict | None, recorded: Config):
    """Whether the file changed since the run wrote it: its checksum against the record (a
    folder without one: its content against the last checkpoint's config)."""
    if data is None:
        return False
    if rec is not None:
        return config_sha256(data) != rec["config_sha256"]
    return file_cfg is None or file_cfg.to_dict() != recorded.to_dict()


def check_config_edits(
    run_dir: str | os.PathLike, rec: dict | None, recorded: Config, new: Config
) -> bool:
    """Refuse to run ``new`` in a run whose ``config.toml`` was edited, unless each edit (a
    value that differs from ``recorded``, the last checkpoint's config) is one ``new`` makes
    too: then writing ``new`` loses nothing. Returns whether ``config.toml`` must be
    (re)written to say ``new`` (missing, or another content).

    Raises:
        ConfigEditedError: the message lists each edit and the ``--set`` that makes it.
    """
    run_dir = Path(run_dir)
    path = run_dir / "config.toml"
    data, file_cfg, problem = _read_config(path)
    if _edited(data, file_cfg, rec, recorded):
        if file_cfg is None:
            raise ConfigEditedError(
                f"{path} was edited after the run wrote it and is no longer a valid config "
                f"({problem}); resume neither reads nor overwrites it: restore it, or delete it "
                f"(resume then writes the run's own config again; change values with --set "
                f"KEY=VALUE)"
            )
        wanted = _flat(new.to_dict())
        diffs = [
            (k, a, b)
            for k, a, b in _differences(recorded.to_dict(), file_cfg.to_dict())
            if wanted.get(k, _ABSENT) != b
        ]
        if diffs:
            listed = "; ".join(
                f"{k}: {_toml(a)} in the run, {_toml(b)} in the file" for k, a, b in diffs
            )
            sets = " ".join(
                f"--set {shlex.quote(f'{k}={_toml(b)}')}" for k, _, b in diffs if b is not _ABSENT
            )
            raise ConfigEditedError(
                f"{path} was edited after the run wrote it ({listed}); resume neither reads nor "
                f"overwrites edits made there: restore the file, or make the change explicitly "
                f"with: backprop resume {run_dir} {sets}".rstrip()
            )
    return file_cfg is None or file_cfg.to_dict() != new.to_dict()


def resolve_resume_config(
    run_dir: str | os.PathLike,
    rec: dict | None,
    recorded: Config,
    overrides: list[str] = (),
    epochs: int | None = None,
) -> Config:
    """The config a resume runs with, refusing edits of ``config.toml`` made behind its back.

    Args:
        run_dir: the run folder.
        rec: its record (None for a folder without ``run.json``).
        recorded: the config of its last checkpoint.
        overrides: ``key=value`` changes asked for explicitly (``--set``).
        epochs: a new total number of epochs (``--epochs``).

    The base is ``config.toml`` when its checksum matches the record (else the last
    checkpoint's config), with ``overrides`` and ``epochs`` applied. A file edited since it
    was written is accepted only when each of its edits is one the overrides make too.

    Raises:
        ConfigEditedError: ``config.toml`` was edited (see :func:`check_config_edits`).
        ConfigError: a bad override, or one of a key a resume cannot change (the model, the
            optimiser's name).
    """
    data, file_cfg, _ = _read_config(Path(run_dir) / "config.toml")
    edited = _edited(data, file_cfg, rec, recorded)
    base = file_cfg if file_cfg is not None and not edited else recorded
    changes = parse_overrides(list(overrides))
    if epochs is not None:
        changes.append(("epochs", epochs))
    for key, _ in changes:
        if key.startswith(_FIXED[0]) or key == _FIXED[1]:
            raise ConfigError(
                f"resume: --set {key} cannot change a run that exists (its checkpoints hold "
                f"this model and optimiser, in this folder); start a new run with backprop train"
            )
    new = Config.from_dict(apply_overrides(base.to_dict(), changes)) if changes else base
    check_config_edits(run_dir, rec, recorded, new)
    return new
