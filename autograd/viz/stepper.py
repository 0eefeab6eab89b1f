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
"""

from __future__ import annotations

import html
import json
import math
import os
import re
from collections.abc import Callable, Iterable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from ..backward import grad, local_formulas, local_partials, topological_order
from ..value import Value
from .graph import build, nearest
from .names import d_of, is_weighted_sum, is_word, node_names
from .output import in_notebook, write_page, write_temporary
from .render import render_svg, which_renderer
from .style import DEFAULT_MAX_NODES, NOT_REACHED_COLOR, DrawOptions, GradScale, is_dark

__all__ = ["MAX_STEPS_UNCUT", "StepsPage", "show_steps", "step_through"]

# With max_nodes=None every node is a step; past this many the page would be unusable
# (and the layout slow), so a bigger graph needs an explicit max_nodes.
MAX_STEPS_UNCUT = 1000
SUMMARY_LINES = 8  # the summary lists the largest gradients; the drawing shows them all

_INFIX_SHOWN = {"+": "+", "-": "-", "*": "*", "/": "/", "**": "^"}
_OP_WORDS = {
    "+": "the sum of", "-": "the difference of", "*": "the product of",
    "/": "the quotient of", "**": "the power of", "neg": "minus", "sum": "the sum of",
}


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
    page = _page(root, options, renderer, params)
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
    shown = StepsPage(page, height if height is not None else _fitting_height(page))
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


# --- the plan: which node at which step, and why its numbers are what they are ---------------


def backward_steps(order: list[Value]) -> list[Value]:
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


class _Plan:
    """The drawing's nodes and every step, with every number the page shows."""

    def __init__(self, root: Value, options: DrawOptions, params: list[Value] | None) -> None:
        order = topological_order(root)
        if options.max_nodes is None and len(order) > MAX_STEPS_UNCUT:
            raise ValueError(
                f"step_through: the graph has {len(order)} nodes, one step each; with "
                f"max_nodes=None at most {MAX_STEPS_UNCUT} can be stepped through. Pass "
                f"max_nodes=N to step through the N nodes nearest the root"
            )
        self.root, self.order = root, order
        self.number = number = options.number()
        self.drawn = nearest(order, root, options.max_nodes)
        self.ids = {v: f"v{i}" for i, v in enumerate(self.drawn)}
        self.names = node_names(creation_order(root), number)
        self.grads = {v: g.data for v, g in zip(order, grad(root, order), strict=True)}
        self.variable = _depends_on_a_variable(order)
        self.consumers: dict[Value, list[Value]] = {v: [] for v in order}
        for c in reversed(order):  # backward's visiting order
            for p in dict.fromkeys(c.parents):
                self.consumers[p].append(c)
        self.partials: dict[Value, list[float]] = {}
        self.out = self.names[root]
        self.params = params

        drawn_set = set(self.ids)
        forward = [
            v for v in creation_order(root) if v in drawn_set and v.parents and v in self.variable
        ]
        backward = [
            v for v in backward_steps(order) if v in drawn_set and v in self.variable
        ]
        self.steps: list[dict] = [self._overview(len(forward))]
        self.fstep: dict[Value, int] = {}
        self.bstep: dict[Value, int] = {}
        for v in forward:
            self.fstep[v] = len(self.steps)
            self.steps.append(self._forward(v))
        for v in backward:
            self.bstep[v] = len(self.steps)
            self.steps.append(self._backward(v))
        self.steps.append(self._summary())

    # -- helpers --

    def name(self, v: Value) -> str:
        return self.names[v]

    def operand(self, v: Value) -> str:
        """A name as an operand: in parentheses if it holds a sum, a space or a sign."""
        name = self.names[v]
        return name if is_word(name) or not re.search(r"[-+ ]", name) else f"({name})"

    def num(self, x: float) -> str:
        """A number as a factor or term: negatives in parentheses, 2 * (-3)."""
        text = self.number(x)
        return f"({text})" if text.startswith("-") else text

    def local(self, c: Value) -> list[float]:
        if c not in self.partials:
            self.partials[c] = local_partials(c)
        return self.partials[c]

    def feeds(self, nodes: list[Value], ops_of: list[Value], edges: list[str]) -> dict:
        return {
            "nodes": [self.ids[u] for u in nodes if u in self.ids],
            "ops": [f"{self.ids[u]}_op" for u in ops_of if u in self.ids],
            "edges": edges,
        }

    # -- the steps --

    def _overview(self, n_forward: int) -> dict:
        leaves = [v for v in self.drawn if v.is_leaf and not v.is_constant]
        words = (
            f"The graph of {self.out}. The leaves hold their values "
            f"({', '.join(f'{self.name(v)} = {self.number(v.data)}' for v in leaves[:8])}"
            f"{', ...' if len(leaves) > 8 else ''}). Next: the forward pass computes the "
            f"other {n_forward} node{'s' if n_forward != 1 else ''}, operands first; then "
            f"backward() gives every node its gradient d{d_of(self.out)}/d(node)."
        )
        if len(self.drawn) < len(self.order):
            words += (
                f" The graph has {len(self.order)} nodes; the {len(self.drawn)} nearest the "
                f"output are drawn and stepped through."
            )
        return {"kind": "graph", "node": None, "words": words, "formula": "",
                "feeds": self.feeds([], [], [])}

    def _forward(self, v: Value) -> dict:
        named, numbers = self._expression(v)
        value = self.number(v.data)
        parts = [self.name(v), named]
        if numbers not in (named, value):
            parts.append(numbers)
        parts.append(value)
        what = _OP_WORDS.get(v.op, f"{v.op} of")
        if is_weighted_sum(v):
            what = "the weighted sum w . x + b of"
        words = f"{self.name(v)} is {what} {self._list(v.parents)}."
        edges = [f"{self.ids[p]}->{self.ids[v]}_op" for p in v.parents if p in self.ids]
        edges.append(f"{self.ids[v]}_op->{self.ids[v]}")
        return {
            "kind": "forward", "node": self.ids[v], "name": self.name(v),
            "data": _json_number(v.data), "data_text": value,
            "words": words, "formula": " = ".join(parts),
            "feeds": self.feeds(list(v.parents), [v], edges),
        }

    def _list(self, values) -> str:
        names = list(dict.fromkeys(self.name(p) for p in values))
        if len(names) > 6:
            return f"{len(names)} operands"
        return ", ".join(names)

    def _expression(self, v: Value) -> tuple[str, str]:
        """How ``v`` is computed from its operands: in names, and in numbers."""
        ps = v.parents
        names = [self.operand(p) for p in ps]
        nums = [self.num(p.data) for p in ps]
        op = v.op
        if op in _INFIX_SHOWN and len(ps) == 2:
            sym = _INFIX_SHOWN[op]
            return f"{names[0]} {sym} {names[1]}", f"{nums[0]} {sym} {nums[1]}"
        if op == "neg" and len(ps) == 1:
            return f"-{names[0]}", f"-{nums[0]}"
        if op == "sum":
            return " + ".join(names), " + ".join(nums)
        if op == "dot":
            n = len(ps) // 2

            def terms(xs):
                out = [f"{xs[i]}*{xs[i + n]}" for i in range(n)]
                return " + ".join(out + ([xs[-1]] if len(ps) % 2 else []))

            return terms(names), terms(nums)
        return f"{op}({', '.join(names)})", f"{op}({', '.join(nums)})"

    def _backward(self, v: Value) -> dict:
        name, out, g = self.name(v), self.out, self.grads[v]
        d_out = f"d{d_of(out)}"
        step: dict[str, Any] = {
            "kind": "backward", "node": self.ids[v], "name": name,
            "grad": _json_number(g), "grad_text": self.number(g), "contributions": [],
        }
        delta = is_weighted_sum(v)
        if v is self.root:
            step["words"] = (
                f"Backward starts at the output {out}: its gradient is the seed, "
                f"{d_out}/d{d_of(out)} = 1."
            )
            if delta:
                step["words"] += f" It is a weighted sum: this is delta({name})."
            step["formula"] = f"{d_out}/d{d_of(out)} = {self.number(g)}"
            step["feeds"] = self.feeds([], [], [])
            return step
        consumers = self.consumers[v]
        rules, terms, numbers, products, described = [], [], [], [], []
        edges: list[str] = []
        for c in consumers:
            positions = [i for i, p in enumerate(c.parents) if p is v]
            partials = self.local(c)
            local = math.fsum(partials[i] for i in positions) if len(positions) > 1 else (
                partials[positions[0]]
            )
            gc = self.grads[c]
            cname = self.name(c)
            rules.append(self._rule_line(c, v, positions, local))
            c_is_sum = is_weighted_sum(c)
            terms.append(
                f"{'delta(' + cname + ')' if c_is_sum else d_out + '/d' + d_of(cname)}"
                f" * d{d_of(cname)}/d{d_of(name)}"
            )
            numbers.append(f"{self.num(gc)} * {self.num(local)}")
            products.append(gc * local)
            text = cname if c in self.ids else f"{cname} (not drawn)"
            if len(positions) > 1:
                text += (
                    f", which uses {name} {len(positions)} times "
                    "(its local derivative counts each use)"
                )
            described.append(text)
            step["contributions"].append({
                "consumer": cname, "op": c.op, "drawn": c in self.ids, "uses": len(positions),
                "consumer_grad": _json_number(gc), "local": _json_number(local),
                "product": _json_number(gc * local),
            })
            if c in self.ids and v in self.ids:
                cid = self.ids[c]
                edges += [f"{self.ids[v]}->{cid}_op", f"{cid}_op->{cid}"]
        kind = "a leaf" if v.is_leaf else f"the result of {v.op}"
        if delta:
            kind = f"a weighted sum: its gradient is the lectures' delta, delta({name})"
        lhs = f"{d_out}/d{d_of(name)}"
        if delta:
            lhs = f"delta({name}) = {lhs}"
        if len(consumers) == 1:
            cname = self.name(consumers[0])
            words = (
                f"{name} ({kind}) feeds one node, {described[0]}. Its gradient is the "
                f"gradient of {cname} times the local derivative d{d_of(cname)}/d{d_of(name)}, "
                f"from {consumers[0].op}'s rule:"
            )
            chain = f"{lhs} = {terms[0]} = {numbers[0]} = {self.number(g)}"
        else:
            words = (
                f"{name} ({kind}) feeds {len(consumers)} nodes: {'; '.join(described)}. "
                "Its gradient is the sum of their contributions, each that node's gradient "
                f"times its local derivative with respect to {name}:"
            )
            chain = (
                f"{lhs} = {' + '.join(terms)} = {' + '.join(numbers)} = "
                f"{' + '.join(self.num(p) for p in products)} = {self.number(g)}"
            )
        step["words"] = words
        step["rules"] = rules
        step["formula"] = "\n".join([*rules, chain])
        step["feeds"] = self.feeds([c for c in consumers], [c for c in consumers], edges)
        return step

    def _rule_line(self, c: Value, v: Value, positions: list[int], local: float) -> str:
        """d c / d v from the op table's formula: in names, in numbers, then its value."""
        templates = local_formulas(c)
        names = [self.operand(p) for p in c.parents]
        nums = [self.num(p.data) for p in c.parents]
        human, numeric = [], []
        for i in positions:
            t = templates[i]
            human.append(_fill(t, names, "out"))
            numeric.append(_fill(t.split(" = ")[-1], nums, self.num(c.data)))
        named = " + ".join(human)
        numbers = " + ".join(numeric)
        value = self.number(local)
        parts = [f"d{d_of(self.name(c))}/d{d_of(self.name(v))}", named]
        if numbers.strip("()") not in (named, value) and not _is_words(numbers):
            parts.append(numbers)
        if value != named:
            parts.append(value)
        return " = ".join(parts)

    def _summary(self) -> dict:
        out, d_out = self.out, f"d{d_of(self.out)}"
        if self.params is not None:
            params = [p for p in self.params if p in self.grads]
            what = "parameter"
        else:
            params = [v for v in self.order if v.is_leaf and not v.is_constant]
            what = "leaf (parameter or input)"
        ranked = sorted(params, key=lambda p: -abs(self.grads[p]) if math.isfinite(
            self.grads[p]) else -math.inf)
        lines = []
        for p in ranked[:SUMMARY_LINES]:
            g = self.grads[p]
            if g > 0:
                advice = f"decrease {self.name(p)} to lower {out}"
            elif g < 0:
                advice = f"increase {self.name(p)} to lower {out}"
            else:
                advice = f"a small change leaves {out} as it is"
            lines.append(f"{d_out}/d{d_of(self.name(p))} = {self.number(g)}   ({advice})")
        if len(ranked) > SUMMARY_LINES:
            lines.append(f"... and {len(ranked) - SUMMARY_LINES} smaller ones (on the drawing)")
        words = (
            f"Summary: the gradient of {out} with respect to each {what}, largest first. "
            f"Changing one of them by a small eps changes {out} by about gradient * eps."
        )
        best = next((p for p in ranked if self.grads[p] != 0 and math.isfinite(
            self.grads[p])), None)
        if best is not None:
            g = self.grads[best]
            move = "decrease" if g > 0 else "increase"
            words += (
                f" The change that lowers {out} most is to {move} {self.name(best)} "
                f"({d_out}/d{d_of(self.name(best))} = {self.number(g)}: {out} drops by "
                f"about {self.number(abs(g))} eps)"
            )
            other = next((p for p in ranked if self.grads[p] != 0 and math.isfinite(
                self.grads[p]) and (self.grads[p] > 0) != (g > 0)), None)
            if other is not None:
                go = self.grads[other]
                words += (
                    f", more than to {'decrease' if go > 0 else 'increase'} "
                    f"{self.name(other)} (about {self.number(abs(go))} eps)"
                )
            words += "."
        return {
            "kind": "summary", "node": self.ids.get(best) if best is not None else None,
            "name": "summary", "words": words, "formula": "\n".join(lines),
            "gradients": {self.name(p): _json_number(self.grads[p]) for p in ranked},
            "best": self.name(best) if best is not None else None,
            "feeds": self.feeds([p for p in ranked if p is not best], [], []),
        }


def creation_order(root: Value) -> list[Value]:
    """Every node under ``root``, operands first, left operand before right: the order
    Python evaluates an expression in, so the order the nodes were made. Iterative."""
    order: list[Value] = []
    placed: set[Value] = set()
    stack: list[tuple[Value, int]] = [(root, 0)]
    while stack:
        node, i = stack.pop()
        if node in placed:
            continue
        parents = node.parents
        while i < len(parents) and parents[i] in placed:
            i += 1
        if i < len(parents):
            stack.append((node, i + 1))
            stack.append((parents[i], 0))
            continue
        placed.add(node)
        order.append(node)
    return order


def _fill(template: str, operands: list[str], out: str) -> str:
    return template.format(*operands, out=out)


def _is_words(text: str) -> bool:
    """A formula that is prose (the closure's), with no numbers to fill in."""
    return bool(re.fullmatch(r"[A-Za-z_' ]+", text))


def _depends_on_a_variable(order: list[Value]) -> set[Value]:
    """Nodes with a leaf that is not a constant below them (or that are one)."""
    out: set[Value] = set()
    for v in order:  # operands first
        if (v.is_leaf and not v.is_constant) or any(p in out for p in v.parents):
            out.add(v)
    return out


def _json_number(x: float):
    """JSON has no inf or nan: those become the strings "inf", "-inf", "nan"."""
    return x if math.isfinite(x) else repr(x)


# --- the page ---------------------------------------------------------------------------------


def _page(root: Value, options: DrawOptions, renderer: str, params) -> str:
    plan = _Plan(root, options, params)
    layouts = [options.rankdir]
    if options.rankdir in ("LR", "RL"):
        layouts.append("TB")  # for narrow windows: a phone, a projector at 150%
    svgs = []
    for k, rankdir in enumerate(layouts):
        graph = build(
            root, options.but(rankdir=rankdir, color_by="role",
                              legend=options.legend and options.color_by == "role"),
            names=plan.names, grads=plan.grads, order=plan.order,
        )
        svg = _inline_svg(render_svg(graph.source, renderer))
        prefix = f"{rankdir}-" if k else ""
        if k:
            svg = svg.replace(' id="', f' id="{prefix}')  # ids stay unique on the page
        svgs.append(
            f'<div class="layout" data-rankdir="{rankdir}" data-prefix="{prefix}"'
            f'{" hidden" if k else ""}>\n{svg}\n</div>'
        )
    scale = None
    if options.color_by != "role":
        scale = GradScale(
            [plan.grads[v] for v in plan.drawn], options.grad_range,
            options.color_by == "grad_sign",
        )
    number = plan.number
    nodes = []
    for v in plan.drawn:
        fill = scale.color(plan.grads[v]) if scale is not None else None
        nodes.append({
            "id": plan.ids[v],
            "fstep": plan.fstep.get(v, 0),
            "bstep": plan.bstep.get(v, len(plan.steps) - 1),
            "data_text": number(v.data),
            "grad_text": number(plan.grads[v]),
            "fill": fill,
            "dark": bool(fill and is_dark(fill)),
        })
    legend_html = ""
    if scale is not None and options.show_legend:
        legend_html = _legend_html(scale)
    data = {
        "root": plan.out,
        "color_by": options.color_by,
        "not_reached_color": NOT_REACHED_COLOR,
        "nodes": nodes,
        "steps": plan.steps,
    }
    heading = f"Backprop, one step at a time: {plan.out} = {number(root.data)}"
    replacements = {
        "__TITLE__": html.escape(f"Backprop, one step at a time: {plan.out}"),
        "__HEADING__": html.escape(heading),
        "__N__": str(len(plan.steps) - 1),
        "__COLOR_BY__": options.color_by,
        "__LEGEND__": legend_html,
        "__STYLE__": _asset("stepper.css"),
        "__SVG__": "\n".join(svgs),
        "__DATA__": _script_json(data),
        "__SCRIPT__": _asset("stepper.js"),
    }
    page = _asset("stepper.html")
    # One pass, so text put in by one marker is never read as another marker.
    return re.sub(r"__[A-Z_]+__", lambda m: replacements.get(m.group(0), m.group(0)), page)


def _legend_html(scale: GradScale) -> str:
    items = "".join(
        f'<span class="swatch" style="background:{html.escape(fill)}"></span>'
        f'<span class="swatch-text">{html.escape(text)}</span>'
        for text, fill in [*scale.legend(), ("not reached yet", NOT_REACHED_COLOR)]
    )
    return f'<div class="legend"><span>{html.escape(scale.title)}:</span> {items}</div>'


def _asset(name: str) -> str:
    """A file of the page (``page/``), shipped as package data."""
    return resources.files(__package__).joinpath("page", name).read_text(encoding="utf-8")


def _inline_svg(svg: str) -> str:
    """The <svg> element alone (no XML declaration or DOCTYPE), to sit inside HTML."""
    start = svg.find("<svg")
    if start < 0:
        raise RuntimeError("step_through: the renderer returned no <svg> element")
    return svg[start:].strip()


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
    return int(min(900, max(360, drawing + 300)))


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
