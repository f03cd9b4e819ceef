"""Helpers the hardening tests share (imported by name: pytest puts this folder on sys.path, and
_kill_driver.py, run as a script, has it as its own folder)."""

from __future__ import annotations

import os
from pathlib import Path

from backprop.serialization import load_file


def snapshot(folder: Path, skip: tuple[str, ...] = ()) -> dict[str, bytes | str]:
    """Every entry below ``folder`` (but the subtree ``skip``, a tuple of path parts): file
    contents, link targets, folders; two snapshots are equal when nothing there changed."""
    out: dict[str, bytes | str] = {}
    for p in sorted(folder.rglob("*")):
        rel = p.relative_to(folder)
        if skip and rel.parts[: len(skip)] == skip:
            continue
        if p.is_symlink():
            out[str(rel)] = "-> " + os.readlink(p)
        elif p.is_dir():
            out[str(rel)] = "dir"
        else:
            out[str(rel)] = p.read_bytes()
    return out


def tensors(path: Path) -> dict:
    """A safetensors file's tensors as (dtype, shape, bytes), for bit-exact comparison."""
    return {k: (v.dtype.str, v.shape, v.tobytes()) for k, v in load_file(path).items()}
