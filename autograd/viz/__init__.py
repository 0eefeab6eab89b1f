"""Pictures of computation graphs: drawings, SVG, and the backprop stepper.

The modules, each with one purpose and no import cycle (each imports only those
listed before it):

- ``style``: colours, number formats and the draw options, written once;
- ``render``: DOT text to SVG (the system ``dot``, else WebAssembly Graphviz);
- ``names``: what the drawing and the stepper call each node;
- ``graph``: ``draw``, the graphviz.Digraph of a graph;
- ``output``: ``to_svg`` and ``show``;
- ``steps``: the stepper's plan, which node at which step, and each step's explanation;
- ``summary``: the stepper's last step, every parameter's gradient;
- ``webpage``: the stepper's HTML, with the files of ``page/`` inline;
- ``stepper``: ``step_through`` and ``show_steps``;
- ``cli``: ``python -m autograd.viz``.

Exit codes of the command line: 0 written; 2 bad argument, missing package or
unwritable ``--out`` (one line on stderr, no traceback); 1 the renderer failed.
"""

from ..value import Value as Value
from .graph import draw
from .output import SVGDrawing, show, to_svg
from .render import RenderError, RendererUnavailableError, render_svg, which_renderer
from .stepper import StepsPage, show_steps, step_through
from .steps import MAX_STEPS_UNCUT
from .style import (
    COLOR_BY,
    DEFAULT_MAX_NODES,
    GRAD_COLORS,
    GRAD_RAMP,
    OP_SYMBOLS,
    ROLE_COLORS,
    SIGN_RAMPS,
    SIGN_ZERO,
    DrawOptions,
)


def main(argv: list[str] | None = None) -> int:
    """``python -m autograd.viz``; see ``autograd.viz.cli.main``."""
    from .cli import main as cli_main

    return cli_main(argv)


__all__ = [
    "COLOR_BY",
    "DEFAULT_MAX_NODES",
    "GRAD_COLORS",
    "GRAD_RAMP",
    "MAX_STEPS_UNCUT",
    "OP_SYMBOLS",
    "ROLE_COLORS",
    "SIGN_RAMPS",
    "SIGN_ZERO",
    "DrawOptions",
    "RenderError",
    "RendererUnavailableError",
    "SVGDrawing",
    "StepsPage",
    "draw",
    "main",
    "render_svg",
    "show",
    "show_steps",
    "step_through",
    "to_svg",
    "which_renderer",
]
