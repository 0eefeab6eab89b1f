"""Step through backprop: one HTML page that fills in the graph's gradients node by node.

``step_through(root)`` draws the graph behind ``root`` with ``draw`` (same options,
same cut rule) and walks the backward pass one node at a time. Step 0 is the
forward pass, with no gradients. Each later step reveals one node's gradient on
the drawing and explains the chain-rule product that made it, e.g.
``df/dw_x = df/d(w_x*x) * d(w_x*x)/dw_x = 2 * (-3) = -6``. A node that feeds
several others gets the sum of their contributions, each one shown.

The order is the one ``backward()`` uses: it visits the interior nodes in reverse
topological order, and a leaf receives its last contribution when the last node
that uses it is visited, so each leaf's step comes right after that visit. There
is one step for every node backward gives a gradient to (every node of the graph),
or for every node drawn when ``max_nodes`` cuts the graph.

Like the rest of ``viz`` this only reads graphs: the numbers come from
``autograd.grad``, so no ``.grad`` of the user's graph is touched. d root / d node
is one ``grad`` call; each local derivative d consumer / d operand is ``grad`` of a
one-node copy of the consumer on fresh leaves (for the ops whose graph says
everything), else ``grad`` through the graph itself, which costs a walk of all
that lies below the consumer.

The page is self-contained (inline SVG, style and script; nothing from the
network), so it works from a ``file://`` URL offline. ``show_steps(root)`` displays
it in Jupyter.
"""

from __future__ import annotations

import contextlib
import functools
import html
import json
import math
import operator
import os
import re
import secrets
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from .backward import grad, topological_order
from .value import Constant, Value

__all__ = ["MAX_STEPS_UNCUT", "show_steps", "step_through"]

# With max_nodes=None every node is a step; past this many the page would be unusable
# (and the layout slow), so a bigger graph needs an explicit max_nodes.
MAX_STEPS_UNCUT = 1000

# Where `python -m autograd.viz --steps` writes the lecture example's page by default.
LECTURE_STEPS_OUT = "out/lecture_steps.html"

# Fill of a node whose gradient is not known yet, with color_by="grad".
NOT_REACHED_COLOR = "#ffffff"

_NAME_LIMIT = 24  # longest expression used to name an unlabeled node
_INFIX = ("+", "-", "*", "/", "**")
_OP_WORDS = {"+": "add", "-": "sub", "*": "mul", "/": "div", "**": "pow"}


def _viz():
    """autograd.viz, imported on use: viz re-exports this module, so a top-level import
    here would be circular."""
    from . import viz

    return viz


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
    max_nodes: int | None = 200,
    graph_attr: Mapping[str, str] | None = None,
    renderer: str = "auto",
) -> str:
    """An HTML page that walks ``root``'s backward pass one node at a time.

    Returns the page and, given ``path``, also writes it there (atomically: a temporary
    file in the same directory, then a rename). The options are ``draw``'s, and the
    graph is cut the same way: at most ``max_nodes`` Values, those nearest the root,
    one step each. ``max_nodes=None`` steps through every node, up to
    ``MAX_STEPS_UNCUT``; a bigger graph raises ``ValueError`` asking for ``max_nodes``.
    ``renderer`` is ``to_svg``'s ("auto", "dot" or "wasm").

    Page controls: buttons ``#next`` and ``#prev`` (also the ArrowRight and ArrowLeft
    keys), the counter ``#step-counter`` ("k / n") and the text ``#step-explanation``.
    No ``.grad`` is read for the numbers or changed: they come from ``autograd.grad``.
    """
    target = _check_target(path)
    page = _page(
        root,
        rankdir=rankdir,
        digits=digits,
        fmt=fmt,
        color_by=color_by,
        grad_range=grad_range,
        legend=legend,
        max_nodes=max_nodes,
        graph_attr=graph_attr,
        renderer=renderer,
    )
    if target is not None:
        _write_atomically(target, page)
    return page


def show_steps(root: Value, *, height: int | None = None, **options: Any):
    """Display the stepper inline in Jupyter (JupyterLab and the classic notebook).

    Returns an ``IPython.display.HTML`` holding an ``<iframe srcdoc=...>`` with the
    page of ``step_through(root, **options)``: an iframe runs the page's script in
    both front ends and keeps its style and keys apart from the notebook's. Click the
    drawing once to give it the keyboard. ``height`` (pixels) defaults to one that
    fits the drawing.
    """
    try:
        from IPython.display import HTML
    except ImportError as err:
        raise ImportError(
            "show_steps displays in Jupyter and needs IPython (pip install ipython); "
            "step_through(root, 'steps.html') writes the same page to a file"
        ) from err
    if "path" in options:
        raise TypeError("show_steps: takes no path; use step_through(root, path) to write a file")
    if height is not None and (
        isinstance(height, bool) or not isinstance(height, int) or height < 100
    ):
        raise ValueError(f"show_steps: height must be an int >= 100 (pixels), got {height!r}")
    page = step_through(root, **options)
    if height is None:
        height = _fitting_height(page)
    frame = (  # in a <div>: IPython warns about a bare <iframe> (it means a URL's)
        f'<div><iframe srcdoc="{html.escape(page, quote=True)}" '
        f'style="width: 100%; height: {height}px; border: 1px solid #ddd; border-radius: 4px" '
        'sandbox="allow-scripts" title="backprop, one step at a time"></iframe></div>'
    )
    return HTML(frame)


def _main_steps(args, fail: Callable[..., int], svg_out: str) -> int:
    """``python -m autograd.viz --steps``: the lecture example's page, to ``--out``.

    Called by ``viz.main`` with its parsed arguments and its one-line error reporter.
    ``--out`` left at the SVG default (``svg_out``) means out/lecture_steps.html.
    """
    from .lecture import build
    from .viz import _render_then_write

    f, _ = build()
    out = Path(LECTURE_STEPS_OUT if args.out == svg_out else args.out)
    return _render_then_write(
        lambda: step_through(
            f,
            rankdir=args.rankdir,
            color_by=args.color_by,
            legend=args.legend or None,
            digits=args.digits,
            renderer=args.renderer,
        ),
        out,
        _write_atomically,
        fail,
    )


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


def _write_atomically(target: Path, text: str) -> None:
    """Write a temporary file beside ``target``, then rename it over: a reader never sees
    half a page. Created with mode 0o666 less the umask, as ``open`` would."""
    tmp = target.parent / f".{target.name}.{secrets.token_hex(6)}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


# --- the plan: which node at which step, and why its gradient is what it is ------------------


def _backward_steps(order: list[Value]) -> list[Value]:
    """Every node of ``order`` (a topological order) in the order backward() finishes it.

    Interior nodes come in backward's visiting order (reverse topological). A leaf is
    never visited; its gradient is complete once every node that uses it has been
    visited, so it comes right after the last of those.
    """
    interior = [v for v in order if not v.is_leaf]
    if not interior:
        return list(order)  # the root is a leaf: its gradient is the seed, 1
    waiting: dict[Value, int] = {}
    for c in interior:
        for p in dict.fromkeys(c.parents):
            if p.is_leaf:
                waiting[p] = waiting.get(p, 0) + 1
    steps = []
    for c in reversed(interior):
        steps.append(c)
        for p in dict.fromkeys(c.parents):
            if p.is_leaf:
                waiting[p] -= 1
                if waiting[p] == 0:
                    steps.append(p)
    return steps


class _LocalDerivatives:
    """d consumer / d operand for each operand of a node, through ``autograd.grad``.

    ``grad(c, c.parents)`` gives total derivatives: when one operand depends on another
    (c = p * sin(p)), the total for p also counts the path through sin(p). The chain
    rule needs the local (partial) derivative, so such paths are taken back out:
    total_p = local_p + sum over operands r depending on p of local_r * dr/dp.
    """

    def __init__(self, position: dict[Value, int]) -> None:
        self.position = position
        self.cache: dict[Value, dict[Value, float]] = {}

    def of(self, c: Value) -> dict[Value, float]:
        if c in self.cache:
            return self.cache[c]
        local = _local_by_copy(c)
        if local is None:
            local = self._through_graph(c)
        self.cache[c] = local
        return local

    def _through_graph(self, c: Value) -> dict[Value, float]:
        """grad() on the graph itself: exact for any op, but each call walks everything
        below ``c``, which for a big graph cut near its root is most of it."""
        operands = list(dict.fromkeys(c.parents))
        local = {p: g.data for p, g in zip(operands, grad(c, operands), strict=True)}
        pos = self.position
        dependents = sorted(
            (r for r in operands if not r.is_leaf), key=lambda r: pos[r], reverse=True
        )
        for r in dependents:  # latest first, so local[r] is final when it is used
            earlier = [p for p in operands if pos[p] < pos[r]]
            if not earlier:
                continue
            for p, d in zip(earlier, grad(r, earlier), strict=True):
                if d.data != 0.0:
                    local[p] -= local[r] * d.data
        return local


def _local_by_copy(c: Value) -> dict[Value, float] | None:
    """Local derivatives of ``c`` from a copy of it made on fresh leaves, or None.

    The copy applies the same public operation to new leaves holding the operands'
    data, so ``grad(copy, leaves)`` walks one node, and its operands cannot depend on
    one another: these are the partial derivatives themselves. Only operations without
    hidden parameters are copied (leaky_relu's slope is not in the graph), and the
    copy is used only if it has the same op, operand pattern and value as ``c``;
    anything else (None) goes through the graph instead, as do micrograd-style nodes
    (see ``_is_custom``).
    """
    make = _copy_table().get(c.op)
    if make is None or _is_custom(c):
        return None
    parents = c.parents
    fresh = {p: Constant(p.data) if p.is_constant else Value(p.data) for p in parents}
    try:
        copy = make(*(fresh[p] for p in parents))
    except (ArithmeticError, ValueError, TypeError):
        return None
    same_value = copy.data == c.data or (math.isnan(copy.data) and math.isnan(c.data))
    same_shape = len(copy.parents) == len(parents) and all(
        a is fresh[p] for a, p in zip(copy.parents, parents, strict=True)
    )
    if copy.op != c.op or not same_value or not same_shape:
        return None
    operands = list(fresh)
    grads = grad(copy, [fresh[p] for p in operands])
    return {p: g.data for p, g in zip(operands, grads, strict=True)}


def _is_custom(c: Value) -> bool:
    """A micrograd-style node: ``Value(data, _children, "*")`` with a ``_backward``
    closure. It may carry an op's name, but its derivative is the user's closure, which
    backward runs, so neither a copy nor words about the op's rule apply to it.

    The one place this module reads past a Value's public surface: nothing public
    tells such a node from an engine op of the same name."""
    return bool(getattr(c._rule, "custom", False))


@functools.lru_cache(maxsize=1)
def _copy_table() -> dict[str, Callable[..., Value]]:
    """Op name -> the public call that makes such a node from its operands, in order."""
    from . import value

    def dot(*operands):
        n = len(operands) // 2  # laid out w_1..w_n, x_1..x_n, then the bias if any
        bias = operands[2 * n] if len(operands) % 2 else None
        return value.dot(operands[:n], operands[n : 2 * n], bias)

    unary = ("exp", "log", "sqrt", "tanh", "sigmoid", "softplus", "relu", "sin", "cos",
             "step", "sign")
    return {
        "+": operator.add,
        "-": operator.sub,
        "*": operator.mul,
        "/": operator.truediv,
        "**": operator.pow,
        "neg": operator.neg,
        "abs": abs,
        **{name: getattr(Value, name) for name in unary},
        "sum": lambda *xs: value.sum_values(xs),
        "max": lambda *xs: value.maximum(xs),
        "logsumexp": lambda *xs: value.logsumexp(xs),
        "dot": dot,
    }


def _plan(root: Value, max_nodes: int | None, number: Callable[[float], str]) -> dict:
    """The drawing's nodes and the steps, with every number the page shows."""
    viz = _viz()
    order = topological_order(root)
    if max_nodes is None and len(order) > MAX_STEPS_UNCUT:
        raise ValueError(
            f"step_through: the graph has {len(order)} nodes, one step each; with "
            f"max_nodes=None at most {MAX_STEPS_UNCUT} can be stepped through. Pass "
            f"max_nodes=N to step through the N nodes nearest the root"
        )
    drawn = viz._nearest(order, root, max_nodes)
    ids = {v: f"v{i}" for i, v in enumerate(drawn)}  # the ids draw() gives them
    position = {v: i for i, v in enumerate(order)}
    steps = [v for v in _backward_steps(order) if v in ids]
    step_of = {v: k for k, v in enumerate(steps, start=1)}

    consumers: dict[Value, list[Value]] = {v: [] for v in drawn}
    for c in reversed(order):  # backward's visiting order
        for p in dict.fromkeys(c.parents):
            if p in consumers:
                consumers[p].append(c)
    needed = list(dict.fromkeys([*drawn, *(c for cs in consumers.values() for c in cs)]))
    grads = {v: g.data for v, g in zip(needed, grad(root, needed), strict=True)}

    names = _Names(order, step_of, number)
    locals_ = _LocalDerivatives(position)
    out_name = names[root]
    plan_steps = [
        {
            "node": None,
            "words": _forward_words(
                root, out_name, number, len(order), len(drawn), names.numbered
            ),
            "formula": "",
        }
    ]
    for v in steps:
        plan_steps.append(
            _step(v, root, out_name, names, consumers[v], grads, locals_, ids, number)
        )
    return {"order": order, "drawn": drawn, "ids": ids, "grads": grads,
            "steps": plan_steps, "step_of": step_of, "names": names}


def _forward_words(
    root: Value, out: str, number, total: int, drawn: int, numbered: bool
) -> str:
    words = (
        f"Forward pass done: {out} = {number(root.data)}. Every node shows its data; "
        f"no gradient is known yet (grad ?). Next starts backward() at {out}."
    )
    if numbered:
        words += (
            " Unlabeled nodes are named by their expression (w*x), or by their op and the "
            "step that reaches them (tanh#3 is the node of step 3)."
        )
    if drawn < total:
        words += (
            f" The graph has {total} nodes; the {drawn} nearest the output are drawn and "
            f"stepped through."
        )
    return words


def _step(v, root, out, names, consumers, grads, locals_, ids, number) -> dict:
    name = names[v]
    g = grads[v]
    step = {
        "node": ids[v],
        "name": name,
        "grad": _json_number(g),
        "grad_text": number(g),
        "contributions": [],
    }
    d_out = f"d{_d(out)}"
    if v is root:
        step["words"] = (
            f"Backward starts at the output {out}: its gradient is the seed, "
            f"{d_out}/d{_d(out)} = 1."
        )
        step["formula"] = f"{d_out}/d{_d(out)} = {number(g)}"
        step["feeds"] = {"nodes": [], "ops": [], "edges": []}
        return step

    terms, numbers, products = [], [], []
    described = []
    feeds = {"nodes": [], "ops": [], "edges": []}
    for c in consumers:
        local = locals_.of(c)[v]
        gc = grads[c]
        uses = sum(1 for p in c.parents if p is v)
        cname = names[c]
        terms.append(f"{d_out}/d{_d(cname)} * d{_d(cname)}/d{_d(name)}")
        numbers.append(f"{_paren(number(gc))} * {_paren(number(local))}")
        products.append(gc * local)
        text = cname if c in ids else f"{cname} (not drawn)"
        if uses > 1:
            text += f", which uses {name} {uses} times (its local derivative counts each use)"
        described.append(text)
        step["contributions"].append(
            {
                "consumer": cname,
                "op": c.op,
                "drawn": c in ids,
                "uses": uses,
                "consumer_grad": _json_number(gc),
                "local": _json_number(local),
                "product": _json_number(gc * local),
            }
        )
        if c in ids:
            cid = ids[c]
            feeds["nodes"].append(cid)
            feeds["ops"].append(f"{cid}_op")
            feeds["edges"] += [f"{ids[v]}->{cid}_op", f"{cid}_op->{cid}"]

    kind = _kind(v)
    if len(consumers) == 1:
        cname = names[consumers[0]]
        step["words"] = (
            f"{name} ({kind}) feeds one node, {described[0]}. Its gradient is the gradient "
            f"of {cname} times the local derivative d{_d(cname)}/d{_d(name)}"
            f"{_local_hint(consumers[0], v, names, number)}:"
        )
        formula = f"{d_out}/d{_d(name)} = {terms[0]} = {numbers[0]} = {number(g)}"
    else:
        step["words"] = (
            f"{name} ({kind}) feeds {len(consumers)} nodes: {'; '.join(described)}. "
            f"Its gradient is the sum of their contributions, each that node's gradient "
            f"times its local derivative with respect to {name}:"
        )
        formula = (
            f"{d_out}/d{_d(name)} = {' + '.join(terms)} = {' + '.join(numbers)} = "
            f"{' + '.join(_paren(number(p)) for p in products)} = {number(g)}"
        )
    step["formula"] = formula
    step["feeds"] = feeds
    return step


def _local_hint(c: Value, v: Value, names, number) -> str:
    """Words for the local derivative of the simplest ops (the number comes from grad())."""
    parents = c.parents
    if len(parents) != 2 or (parents[0] is v) == (parents[1] is v) or _is_custom(c):
        return ""  # not binary, or v is both operands (x * x)
    if c.op == "+":
        return " (a sum passes the gradient on unchanged: its local derivative is 1)"
    if c.op == "-":
        sign = "1" if parents[0] is v else "-1"
        return f" (for a difference a - b it is {sign} for {'a' if sign == '1' else 'b'})"
    if c.op == "*":
        other = parents[1] if parents[0] is v else parents[0]
        value = number(other.data)
        shown = value if names[other] == value else f"{names[other]} = {value}"
        return f" (for a product it is the other factor, {shown})"
    return ""


def _kind(v: Value) -> str:
    if v.is_constant:
        return "a constant"
    if v.is_leaf:
        return "a leaf"
    return f"the result of {v.op}"


def _paren(text: str) -> str:
    """A number as a factor or term: negatives in parentheses, 2 * (-3)."""
    return f"({text})" if text.startswith("-") else text


def _d(name: str) -> str:
    """``name`` after a d: plain names as they are (dw_x), others in parentheses (d(2))."""
    return name if re.fullmatch(r"[A-Za-z_][\w.]*", name) else f"({name})"


def _is_word(name: str) -> bool:
    """A name that needs no parentheses as an operand: x, w_1, 2.5, tanh#3, sin(x)."""
    if re.fullmatch(r"[\w.]+(#\d+)?", name):
        return True
    call = re.fullmatch(r"\w+\((.*)\)", name)
    if call is None:
        return False
    depth = 0
    for ch in call.group(1):  # sin(a)*cos(b) is not one call
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if depth < 0:
            return False
    return depth == 0


def _json_number(x: float):
    """JSON has no inf or nan: those become the strings "inf", "-inf", "nan"."""
    return x if math.isfinite(x) else repr(x)


class _Names:
    """How the explanations call each node: its label; else a short expression built
    from its operands' names (w_x*x); else its op and step number (tanh#3)."""

    def __init__(self, order, step_of, number) -> None:
        self.names: dict[Value, str] = {}
        self.numbered = False  # whether some drawn node is named op#k
        symbols = _viz().OP_SYMBOLS
        for v in order:  # operands before the nodes that use them
            if v.label:
                name = " ".join(v.label.split()) or v.label
            elif v.is_constant:
                name = number(v.data)
            elif v.is_leaf:
                name = self._numbered("leaf", v, step_of)
                self.numbered = self.numbered or v in step_of
            else:
                name = self._expression(v, symbols)
                if name is None or len(name) > _NAME_LIMIT:
                    name = self._numbered(_OP_WORDS.get(v.op, v.op), v, step_of)
                    self.numbered = self.numbered or v in step_of
            self.names[v] = name

    def _expression(self, v: Value, symbols) -> str | None:
        parts = [self.names[p] for p in v.parents]
        if v.op in _INFIX and len(parts) == 2:
            a, b = (p if _is_word(p) else f"({p})" for p in parts)
            return f"{a}{v.op}{b}"
        if v.op == "neg" and len(parts) == 1:
            return f"-{parts[0] if _is_word(parts[0]) else f'({parts[0]})'}"
        return f"{symbols.get(v.op, v.op)}({', '.join(parts)})"

    @staticmethod
    def _numbered(kind: str, v: Value, step_of) -> str:
        k = step_of.get(v)
        return f"{kind}#{k}" if k is not None else f"{kind} (not drawn)"

    def __getitem__(self, v: Value) -> str:
        return self.names[v]


# --- the drawing ------------------------------------------------------------------------------


def _drawing(root: Value, plan: dict, options: dict, number, renderer: str) -> tuple[str, dict]:
    """SVG of the graph, laid out with each node's final gradient so every box fits it.

    ``draw`` makes the graph (its grad fields show the user's ``.grad``); each value
    node is then declared again with the gradient ``grad()`` found and a stable
    ``id`` for the page's script. Graphviz merges a repeated node's attributes.
    """
    viz = _viz()
    color_by = options.pop("color_by")
    grad_range = options.pop("grad_range")
    legend = options.pop("legend")
    if legend is None:
        legend = color_by == "grad"
    g = viz.draw(root, color_by="role", legend=legend and color_by == "role", **options)
    braces = options["rankdir"] in ("TB", "BT")
    grads = plan["grads"]
    colors: dict[str, tuple[str, bool]] = {}
    scale = None
    if color_by == "grad":
        scale = viz._GradScale([_Grad(grads[v]) for v in plan["drawn"]], grad_range)
    for v in plan["drawn"]:
        vid = plan["ids"][v]
        fields = ([v.label] if v.label else []) + [
            f"data {number(v.data)}",
            f"grad {number(grads[v])}",
        ]
        attrs = {
            "label": viz._record(fields, braces),
            "tooltip": viz._text(_tooltip(v, plan["names"][v])),
            "id": f"node-{vid}",
        }
        if scale is not None:
            fill = scale.color(grads[v])
            colors[vid] = (fill, viz._is_dark(fill))
            attrs["fillcolor"] = fill
            if viz._is_dark(fill):
                attrs["fontcolor"] = "white"
        g.node(vid, **attrs)
        if not v.is_leaf:
            g.node(f"{vid}_op", id=f"node-{vid}_op")
    if scale is not None and legend:
        viz._legend(
            g, "|grad|, log scale", [*scale.legend(), ("not reached yet", NOT_REACHED_COLOR)]
        )
    svg = viz.render_svg(g.source, renderer)
    return _inline_svg(svg), colors


class _Grad:
    """Just a ``.grad``, for the |grad| colour scale."""

    __slots__ = ("grad",)

    def __init__(self, g: float) -> None:
        self.grad = g


def _tooltip(v: Value, name: str) -> str:
    op = f", op {v.op}" if v.op else ""
    return f"{name}: data={v.data!r}{op}".replace("\\", "\\\\")


def _inline_svg(svg: str) -> str:
    """The <svg> element alone (no XML declaration or DOCTYPE), to sit inside HTML."""
    start = svg.find("<svg")
    if start < 0:
        raise RuntimeError("step_through: the renderer returned no <svg> element")
    return svg[start:].strip()


# --- the page ---------------------------------------------------------------------------------


def _page(root, *, rankdir, digits, fmt, color_by, grad_range, legend, max_nodes, graph_attr,
          renderer) -> str:
    if not isinstance(root, Value):
        raise TypeError(
            f"step_through: root must be a Value, got {root!r} ({type(root).__name__})"
        )
    viz = _viz()
    options = {
        "rankdir": rankdir,
        "digits": digits,
        "fmt": fmt,
        "max_nodes": max_nodes,
        "graph_attr": graph_attr,
    }
    try:
        # draw() checks every option and names the bad one; check them before any work.
        viz.draw(Value(0.0), color_by=color_by, **options)
        number = viz._formatter(fmt, digits)
        if color_by == "grad":
            viz._GradScale([], grad_range)
        viz.which_renderer(renderer)
    except (TypeError, ValueError) as err:
        raise type(err)(f"step_through: {str(err).removeprefix('draw: ')}") from None
    plan = _plan(root, max_nodes, number)
    svg, colors = _drawing(
        root,
        plan,
        {**options, "color_by": color_by, "grad_range": grad_range, "legend": legend},
        number,
        renderer,
    )
    nodes = []
    for v in plan["drawn"]:
        vid = plan["ids"][v]
        fill, dark = colors.get(vid, (None, False))
        nodes.append(
            {
                "id": vid,
                "step": plan["step_of"][v],
                "grad_text": number(plan["grads"][v]),
                "fill": fill,
                "dark": dark,
            }
        )
    data = {
        "root": plan["names"][root],
        "color_by": color_by,
        "not_reached_color": NOT_REACHED_COLOR,
        "nodes": nodes,
        "steps": plan["steps"],
    }
    out = plan["names"][root]
    return _HTML.format(
        title=html.escape(f"Backprop, one step at a time: {out}"),
        heading=html.escape(f"Backprop, one step at a time: {out} = {number(root.data)}"),
        n=len(plan["steps"]) - 1,
        color_by=color_by,
        style=_STYLE,
        svg=svg,
        data=_script_json(data),
        script=_SCRIPT,
    )


def _script_json(data: dict) -> str:
    """JSON that is safe inside <script>: no '<', '>' or '&' can end the element."""
    text = json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    for ch, esc in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                    ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(ch, esc)
    return text


def _fitting_height(page: str) -> int:
    """Pixels for the Jupyter iframe: the drawing's height plus the controls, capped."""
    match = re.search(r'<svg width="[\d.]+pt" height="([\d.]+)pt"', page)
    drawing = float(match.group(1)) * 4 / 3 if match else 400.0
    return int(min(900, max(320, drawing + 250)))


_HTML = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>{style}</style>
</head>
<body class="by-{color_by}">
<header>
<h1>{heading}</h1>
<div class="controls">
<button id="prev" type="button" title="Back (ArrowLeft)">&#9664; Back</button>
<button id="next" type="button" title="Next (ArrowRight)">Next &#9654;</button>
<span id="step-counter" aria-live="polite">0 / {n}</span>
<span class="hint">keys: &larr; &rarr; &middot;
<span class="key current-key">this step's node</span>
<span class="key feeds-key">where its gradient comes from</span></span>
</div>
<div id="step-explanation" aria-live="polite"></div>
</header>
<main id="drawing">
{svg}
</main>
<script type="application/json" id="step-data">{data}</script>
<script>{script}</script>
</body>
</html>
"""

_STYLE = """
body { --current: #1d4ed8; --feeds: #ea580c; }
body.by-grad { --feeds: #15803d; }  /* the |grad| ramp is orange: mark the sources green */
body { font-family: Helvetica, Arial, sans-serif; margin: 0; color: #222; background: #fff; }
header { position: sticky; top: 0; z-index: 2; background: #fafafa;
         border-bottom: 1px solid #ddd; padding: 10px 16px; }
h1 { font-size: 17px; margin: 0 0 8px 0; font-weight: 600; }
.controls { display: flex; align-items: center; gap: 10px; flex-wrap: wrap; }
button { font-size: 15px; padding: 5px 14px; border: 1px solid #999; border-radius: 5px;
         background: #fff; cursor: pointer; }
button:hover:not(:disabled) { background: #eef3ff; }
button:disabled { color: #aaa; border-color: #ddd; cursor: default; }
#step-counter { font-size: 15px; font-weight: 600; min-width: 4.5em;
                font-variant-numeric: tabular-nums; }
.hint { color: #666; font-size: 13px; }
.key { display: inline-block; padding: 0 6px; margin-left: 6px; border-radius: 3px; }
.current-key { border: 3px solid var(--current); }
.feeds-key { border: 3px solid var(--feeds); }
#step-explanation { margin-top: 8px; min-height: 3.6em; font-size: 15px; line-height: 1.4; }
#step-explanation .words { margin: 0; }
#step-explanation .formula { margin-top: 4px; font-family: Menlo, Consolas, monospace;
         font-size: 15px; background: #fff; border-left: 4px solid var(--current); padding: 3px 8px;
         overflow-wrap: anywhere; }
#drawing { padding: 12px 16px; overflow: auto; }
#drawing svg { max-width: 100%; height: auto; }
g.node.current polygon, g.node.current ellipse { stroke: var(--current); stroke-width: 4px; }
g.node.current { filter: drop-shadow(0 0 5px rgba(29, 78, 216, 0.9)); }
g.node.feeds polygon, g.node.feeds ellipse { stroke: var(--feeds); stroke-width: 3px; }
g.edge.feeds path { stroke: var(--feeds); stroke-width: 2.5px; }
g.edge.feeds polygon { stroke: var(--feeds); fill: var(--feeds); }
text.grad-unknown { fill: #9a9a9a; }
text.grad-known { font-weight: bold; }
"""

_SCRIPT = r"""
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("step-data").textContent);
  var steps = data.steps, last = steps.length - 1, k = 0;
  var counter = document.getElementById("step-counter");
  var explanation = document.getElementById("step-explanation");
  var next = document.getElementById("next"), prev = document.getElementById("prev");
  var drawing = document.getElementById("drawing");
  var header = document.querySelector("header");
  var nodes = {};
  data.nodes.forEach(function (info) {
    var group = document.getElementById("node-" + info.id);
    if (!group) { return; }
    var texts = group.getElementsByTagName("text");
    nodes[info.id] = {info: info, group: group, texts: texts, gradText: texts[texts.length - 1],
                      shape: group.querySelector("polygon")};
  });
  var edges = {};
  Array.prototype.forEach.call(document.querySelectorAll("g.edge"), function (edge) {
    var title = edge.querySelector("title").textContent;
    (edges[title] = edges[title] || []).push(edge);
  });
  var marked = [];
  function mark(element, cls) {
    if (element) { element.classList.add(cls); marked.push([element, cls]); }
  }
  function showNode(node, known) {
    var info = node.info;
    node.gradText.textContent = "grad " + (known ? info.grad_text : "?");
    node.gradText.setAttribute("class", known ? "grad-known" : "grad-unknown");
    if (data.color_by === "grad" && node.shape) {
      var dark = known && info.dark;
      node.shape.setAttribute("fill", known ? info.fill : data.not_reached_color);
      Array.prototype.forEach.call(node.texts, function (t) {
        t.setAttribute("fill", dark ? "white" : "black");
      });
    }
  }
  function scrollTo(group) {
    // Bring the node into the part of the window below the sticky header.
    var box = group.getBoundingClientRect(), view = drawing.getBoundingClientRect();
    if (box.left < view.left || box.right > view.right) {
      drawing.scrollLeft += (box.left + box.right) / 2 - (view.left + view.right) / 2;
    }
    var top = header.getBoundingClientRect().bottom, bottom = window.innerHeight;
    if (box.top < top || box.bottom > bottom) {
      window.scrollBy(0, (box.top + box.bottom) / 2 - (top + bottom) / 2);
    }
  }
  function render() {
    marked.forEach(function (m) { m[0].classList.remove(m[1]); });
    marked = [];
    Object.keys(nodes).forEach(function (id) {
      showNode(nodes[id], nodes[id].info.step <= k);
    });
    var step = steps[k];
    if (step.node !== null && nodes[step.node]) {
      mark(nodes[step.node].group, "current");
      step.feeds.nodes.forEach(function (id) {
        if (nodes[id]) { mark(nodes[id].group, "feeds"); }
      });
      step.feeds.ops.forEach(function (id) {
        mark(document.getElementById("node-" + id), "feeds");
      });
      step.feeds.edges.forEach(function (title) {
        (edges[title] || []).forEach(function (edge) { mark(edge, "feeds"); });
      });
      scrollTo(nodes[step.node].group);
    }
    counter.textContent = k + " / " + last;
    explanation.textContent = "";
    var words = document.createElement("p");
    words.className = "words";
    words.textContent = (k === 0 ? "" : "Step " + k + ": ") + step.words;
    explanation.appendChild(words);
    if (step.formula) {
      var formula = document.createElement("div");
      formula.className = "formula";
      formula.textContent = step.formula;
      explanation.appendChild(formula);
    }
    prev.disabled = k === 0;
    next.disabled = k === last;
  }
  function go(to) {
    to = Math.max(0, Math.min(last, to));
    if (to !== k) { k = to; render(); }
  }
  next.addEventListener("click", function () { go(k + 1); });
  prev.addEventListener("click", function () { go(k - 1); });
  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey) { return; }
    if (event.key === "ArrowRight") { go(k + 1); event.preventDefault(); }
    else if (event.key === "ArrowLeft") { go(k - 1); event.preventDefault(); }
  });
  render();
})();
"""
