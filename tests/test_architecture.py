"""The layer order of ARCHITECTURE.md section 1, enforced from the imports (an AST walk).

Every ``import`` and ``from ... import`` in ``src/backprop`` counts, wherever it is written: at
the top of a module, inside a function (a lazy import is still a dependency) or under
``TYPE_CHECKING``. A module may import its own layer and the layers below it, never one above.
The application (``app/``, the CLI) is on top; ``train/`` is a library below it.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "backprop"

# Bottom to top. Units on one line are one layer and may import each other.
LAYERS: list[tuple[str, ...]] = [
    ("fileio", "device"),  # standard-library helpers: safe writes, device names
    ("backend", "random", "cuda", "threads"),  # the array library, the seeded generator
    ("autograd",),
    ("ops",),
    # ARCHITECTURE.md draws functional below tensor; in the code they are one layer: F.* wrap
    # their results in Tensors and Tensor methods call F.* (and the in-place variants).
    ("functional", "tensor", "inplace"),
    ("serialization",),
    ("nn",),
    ("optim",),
    ("data", "utils"),  # utils.data is torch.utils.data's spelling of backprop.data
    ("distributed",),
    ("train",),
    ("models",),
    ("onnx", "interop"),  # other frameworks: ONNX export, weights to and from PyTorch
    ("viz",),
    ("app",),
    ("cli", "__main__"),
]
LEVEL = {unit: i for i, layer in enumerate(LAYERS) for unit in layer}
ROOT = "__init__"  # backprop/__init__.py: the facade, which may import any layer

# Known upward imports, each with its reason. The test fails when one is no longer needed, so the
# list cannot outlive the code it excuses.
ALLOWED: dict[tuple[str, str], str] = {
    ("autograd/gradcheck.py", "tensor"): "gradcheck builds the Tensors it perturbs",
}
# Names any layer may import from the package root (``from .. import __version__``).
ROOT_NAMES = {"__version__"}


def _unit(module: str) -> str:
    """``backprop.train.trainer`` -> ``train``; ``backprop`` -> the root."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ROOT


def _module_name(path: Path, src: Path) -> tuple[str, str]:
    """(the module's dotted name, the package its relative imports start from)."""
    rel = path.relative_to(src.parent).with_suffix("")
    name = ".".join(rel.parts)
    if path.name == "__init__.py":
        name = name.removesuffix(".__init__")
        return name, name
    return name, name.rsplit(".", 1)[0]


def _is_submodule(src: Path, dotted: str) -> bool:
    rel = Path(*dotted.split(".")[1:])
    return (src / rel).is_dir() or (src / rel).with_suffix(".py").is_file()


def imports_of(path: Path, src: Path = SRC) -> list[tuple[str, str | None, int]]:
    """Every backprop import of a file: (target module, name imported from the package root or
    None, line)."""
    name, package = _module_name(path, src)
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out += [(a.name, None, node.lineno) for a in node.names if _ours(a.name)]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            if not _ours(module):
                continue
            for alias in node.names:
                full = f"{module}.{alias.name}"
                if _is_submodule(src, full):
                    out.append((full, None, node.lineno))
                else:
                    out.append((module, alias.name if module == "backprop" else None, node.lineno))
    return sorted(out, key=lambda t: t[2])


def _ours(module: str) -> bool:
    return module == "backprop" or module.startswith("backprop.")


def violations(src: Path = SRC) -> tuple[list[str], set[tuple[str, str]]]:
    """The upward imports under ``src`` (messages), and the ALLOWED entries that were used."""
    problems, used = [], set()
    for path in sorted(src.rglob("*.py")):
        rel = str(path.relative_to(src))
        unit = _unit(_module_name(path, src)[0])
        if unit == ROOT:
            continue
        if unit not in LEVEL:
            problems.append(f"{rel}: {unit!r} is in no layer; add it to LAYERS (and ARCHITECTURE)")
            continue
        for target, root_name, line in imports_of(path, src):
            dep = _unit(target)
            if dep == ROOT:
                if root_name not in ROOT_NAMES:
                    what = f"'{root_name}' from " if root_name else ""
                    problems.append(f"{rel}:{line} imports {what}the package root (a facade)")
                continue
            if dep not in LEVEL:
                problems.append(f"{rel}:{line} imports {target}, which is in no layer")
            elif LEVEL[dep] > LEVEL[unit]:
                if (rel, dep) in ALLOWED:
                    used.add((rel, dep))
                    continue
                problems.append(f"{rel}:{line} imports {target}: {unit} is below {dep}")
    return problems, used


def test_no_module_imports_a_layer_above_its_own():
    problems, used = violations()
    assert not problems, "upward imports:\n  " + "\n  ".join(problems)
    stale = set(ALLOWED) - used
    assert not stale, f"ALLOWED lists imports that no longer exist: {sorted(stale)}"


def test_train_is_a_library_below_the_application():
    # The training library reads no config and builds no run: those are app/'s.
    for path in sorted((SRC / "train").rglob("*.py")):
        for target, _, line in imports_of(path):
            assert _unit(target) not in ("app", "cli", "models", "viz", "onnx"), (
                f"{path.relative_to(SRC)}:{line} imports {target}"
            )


@pytest.mark.parametrize("package", ["train", "app"])
def test_no_import_circle_between_the_modules_of(package):
    graph: dict[str, set[str]] = defaultdict(set)
    for path in sorted((SRC / package).rglob("*.py")):
        name, _ = _module_name(path, SRC)
        for target, _, _ in imports_of(path):
            if target.startswith(f"backprop.{package}.") and target != name:
                graph[name].add(target)
    cycle = _find_cycle(graph)
    assert cycle is None, "import circle: " + " -> ".join(cycle or [])


def _find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt) :] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start)):
            return found
    return None


def test_the_checker_catches_upward_lazy_and_type_checking_imports(tmp_path):
    """The walk itself: an upward import is found wherever it is written."""
    pkg = tmp_path / "backprop"
    for unit in ("train", "app", "nn"):
        (pkg / unit).mkdir(parents=True)
        (pkg / unit / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("__version__ = '0'\n")
    (pkg / "train" / "a.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "from .. import __version__\n"
        "from ..nn import Linear\n"  # below: fine
        "if TYPE_CHECKING:\n    from ..app import config\n"  # upward, type-checking only
        "def f():\n    import backprop.app.runner\n"  # upward, lazy
        "from .. import app\n"  # upward, by package name
    )
    (pkg / "train" / "b.py").write_text("from .c import x\n")
    (pkg / "train" / "c.py").write_text("def g():\n    from .b import y\n")
    problems, _ = violations(pkg)
    assert [p.split(" imports ")[0] for p in problems] == [
        "train/a.py:5", "train/a.py:7", "train/a.py:8",
    ]  # fmt: skip
    graph = defaultdict(set)
    for path in sorted((pkg / "train").glob("*.py")):
        name, _ = _module_name(path, pkg)
        graph[name] |= {t for t, _, _ in imports_of(path, pkg) if t.startswith("backprop.train.")}
    assert _find_cycle(graph) == ["backprop.train.b", "backprop.train.c", "backprop.train.b"]
