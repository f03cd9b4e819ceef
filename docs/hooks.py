"""mkdocs hooks: the pages made at build time from files that live outside ``docs/``.

- ``tutorials/<name>.md`` from each ``notebooks/<name>.ipynb``: markdown cells as they are, code
  cells as fenced Python, and, when the notebooks are executed, their printed output and
  pictures (PNG/SVG files next to the page). The notebook itself is published beside the page
  for download. Only ``nbformat`` (and ``nbclient`` to execute) is needed: no nbconvert, no
  mkdocs-jupyter.
- ``benchmarks/index.md`` from ``benchmarks/RESULTS.md`` (and the pictures it links to).
- API pages without the Sphinx role names (``:func:``, ``:class:``, ...) that docstrings use
  for cross-references: Markdown renders them as text before the code span.
- ``contributing/architecture.md`` from ``../shared/ARCHITECTURE.md``, the design guide kept
  beside the repository (as in CI); a checkout without it gets a page that says where it lives.

Executing the notebooks: on by default, so that the site shows what each cell prints and draws;
``BACKPROP_DOCS_EXECUTE=0`` renders the code only (fast). Executed notebooks are cached by the
hash of the notebook and of ``src/backprop`` in ``$BACKPROP_DOCS_CACHE`` (default
``~/.cache/backprop/docs-notebooks``), so ``mkdocs serve`` does not rerun an unchanged notebook.
A cell that raises fails the build, naming the notebook and the cell.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = REPO / "notebooks"
RESULTS = REPO / "benchmarks" / "RESULTS.md"
ARCHITECTURE = REPO.parent / "shared" / "ARCHITECTURE.md"
CELL_TIMEOUT = 180  # seconds per cell: generous, each notebook runs in well under a minute

log = logging.getLogger("mkdocs.hooks.backprop")

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
# A relative markdown link or image, [text](target): a target without a scheme, leading / or #.
_REL_LINK = re.compile(r"!?\[([^\]]*)\]\((?![a-zA-Z][a-zA-Z0-9+.-]*:|/|#)([^)\s]+)\)")


class NotebookError(RuntimeError):
    """A notebook could not be executed or rendered (the message names it and the cell)."""


# --------------------------------------------------------------------------- execution
def _kernel_manager():
    """A kernel manager that starts ipykernel on *this* interpreter (the venv's python), never
    a ``python3`` kernelspec some other installation put on the Jupyter path."""
    from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
    from jupyter_client.manager import KernelManager

    class _ThisPython(KernelSpecManager):
        def get_kernel_spec(self, kernel_name):
            return KernelSpec(
                argv=[sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                display_name=f"Python 3 ({sys.executable})",
                language="python",
                name="python3",
            )

    return KernelManager(kernel_name="python3", kernel_spec_manager=_ThisPython())


def execute_notebook(path, timeout: int = CELL_TIMEOUT):
    """Run every cell of the notebook at ``path`` (working directory: its folder) and return
    the executed ``nbformat`` notebook. Raises :class:`NotebookError` naming the notebook and
    the failing cell; ``timeout`` is per cell, in seconds."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError

    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        km=_kernel_manager(),
        timeout=timeout,
        resources={"metadata": {"path": str(path.parent)}},
    )
    # The kernel draws through matplotlib's inline backend: an MPLBACKEND set for scripts
    # (Agg, in CI) would keep the pictures out of the notebook.
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    try:
        client.execute(env=env)
    except (CellExecutionError, CellTimeoutError) as exc:
        raise NotebookError(f"{path.name}: {_ANSI.sub('', str(exc))}") from None
    return nb


def _source_hash() -> str:
    h = hashlib.sha256()
    for f in sorted((REPO / "src" / "backprop").rglob("*.py")):
        h.update(str(f.relative_to(REPO)).encode())
        h.update(f.read_bytes())
    return h.hexdigest()


def _cache_dir() -> Path:
    env = os.environ.get("BACKPROP_DOCS_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "backprop" / "docs-notebooks"


def _executed(path: Path, source_hash: str):
    """The executed notebook, from the cache when neither it nor the library changed."""
    import nbformat

    key = hashlib.sha256(path.read_bytes() + source_hash.encode()).hexdigest()[:20]
    cached = _cache_dir() / f"{path.stem}-{key}.ipynb"
    if cached.is_file():
        return nbformat.read(cached, as_version=4)
    log.info("executing %s", path.name)
    nb = execute_notebook(path)
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        tmp = cached.with_suffix(f".{os.getpid()}.tmp")
        nbformat.write(nb, tmp)
        os.replace(tmp, cached)
    except OSError as exc:  # a read-only home only costs the cache
        log.info("not caching %s: %s", path.name, exc)
    return nb


# --------------------------------------------------------------------------- rendering
def _text(value) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def _fence(body: str, lang: str) -> str:
    body = body.rstrip("\n")
    ticks = "```"
    while ticks in body:  # a fence longer than any run of backticks inside
        ticks += "`"
    return f"{ticks}{lang}\n{body}\n{ticks}"


def notebook_to_markdown(nb, stem: str, title_note: str = "") -> tuple[str, dict[str, bytes]]:
    """Markdown for one notebook, and the pictures it refers to (``{relative path: bytes}``,
    under ``<stem>/``). Markdown cells are kept, code cells become fenced Python, outputs
    become ``text`` blocks and images; an error output raises :class:`NotebookError`."""
    parts: list[str] = []
    assets: dict[str, bytes] = {}
    for index, cell in enumerate(nb.cells, start=1):
        source = _text(cell.source)
        if cell.cell_type == "markdown":
            parts.append(source.strip())
            if index == 1 and title_note:
                parts.append(title_note)
            continue
        if cell.cell_type != "code" or not source.strip():
            continue
        parts.append(_fence(source, "python"))
        for out in cell.get("outputs", []):
            kind = out.get("output_type")
            if kind == "error":
                raise NotebookError(
                    f"{stem}.ipynb, cell {index}: {out.get('ename')}: {out.get('evalue')}"
                )
            if kind == "stream":
                text = _ANSI.sub("", _text(out.get("text", "")))
                if text.strip():
                    parts.append(_fence(text, "text"))
                continue
            data = out.get("data", {})
            if "image/png" in data:
                name = f"{stem}/figure-{len(assets) + 1}.png"
                assets[name] = base64.b64decode(_text(data["image/png"]))
                parts.append(f"![output of cell {index}]({name})")
            elif "image/svg+xml" in data:
                name = f"{stem}/figure-{len(assets) + 1}.svg"
                assets[name] = _text(data["image/svg+xml"]).encode()
                parts.append(f"![output of cell {index}]({name})")
            elif "text/markdown" in data:
                parts.append(_text(data["text/markdown"]))
            elif "text/plain" in data:
                parts.append(_fence(_ANSI.sub("", _text(data["text/plain"])), "text"))
    return "\n\n".join(parts) + "\n", assets


# --------------------------------------------------------------------------- mkdocs events
def _execute_enabled() -> bool:
    return os.environ.get("BACKPROP_DOCS_EXECUTE", "1").strip().lower() not in ("0", "false", "no")


def _add(files, file) -> None:
    old = files.get_file_from_path(file.src_uri)
    if old is not None:
        files.remove(old)
    files.append(file)


def on_files(files, config):
    import nbformat
    from mkdocs.exceptions import PluginError
    from mkdocs.structure.files import File

    execute = _execute_enabled()
    source_hash = _source_hash() if execute else ""
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        try:
            nb = _executed(path, source_hash) if execute else nbformat.read(path, as_version=4)
            note = (
                f"*This page is the notebook [`notebooks/{path.name}`]({path.name})"
                + (", run when this site was built." if execute else ", without its outputs.")
                + " Download it and run it with Jupyter to change and rerun the cells.*"
            )
            markdown, assets = notebook_to_markdown(nb, path.stem, note)
        except NotebookError as exc:
            raise PluginError(f"notebooks: {exc}") from None
        _add(files, File.generated(config, f"tutorials/{path.stem}.md", content=markdown))
        _add(files, File.generated(config, f"tutorials/{path.name}", abs_src_path=str(path)))
        for name, data in assets.items():
            _add(files, File.generated(config, f"tutorials/{name}", content=data))

    if RESULTS.is_file():
        text = RESULTS.read_text(encoding="utf-8")

        # The pictures and files RESULTS.md links to are published beside the page. RESULTS.md
        # is written by `make bench`: a file that run did not leave here (an old picture, say)
        # is shown as missing on the page rather than failing the whole site.
        def publish(match: re.Match) -> str:
            target = match.group(2)
            linked = (RESULTS.parent / target.split("#")[0]).resolve()
            inside = RESULTS.parent in linked.parents
            if inside and linked.is_file() and linked.suffix != ".md":
                rel = linked.relative_to(RESULTS.parent).as_posix()
                _add(files, File.generated(config, f"benchmarks/{rel}", abs_src_path=str(linked)))
                return match.group(0)
            if inside and not linked.exists():
                log.info("benchmarks: RESULTS.md links to %s, which is not there", target)
                label = match.group(1) or target
                return f"*({label}: `benchmarks/{target}` is not in this checkout)*"
            return match.group(0)

        text = _REL_LINK.sub(publish, text)
        _add(files, File.generated(config, "benchmarks/index.md", content=text))
    else:
        raise PluginError(f"benchmarks: {RESULTS} is missing (make bench writes it)")

    if ARCHITECTURE.is_file():
        guide = ARCHITECTURE.read_text(encoding="utf-8")
        intro = (
            "*This page is `../shared/ARCHITECTURE.md`, the design guide kept beside the "
            "repository, included when the site was built.*"
        )
        head, _, rest = guide.partition("\n")
        guide = f"{head}\n\n{intro}\n{rest}" if head.startswith("# ") else f"{intro}\n\n{guide}"
    else:
        log.info("design guide not found at %s: the page says where it lives", ARCHITECTURE)
        guide = (
            "# Architecture and style\n\n"
            "The design guide lives in `../shared/ARCHITECTURE.md`, beside the repository (as "
            f"in CI); it was not found at `{ARCHITECTURE}` when this site was built. Build "
            "the site from a checkout that has it to read it here.\n"
        )
    _add(files, File.generated(config, "contributing/architecture.md", content=guide))
    return files


# A Sphinx cross-reference role left in a docstring (``:func:`relu```), as Markdown renders it:
# the role's name printed before the code span. The site shows the code span alone.
_SPHINX_ROLE = re.compile(r":(?:py:)?(?:mod|class|func|meth|attr|data|exc|obj):(<code>)~?")


def on_page_content(html, page, config, files):
    return _SPHINX_ROLE.sub(r"\1", html)


def on_serve(server, config, builder):
    for path in (NOTEBOOKS, RESULTS, ARCHITECTURE):
        if path.exists():
            server.watch(str(path))
    return server
