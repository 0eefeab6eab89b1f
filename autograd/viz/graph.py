"""Draw a computation graph: ``draw`` gives a graphviz.Digraph of the graph behind a Value.

Each Value is a record node (label, data, grad) and each op a small node of its
own, with an edge from every operand (an operand used twice gives two edges) to
the op, and one from the op to its result. Nodes are coloured by role, by |grad|
on a log scale (``color_by="grad"``), or by the sign and size of grad on a
diverging palette (``color_by="grad_sign"``).

A neuron's weighted sum (a ``dot`` node, s = w . x + b) is drawn with the leaves
that only it uses (its weights and bias) beside it in a box of its own, each
weight's edge labelled with the input it multiplies; neurons are grouped by
layer (by nn's parameter names where the weights carry them, else by how many
weighted sums lie below them).

Only the public surface of a Value is read (data, grad, label, op, parents,
is_constant) together with ``topological_order``. The ``graphviz`` package is
imported when a drawing is made, so importing this module never fails.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from functools import lru_cache

from ..backward import topological_order
from ..value import Value
from . import style
from .names import is_weighted_sum, node_names, short_label
from .render import render_svg
from .style import DEFAULT_MAX_NODES, DrawOptions, GradScale


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

    The options are described in ``autograd.viz.style.DrawOptions``: layout direction,
    number format, colouring ("role", "grad" or "grad_sign"), legend, the cut at
    ``max_nodes`` Values nearest the root (a dashed marker says how many operands were
    left out), extra Graphviz graph attributes, and the cut message's advice.

    The returned object is a ``graphviz.Digraph`` subclass whose Jupyter display goes
    through ``to_svg``, so it works without a system Graphviz; its repr (in a plain
    REPL) names the root, counts the nodes and says how to render it. It also carries
    ``nodes_total`` and ``nodes_drawn`` (Values in the graph, Values drawn).
    """
    if not isinstance(root, Value):
        raise TypeError(f"draw: root must be a Value, got {root!r} ({type(root).__name__})")
    options = DrawOptions(
        rankdir=rankdir, digits=digits, fmt=fmt, color_by=color_by, grad_range=grad_range,
        legend=legend, max_nodes=max_nodes, graph_attr=graph_attr, cut_hint=cut_hint,
    ).checked("draw")
    return build(root, options)


def nearest(order: list[Value], root: Value, max_nodes: int | None) -> list[Value]:
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


def build(
    root: Value,
    options: DrawOptions,
    *,
    names: Mapping[Value, str] | None = None,
    grads: Mapping[Value, float] | None = None,
    order: list[Value] | None = None,
):
    """The drawing, for ``draw`` and for the stepper.

    ``names`` (the stepper's) puts a generated name on every unlabelled node that is
    not a constant, so the page's text can call it by what the drawing shows;
    ``grads`` replaces ``.grad`` as the number shown and coloured. Value nodes get
    the ids ``v0``, ``v1``, ... in topological order and an SVG id ``node-v0``...
    """
    number = options.number()
    order = topological_order(root) if order is None else order
    drawn = nearest(order, root, options.max_nodes)
    ids = {v: f"v{i}" for i, v in enumerate(drawn)}
    grad_of = (lambda v: grads[v]) if grads is not None else (lambda v: v.grad)

    g = _digraph_class()(
        name="computation_graph",
        graph_attr={
            "rankdir": options.rankdir,
            "fontname": "Helvetica",
            "fontsize": "12",
            **dict(options.graph_attr or {}),
        },
        node_attr={"fontname": "Helvetica", "fontsize": "11"},
        edge_attr={
            "arrowsize": "0.7",
            "color": "#555555",
            "fontname": "Helvetica",
            "fontsize": "10",
            "fontcolor": "#555555",
        },
    )
    g.nodes_total = len(order)
    g.nodes_drawn = len(drawn)
    g.ops_drawn = sum(1 for v in drawn if v.parents)
    g.root_name = _describe(root)

    scale = None
    if options.color_by != "role":
        scale = GradScale(
            [grad_of(v) for v in drawn], options.grad_range, options.color_by == "grad_sign"
        )
    if names is None:
        # Plain drawings name only what an edge label must point to: the unlabelled
        # inputs of a weighted sum ("× layers.0.neurons.1.out" on a weight's edge).
        generated = node_names(order, number)
        inputs = {
            x for v in drawn if is_weighted_sum(v)
            for x in v.parents[len(v.parents) // 2 : 2 * (len(v.parents) // 2)]
            if not x.label and not x.is_constant
        }
        shown = {v: generated[v] for v in inputs}
    else:
        shown = names
    braces = options.rankdir in ("TB", "BT")  # so that a record's fields always stack
    home = _neuron_homes(drawn, ids)
    statements: dict[tuple, list[tuple[str, dict]]] = {}
    roles_seen: list[str] = []

    def declare(node, vid: str, **attrs) -> None:
        statements.setdefault(home.get(node, ()), []).append((vid, attrs))

    for v in drawn:
        role = _role(v, root)
        if role not in roles_seen:
            roles_seen.append(role)
        vid = ids[v]
        title = v.label
        if not title and v in shown and not v.is_constant:
            title = shown[v]
        fields = ([title] if title else []) + [
            f"data {number(v.data)}",
            f"grad {number(grad_of(v))}",
        ]
        attrs = {
            "shape": "record",
            "label": record(fields, braces),
            "class": f"value {role}",
            "tooltip": text(_tooltip(v, role, grad_of(v))),
            "style": "filled",
            "fillcolor": style.ROLE_COLORS[role],
            "id": f"node-{vid}",
        }
        if role == "constant":
            attrs["style"] = "filled,dashed"
        elif role == "root":
            attrs.update(style="filled,bold", penwidth="2")
        if scale is not None:
            fill = scale.color(grad_of(v))
            attrs["fillcolor"] = fill
            if style.is_dark(fill):
                attrs["fontcolor"] = "white"
        declare(v, vid, **attrs)

        parents = v.parents
        if not parents:
            continue
        op_id = f"{vid}_op"
        declare(
            v, op_id,
            label=text(style.OP_SYMBOLS.get(v.op, v.op)),
            shape="ellipse",
            margin="0.04,0.02",
            width="0.3",
            height="0.3",
            style="filled",
            fillcolor=style.OP_COLOR,
            color="#888888",
            fontsize="12",
            id=f"node-{op_id}",
            **{"class": "op"},
        )
        g.edge(op_id, vid)
        operand_names = style.OPERAND_LABELS.get(v.op) if len(parents) == 2 else None
        pairs = _weight_inputs(v)
        missing = 0
        for i, p in enumerate(parents):
            if p not in ids:
                missing += 1
                continue
            if operand_names:
                g.edge(ids[p], op_id, headlabel=text(operand_names[i]), labeldistance="1.6")
            elif i in pairs:
                x = parents[pairs[i]]
                g.edge(ids[p], op_id, label=text("\u00d7 " + _call(x, shown, number)))
            else:
                g.edge(ids[p], op_id)
        if missing:
            g.node(
                f"{vid}_cut",
                label=text(f"\u2026 {missing} input{'s' if missing > 1 else ''} not drawn"),
                shape="box",
                style="filled,dashed,rounded",
                fillcolor=style.CUT_COLOR,
                color="#cc3333",
                fontcolor="#aa2222",
                fontsize="10",
                margin="0.15,0.05",
                **{"class": "cut"},
            )
            g.edge(f"{vid}_cut", op_id, style="dashed", color="#cc3333")

    _emit(g, statements, _cluster_titles(drawn, home))

    hidden = len(order) - len(drawn)
    if hidden:
        # str.replace, not format: braces in a caller's hint cannot raise.
        hint = (
            f"pass max_nodes={len(order)} (or None) to see more"
            if options.cut_hint is None
            else options.cut_hint.replace("{total}", str(len(order)))
        )
        g.attr(
            label=text(
                f"\u2026 {hidden} more node{'s' if hidden > 1 else ''} not drawn; {hint}\\n"
                f"(showing the {len(drawn)} nodes nearest the root; dashed red boxes mark the cuts)"
            ),
            labelloc="t",
            fontcolor="#aa2222",
        )
    if options.show_legend:
        if scale is not None:
            legend(g, scale.title, scale.legend())
        else:
            legend(
                g, "role",
                [(style.ROLE_NAMES[r], style.ROLE_COLORS[r]) for r in style.ROLE_COLORS
                 if r in roles_seen],
            )
    return g


# --- neurons and layers -------------------------------------------------------------------


def _weight_inputs(v: Value) -> dict[int, int]:
    """For a weighted sum: each weight's position -> the position of the input it multiplies."""
    if not is_weighted_sum(v):
        return {}
    n = len(v.parents) // 2
    return {i: i + n for i in range(n)}


_NEURON_NAME = re.compile(r"(layers\.\d+)\.(neurons\.\d+)\.[wb](\.\d+)?")


def _neuron_homes(drawn: list[Value], ids: dict[Value, str]) -> dict[Value, tuple]:
    """Which (layer, neuron) box each node sits in; nodes outside any neuron are absent.

    A neuron is a weighted sum with the leaves only it uses (its weights and bias) and
    the activation that only it feeds. Its layer is how many weighted sums lie below it.
    """
    sums = [v for v in drawn if is_weighted_sum(v)]
    if not sums:
        return {}
    users: dict[Value, int] = {}
    consumers: dict[Value, list[Value]] = {}
    for v in drawn:
        for p in dict.fromkeys(v.parents):
            users[p] = users.get(p, 0) + 1
            consumers.setdefault(p, []).append(v)
    depth: dict[Value, int] = {}
    for v in drawn:  # operands first
        below = max((depth.get(p, 0) for p in v.parents), default=0)
        depth[v] = below + (1 if is_weighted_sum(v) else 0)
    home: dict[Value, tuple] = {}
    for s in sums:
        key = (depth[s], ids[s])
        home[s] = key
        for i, p in enumerate(s.parents):
            if p.is_leaf and not p.is_constant and users.get(p) == 1 and i not in range(
                len(s.parents) // 2, 2 * (len(s.parents) // 2)
            ):
                home[p] = key  # a weight or the bias
        after = consumers.get(s, [])
        if len(after) == 1 and len(after[0].parents) == 1 and after[0] not in home:
            home[after[0]] = key
    return home


def _cluster_titles(drawn: list[Value], home: dict[Value, tuple]) -> dict[tuple, tuple[str, str]]:
    """(layer, neuron) -> the two box titles: nn's names where the weights carry them."""
    titles: dict[tuple, tuple[str, str]] = {}
    layers = sorted({key[0] for key in home.values()})
    per_layer: dict[int, int] = {}
    for v in drawn:
        key = home.get(v)
        if key is None or key in titles:
            continue
        match = None
        for u in drawn:
            if home.get(u) == key and u.label:
                match = _NEURON_NAME.fullmatch(u.label)
                if match:
                    break
        if match:
            titles[key] = (match.group(1), match.group(2))
        else:
            per_layer[key[0]] = per_layer.get(key[0], 0) + 1
            titles[key] = (
                f"layer {layers.index(key[0]) + 1}", f"neuron {per_layer[key[0]]}"
            )
    return titles


def _emit(g, statements: dict[tuple, list], titles: dict[tuple, tuple[str, str]]) -> None:
    """Declare the nodes: loose ones at the top, neurons in boxes inside layer boxes."""
    for vid, attrs in statements.get((), []):
        g.node(vid, **attrs)
    layers: dict[int, list[tuple]] = {}
    for key in statements:
        if key:
            layers.setdefault(key[0], []).append(key)
    if len(layers) == 1 and len(next(iter(layers.values()))) == 1:  # one neuron: no layer box
        (key,) = next(iter(layers.values()))
        with g.subgraph(name=f"cluster_{key[1]}") as nc:
            nc.attr(label=text("neuron"), style="rounded", color="#c8c8c8",
                    fontsize="10", fontcolor="#777777")
            for vid, attrs in statements[key]:
                nc.node(vid, **attrs)
        return
    for layer, keys in sorted(layers.items()):
        layer_title = titles[keys[0]][0]
        with g.subgraph(name=f"cluster_layer{layer}") as lc:
            lc.attr(label=text(layer_title), style="rounded,dashed", color="#9a9a9a",
                    fontsize="11", fontcolor="#555555", labeljust="l")
            for key in keys:
                with lc.subgraph(name=f"cluster_{key[1]}") as nc:
                    nc.attr(label=text(titles[key][1]), style="rounded", color="#c8c8c8",
                            fontsize="10", fontcolor="#777777")
                    for vid, attrs in statements[key]:
                        nc.node(vid, **attrs)


def _call(v: Value, names: Mapping[Value, str], number) -> str:
    if v in names:
        return names[v]
    if v.label:
        return short_label(v.label)
    return number(v.data)


# --- small pieces -------------------------------------------------------------------------


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


def _escape_record(s: str) -> str:
    """Make text literal inside a record label (braces, bars and angles are syntax)."""
    s = " ".join(s.splitlines())
    out = []
    for ch in s:
        if ch in "\\{}|<>":
            out.append("\\")
        out.append(ch)
    return "".join(out)


def record(fields: list[str], braces: bool):
    """A record label with one field per line of text (label, data, grad).

    At the top level Graphviz lays record fields across the rank direction: top to
    bottom for rankdir LR/RL, left to right for TB/BT. Braces turn them the other
    way, so they are added for TB/BT and the fields stack vertically either way.
    """
    body = "|".join(_escape_record(f) for f in fields)
    return text("{" + body + "}" if braces else body)


def text(s: str):
    """A label Graphviz reads as plain text, never as an HTML-like label."""
    from graphviz import nohtml

    return nohtml(s)


def _tooltip(v: Value, role: str, grad: float) -> str:
    name = v.label or role
    op = f", op {v.op}" if v.op else ""
    return f"{name}: data={v.data!r}, grad={grad!r}{op}".replace("\\", "\\\\")


def legend(g, title: str, entries: list[tuple[str, str]]) -> None:
    """A boxed colour key beside the drawing."""
    with g.subgraph(name="cluster_legend") as c:
        c.attr(
            label=text(title), fontsize="11", fontcolor="black", style="rounded", color="#999999"
        )
        previous = None
        for i, (words, fill) in enumerate(entries):
            name = f"legend{i}"
            attrs = {"fontcolor": "white"} if style.is_dark(fill) else {}
            c.node(
                name,
                label=text(words),
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


# --- the Digraph subclass -----------------------------------------------------------------


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
                f"<ComputationGraph of {summary(self)}; Jupyter displays it inline, "
                "autograd.viz.show(graph) renders it, "
                "autograd.to_svg(graph, 'graph.svg') writes it>"
            )

    ComputationGraph.__module__ = "autograd.viz"
    return ComputationGraph


def summary(graph) -> str:
    """'f' (data 3): 9 values and 4 ops, or 200 of 40001 values ... for a cut graph."""
    if not hasattr(graph, "root_name"):
        return "a Graphviz graph"
    total, drawn = graph.nodes_total, graph.nodes_drawn
    ops = graph.ops_drawn
    counts = f"value{'s' if drawn != 1 else ''} and {ops} op{'s' if ops != 1 else ''}"
    if drawn < total:
        return f"{graph.root_name}: {drawn} of {total} {counts} drawn (cut at max_nodes)"
    return f"{graph.root_name}: {drawn} {counts}"
