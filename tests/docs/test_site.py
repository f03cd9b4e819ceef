"""The documentation site (issue 16 item 5): ``mkdocs build --strict`` succeeds from this checkout
(a broken link, a missing page or a broken docstring reference fails it) and writes the key
pages: home, getting started, the tutorials rendered from the notebooks, the conventions, the
benchmark results, the design guide, robustness, and the API reference of the main packages.

The build here renders the notebooks without running them (``BACKPROP_DOCS_EXECUTE=0``: the
notebook tests run them); the rendering of outputs and the execution cache are tested on a
small notebook of their own.
"""

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
API = {
    "backprop": ["backprop.Tensor", "backprop.no_grad", "backprop.functional.creation.zeros"],
    "nn": ["backprop.nn.Linear", "backprop.nn.Conv2d", "backprop.nn.MultiheadAttention"],
    "functional": ["backprop.nn.functional.conv2d", "backprop.nn.functional.cross_entropy"],
    "optim": ["backprop.optim.SGD", "backprop.optim.Adam", "backprop.optim.lr_scheduler.StepLR"],
    "autograd": [
        "backprop.autograd.grad",
        "backprop.autograd.gradcheck.gradcheck",
        "backprop.autograd.trace.trace",
    ],
    "data": ["backprop.data.DataLoader", "backprop.data.MNIST"],
    "train": ["backprop.train", "backprop.train.GradientStats", "backprop.train.lr_find.lr_find"],
    "models": [
        "backprop.models.LeNet5",
        "backprop.models.pretrain_layerwise",
        "backprop.models.summary.summary",
    ],
    "viz": [
        "backprop.viz.draw_graph",
        "backprop.viz.plot_filters",
        "backprop.viz.plot_gradient_stats",
        "backprop.viz.plot_lr_find",
    ],
}


def _hooks():
    spec = importlib.util.spec_from_file_location("backprop_docs_hooks", ROOT / "docs" / "hooks.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    for module in ("mkdocs", "material", "mkdocstrings_handlers.python", "nbformat"):
        pytest.importorskip(module, reason=f"{module} is not installed (pip install -e '.[docs]')")
    out = tmp_path_factory.mktemp("site")
    env = dict(os.environ, BACKPROP_DOCS_EXECUTE="0", NO_MKDOCS_2_WARNING="1")
    run = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert run.returncode == 0, f"mkdocs build --strict failed:\n{run.stdout}\n{run.stderr}"
    assert "WARNING" not in run.stderr, run.stderr
    return out


def _page(site, path: str) -> str:
    page = site / path / "index.html" if not path.endswith(".html") else site / path
    assert page.is_file(), f"{path} was not built"
    return page.read_text(encoding="utf-8")


def test_key_pages(site):
    assert "PyTorch" in _page(site, "index.html")
    assert "make docs" in _page(site, "getting-started")
    conventions = _page(site, "conventions")
    assert (
        "dropout" in conventions
        and "Nesterov" in conventions
        and "ReduceLROnPlateau" in conventions
    )
    assert "atomic" in _page(site, "robustness")
    assert "Contributing" in _page(site, "contributing")


def test_tutorials_are_the_notebooks(site):
    nbformat = pytest.importorskip("nbformat")
    index = _page(site, "tutorials")
    for path in NOTEBOOKS:
        html = _page(site, f"tutorials/{path.stem}")
        assert f'href="../{path.stem}/' in index or f'href="{path.stem}/' in index, path.stem
        title = nbformat.read(path, as_version=4).cells[0].source.splitlines()[0].lstrip("# ")
        assert title.split(":")[0] in html
        assert (site / "tutorials" / path.name).is_file(), f"{path.name} is not downloadable"
    graph = _page(site, "tutorials/02_flow_graph_backprop")
    assert "autograd" in graph and "draw_graph" in graph


def test_benchmarks_page_is_results_md(site):
    results = (ROOT / "benchmarks" / "RESULTS.md").read_text(encoding="utf-8")
    html = _page(site, "benchmarks")
    heading = next(line.lstrip("# ").strip() for line in results.splitlines() if line.strip())
    assert heading.split(":")[0] in html
    for target in re.findall(r"\]\(([^)#:\s]+)\)", results):  # its pictures, published beside it
        if (ROOT / "benchmarks" / target).is_file() and not target.endswith(".md"):
            assert (site / "benchmarks" / target).is_file(), target


def test_design_guide(site):
    html = _page(site, "contributing/architecture")
    guide = ROOT.parent / "shared" / "ARCHITECTURE.md"
    if guide.is_file():
        for heading in re.findall(r"^## \d+\w?\. (.+)$", guide.read_text(encoding="utf-8"), re.M)[
            :3
        ]:
            assert (
                heading.split(":")[0].replace("'", "&#39;") in html or heading.split(":")[0] in html
            )
    else:
        assert "ARCHITECTURE.md" in html


def test_api_reference(site):
    for page, names in API.items():
        html = _page(site, f"api/{page}")
        for name in names:
            assert f'id="{name}"' in html, f"api/{page}: {name} is not documented"
        # Doctest lines render as code, not as nested Markdown quotes (docs/griffe_sections.py).
        assert "<blockquote>\n<blockquote>" not in html, f"api/{page}: >>> read as Markdown"
        # Sphinx roles in docstrings (:func:`x`) show as the code span alone (docs/hooks.py).
        assert not re.search(r":(mod|class|func|meth|attr):<code>", html), f"api/{page}: a role"


def test_rendering_outputs_and_errors():
    nbformat = pytest.importorskip("nbformat")
    hooks = _hooks()
    nb = nbformat.v4.new_notebook()
    code = nbformat.v4.new_code_cell("print('hi')\n'```'")
    code.outputs = [
        nbformat.v4.new_output("stream", name="stdout", text="\x1b[31mhi\x1b[0m\n"),
        nbformat.v4.new_output("display_data", data={"image/png": "iVBORw0KGgo="}),
        nbformat.v4.new_output("execute_result", data={"text/plain": "'```'"}, execution_count=1),
    ]
    nb.cells = [nbformat.v4.new_markdown_cell("# Title"), code]
    markdown, assets = hooks.notebook_to_markdown(nb, "demo", title_note="*note*")
    assert markdown.startswith("# Title\n\n*note*\n\n````python\nprint('hi')")
    assert "```text\nhi\n```" in markdown  # colour codes stripped
    assert "````text\n'```'\n````" in markdown  # a fence longer than the backticks inside
    assert assets == {"demo/figure-1.png": b"\x89PNG\r\n\x1a\n"}
    assert "![output of cell 2](demo/figure-1.png)" in markdown
    code.outputs = [nbformat.v4.new_output("error", ename="ValueError", evalue="bad", traceback=[])]
    with pytest.raises(hooks.NotebookError, match="demo.ipynb, cell 2: ValueError: bad"):
        hooks.notebook_to_markdown(nb, "demo")


def test_execution_is_cached(tmp_path, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    for module in ("nbclient", "ipykernel"):
        pytest.importorskip(module, reason=f"{module} is not installed (the docs extra)")
    hooks = _hooks()
    path = tmp_path / "tiny.ipynb"
    nb = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell("import sys\nprint(sys.executable)")]
    )
    nbformat.write(nb, path)
    monkeypatch.setenv("BACKPROP_DOCS_CACHE", str(tmp_path / "cache"))
    first = hooks._executed(path, "src-hash")
    assert first.cells[0].outputs[0].text.strip() == sys.executable  # this interpreter's kernel
    cached = list((tmp_path / "cache").glob("tiny-*.ipynb"))
    assert len(cached) == 1
    cached[0].write_text(cached[0].read_text().replace(sys.executable, "from the cache"))
    assert "from the cache" in hooks._executed(path, "src-hash").cells[0].outputs[0].text
    assert sys.executable in hooks._executed(path, "other-src").cells[0].outputs[0].text
    code = nbformat.v4.new_code_cell("1 / 0")
    nbformat.write(nbformat.v4.new_notebook(cells=[code]), tmp_path / "bad.ipynb")
    message = "(?s)bad.ipynb.*ZeroDivisionError: division by zero"
    with pytest.raises(hooks.NotebookError, match=message):
        hooks.execute_notebook(tmp_path / "bad.ipynb", timeout=60)
