"""The contributor docs cannot rot: the worked example of docs/contributing/components.md runs as
written, and the tree of docs/contributing/layout.md is the real one, each package in its layer."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs" / "contributing"
SRC = REPO / "src" / "backprop"
_FENCE = re.compile(r"^```(\w+)\n(.*?)^```", re.S | re.M)


def _section(text: str, title: str) -> str:
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else None]


def _blocks(text: str, lang: str) -> list[str]:
    return [body for kind, body in _FENCE.findall(text) if kind == lang]


def test_the_worked_example_registers_and_trains_through_the_config(tmp_path):
    section = _section((DOCS / "components.md").read_text(encoding="utf-8"), "Worked example")
    code = _blocks(section, "python")
    (toml,) = _blocks(section, "toml")
    name = toml.splitlines()[0].removeprefix("# ").strip()
    assert name == "rings.toml" and 'load_config("rings.toml")' in code[-1]
    (tmp_path / name).write_text(toml, encoding="utf-8")
    script = tmp_path / "example.py"
    script.write_text("\n\n".join(code), encoding="utf-8")
    # A fresh interpreter: the toy registrations stay out of this process's registries.
    r = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].startswith("test accuracy ") and float(lines[0].split()[-1]) > 0.9
    assert lines[1].startswith("last epoch's training error rate ")
    assert 0 <= float(lines[1].split()[-1]) < 0.2
    assert lines[2] == (
        "rings.toml: optimizer.momentum: signsgd has no option 'momentum'; "
        "allowed: name, lr, weight_decay"
    )
    assert not any(tmp_path.glob("runs*")), "run_dir=None must write nothing"


def _tree() -> dict[str, str | None]:
    """The layout doc's tree: path relative to src/backprop -> the layer given on its line."""
    text = (DOCS / "layout.md").read_text(encoding="utf-8")
    (tree,) = _blocks(_section(text, "The tree"), "text")
    lines = tree.splitlines()
    assert lines[0] == "src/backprop/"
    out: dict[str, str | None] = {}
    stack: list[str] = []
    for line in lines[1:]:
        m = re.fullmatch(r"( *)(\S+)\s+(?:(L\d+|--)\s+)?(\S.*)", line)
        assert m, f"layout.md: cannot read the tree line {line!r}"
        depth = len(m.group(1)) // 2 - 1
        assert len(m.group(1)) % 2 == 0 and 0 <= depth <= len(stack), line
        del stack[depth:]
        path = "/".join([*stack, m.group(2).rstrip("/")])
        if m.group(2).endswith("/"):
            stack.append(m.group(2).rstrip("/"))
        out[path] = m.group(3)
    return out


def test_the_layout_tree_is_the_real_tree():
    listed = set(_tree())
    real = set()
    for p in SRC.rglob("*.py"):
        rel = p.relative_to(SRC)
        if "__pycache__" in rel.parts:
            continue
        real.add(str(rel))
        real.update(str(parent) for parent in rel.parents if str(parent) != ".")
    packages_init = {f"{d}/__init__.py" for d in real if (SRC / d).is_dir()}
    missing = sorted(real - packages_init - listed)
    absent = sorted(listed - real)
    assert not missing, f"docs/contributing/layout.md does not list: {missing}"
    assert not absent, f"docs/contributing/layout.md lists what does not exist: {absent}"


def test_the_layout_tree_gives_each_unit_its_layer():
    spec = importlib.util.spec_from_file_location("_arch", REPO / "tests" / "test_architecture.py")
    arch = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(arch)
    for path, layer in _tree().items():
        if "/" in path:  # a module inside a package: its package's layer
            assert layer is None, f"layout.md: {path} repeats a layer; only its package has one"
            continue
        unit = path.removesuffix(".py")
        want = "--" if unit == "__init__" else f"L{arch.LEVEL[unit] + 1}"
        assert layer == want, f"layout.md: {path} is in layer {want}, the doc says {layer}"
