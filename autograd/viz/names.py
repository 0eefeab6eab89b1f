"""What a picture calls each node, so the drawing and the stepper's text agree.

A labelled node is called by its label, or by the part before "=" ("c" for
"c = w_x x"); a constant by its number; any other node by a short generated name
that the drawing shows on the node: a short expression of its operands' names
(``w_x*x``), ``s1``, ``s2``... for weighted sums (a neuron's ``dot``; with nn's
parameter names, ``layers.0.neurons.1.s``), else its op and a count in the order
the nodes were computed (``tanh2``), so a name never points to a later step.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from ..value import Value

INFIX = ("+", "-", "*", "/", "**")
OP_WORDS = {"+": "add", "-": "sub", "*": "mul", "/": "div", "**": "pow"}
EXPRESSION_LIMIT = 12  # longest expression used as a generated name
_PARAMETER = re.compile(r"(.+)\.w\.\d+")


def short_label(label: str) -> str:
    """A label as the text calls it: one line, and only the part before "=" if any."""
    text = " ".join(label.split())
    head = text.split("=", 1)[0].strip()
    return head or text or label


def node_names(order: list[Value], number: Callable[[float], str]) -> dict[Value, str]:
    """A name for every node of ``order`` (a topological order: operands first)."""
    names: dict[Value, str] = {}
    counts: dict[str, int] = {}
    taken = {short_label(v.label) for v in order if v.label}

    def numbered(kind: str) -> str:
        while True:
            counts[kind] = counts.get(kind, 0) + 1
            name = f"{kind}{counts[kind]}"
            if name not in taken:
                taken.add(name)
                return name

    for v in order:
        if v.label:
            names[v] = short_label(v.label)
        elif v.is_constant:
            names[v] = number(v.data)
        elif v.is_leaf:
            names[v] = numbered("leaf")
        elif v.op == "dot":
            prefix = _neuron_prefix(v)
            names[v] = f"{prefix}.s" if prefix and f"{prefix}.s" not in taken else numbered("s")
        else:
            name = _expression(v, names)
            if name is None or len(name) > EXPRESSION_LIMIT or name in taken:
                name = _after_weighted_sum(v, names, taken) or numbered(OP_WORDS.get(v.op, v.op))
            taken.add(name)
            names[v] = name
    return names


def is_weighted_sum(v: Value) -> bool:
    """A neuron's weighted sum s = w . x + b (the lectures' s_j; its gradient is delta_j)."""
    return v.op == "dot" and len(v.parents) >= 2


def _neuron_prefix(v: Value) -> str | None:
    """"layers.0.neurons.1" when every weight of the dot is labelled like nn's
    ``named_parameters`` ("layers.0.neurons.1.w.0", ...)."""
    n = len(v.parents) // 2
    prefixes = set()
    for w in v.parents[:n]:
        match = _PARAMETER.fullmatch(w.label or "")
        if match is None:
            return None
        prefixes.add(match.group(1))
    return prefixes.pop() if len(prefixes) == 1 else None


def _after_weighted_sum(v: Value, names: dict[Value, str], taken: set[str]) -> str | None:
    """``layers.0.neurons.1.out`` for an activation of ``layers.0.neurons.1.s``."""
    if len(v.parents) != 1:
        return None
    name = names[v.parents[0]]
    if not name.endswith(".s") or v.parents[0].op != "dot":
        return None
    out = name[:-2] + ".out"
    return None if out in taken else out


def _expression(v: Value, names: dict[Value, str]) -> str | None:
    parts = [names[p] for p in v.parents]
    if v.op in INFIX and len(parts) == 2:
        a, b = (p if is_word(p) else f"({p})" for p in parts)
        return f"{a}{v.op}{b}"
    if v.op == "neg" and len(parts) == 1:
        return f"-{parts[0] if is_word(parts[0]) else f'({parts[0]})'}"
    if len(parts) == 1 and re.fullmatch(r"[a-z_]+", v.op):
        return f"{v.op}({parts[0]})"
    return None


def is_word(name: str) -> bool:
    """A name that needs no parentheses as an operand: x, w_1, 2.5, layers.0.w.1, sin(x)."""
    if re.fullmatch(r"[\w.]+", name):
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


def d_of(name: str) -> str:
    """``name`` after a d: plain names as they are (dw_x), others in parentheses (d(2))."""
    return name if re.fullmatch(r"[A-Za-z_]\w*", name) else f"({name})"
