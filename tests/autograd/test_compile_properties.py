"""autograd.compile against eager: random programs, and every op of the table.

Random programs (hypothesis) have shared nodes, Python branches on comparisons
(``if v > c``, ``if v <= u``, ``bool(v - c)``, the builtin ``max``), a nested
list-and-tuple argument whose list length changes between calls, a Value
argument that is sometimes a leaf and sometimes an interior node, and captured
parameters changed in place between calls. Each call is run compiled and
eagerly: values and gradients must agree, and ``fn`` must be called exactly
when compile promises (once per argument structure and path, at most 8 paths
per structure, then eagerly with one warning).

How close is close enough. The generated forward pass evaluates the same
expressions in the same order as the engine, so values agree to the last bit
in practice; the backward pass may add a node's gradient contributions in
another order (one expression per node instead of one ``+=`` per consumer).
Reordering a sum of terms t_i changes it by at most about n * eps * sum |t_i|,
which can be large relative to the sum itself where terms cancel. So the
tolerance is 1e-12 (about 4500 eps) times the magnitude of the terms, not of
the result: for each node, S = sum over paths to the output of the product of
|local derivatives| (the gradient the graph would have if nothing cancelled),
computed from each step's local Jacobian with grad() at fresh leaves. For a
gradient the bound is 1e-12 * S(input); for the value it is 1e-12 times
sum_k S(k) |v_k|, each node's rounding carried to the output. Without
cancellation S equals |gradient| and the check is plain 1e-12 relative.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import given, note, settings
from hypothesis import strategies as st

import autograd
from autograd import Value, compile, grad, ops

pytestmark = pytest.mark.usefixtures("replay_backend")  # walked and generated replays

SCALE = max(1, settings.default.max_examples // 100)  # 10x under the "thorough" profile
PROGRAMS = settings(max_examples=100 * SCALE, deadline=None)

# --- the ops random programs use: (build, bound of |result| from its operands' bounds) ---

UNARY: dict[str, tuple] = {
    "tanh": (lambda a: a.tanh(), lambda b: 1.0),
    "sigmoid": (lambda a: a.sigmoid(), lambda b: 1.0),
    "sin": (lambda a: a.sin(), lambda b: 1.0),
    "cos": (lambda a: a.cos(), lambda b: 1.0),
    "relu": (lambda a: a.relu(), lambda b: b),
    "abs": (lambda a: abs(a), lambda b: b),
    "neg": (lambda a: -a, lambda b: b),
    "leaky_relu": (lambda a: a.leaky_relu(0.2), lambda b: b),
    "hardtanh": (lambda a: a.hardtanh(-0.5, 0.75), lambda b: 0.75),
    "elu": (lambda a: a.elu(0.7), lambda b: max(b, 0.7)),
    "softplus": (lambda a: a.softplus(), lambda b: b + 1.0),
    "exp": (lambda a: a.tanh().exp(), lambda b: math.e),
    "log": (lambda a: (a * a + 1.0).log(), lambda b: math.log(b * b + 1.0)),
    "sqrt": (lambda a: (a * a + 1.0).sqrt(), lambda b: math.sqrt(b * b + 1.0)),
    "square": (lambda a: a**2, lambda b: b * b),
    "cube": (lambda a: a**3.0, lambda b: b**3),
    "step": (lambda a: a.step(), lambda b: 1.0),
    "sign": (lambda a: a.sign(), lambda b: 1.0),
    "rsub": (lambda a: 2.5 - a, lambda b: b + 2.5),
    "rdiv": (lambda a: 1.0 / (a * a + 1.0), lambda b: 1.0),
}
BINARY: dict[str, tuple] = {
    "+": (lambda a, b: a + b, lambda p, q: p + q),
    "-": (lambda a, b: a - b, lambda p, q: p + q),
    "*": (lambda a, b: a * b, lambda p, q: p * q),
    "/": (lambda a, b: a / (b * b + 1.0), lambda p, q: p),
    "**": (lambda a, b: (a.sigmoid() + 0.5) ** b.tanh(), lambda p, q: 2.0),
}
def _dot_bound(bs: list[float]) -> float:
    n = len(bs) // 2
    return sum(a * b for a, b in zip(bs[:n], bs[n:], strict=True))


NARY: dict[str, tuple] = {
    "sum": (lambda *xs: autograd.sum(xs), lambda bs: sum(bs)),
    "dot": (lambda *xs: autograd.dot(xs[: len(xs) // 2], xs[len(xs) // 2 :]),
            lambda bs: _dot_bound(bs)),
    "max": (lambda *xs: autograd.maximum(xs), lambda bs: max(bs)),
    "logsumexp": (lambda *xs: autograd.logsumexp(xs), lambda bs: max(bs) + math.log(len(bs))),
}
LIMIT = 1e3  # a step whose bound would pass this is squashed with tanh: no overflow
CONSTANTS = [-1.0, -0.5, 0.0, 0.5, 1.0]  # branch thresholds (inputs hit them exactly too)
N_BASE = 8  # x, pair[0], pair[1], w0, w1, w2, ys[0], ys[1]


@dataclass
class Step:
    """One node: ``build(*nodes[operands])`` (``squash``: then tanh)."""

    name: str
    operands: list[int]
    squash: bool = False

    def build(self, *xs: Value) -> Value:
        if self.name in UNARY:
            out = UNARY[self.name][0](*xs)
        elif self.name in BINARY:
            out = BINARY[self.name][0](*xs)
        elif self.name == "same":
            out = xs[0]
        else:
            out = NARY[self.name][0](*xs)
        return out.tanh() if self.squash else out


@dataclass
class Branch:
    """A Python branch on a Value: ``then`` if the test holds, else ``orelse``."""

    kind: str  # "<", "<=", ">", ">=" against a constant or a node; "bool" of v - c
    left: int
    right: int | float
    then: Step
    orelse: Step


@dataclass
class PyMax:
    """The builtin max of two nodes: a comparison that picks an existing node."""

    a: int
    b: int


@dataclass
class Program:
    steps: list[Any]
    outputs: list[int]
    decisions: list = field(default_factory=list)  # filled by each run


def compare(kind: str, a: Value, b: Any) -> bool:
    if kind == "<":
        return a < b
    if kind == "<=":
        return a <= b
    if kind == ">":
        return a > b
    return a >= b


def run(prog: Program, ws: list[Value], x, ys, pair, trail: list | None = None):
    """The program as plain code on Values. Appends each decision to ``trail``;
    returns (output, nodes, [(node index, Step, operand indices)])."""
    # numbers reach fn as numbers: fn makes its leaves from them, as eager code would
    nodes: list[Value] = [
        v if isinstance(v, Value) else Value(v) for v in [x, pair[0], pair[1], *ws, ys[0], ys[1]]
    ]
    made = []
    for s in prog.steps:
        if isinstance(s, PyMax):
            pick = max(nodes[s.a], nodes[s.b])
            took = s.a if pick is nodes[s.a] else s.b
            if trail is not None:
                trail.append(("max", took))
            made.append((len(nodes), Step("same", [took]), [took]))
            nodes.append(pick)
            continue
        if isinstance(s, Branch):
            left = nodes[s.left]
            if s.kind == "bool":
                decided = bool(left - s.right)
            else:
                right = nodes[s.right] if isinstance(s.right, int) else s.right
                decided = compare(s.kind, left, right)
            if trail is not None:
                trail.append((s.kind, decided))
            s = s.then if decided else s.orelse
        made.append((len(nodes), s, s.operands))
        nodes.append(s.build(*[nodes[i] for i in s.operands]))
    total = Step("sum", prog.outputs)
    made.append((len(nodes), total, prog.outputs))
    nodes.append(total.build(*[nodes[i] for i in prog.outputs]))
    tail = autograd.dot(ys, [ws[0]] * len(ys))  # every y, so the list length matters
    nodes.append(tail)
    out = nodes[-2] + tail
    nodes.append(out)
    return out, nodes, made


def sensitivities(nodes: list[Value], made: list, ys: list[float]) -> list[float]:
    """S per node: sum over paths to the output of |local derivative| products.

    Local derivatives come from grad() of the step at fresh leaves, one leaf per
    operand position, so a step like ``a - a`` counts both of its terms. The
    output is sum(outputs) + dot(ys, [w0, w0, ...]): w0 gets sum |y| from the dot.
    """
    s = [0.0] * len(nodes)
    s[-1] = s[-2] = s[-3] = 1.0  # out = total + tail
    s[3] += sum(abs(y) for y in ys)
    for at, step, operands in reversed(made):
        if s[at] == 0.0:
            continue
        leaves = [Value(nodes[i].data) for i in operands]
        local = grad(step.build(*leaves), leaves)
        for i, d in zip(operands, local, strict=True):
            s[i] += s[at] * abs(d.data)
    return s


@st.composite
def programs(draw) -> Program:
    bounds = [3.0, 4.0, 3.0, 2.0, 2.0, 2.0, 3.0, 3.0]
    n_steps = draw(st.integers(2, 9))
    max_branches = draw(st.sampled_from([1, 2, 3, 4]))
    steps: list[Any] = []

    def operand() -> int:
        # recent nodes more often, so chains form; any node can be shared
        n = len(bounds)
        return draw(st.one_of(st.integers(0, n - 1), st.integers(max(0, n - 3), n - 1)))

    def plain_step() -> tuple[Step, float]:
        kind = draw(st.sampled_from(["u", "u", "b", "b", "n"]))
        if kind == "u":
            name = draw(st.sampled_from(sorted(UNARY)))
            ops_ = [operand()]
            bound = UNARY[name][1](bounds[ops_[0]])
        elif kind == "b":
            name = draw(st.sampled_from(sorted(BINARY)))
            ops_ = [operand(), operand()]
            bound = BINARY[name][1](bounds[ops_[0]], bounds[ops_[1]])
        else:
            name = draw(st.sampled_from(sorted(NARY)))
            k = draw(st.integers(1, 3)) * (2 if name == "dot" else 1) + (0 if name == "dot" else 1)
            ops_ = [operand() for _ in range(k)]
            bound = NARY[name][1]([bounds[i] for i in ops_])
        squash = bound > LIMIT
        return Step(name, ops_, squash), (1.0 if squash else bound)

    branches = 0
    for _ in range(n_steps):
        what = draw(st.sampled_from(["step", "step", "branch", "pymax"]))
        if what == "branch" and branches < max_branches:
            branches += 1
            kind = draw(st.sampled_from(["<", "<=", ">", ">=", "bool"]))
            left = operand()
            if kind != "bool" and draw(st.booleans()):
                right: int | float = operand()
            else:
                right = draw(st.sampled_from(CONSTANTS))
            (then, b1), (orelse, b2) = plain_step(), plain_step()
            steps.append(Branch(kind, left, right, then, orelse))
            bounds.append(max(b1, b2))
        elif what == "pymax" and branches < max_branches:
            branches += 1
            a, b = operand(), operand()
            steps.append(PyMax(a, b))
            bounds.append(max(bounds[a], bounds[b]))
        else:
            step, bound = plain_step()
            steps.append(step)
            bounds.append(bound)
    n = len(bounds)
    outputs = sorted({n - 1, *draw(st.lists(st.integers(0, n - 1), max_size=3))})
    return Program(steps, outputs)


INPUT = st.one_of(st.sampled_from([*CONSTANTS, 0.25, 2.0]), st.floats(-3, 3))
WEIGHT = st.one_of(st.sampled_from([-1.0, 0.0, 0.5, 1.0]), st.floats(-2, 2))


@st.composite
def calls(draw) -> dict:
    n_ys = draw(st.sampled_from([2, 3]))
    return {
        "x": draw(INPUT),
        "ys": draw(st.lists(INPUT, min_size=n_ys, max_size=n_ys)),
        "p0": draw(INPUT),
        "p1": draw(INPUT),
        "interior": draw(st.booleans()),  # pair[0] an interior node of its own graph
        "ws": draw(st.lists(WEIGHT, min_size=3, max_size=3)),
    }


def close(got: float, want: float, tol: float) -> bool:
    if got != got or want != want:
        return got != got and want != want
    return abs(got - want) <= tol or math.isclose(got, want, rel_tol=1e-12)


@PROGRAMS
@given(programs(), st.lists(calls(), min_size=2, max_size=6))
def test_random_programs_compiled_equal_eager_and_call_fn_as_promised(prog, call_list) -> None:
    ws = [Value(0.0, label=f"w{i}") for i in range(3)]
    p, c = Value(0.5, label="p"), Value(-0.25, label="c")
    fn_calls = [0]

    def fn(x, ys, pair):
        fn_calls[0] += 1
        return run(prog, ws, x, ys, pair)[0]

    step = compile(fn)
    kept: dict[int, list] = {}  # structure (list length) -> paths traced and kept
    eager_structures: set[int] = set()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for k, call in enumerate(call_list):
            for w, v in zip(ws, call["ws"], strict=True):
                w.data = v  # an optimiser's in-place update between calls
            p.data = call["p0"]

            def arg0(call: dict = call) -> Value:
                return p * p + c if call["interior"] else p

            args = (call["x"], list(call["ys"]), (None, call["p1"]))
            watched = [*ws, p, c]

            # eager, on fresh leaves: the reference, and the path it takes
            for v in watched:
                v.grad = 0.0
            trail: list = []
            eager_args = (Value(args[0]), [Value(y) for y in args[1]], (arg0(), Value(args[2][1])))
            out, nodes, made = run(prog, ws, *eager_args, trail=trail)
            out.backward()
            want_value, want_grads = out.data, [v.grad for v in watched]
            sens = sensitivities(nodes, made, args[1])
            s_in = sens[1] * (2 * abs(p.data) if call["interior"] else 1.0)
            input_sens = [sens[3], sens[4], sens[5], s_in, sens[1] if call["interior"] else 0.0]
            value_tol = 1e-12 * sum(s * abs(v.data) for s, v in zip(sens, nodes, strict=True))

            # compiled
            for v in watched:
                v.grad = 0.0
            before = fn_calls[0]
            got = step(args[0], args[1], (arg0(), args[2][1]))
            got.backward()
            got_grads = [v.grad for v in watched]
            note(f"call {k}: {call}; path {trail}; code:\n{step.code}")

            assert close(got.data, want_value, value_tol), (got.data, want_value, value_tol)
            for g, e, s in zip(got_grads, want_grads, input_sens, strict=True):
                assert close(g, e, 1e-12 * s), (got_grads, want_grads, input_sens)

            # fn is called exactly when compile promises
            length = len(args[1])
            path = tuple(trail)
            paths = kept.setdefault(length, [])
            if path in paths:
                expected = 0  # a kept path replays
            elif length in eager_structures:
                expected = 1  # beyond the path limit: eager, every time
            elif len(paths) >= 8:
                expected = 1  # the ninth path: eager from now on, with one warning
                eager_structures.add(length)
            else:
                expected = 1  # a new structure or path: traced once, kept
                paths.append(path)
            assert fn_calls[0] - before == expected, (k, path, paths)
    warned = [w for w in caught if issubclass(w.category, RuntimeWarning)]
    assert len(warned) == len(eager_structures), [str(w.message) for w in warned]
    assert step.traces == sum(len(v) for v in kept.values()) + len(eager_structures)


@settings(max_examples=25 * SCALE, deadline=None)
@given(programs(), st.lists(calls(), min_size=1, max_size=3))
def test_random_programs_second_derivatives_through_compile(prog, call_list) -> None:
    """grad(create_graph=True) through a compiled call differentiates a rebuilt
    copy of the traced graph: the same nodes in the same order as eager, so the
    Hessian rows agree to rounding. The tolerance, 1e-10 times the row's largest
    entry, allows for sums whose terms cancel (their rounding is relative to
    the terms, not the sum) and for the order in which grad() adds the
    contributions of the compiled node and of the rest of the graph."""
    ws = [Value(0.0) for _ in range(3)]
    step = compile(lambda x, ys, pair: run(prog, ws, x, ys, pair)[0])
    for call in call_list:
        for w, v in zip(ws, call["ws"], strict=True):
            w.data = v
        results = []
        for use in (step, None):
            x, y1 = Value(call["x"]), Value(call["p1"])
            leaves = [x, y1, *ws]
            # pair[0] is an interior node made from x and the captured w0: its
            # gradient flows on into both, which fn also reach directly
            pair = (x * ws[0] + call["p0"], y1)
            out = use(x, list(call["ys"]), pair) if use else run(
                prog, ws, x, [Value(y) for y in call["ys"]], pair
            )[0]
            firsts = grad(out, leaves, create_graph=True)
            results.append([[d.data for d in grad(g, leaves)] for g in firsts])
        for got_row, want_row in zip(*results, strict=True):
            scale = max([abs(v) for v in want_row if v == v] + [1.0])
            for a, b in zip(got_row, want_row, strict=True):
                assert close(a, b, 1e-10 * scale), (got_row, want_row)


# --- every op of the table, replayed at kinks, infinities and NaN ---------------------------

SPECIAL = [0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 0.75, 2.0, -2.0, 1e-300, 5e-324, 709.0, 710.0,
           -745.0, 1e300, -1e300, math.inf, -math.inf, math.nan]
PAIRS = [(a, b) for a in SPECIAL[::2] for b in SPECIAL[1::2]] + [
    (0.0, 0.0), (-1.0, 0.5), (2.0, -1.0), (0.0, -1.0), (-2.0, 2.0), (math.inf, 0.0),
    (math.nan, 1.0), (1e300, 1e300), (0.0, math.inf),
]
TRIPLES = [(a, b, c) for a, b, c in zip(SPECIAL, SPECIAL[3:] + SPECIAL[:3],
                                        SPECIAL[7:] + SPECIAL[:7], strict=True)] + [
    (1.0, 1.0, 1.0), (0.0, -0.0, 0.0), (-math.inf, -math.inf, -math.inf), (2.0, 2.0, -1.0),
]

OP_CASES = [
    # (name, fn over Values, points); each fn makes exactly one node of the table
    ("neg", lambda a: -a, SPECIAL),
    ("abs", lambda a: abs(a), SPECIAL),
    ("exp", lambda a: a.exp(), SPECIAL),
    ("log", lambda a: a.log(), SPECIAL),
    ("sqrt", lambda a: a.sqrt(), SPECIAL),
    ("tanh", lambda a: a.tanh(), SPECIAL),
    ("sigmoid", lambda a: a.sigmoid(), SPECIAL),
    ("softplus", lambda a: a.softplus(), SPECIAL),
    ("relu", lambda a: a.relu(), SPECIAL),
    ("sin", lambda a: a.sin(), SPECIAL),
    ("cos", lambda a: a.cos(), SPECIAL),
    ("step", lambda a: a.step(), SPECIAL),
    ("sign", lambda a: a.sign(), SPECIAL),
    ("leaky_relu", lambda a: a.leaky_relu(0.2), SPECIAL),
    ("elu", lambda a: a.elu(0.5), SPECIAL),
    ("hardtanh", lambda a: a.hardtanh(-0.5, 0.75), SPECIAL),
    ("prelu", lambda a, b: a.prelu(b), PAIRS),
    ("+", lambda a, b: a + b, PAIRS),
    ("-", lambda a, b: a - b, PAIRS),
    ("*", lambda a, b: a * b, PAIRS),
    ("/", lambda a, b: a / b, PAIRS),
    ("**", lambda a, b: a**b, PAIRS),  # Value ** Value
    ("** number", lambda a: a**-1.5, SPECIAL),
    ("** 2", lambda a: a**2, SPECIAL),
    ("** 0.5", lambda a: a**0.5, SPECIAL),
    ("sum", lambda a, b, c: autograd.sum([a, b, c]), TRIPLES),
    ("dot", lambda a, b, c: autograd.dot([a], [b], bias=c), TRIPLES),
    ("dot2", lambda a, b, c, d: autograd.dot([a, b], [c, d]),
     [(*t, t[0]) for t in TRIPLES]),
    ("max", lambda a, b, c: autograd.maximum([a, b, c]), TRIPLES),
    ("logsumexp", lambda a, b, c: autograd.logsumexp([a, b, c]), TRIPLES),
]


def outcome(make_out, points) -> tuple:
    """("ok", value, grads) or (stage, error type, message)."""
    leaves = [Value(p) for p in points]
    try:
        out = make_out(leaves)
    except Exception as err:  # noqa: BLE001 - compared below
        return ("forward", type(err).__name__, str(err))
    try:
        out.backward()
    except Exception as err:  # noqa: BLE001
        return ("backward", type(err).__name__, str(err))
    return ("ok", out.data, [v.grad for v in leaves])


def same_outcome(got: tuple, want: tuple) -> bool:
    if got[0] != want[0]:
        return False
    if got[0] != "ok":
        return got == want
    values = [got[1], *got[2]], [want[1], *want[2]]
    return all(close(a, b, 0.0) for a, b in zip(*values, strict=True))


def test_the_op_cases_cover_the_whole_table() -> None:
    made = set()
    for _name, fn, points in OP_CASES:
        made.add(fn(*[Value(0.5) for _ in points[0]]).op if isinstance(points[0], tuple)
                 else fn(Value(0.5)).op)
    table = {op.name for op in vars(ops).values() if isinstance(op, ops.Op)}
    table |= {"leaky_relu", "elu", "hardtanh"}  # made by factories, one op per parameter
    assert table <= made, table - made


@pytest.mark.parametrize(("name", "fn", "points"), OP_CASES, ids=[c[0] for c in OP_CASES])
def test_every_op_replays_like_eager_at_kinks_infinities_and_nan(name, fn, points) -> None:
    arity = len(points[0]) if isinstance(points[0], tuple) else 1
    step = compile(fn)
    regular = [0.3, 0.7, 1.1, 0.9][:arity]
    step(*[Value(v) for v in regular]).backward()  # the one trace, at an ordinary point
    for point in points:
        args = point if isinstance(point, tuple) else (point,)
        got = outcome(lambda leaves: step(*leaves), args)
        want = outcome(lambda leaves: fn(*leaves), args)
        assert same_outcome(got, want), (name, args, got, want)
    assert step.traces == 1  # no op branches in Python: one trace serves every point
