"""Step through a graph: one HTML page that replays the forward pass, then backprop, node by node.

``step_through(root)`` draws the graph behind ``root`` (``draw``'s options and cut)
and tells its story in steps:

- step 0 shows the graph, the leaves holding their values;
- forward steps compute each node's value, operands first (the order it was made);
- backward steps give each node its gradient, in the order ``backward()`` finishes
  them: for every node that uses it, the local rule as the op table writes it
  (``d(h)/ds = 1 - tanh^2 = 1 - out^2 = 1 - 0.8^2 = 0.36``), then the chain-rule
  product; a neuron's weighted sum s is called by the lectures' name, delta;
- a summary lists every parameter's gradient and says which change lowers the
  output most.

Nodes that only carry constants (a ``2`` in ``2 * x``) get no steps. The numbers
come from ``autograd.grad`` (d root / d node) and ``backward.local_partials`` (the
op table's rule for one node), so no ``.grad`` of the user's graph is read or
changed. Every name in the text is on the drawing: a label (or its part before
"="), or the short name the drawing shows on an unlabelled node.

The page is self-contained (inline SVG, style and script from ``page/``; nothing
from the network), so it works from a ``file://`` URL offline.

This module is the public face; the plan and each step's explanation are
steps.py's, the summary summary.py's, and the HTML webpage.py's.
"""

from __future__ import annotations

import html
import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from ..value import Value
from .output import in_notebook, write_page, write_temporary
from .render import which_renderer
from .style import DEFAULT_MAX_NODES, DrawOptions
from .webpage import fitting_height, stepper_page

__all__ = ["StepsPage", "show_steps", "step_through"]


# --- public API ------------------------------------------------------------------------------


def step_through(
    root: Value,
    path: str | os.PathLike[str] | None = None,
    *,
    rankdir: str = "LR",
    digits: int = 4,
    fmt: str | Callable[[float], str] | None = None,
    color_by: str = "role",
    grad_range: tuple[float, float] | None = None,
    legend: bool | None = None,
    max_nodes: int | None = DEFAULT_MAX_NODES,
    graph_attr: Mapping[str, str] | None = None,
    renderer: str = "auto",
    parameters: Iterable[Value] | None = None,
) -> str:
    """An HTML page that walks ``root``'s forward and backward pass one node at a time.

    Returns the page and, given ``path``, also writes it there (atomically; the
    directory must exist). The options are ``draw``'s, and the graph is cut the same
    way: at most ``max_nodes`` Values, those nearest the root. ``max_nodes=None``
    steps through every node, up to ``MAX_STEPS_UNCUT``. ``renderer`` is ``to_svg``'s.
    ``parameters`` (e.g. ``model.parameters()``) are the leaves the summary weighs
    against each other; by default every leaf that is not a constant.

    Page controls: buttons ``#next``, ``#prev``, ``#font-up``, ``#font-down``; keys
    ArrowRight, ArrowLeft, Home, End; the counter ``#step-counter`` ("k / n") and the
    text ``#step-explanation``. Where the window is narrow the graph is laid out top
    to bottom. No ``.grad`` is read for the numbers or changed.
    """
    target = _check_target(path)
    if not isinstance(root, Value):
        raise TypeError(
            f"step_through: root must be a Value, got {root!r} ({type(root).__name__})"
        )
    options = DrawOptions(
        rankdir=rankdir, digits=digits, fmt=fmt, color_by=color_by, grad_range=grad_range,
        legend=legend, max_nodes=max_nodes, graph_attr=graph_attr,
    ).checked("step_through")
    try:
        which_renderer(renderer)
    except ValueError as err:
        raise ValueError(f"step_through: {err}") from None
    params = None if parameters is None else list(parameters)
    if params is not None and not all(isinstance(p, Value) for p in params):
        raise TypeError("step_through: parameters must be Values")
    page = stepper_page(root, options, renderer, params)
    if target is not None:
        write_page(target, page)
    return page


class StepsPage:
    """The stepper page as ``show_steps`` returns it: Jupyter displays it inline (an
    iframe, so its script and keys stay apart from the notebook's); ``.page`` is the
    HTML, ``.data`` the iframe, ``.path`` the file it was written to (or None)."""

    def __init__(self, page: str, height: int, path: Path | None = None) -> None:
        self.page = page
        self.path = path
        self.data = (  # in a <div>: IPython warns about a bare <iframe> (it means a URL's)
            f'<div><iframe srcdoc="{html.escape(page, quote=True)}" '
            f'style="width: 100%; height: {height}px; border: 1px solid #ddd; '
            'border-radius: 4px" '
            'sandbox="allow-scripts" title="backprop, one step at a time"></iframe></div>'
        )

    def _repr_html_(self) -> str:
        return self.data

    def __repr__(self) -> str:
        where = f"written to {self.path}" if self.path is not None else "not written to a file"
        return f"<StepsPage, {len(self.page)} characters of HTML; {where}; .page is the HTML>"


def show_steps(
    root: Value, path: str | os.PathLike[str] | None = None, *, height: int | None = None,
    **options: Any,
) -> StepsPage:
    """Display the stepper inline in Jupyter; elsewhere write the page and say where.

    In a notebook the returned ``StepsPage`` displays as an iframe (click the drawing
    once to give it the keyboard); ``height`` (pixels) defaults to one that fits the
    drawing. Outside a notebook the page is written to ``path``, or to a new
    temporary file, and one line on stderr says where (open it in a browser), as
    ``show`` does for a drawing. ``options`` are ``step_through``'s.
    """
    if height is not None and (
        isinstance(height, bool) or not isinstance(height, int) or height < 100
    ):
        raise ValueError(f"show_steps: height must be an int >= 100 (pixels), got {height!r}")
    try:
        page = step_through(root, path, **options)
    except TypeError as err:
        raise TypeError(str(err).replace("step_through()", "show_steps()")) from None
    shown = StepsPage(page, height if height is not None else fitting_height(page))
    notebook = in_notebook()
    if path is not None:
        shown.path = Path(path)
    elif not notebook:
        shown.path = write_temporary(page, "chainrule-steps-", ".html")
    if not notebook:
        import sys

        print(f"show_steps: wrote {shown.path}; open it in a browser", file=sys.stderr)
    return shown


# --- checks ---------------------------------------------------------------------------------


def _check_target(path) -> Path | None:
    """The file to write, checked before any work: its directory must exist."""
    if path is None:
        return None
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"step_through: path must be a str or a path, got {path!r}")
    target = Path(path)
    if target.is_dir():
        raise IsADirectoryError(f"step_through: path {str(target)!r} is a directory, not a file")
    parent = target.parent
    if not parent.is_dir():
        raise FileNotFoundError(
            f"step_through: cannot write {str(target)!r}: directory {str(parent)!r} does not exist"
        )
    return target



# --- a model's graph ----------------------------------------------------------------------------


def model_root(model, point: Iterable[float], output: int | None = None) -> Value:
    """``model(point)`` as a graph to draw: inputs labelled x1, x2, ...; every parameter
    labelled by its ``named_parameters()`` name (layers.0.neurons.1.w.0), as drawings and
    saved models call it. A model with several outputs needs ``output`` (0-based)."""
    for name, p in model.named_parameters():
        p.label = name
    inputs = [Value(float(x), label=f"x{i + 1}") for i, x in enumerate(point)]
    out = model(inputs)
    if isinstance(out, (list, tuple)):
        if output is None and len(out) != 1:
            raise ValueError(
                f"the model has {len(out)} outputs; pass output=K (--output K, 0-based) "
                "to follow one"
            )
        k = 0 if output is None else output
        if not (0 <= k < len(out)):
            raise ValueError(f"output {k} is out of range: the model has {len(out)} outputs")
        out = out[k]
    out.label = out.label or "y"
    return out


def step_through_model(
    model, point: Iterable[float], path: str | os.PathLike[str] | None = None, *,
    output: int | None = None, **options: Any,
) -> str:
    """The stepper page of ``model(point)`` for a model with ``named_parameters()`` (nn's).

    Named as ``model_root`` names them (the parameters' labels are put back after);
    the summary weighs the parameters. Nothing here imports nn.
    """
    named = list(model.named_parameters())
    saved = [p.label for _, p in named]
    try:
        root = model_root(model, point, output)
        return step_through(root, path, parameters=[p for _, p in named], **options)
    finally:
        for (_, p), old in zip(named, saved, strict=True):
            p.label = old
