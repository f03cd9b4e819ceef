"""PyTorch-style scripts run unchanged on torch and on backprop (through shim.py), and print
the same results: text equal after normalising the two libraries' reprs (``torch.Size([2, 3])``
and ``(2, 3)``, ``torch.float32`` and ``float32``, grad_fn names), numbers equal to float32
tolerance. Each script is one subprocess per library, with a timeout."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent
SCRIPTS = sorted((HERE / "scripts").glob("*.py"))
NUMBER = re.compile(r"-?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?|nan|inf")


def run(args, tmp_path):
    env = {"PYTHONHASHSEED": "0", "OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"}
    proc = subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, timeout=240, cwd=tmp_path,
        env=env,
    )  # fmt: skip
    assert proc.returncode == 0, f"{args} failed:\n{proc.stdout}\n{proc.stderr[-3000:]}"
    return proc.stdout


def normalise(text: str) -> str:
    text = re.sub(r"torch\.Size\(\[([^\]]*)\]\)", lambda m: _tuple(m.group(1)), text)
    text = re.sub(r",?\s*grad_fn=<[^>]*>", "", text)
    text = re.sub(r",?\s*requires_grad=True", "", text)
    text = re.sub(r",?\s*dtype=torch\.\w+", "", text)
    text = re.sub(r",?\s*dtype=\w+\)", ")", text)
    text = text.replace("torch.", "")
    return re.sub(r"\s+", " ", text).strip()


def _tuple(inner: str) -> str:
    parts = [p.strip() for p in inner.split(",") if p.strip()]
    return "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"


def tokens(text: str):
    out, pos = [], 0
    for m in NUMBER.finditer(text):
        if text[pos : m.start()].strip():
            out.append(("text", re.sub(r"\s+", "", text[pos : m.start()])))
        out.append(("num", float(m.group())))
        pos = m.end()
    if text[pos:].strip():
        out.append(("text", re.sub(r"\s+", "", text[pos:])))
    return out


@pytest.mark.parametrize("script", SCRIPTS, ids=[s.stem for s in SCRIPTS])
def test_script_runs_the_same_on_both(script, tmp_path):
    want = normalise(run([str(script)], tmp_path))
    got = normalise(run([str(HERE / "shim.py"), str(script)], tmp_path))
    tw, tg = tokens(want), tokens(got)
    assert [k for k, _ in tg] == [k for k, _ in tw], f"torch:\n{want}\n\nbackprop:\n{got}"
    for (kind, a), (_, b) in zip(tg, tw):
        if kind == "text":
            assert a == b, f"{a!r} != {b!r}\ntorch:\n{want}\n\nbackprop:\n{got}"
        else:
            assert a == pytest.approx(b, rel=2e-4, abs=2e-5, nan_ok=True), (
                f"{a} != {b}\ntorch:\n{want}\n\nbackprop:\n{got}"
            )
