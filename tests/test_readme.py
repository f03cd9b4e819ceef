"""The README's self-contained Python examples run as written."""

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def _python_blocks():
    return re.findall(r"```python\n(.*?)```", README.read_text(), re.S)


def test_readme_examples_run(capsys):
    blocks = [b for b in _python_blocks() if "import backprop" in b]
    assert len(blocks) >= 2
    for block in blocks:
        exec(compile(block, "README.md", "exec"), {})
    assert "training accuracy 1.000" in capsys.readouterr().out


def test_readme_lists_every_registered_op():
    """README's op count and list are the registry's (regenerate the line when an op is added)."""
    import re

    from backprop.ops import OPS

    text = README.read_text()
    m = re.search(r"\*\*(\d+) registered ops\*\* \(`backprop\.ops\.OPS`.*?: (.*?)\.\n", text, re.S)
    assert m, "README's list of registered ops is missing"
    listed = re.findall(r"`([^`]+)`", m.group(2))
    assert int(m.group(1)) == len(OPS)
    assert listed == sorted(OPS)
