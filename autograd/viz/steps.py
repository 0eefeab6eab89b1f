"""The stepper's plan: which node comes at which step, and the explanation of each.

``Plan`` orders the drawn nodes into the overview, the forward steps (creation
order) and the backward steps (the order ``backward()`` finishes them), and writes
each step's words and formulas: the local rule as the op table writes it, then the
chain-rule product. The numbers come from ``autograd.grad`` and
``backward.local_partials``, so no ``.grad`` of the user's graph is read or changed.
The last step, the summary, is summary.py's.
"""

from __future__ import annotations

import math
import re
from typing import Any

from ..backward import grad, local_formulas, local_partials, topological_order
from ..value import Value
from .graph import nearest
from .names import d_of, is_weighted_sum, is_word, node_names
from .style import DrawOptions

# With max_nodes=None every node is a step; past this many the page would be unusable
# (and the layout slow), so a bigger graph needs an explicit max_nodes.
MAX_STEPS_UNCUT = 1000

_INFIX_SHOWN = {"+": "+", "-": "-", "*": "*", "/": "/", "**": "^"}
_OP_WORDS = {
    "+": "the sum of", "-": "the difference of", "*": "the product of",
    "/": "the quotient of", "**": "the power of", "neg": "minus", "sum": "the sum of",
}



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



class Plan:
    """The drawing's nodes and every step but the last, with every number the page shows.

    The summary, the last step, is appended by summary.py's ``summary_step(plan)``."""

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
            "data": json_number(v.data), "data_text": value,
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
            "grad": json_number(g), "grad_text": self.number(g), "contributions": [],
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
                "consumer_grad": json_number(gc), "local": json_number(local),
                "product": json_number(gc * local),
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


def json_number(x: float):
    """JSON has no inf or nan: those become the strings "inf", "-inf", "nan"."""
    return x if math.isfinite(x) else repr(x)
