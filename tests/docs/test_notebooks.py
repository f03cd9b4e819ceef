"""The teaching notebooks (issue 16 item 4): one per lecture topic, committed without outputs,
and each runs top to bottom in a fresh kernel of this interpreter without an error and draws its
pictures. ``-m "not notebooks"`` deselects the runs (about two minutes in all on two cores).

The kernel is started by ``docs/hooks.py``'s ``execute_notebook``, the same code that executes
the notebooks for the documentation site, on ``sys.executable`` (never another ``python3``
kernelspec); a cell that raises or runs past ``CELL_TIMEOUT`` seconds fails the test, naming
the notebook and the cell.
"""

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
CELL_TIMEOUT = 120  # seconds; each notebook takes well under a minute in all
TOPICS = [
    "01_perceptron_linear_models",
    "02_flow_graph_backprop",
    "03_activations_losses",
    "04_optimisers_schedules",
    "05_regularisation",
    "06_cnn_lenet5",
    "07_rnn_seq2seq",
    "08_autoencoders_pretraining",
    "09_attention",
]


def _hooks():
    spec = importlib.util.spec_from_file_location("backprop_docs_hooks", ROOT / "docs" / "hooks.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_one_notebook_per_lecture_topic():
    assert [p.stem for p in NOTEBOOKS] == TOPICS


def test_committed_without_outputs():
    nbformat = pytest.importorskip("nbformat")
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
        assert nb.metadata["kernelspec"]["name"] == "python3", path.name
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert code and nb.cells[0].cell_type == "markdown", path.name
        stale = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"
                 and (c.outputs or c.execution_count is not None)]  # fmt: skip
        assert not stale, f"{path.name}: clear the outputs of cells {stale} before committing"


@pytest.mark.notebooks
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path):
    for module, why in [
        ("nbclient", "the notebook runner (the docs extra)"),
        ("ipykernel", "the Jupyter kernel (the docs extra)"),
        ("matplotlib", "the notebooks draw with matplotlib"),
        ("sklearn", "the notebooks use the digits bundled with scikit-learn"),
    ]:
        pytest.importorskip(module, reason=f"{module} is not installed: {why}")
    hooks = _hooks()
    nb = hooks.execute_notebook(path, timeout=CELL_TIMEOUT)  # raises NotebookError on an error
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            kinds = {out.output_type for out in cell.outputs}
            assert "error" not in kinds, f"{path.name}, cell {i + 1}"
            text = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
            assert "Traceback" not in text and "Warning" not in text, f"{path.name}, cell {i + 1}"
    markdown, pictures = hooks.notebook_to_markdown(nb, path.stem)
    assert pictures, f"{path.name} drew no picture"
    assert all(data[:4] == b"\x89PNG" for data in pictures.values())
    assert markdown.count("```python") == sum(c.cell_type == "code" for c in nb.cells)
