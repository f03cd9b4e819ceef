"""A griffe extension for the API reference: show the docstrings' doctest lines as Python code.

- ``Example:`` is read as the Google-style ``Examples:`` section, as Sphinx's napoleon does.
  griffe knows only ``Examples:``; any other ``Word:`` line starts an admonition whose body is
  Markdown, where ``>>>`` becomes nested quotes and ``m["key"](x)`` a link.
- A run of ``>>>`` lines in the free text (a module's docstring, say) becomes a fenced Python
  block, for the same reason.
"""

from __future__ import annotations

import re

from griffe import Extension

# "Example:" alone on its line (any indentation): the section header, not prose ending in a colon.
_EXAMPLE = re.compile(r"^(\s*)Example:\s*$", re.MULTILINE)
# Doctest lines at the left margin (free text, not inside an indented section) and the output
# lines that follow them, up to a blank line.
_DOCTEST = re.compile(r"^>>> .*(?:\n(?!\s*$).*)*", re.MULTILINE)


def _fence(match: re.Match) -> str:
    return "```python\n" + match.group(0) + "\n```"


class ExampleSections(Extension):
    def __init__(self) -> None:
        super().__init__()
        self._done: set[int] = set()

    def _rewrite(self, obj) -> None:
        docstring = obj.docstring
        if docstring is None or ">>>" not in docstring.value or id(docstring) in self._done:
            return
        self._done.add(id(docstring))
        value = _EXAMPLE.sub(r"\1Examples:", docstring.value)
        docstring.value = _DOCTEST.sub(_fence, value)

    def on_object(self, *, obj, **kwargs) -> None:
        self._rewrite(obj)

    def on_package(self, *, pkg, **kwargs) -> None:  # the top package gets no on_object
        self._rewrite(pkg)
