"""Graphs as recipes: the steps of a drawn graph (op, operands, parameter, squash), drawn
with each node's interval in view, and ``RandomFunction``, which replays a recipe on Values."""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from dataclasses import dataclass

import hypothesis.strategies as st

from .. import Value
from .builders import OPS
from .intervals import leaf_interval
from .source import Source

#: Largest magnitude a node may reach for inputs within the stated bounds.
CAP = 100.0


@dataclass(frozen=True)
class Step:
    op: str
    operands: tuple[int, ...]  # indices into inputs + earlier steps
    param: object
    squash: bool  # apply the op to tanh of each operand, to keep magnitudes small


@dataclass(frozen=True)
class Recipe:
    arity: int
    steps: tuple[Step, ...]

    def run(self, inputs: Sequence) -> list:
        """Every node: the inputs, then one per step (the last is the output)."""
        nodes = list(inputs)
        for s in self.steps:
            nodes.append(_apply_step(s.op, s.param, _operands(nodes, s.operands, s.squash)))
        return nodes


def _operands(nodes: list, idx: tuple[int, ...], squash: bool) -> list:
    """The step's operands; squashed ones share one tanh node per distinct operand."""
    if not squash:
        return [nodes[i] for i in idx]
    tanhs = {i: nodes[i].tanh() for i in dict.fromkeys(idx)}
    return [tanhs[i] for i in idx]


def _apply_step(name: str, param, operands: list):
    return OPS[name].build(operands, param)


def named_lines(recipe: Recipe, names: Sequence[str]) -> list[str]:
    """Source lines where every earlier node is referred to by its name."""
    labels = [Source(n) for n in names]
    lines = []
    for s in recipe.steps:
        text = str(_apply_step(s.op, s.param, _operands(labels, s.operands, s.squash)))
        if text.startswith("(") and text.endswith(")") and _balanced(text[1:-1]):
            text = text[1:-1]
        name = f"v{len(labels)}"
        lines.append(f"{name} = {text}")
        labels.append(Source(name))
    return lines


def _balanced(text: str) -> bool:
    depth = 0
    for ch in text:
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if depth < 0:
            return False
    return depth == 0


@st.composite
def recipes(draw, bounds: Sequence[tuple[float, float]], names, min_ops, max_ops):
    """Draw the steps, tracking each node's interval to decide where to squash."""
    intervals = [leaf_interval(lo, hi) for lo, hi in bounds]
    steps = []
    for _ in range(draw(st.integers(min_ops, max_ops))):
        name = draw(st.sampled_from(names))
        op = OPS[name]
        param = None if op.params is None else draw(op.params)
        newest = len(intervals) - 1
        idx = []
        for k in range(op.arity(param)):
            # The first operand is usually the newest node, so most steps feed the
            # output (and examples shrink to chains); the others come from every
            # earlier node, counted back from the newest, which makes shared nodes.
            if k == 0 and draw(st.integers(0, 3)) < 3:
                idx.append(newest)
            else:
                idx.append(newest - draw(st.integers(0, newest)))
        idx = tuple(idx)
        try:
            result = _apply_step(name, param, _operands(intervals, idx, False))
            squash = not result.magnitude <= CAP
        except OverflowError:  # raised by Interval, or by float ** itself
            squash = True
        if squash:
            result = _apply_step(name, param, _operands(intervals, idx, True))
        steps.append(Step(name, idx, param, squash))
        intervals.append(result)
    return Recipe(len(bounds), tuple(steps))


class RandomFunction:
    """A function drawn by ``functions()``: call it with ``arity`` Values (or numbers).

    Each call builds a fresh graph. ``source`` is the function as Python code,
    which hypothesis shows when a test fails; paste it to reproduce.
    """

    def __init__(self, recipe: Recipe) -> None:
        self._recipe = recipe
        self.arity = recipe.arity
        names = [f"x{i}" for i in range(recipe.arity)]
        body = named_lines(recipe, names)
        result = f"v{recipe.arity + len(recipe.steps) - 1}" if recipe.steps else names[-1]
        head = f"def f({', '.join(names)}):"
        self.source = "\n".join([head, *(f"    {line}" for line in body), f"    return {result}"])
        self._oneline = f"f({', '.join(names)}): {'; '.join(body)}; return {result}"

    def __call__(self, *args) -> Value:
        if len(args) != self.arity:
            raise TypeError(f"{self._oneline}: takes {self.arity} arguments, got {len(args)}")
        inputs = []
        for i, x in enumerate(args):
            if isinstance(x, Value):
                inputs.append(x)
            elif isinstance(x, numbers.Real):
                inputs.append(Value(x))
            else:
                raise TypeError(f"argument {i} must be a Value or a real number, got {x!r}")
        return self._recipe.run(inputs)[-1]

    def __repr__(self) -> str:
        return f"<{self._oneline}>"
