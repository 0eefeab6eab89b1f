"""Random graphs with shared nodes, checked against a naive path-sum reference.

The reference knows nothing of the engine's backward pass or of its op table:
it computes each op's local derivatives itself, from the operands' ``.data``,
and then enumerates *every path* from the root down to each node, adding up
the product of the local derivatives along the path (the chain rule written
out, exponential in the depth, so graphs stay small). A node used twice by one
op (x * x, sum([a, a])) is two edges and so two paths.

Tolerance. A path product of length L is within about (4L) eps relative of the
exact product of exact local derivatives (each local derivative is a few
roundings, each multiplication one); backprop forms the same products in a
different association and adds them in a different order. Summing P terms
costs at most P eps times the sum of their magnitudes. So backprop and the
reference agree to (4 L_max + P) eps * sum |path products|, doubled for margin
(plus as many subnormal spacings, for products that underflow).
Cancellation makes the sum of magnitudes, not the gradient, the right scale.
"""

from __future__ import annotations

import math
import sys
from collections import defaultdict

from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

import autograd
from autograd import Value


def examples(fraction: float) -> int:
    """This file's share of the active profile's example count (tests/conftest.py)."""
    return max(10, int(fraction * settings.default.max_examples))


EPS = sys.float_info.epsilon
TINY = math.ulp(0.0)

UNARY = ["neg", "tanh", "sigmoid", "sin", "cos", "relu", "abs", "square", "leaky_relu",
         "softplus"]
BINARY = ["+", "-", "*"]
NARY = ["sum", "dot", "max"]


# --- the reference: local derivatives by hand ------------------------------------


def _sigmoid(t: float) -> float:
    if t >= 0:
        return 1.0 / (1.0 + math.exp(-t))
    e = math.exp(t)
    return e / (1.0 + e)


def local_derivatives(kind: str, args: list[float], slope: float = 0.1) -> list[float]:
    """d(op)/d(operand slot i), for each slot, from the operands' values alone."""
    if kind == "+":
        return [1.0, 1.0]
    if kind == "-":
        return [1.0, -1.0]
    if kind == "*":
        return [args[1], args[0]]
    (a,) = args[:1]
    if kind == "neg":
        return [-1.0]
    if kind == "tanh":  # sech^2, in a form that never cancels (1 - tanh^2 does)
        t = math.exp(-2.0 * abs(a))
        return [4.0 * t / (1.0 + t) ** 2]
    if kind == "sigmoid":  # sigmoid(a) sigmoid(-a): no 1 - s cancellation
        return [_sigmoid(a) * _sigmoid(-a)]
    if kind == "sin":
        return [math.cos(a)]
    if kind == "cos":
        return [-math.sin(a)]
    if kind == "relu":
        return [1.0 if a > 0 else 0.0]  # 0 at the kink
    if kind == "abs":
        return [1.0 if a > 0 else -1.0 if a < 0 else 0.0]  # 0 at the kink
    if kind == "square":
        return [2.0 * a]
    if kind == "leaky_relu":
        return [1.0 if a > 0 else slope]
    if kind == "softplus":
        return [_sigmoid(a)]
    if kind == "sum":
        return [1.0] * len(args)
    if kind == "dot":
        n = len(args) // 2
        return args[n:] + args[:n]  # d/dw_i = x_i, d/dx_i = w_i
    if kind == "max":
        first = args.index(max(args))  # the whole gradient to the first maximal slot
        return [1.0 if i == first else 0.0 for i in range(len(args))]
    raise AssertionError(kind)


def reference_forward(kind: str, args: list[float], slope: float = 0.1) -> float:
    """The op's value, in plain floats (to check the engine's forward too)."""
    table = {
        "+": lambda: args[0] + args[1],
        "-": lambda: args[0] - args[1],
        "*": lambda: args[0] * args[1],
        "neg": lambda: -args[0],
        "tanh": lambda: math.tanh(args[0]),
        "sigmoid": lambda: _sigmoid(args[0]),
        "sin": lambda: math.sin(args[0]),
        "cos": lambda: math.cos(args[0]),
        "relu": lambda: max(args[0], 0.0),
        "abs": lambda: abs(args[0]),
        "square": lambda: args[0] * args[0],
        "leaky_relu": lambda: args[0] if args[0] > 0 else slope * args[0],
        "softplus": lambda: max(args[0], 0.0) + math.log1p(math.exp(-abs(args[0]))),
        "sum": lambda: math.fsum(args),
        "dot": lambda: math.fsum(
            w * x for w, x in zip(args[: len(args) // 2], args[len(args) // 2:], strict=True)
        ),
        "max": lambda: max(args),
    }
    return table[kind]()


def apply(kind: str, operands: list[Value], slope: float = 0.1) -> Value:
    """Build the op with the engine's public API."""
    if kind in BINARY:
        a, b = operands
        if kind == "+":
            return a + b
        return a - b if kind == "-" else a * b
    if kind == "sum":
        return autograd.sum(operands)
    if kind == "dot":
        n = len(operands) // 2
        return autograd.dot(operands[:n], operands[n:])
    if kind == "max":
        return autograd.maximum(operands)
    (a,) = operands
    if kind == "neg":
        return -a
    if kind == "abs":
        return abs(a)
    if kind == "square":
        return a**2
    if kind == "leaky_relu":
        return a.leaky_relu(slope)
    return getattr(a, kind)()


class Graph:
    """Nodes as the engine built them, plus how each was built (for the reference)."""

    def __init__(self) -> None:
        self.nodes: list[Value] = []
        self.recipe: list[tuple[str, tuple[int, ...]] | None] = []  # None for a leaf
        self.paths: list[int] = []  # number of root-to-leaf paths below each node

    def leaf(self, x: float) -> int:
        self.nodes.append(Value(x))
        self.recipe.append(None)
        self.paths.append(1)
        return len(self.nodes) - 1

    def op(self, kind: str, operands: tuple[int, ...]) -> int:
        self.nodes.append(apply(kind, [self.nodes[i] for i in operands]))
        self.recipe.append((kind, operands))
        self.paths.append(sum(self.paths[i] for i in operands))
        return len(self.nodes) - 1

    def reference(self, root: int):
        """Enumerate every path from ``root``: d root / d node, sum |products|, P, L."""
        total: dict[int, float] = defaultdict(float)
        magnitude: dict[int, float] = defaultdict(float)
        count = longest = 0
        stack = [(root, 1.0, 0)]
        while stack:
            k, product, length = stack.pop()
            total[k] += product
            magnitude[k] += abs(product)
            recipe = self.recipe[k]
            if recipe is None:
                count += 1
                longest = max(longest, length)
                continue
            kind, operands = recipe
            args = [self.nodes[i].data for i in operands]
            for i, d in zip(operands, local_derivatives(kind, args), strict=True):
                stack.append((i, product * d, length + 1))
        return total, magnitude, count, longest


def tolerance(magnitude: float, paths: int, longest: int) -> float:
    # TINY: below the normal range floats are spaced 5e-324 apart, so each of
    # those roundings may also be off by that much in absolute terms.
    return 2 * (4 * longest + paths + 2) * (EPS * magnitude + TINY)


# --- hypothesis: one random DAG, one backward -------------------------------------


MAX_DAG_PATHS = 3000  # keeps the path enumeration cheap


@st.composite
def dags(draw):
    leaves = draw(st.lists(st.floats(-2.0, 2.0), min_size=1, max_size=3))
    steps = []
    paths = [1] * len(leaves)  # root-to-leaf paths below each node
    for _ in range(draw(st.integers(2, 10))):
        kind = draw(st.one_of(st.sampled_from(UNARY), st.sampled_from(BINARY + NARY)))
        if kind in BINARY:
            arity = 2
        elif kind == "dot":
            arity = 2 * draw(st.integers(1, 2))
        elif kind in NARY:
            arity = draw(st.integers(1, 3))
        else:
            arity = 1
        # Operands among every earlier node, counted back from the newest (so
        # graphs grow deep and reuse results), and the same node may fill several
        # slots of one op. If that would make too many paths, use leaves instead.
        count = len(paths)
        recent = st.integers(0, min(1, count - 1))
        back = draw(st.lists(st.one_of(recent, recent, st.integers(0, count - 1)),
                             min_size=arity, max_size=arity))
        operands = [count - 1 - b for b in back]
        if sum(paths[i] for i in operands) > MAX_DAG_PATHS:
            operands = [i % len(leaves) for i in operands]
        steps.append((kind, tuple(operands)))
        paths.append(sum(paths[i] for i in operands))
    return leaves, steps


def build(leaves, steps) -> Graph:
    g = Graph()
    for x in leaves:
        g.leaf(x)
    for kind, operands in steps:
        g.op(kind, operands)
    return g


@settings(max_examples=examples(1.5), deadline=None)
@given(dags())
def test_backward_matches_path_sum_reference(dag):
    leaves, steps = dag
    g = build(leaves, steps)
    root = len(g.nodes) - 1
    # the engine's forward agrees with plain floats (sums to a few eps of their terms)
    for k, recipe in enumerate(g.recipe):
        if recipe is not None:
            kind, operands = recipe
            args = [g.nodes[i].data for i in operands]
            expected = reference_forward(kind, args)
            scale = sum(abs(a) for a in args) ** (2 if kind in ("*", "square", "dot") else 1)
            assert abs(g.nodes[k].data - expected) <= 8 * EPS * max(abs(expected), scale)

    g.nodes[root].backward()
    total, magnitude, paths, longest = g.reference(root)
    for k, node in enumerate(g.nodes):
        if k not in total:  # not reachable from the root: backward never touched it
            assert node.grad == 0.0, f"node {k} is not an input of the root"
            continue
        want = total[k]
        tol = tolerance(magnitude[k], paths, longest)
        assert abs(node.grad - want) <= tol, (
            f"node {k} ({g.recipe[k]}): backward {node.grad!r}, path sum {want!r}, "
            f"{paths} paths, steps {steps}, leaves {leaves}"
        )

    # a second backward: leaves accumulate (twice the gradient); interior nodes
    # are recomputed, not accumulated, so they hold exactly what they held
    first = [node.grad for node in g.nodes]
    g.nodes[root].backward()
    for k, node in enumerate(g.nodes):
        if g.recipe[k] is None:
            assert abs(node.grad - 2 * first[k]) <= 2 * tolerance(magnitude[k], paths, longest)
        else:
            assert node.grad == first[k], f"interior node {k} accumulated across backward calls"


@settings(max_examples=examples(1.0), deadline=None)
@given(dags())
def test_grad_function_matches_reference_and_leaves_grads_alone(dag):
    leaves, steps = dag
    g = build(leaves, steps)
    root = len(g.nodes) - 1
    total, magnitude, paths, longest = g.reference(root)
    inputs = g.nodes[: len(leaves)]
    for create_graph in (False, True):
        results = autograd.grad(g.nodes[root], inputs, create_graph=create_graph)
        assert len(results) == len(inputs)
        for k, r in enumerate(results):
            assert isinstance(r, Value)
            want = total.get(k, 0.0)
            assert abs(r.data - want) <= tolerance(magnitude.get(k, 0.0), paths, longest)
    assert all(node.grad == 0.0 for node in g.nodes)  # grad() touches no .grad


def test_reference_itself_on_a_hand_worked_graph():
    # Guard the guard: f = (a*b + a) * a at a=3, b=2.  f = a^2 b + a^2.
    # df/da = 2ab + 2a = 18, df/db = a^2 = 9. Paths from f to a: three.
    g = Graph()
    a, b = g.leaf(3.0), g.leaf(2.0)
    ab = g.op("*", (a, b))
    s = g.op("+", (ab, a))
    f = g.op("*", (s, a))
    total, _, paths, longest = g.reference(f)
    assert (total[a], total[b], paths, longest) == (18.0, 9.0, 4, 3)
    g.nodes[f].backward()
    assert g.nodes[a].grad == 18.0 and g.nodes[b].grad == 9.0


# --- a MyGrad-style state machine: build, backward, zero, check every step ---------


MAX_PATHS = 400


class GraphMachine(RuleBasedStateMachine):
    """Interleaves graph building, backward from any node, and zero_grad.

    Expected state: a leaf's grad is the sum, over the backward calls since its
    last zero_grad, of d root / d leaf; an interior node's grad is d root / d node
    for the latest backward whose graph contained it (0 before any).
    """

    def __init__(self) -> None:
        super().__init__()
        self.g = Graph()
        self.expected: list[float] = []
        self.scale: list[float] = []  # error budget so far for each node
        self.g.leaf(1.5)
        self.expected.append(0.0)
        self.scale.append(0.0)

    def _added(self, k: int) -> None:
        if k is not None:
            self.expected.append(0.0)
            self.scale.append(0.0)

    @rule(x=st.floats(-2.0, 2.0))
    def add_leaf(self, x):
        self._added(self.g.leaf(x))

    @rule(kind=st.sampled_from(UNARY), data=st.data())
    def add_unary(self, kind, data):
        i = data.draw(st.integers(0, len(self.g.nodes) - 1))
        if self.g.paths[i] <= MAX_PATHS:
            self._added(self.g.op(kind, (i,)))

    @rule(kind=st.sampled_from(BINARY + NARY), data=st.data())
    def add_multi(self, kind, data):
        n = len(self.g.nodes)
        arity = 2 if kind in BINARY or kind == "dot" else data.draw(st.integers(1, 3))
        operands = tuple(data.draw(st.lists(st.integers(0, n - 1), min_size=arity,
                                            max_size=arity)))
        if sum(self.g.paths[i] for i in operands) <= MAX_PATHS:
            self._added(self.g.op(kind, operands))

    @rule(data=st.data())
    def backward(self, data):
        r = data.draw(st.integers(0, len(self.g.nodes) - 1))
        self.g.nodes[r].backward()
        total, magnitude, paths, longest = self.g.reference(r)
        for k, d in total.items():
            tol = tolerance(magnitude[k], paths, longest)
            if self.g.recipe[k] is None:
                self.expected[k] += d
                self.scale[k] += tol
            else:
                self.expected[k] = d
                self.scale[k] = tol

    @rule(data=st.data())
    def zero_grad(self, data):
        k = data.draw(st.integers(0, len(self.g.nodes) - 1))
        self.g.nodes[k].zero_grad()
        self.expected[k] = 0.0
        self.scale[k] = 0.0

    @precondition(lambda self: len(self.g.nodes) > 0)
    @invariant()
    def grads_match_reference(self):
        for k, node in enumerate(self.g.nodes):
            assert abs(node.grad - self.expected[k]) <= self.scale[k], (
                f"node {k} {self.g.recipe[k]}: grad {node.grad!r}, expected {self.expected[k]!r}"
            )


GraphMachine.TestCase.settings = settings(
    max_examples=examples(0.4),
    stateful_step_count=25 if settings.default.max_examples <= 100 else 60,
    deadline=None,
)
TestGraphMachine = GraphMachine.TestCase
