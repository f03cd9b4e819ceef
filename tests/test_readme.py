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
