"""draw_graph: the DOT text of a LeNet-5 step with values and gradients, the lectures' small
example, the freed-graph note, and rendering (skipped without Graphviz's dot)."""

import html
import re
import shutil
import subprocess

import pytest

import backprop as bp
from backprop.models import LeNet5
from backprop.viz import draw_graph


def test_lenet_step_graph_has_clusters_values_and_grads():
    bp.manual_seed(0)
    model = LeNet5()
    x = bp.randn(2, 1, 28, 28)
    loss = bp.nn.functional.cross_entropy(model(x), bp.tensor([3, 7]))
    loss.backward(retain_graph=True)
    g = draw_graph(loss, show_values=True, show_grads=True, params=model.named_parameters())
    src = g.source
    assert src.startswith("digraph") and src.rstrip().endswith("}")
    for name in ("conv2d", "max_pool2d", "linear", "cross_entropy"):
        assert name in src
    clusters = re.findall(r'subgraph cluster_\d+ \{ label="([^"]+)"', src)
    assert len(clusters) >= 4  # one per layer with parameters
    params = [n for n, _ in model.named_parameters()]
    assert all(n in src for n in params)
    assert "grad mean" in src and "value" in src
    assert not g.notes


def test_worked_example_values_appear_in_full():
    x = bp.tensor(1.0)
    w1, b1 = bp.tensor(3.0, requires_grad=True), bp.tensor(1.0, requires_grad=True)
    h = (w1 * x + b1).relu()
    h.backward(retain_graph=True)
    src = draw_graph(h, show_values=True, show_grads=True, params={"w1": w1, "b1": b1}).source
    assert "value 4" in src and "grad 1" in src and "w1" in src


def test_freed_graph_is_said_so():
    w = bp.tensor([1.0, 2.0], requires_grad=True)
    y = (w * w).sum()
    y.backward()
    g = draw_graph(y)
    assert "freed by backward" in g.source and "retain_graph=True" in g.notes[0]


def test_save_dot_and_render(tmp_path):
    w = bp.tensor([1.0], requires_grad=True)
    g = draw_graph((w * 2).sum())
    assert (tmp_path / "g.dot").name == g.save(tmp_path / "g.dot").name
    assert (tmp_path / "g.dot").read_text() == g.source
    with pytest.raises(ValueError, match="svg"):
        g.save(tmp_path / "g.txt")
    try:
        import graphviz  # noqa: F401
    except ImportError:
        graphviz = None
    if graphviz is None or shutil.which("dot") is None:
        with pytest.raises(RuntimeError, match="graphviz|dot"):
            g.save(tmp_path / "g.svg")
        pytest.skip("Graphviz's dot program is not installed: rendering not checked")
    g.save(tmp_path / "g.svg")
    assert (tmp_path / "g.svg").read_text().lstrip().startswith("<")


_DOT_STRING = re.compile(r'"((?:[^"\\\n]|\\.)*)"')


def test_labels_with_newlines_quotes_and_backslashes_are_valid_dot(tmp_path):
    w = bp.tensor([1.0, 2.0], requires_grad=True)
    b = bp.tensor(0.5, requires_grad=True)
    y = (w * b).sum()
    y.backward(retain_graph=True)
    names = {'fc "1"\n.weight': w, "odd\\name\r\nend.bias": b}
    src = draw_graph(y, show_values=True, show_grads=True, params=names).source
    # Every quote opens or closes a well-formed DOT string; no string holds a raw line break.
    assert '"' not in _DOT_STRING.sub("", src)
    strings = _DOT_STRING.findall(src)
    assert all("\n" not in s and "\r" not in s for s in strings)
    # The lines of a label are separated by DOT's line break \n, never by an escaped backslash.
    assert r'label="mul\n(2,)' in src
    assert r'label="fc \"1\"\n.weight\n(2,)\n' in src
    assert r'label="odd\\name\nend.bias\n()\n' in src
    if shutil.which("dot") is None:
        pytest.skip("Graphviz's dot program is not installed: the DOT was checked by pattern only")
    (tmp_path / "g.dot").write_text(src)
    run = subprocess.run(
        ["dot", "-Tsvg", str(tmp_path / "g.dot")], capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 0 and not run.stderr, run.stderr
    texts = [html.unescape(t) for t in re.findall(r"<text[^>]*>([^<]*)</text>", run.stdout)]
    assert 'fc "1"' in texts and ".weight" in texts and "odd\\name" in texts
    assert "mul" in texts and "(2,)" in texts  # one line each: the line breaks were rendered
