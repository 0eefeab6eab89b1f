"""Hypothesis strategies for property tests of code built on autograd.

Importing this module imports hypothesis (``pip install "chainrule[testing]"``, or
from a clone ``pip install -e ".[testing]"``); ``import autograd`` alone never does.
Three strategies:

- ``values()``: leaf Values holding finite floats;
- ``expressions(leaves)``: random computation graphs over the given leaves;
- ``functions()``: random ``(f, arity)`` pairs, ``f(*Values) -> Value``.

A property test in five lines::

    from hypothesis import given, strategies as st
    from autograd import gradcheck
    from autograd.strategies import functions

    @given(functions(), st.data())
    def test_backprop_matches_finite_differences(fn, data):
        f, n = fn
        xs = data.draw(st.lists(st.floats(-10, 10), min_size=n, max_size=n))
        assert gradcheck(f, xs)

How the graphs are made
-----------------------
A graph is a list of steps. Each step applies one op to operands drawn from
ALL earlier nodes (the inputs and every earlier step), so nodes are shared and
diamonds are common; the last step is the output. Every op is applied in a form
whose input domain is safe by construction, whatever its operands hold:
``log`` sees ``e*e + 1`` or ``softplus(e) + 1e-3``, ``sqrt`` sees ``e*e + 1``,
``/`` divides by ``e*e + 1``, a Value exponent gets the base ``sigmoid(e) + 0.5``,
number exponents are small integers on any base or fixed fractions on ``e*e + 1``.
Magnitudes stay small by construction too: while a graph is drawn, each node
carries an interval that contains its value for every input in the stated
bounds, and a step whose interval would leave [-100, 100] (``exp``, ``*``, ``**``
of large operands) is applied to ``tanh`` of its operands instead. So every
expression is finite, and finite differences of it are accurate. For the ops that
never decrease as an operand grows (exp, log, tanh, relu, logsumexp, maximum, ...)
the interval is the op table's own forward rule (autograd/ops.py) at both ends, so
it cannot drift from what the op computes.

Ops are named as in ``SMOOTH_OPS`` and ``NONSMOOTH_OPS``. The default is
``SMOOTH_OPS``: each is infinitely differentiable in the form it is built, so
``gradcheck`` and ``gradgradcheck`` hold at every point. The ops in
``NONSMOOTH_OPS`` (relu, abs, step, maximum, ...) have kinks, and hypothesis
readily finds inputs exactly on a kink (0.0, or x - x), where a one-sided
derivative cannot match a central difference; ask for them with
``ops=ALL_OPS`` in tests that do not compare with finite differences.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

try:
    import hypothesis.strategies as st
    from hypothesis import note
    from hypothesis.strategies import SearchStrategy
except ImportError as _err:
    raise ImportError(
        f"autograd.strategies needs the optional package 'hypothesis', which could not be "
        f"imported ({_err}); install the testing extra: pip install \"chainrule[testing]\" "
        f"(from a clone: pip install -e \".[testing]\")",
        name="hypothesis",
    ) from _err

from . import Value, dot, logsumexp, maximum, ops
from . import sum as value_sum

__all__ = [
    "ALL_OPS",
    "NONSMOOTH_OPS",
    "SMOOTH_OPS",
    "RandomFunction",
    "expressions",
    "functions",
    "values",
]

#: Largest magnitude a node may reach for inputs within the stated bounds.
CAP = 100.0
# Largest magnitude any intermediate value may reach while a step is being
# built (e*e inside e*e + 1, say); beyond it the step squashes its operands.
_HUGE = 1e100


# --- leaves ---------------------------------------------------------------------------

def values(
    min_value: float = -10, max_value: float = 10, label: str | None = None
) -> SearchStrategy[Value]:
    """Leaf Values whose data is a finite float in [min_value, max_value].

    ``label`` is given to every Value drawn (default: no label).
    """
    lo = _finite(min_value, "values", "min_value")
    hi = _finite(max_value, "values", "max_value")
    if lo > hi:
        raise ValueError(f"values: min_value {lo!r} must not exceed max_value {hi!r}")
    if label is not None and not isinstance(label, str):
        raise TypeError(f"values: label must be a str or None, got {label!r}")
    floats = st.floats(lo, hi, allow_nan=False, allow_infinity=False)

    @st.composite  # not .map(): hypothesis then reports failing examples by repr()
    def leaf(draw) -> Value:
        return Value(draw(floats), label=label or "")

    return leaf()


# --- three readings of one graph: Values, bounds, and source text --------------------

def _non_decreasing(table_op: ops.Op | Callable[..., ops.Op], unsafe: str | None = None):
    """An _Interval method for an op that never decreases as its operand grows: the op
    table's forward rule at both ends. ``table_op`` is an op of the table, or one of its
    factories (leaky_relu(slope), ...), called with the method's parameters. ``unsafe``
    names the check that the interval lies where the op is defined (x > 0)."""

    def method(self, *params):
        if unsafe is not None:
            assert self.lo > 0, unsafe
        op = table_op if isinstance(table_op, ops.Op) else table_op(*params)
        return self._map(op.forward)

    return method


def _non_decreasing_nary(table_op: ops.Op):
    """The same for an n-ary op that never decreases as any operand grows."""

    def method(xs):
        return _Interval(table_op.forward([x.lo for x in xs]), table_op.forward([x.hi for x in xs]))

    return staticmethod(method)


class _Interval:
    """[lo, hi] containing a node's value for every input in bounds.

    Supports the operations the op builders use. Domain-restricted ones assert
    that the interval is inside the domain: this is the check that the
    constructions below are safe, not a filter.
    """

    __slots__ = ("lo", "hi")

    def __init__(self, lo: float, hi: float) -> None:
        self.lo, self.hi = float(lo), float(hi)
        if not max(abs(self.lo), abs(self.hi)) <= _HUGE:  # also catches NaN
            raise OverflowError("interval too wide")

    @property
    def magnitude(self) -> float:
        return max(abs(self.lo), abs(self.hi))

    def _map(self, fn: Callable[[float], float]) -> _Interval:
        """For a non-decreasing ``fn``."""
        return _Interval(fn(self.lo), fn(self.hi))

    def __add__(self, o):
        o = _as_interval(o)
        return _Interval(self.lo + o.lo, self.hi + o.hi)

    __radd__ = __add__

    def __sub__(self, o):
        o = _as_interval(o)
        return _Interval(self.lo - o.hi, self.hi - o.lo)

    def __rsub__(self, o):
        return _as_interval(o) - self

    def __mul__(self, o):
        if o is self:  # a square is never negative: the form e*e + 1 relies on it
            m = self.magnitude
            low = 0.0 if self.lo <= 0 <= self.hi else min(self.lo**2, self.hi**2)
            return _Interval(low, m * m)
        o = _as_interval(o)
        c = (self.lo * o.lo, self.lo * o.hi, self.hi * o.lo, self.hi * o.hi)
        return _Interval(min(c), max(c))

    __rmul__ = __mul__

    def __truediv__(self, o):
        o = _as_interval(o)
        assert o.lo > 0, "unsafe division"
        return self * _Interval(1.0 / o.hi, 1.0 / o.lo)

    def __pow__(self, p):
        if isinstance(p, _Interval):
            assert self.lo > 0, "unsafe power with a Value exponent"
            c = [b**e for b in (self.lo, self.hi) for e in (p.lo, p.hi)]
            return _Interval(min(c), max(c))
        if float(p).is_integer() and p >= 0:
            k = int(p)
            if k % 2 or self.lo >= 0:
                return _Interval(self.lo**k, self.hi**k) if k else _Interval(1, 1)
            if self.hi <= 0:
                return _Interval(self.hi**k, self.lo**k)
            return _Interval(0.0, self.magnitude**k)
        assert self.lo > 0, "unsafe power"
        a, b = self.lo**p, self.hi**p
        return _Interval(min(a, b), max(a, b))

    def __neg__(self):
        return _Interval(-self.hi, -self.lo)

    def __abs__(self):
        if self.lo >= 0:
            return _Interval(self.lo, self.hi)  # a new object: identity means "same node"
        if self.hi <= 0:
            return -self
        return _Interval(0.0, self.magnitude)

    # Derived from the op table. The strategies draw leaky_relu slopes and elu alphas
    # >= 0 only, where those two never decrease.
    exp = _non_decreasing(ops.EXP)
    log = _non_decreasing(ops.LOG, "unsafe log")
    sqrt = _non_decreasing(ops.SQRT, "unsafe sqrt")  # > 0: the derivative is infinite at 0
    tanh = _non_decreasing(ops.TANH)
    sigmoid = _non_decreasing(ops.SIGMOID)
    softplus = _non_decreasing(ops.SOFTPLUS)
    relu = _non_decreasing(ops.RELU)
    leaky_relu = _non_decreasing(ops.leaky_relu)
    elu = _non_decreasing(ops.elu)
    hardtanh = _non_decreasing(ops.hardtanh)
    step = _non_decreasing(ops.STEP)
    n_sum = _non_decreasing_nary(ops.SUM)
    n_max = _non_decreasing_nary(ops.MAX)
    n_logsumexp = _non_decreasing_nary(ops.LOGSUMEXP)

    def sin(self):
        return _Interval(-1.0, 1.0)

    cos = sin

    def sign(self):
        return _Interval(-1.0 if self.lo < 0 else 0.0, 1.0 if self.hi > 0 else 0.0)

    def prelu(self, slope):
        """x for x > 0, else slope * x: not monotone in the slope, so each side apart."""
        slope = _as_interval(slope)
        sides = []
        if self.hi > 0:
            sides.append(_Interval(max(self.lo, 0.0), self.hi))
        if self.lo <= 0:
            sides.append(_Interval(self.lo, min(self.hi, 0.0)) * slope)
        return _Interval(min(p.lo for p in sides), max(p.hi for p in sides))

    @staticmethod
    def n_dot(ws, xs, bias):
        total = _Interval.n_sum([w * x for w, x in zip(ws, xs, strict=True)])
        return total if bias is None else total + bias


def _leaf_interval(lo: float, hi: float) -> _Interval:
    """An input's interval, which may be wider than any result is allowed to be."""
    iv = object.__new__(_Interval)
    iv.lo, iv.hi = float(lo), float(hi)
    return iv


def _as_interval(x) -> _Interval:
    return x if isinstance(x, _Interval) else _Interval(x, x)


class _Source:
    """Python source text of a node, for reprs and failure reports."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __str__(self) -> str:
        return self.text

    def _bin(self, op, o, reverse=False):
        a, b = str(self), _src(o)
        return _Source(f"({b} {op} {a})" if reverse else f"({a} {op} {b})")

    def __add__(self, o):
        return self._bin("+", o)

    def __radd__(self, o):
        return self._bin("+", o, True)

    def __sub__(self, o):
        return self._bin("-", o)

    def __rsub__(self, o):
        return self._bin("-", o, True)

    def __mul__(self, o):
        return self._bin("*", o)

    def __rmul__(self, o):
        return self._bin("*", o, True)

    def __truediv__(self, o):
        return self._bin("/", o)

    def __pow__(self, o):
        return self._bin("**", o)

    def __neg__(self):
        return _Source(f"(-{self})")

    def __abs__(self):
        return _Source(f"abs({self})")

    def __getattr__(self, method):  # exp, log, ..., hardtanh(lo, hi)
        def call(*args):
            return _Source(f"{self}.{method}({', '.join(_src(a) for a in args)})")

        return call

    @staticmethod
    def n_sum(xs):
        return _Source(f"autograd.sum([{', '.join(map(str, xs))}])")

    @staticmethod
    def n_dot(ws, xs, bias):
        extra = "" if bias is None else f", bias={bias}"
        return _Source(
            f"autograd.dot([{', '.join(map(str, ws))}], [{', '.join(map(str, xs))}]{extra})"
        )

    @staticmethod
    def n_max(xs):
        return _Source(f"autograd.maximum([{', '.join(map(str, xs))}])")

    @staticmethod
    def n_logsumexp(xs):
        return _Source(f"autograd.logsumexp([{', '.join(map(str, xs))}])")


def _src(x) -> str:
    return str(x) if isinstance(x, _Source) else repr(x)


class _Values:
    """The n-ary helpers for real Values (the other readings define their own)."""

    n_sum = staticmethod(value_sum)

    @staticmethod
    def n_dot(ws, xs, bias):
        return dot(ws, xs) if bias is None else dot(ws, xs, bias)

    n_max = staticmethod(maximum)
    n_logsumexp = staticmethod(logsumexp)


def _kind(x):
    return _Values if isinstance(x, Value) else type(x)


# --- the ops: how each is built so that its domain is safe ----------------------------

@dataclass(frozen=True)
class _Op:
    """``build(operands, param)`` works on Values, _Intervals and _Sources alike."""

    arity: Callable[[object], int]
    build: Callable[[list, object], object]
    params: SearchStrategy | None = None


def _fixed(n: int) -> Callable[[object], int]:
    return lambda param: n


def _pow(xs, p):
    if p == "value":  # Value ** Value needs a positive base: sigmoid(e) + 0.5 is in (0.5, 1.5)
        return (xs[0].sigmoid() + 0.5) ** xs[1]
    if isinstance(p, int):  # small integer powers are defined for every base
        return xs[0] ** p
    return (xs[0] * xs[0] + 1) ** p  # fractional and negative powers of a base >= 1


def _log(xs, p):
    e = xs[0]
    return (e * e + 1).log() if p == "square" else (e.softplus() + 1e-3).log()


def _dot(xs, bias):
    n = (len(xs) - bias) // 2
    k = _kind(xs[0])
    return k.n_dot(xs[:n], xs[n : 2 * n], xs[-1] if bias else None)


_SMOOTH = {
    "+": _Op(_fixed(2), lambda xs, p: xs[0] + xs[1]),
    "-": _Op(_fixed(2), lambda xs, p: xs[0] - xs[1]),
    "*": _Op(_fixed(2), lambda xs, p: xs[0] * xs[1]),
    "/": _Op(_fixed(2), lambda xs, p: xs[0] / (xs[1] * xs[1] + 1)),
    "**": _Op(
        lambda p: 2 if p == "value" else 1,
        _pow,
        st.sampled_from([2, 3, 1, "value", 0.5, -1.0, 1.5, -0.5]),
    ),
    "neg": _Op(_fixed(1), lambda xs, p: -xs[0]),
    "exp": _Op(_fixed(1), lambda xs, p: xs[0].exp()),
    "log": _Op(_fixed(1), _log, st.sampled_from(["square", "softplus"])),
    "sqrt": _Op(_fixed(1), lambda xs, p: (xs[0] * xs[0] + 1).sqrt()),
    "tanh": _Op(_fixed(1), lambda xs, p: xs[0].tanh()),
    "sigmoid": _Op(_fixed(1), lambda xs, p: xs[0].sigmoid()),
    "softplus": _Op(_fixed(1), lambda xs, p: xs[0].softplus()),
    "sin": _Op(_fixed(1), lambda xs, p: xs[0].sin()),
    "cos": _Op(_fixed(1), lambda xs, p: xs[0].cos()),
    "sum": _Op(lambda n: n, lambda xs, p: _kind(xs[0]).n_sum(xs), st.integers(2, 4)),
    # param: (pairs, bias?) flattened to the operand count; odd means a bias operand
    "dot": _Op(lambda n: n, lambda xs, p: _dot(xs, p % 2), st.sampled_from([2, 3, 4, 5])),
    "logsumexp": _Op(lambda n: n, lambda xs, p: _kind(xs[0]).n_logsumexp(xs), st.integers(1, 3)),
}

_NONSMOOTH = {
    "abs": _Op(_fixed(1), lambda xs, p: abs(xs[0])),
    "relu": _Op(_fixed(1), lambda xs, p: xs[0].relu()),
    "leaky_relu": _Op(
        _fixed(1), lambda xs, p: xs[0].leaky_relu(p), st.sampled_from([0.01, 0.1, 0.2])
    ),
    "elu": _Op(_fixed(1), lambda xs, p: xs[0].elu(p), st.sampled_from([1.0, 0.5])),
    "hardtanh": _Op(
        _fixed(1),
        lambda xs, p: xs[0].hardtanh(*p),
        st.sampled_from([(-1.0, 1.0), (-2.0, 0.5), (0.0, 3.0)]),
    ),
    "step": _Op(_fixed(1), lambda xs, p: xs[0].step()),
    "sign": _Op(_fixed(1), lambda xs, p: xs[0].sign()),
    "maximum": _Op(lambda n: n, lambda xs, p: _kind(xs[0]).n_max(xs), st.integers(2, 3)),
    # the slope is a node too (it learns in nn.PReLU); the kink is at x = 0
    "prelu": _Op(_fixed(2), lambda xs, p: xs[0].prelu(xs[1])),
}

_OPS = {**_SMOOTH, **_NONSMOOTH}

#: Ops smooth in the form they are built: safe for gradcheck and gradgradcheck anywhere.
SMOOTH_OPS: tuple[str, ...] = tuple(_SMOOTH)
#: Ops with kinks (one-sided derivatives at isolated points).
NONSMOOTH_OPS: tuple[str, ...] = tuple(_NONSMOOTH)
#: Every op name the strategies know.
ALL_OPS: tuple[str, ...] = SMOOTH_OPS + NONSMOOTH_OPS


# --- graphs as recipes ---------------------------------------------------------------

@dataclass(frozen=True)
class _Step:
    op: str
    operands: tuple[int, ...]  # indices into inputs + earlier steps
    param: object
    squash: bool  # apply the op to tanh of each operand, to keep magnitudes small


@dataclass(frozen=True)
class _Recipe:
    arity: int
    steps: tuple[_Step, ...]

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
    return _OPS[name].build(operands, param)


def _named_lines(recipe: _Recipe, names: Sequence[str]) -> list[str]:
    """Source lines where every earlier node is referred to by its name."""
    labels = [_Source(n) for n in names]
    lines = []
    for s in recipe.steps:
        text = str(_apply_step(s.op, s.param, _operands(labels, s.operands, s.squash)))
        if text.startswith("(") and text.endswith(")") and _balanced(text[1:-1]):
            text = text[1:-1]
        name = f"v{len(labels)}"
        lines.append(f"{name} = {text}")
        labels.append(_Source(name))
    return lines


def _balanced(text: str) -> bool:
    depth = 0
    for ch in text:
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if depth < 0:
            return False
    return depth == 0


@st.composite
def _recipes(draw, bounds: Sequence[tuple[float, float]], names, min_ops, max_ops):
    """Draw the steps, tracking each node's interval to decide where to squash."""
    intervals = [_leaf_interval(lo, hi) for lo, hi in bounds]
    steps = []
    for _ in range(draw(st.integers(min_ops, max_ops))):
        name = draw(st.sampled_from(names))
        op = _OPS[name]
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
        except OverflowError:  # raised by _Interval, or by float ** itself
            squash = True
        if squash:
            result = _apply_step(name, param, _operands(intervals, idx, True))
        steps.append(_Step(name, idx, param, squash))
        intervals.append(result)
    return _Recipe(len(bounds), tuple(steps))


class RandomFunction:
    """A function drawn by ``functions()``: call it with ``arity`` Values (or numbers).

    Each call builds a fresh graph. ``source`` is the function as Python code,
    which hypothesis shows when a test fails; paste it to reproduce.
    """

    def __init__(self, recipe: _Recipe) -> None:
        self._recipe = recipe
        self.arity = recipe.arity
        names = [f"x{i}" for i in range(recipe.arity)]
        body = _named_lines(recipe, names)
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


# --- public strategies ---------------------------------------------------------------

def expressions(
    leaves: Sequence[Value] | SearchStrategy,
    ops: Iterable[str] | None = None,
    min_ops: int = 1,
    max_ops: int = 6,
) -> SearchStrategy[Value]:
    """Random computation graphs over ``leaves``; each example is the output Value.

    ``leaves`` is a list of Values, or a strategy drawing either such a list or
    single Values (then one to three are drawn, e.g. ``expressions(values())``).
    Between ``min_ops`` and ``max_ops`` ops are applied, each to operands chosen
    among the leaves and all earlier results, so leaves and intermediate nodes
    are shared. ``ops`` names the ops to use (default ``SMOOTH_OPS``; see the
    module docstring); an unknown name raises ``ValueError`` listing the valid
    ones. Every expression is finite: domains and magnitudes are safe by
    construction for the leaves' actual values. The source of each expression
    drawn is recorded with ``hypothesis.note``.
    """
    names = _op_names(ops, "expressions")
    min_ops, max_ops = _op_counts(min_ops, max_ops, "expressions")
    if not isinstance(leaves, SearchStrategy):
        leaves = _leaf_list(leaves)

    @st.composite
    def build(draw):
        got = leaves
        if isinstance(got, SearchStrategy):
            first = draw(got)
            if isinstance(first, Value):
                got = [first, *draw(st.lists(leaves, max_size=2))]
            else:
                got = first
            got = _leaf_list(got)
        bounds = [(-max(1.0, abs(v.data)), max(1.0, abs(v.data))) for v in got]
        recipe = draw(_recipes(bounds, names, min_ops, max_ops))
        labels = [f"x{i}" for i in range(len(got))]
        note(
            "expression over "
            + ", ".join(f"{n} = {v.data!r}" for n, v in zip(labels, got, strict=True))
            + ":\n"
            + "\n".join(_named_lines(recipe, labels))
        )
        return recipe.run(got)[-1]

    return build()


def functions(
    arity: int | SearchStrategy[int] | None = None,
    ops: Iterable[str] | None = None,
    min_ops: int = 1,
    max_ops: int = 6,
    bound: float = 10.0,
) -> SearchStrategy[tuple[RandomFunction, int]]:
    """Random ``(f, arity)`` pairs, where ``f(*Values) -> Value`` builds a graph.

    ``arity`` is a fixed int, a strategy of ints, or None for 1 to 3. ``ops``,
    ``min_ops`` and ``max_ops`` are as for ``expressions``. ``f`` is finite, with
    safe domains and small magnitudes, for every argument in [-bound, bound]. It
    builds a fresh graph on each call; ``f.source`` is its Python code.
    """
    names = _op_names(ops, "functions")
    min_ops, max_ops = _op_counts(min_ops, max_ops, "functions")
    b = _finite(bound, "functions", "bound")
    if b <= 0:
        raise ValueError(f"functions: bound must be positive, got {b!r}")
    if arity is None:
        arities = st.integers(1, 3)
    elif isinstance(arity, SearchStrategy):
        arities = arity
    elif isinstance(arity, int) and not isinstance(arity, bool) and arity >= 1:
        arities = st.just(arity)
    else:
        raise ValueError(
            f"functions: arity must be a positive int, a strategy or None, got {arity!r}"
        )

    @st.composite  # not .map(): hypothesis then reports failing examples by repr()
    def pair(draw) -> tuple[RandomFunction, int]:
        n = draw(arities)
        if not isinstance(n, int) or isinstance(n, bool) or n < 1:
            raise ValueError(f"functions: the arity strategy drew {n!r}, not a positive int")
        return RandomFunction(draw(_recipes([(-b, b)] * n, names, min_ops, max_ops))), n

    return pair()


# --- argument checks --------------------------------------------------------------------

def _finite(x, who: str, name: str) -> float:
    if isinstance(x, Value) or not isinstance(x, numbers.Real):
        raise TypeError(f"{who}: {name} must be a real number, got {x!r}")
    x = float(x)
    if not math.isfinite(x):
        raise ValueError(f"{who}: {name} must be finite, got {x!r}")
    return x


def _op_names(ops, who: str) -> tuple[str, ...]:
    if ops is None:
        return SMOOTH_OPS
    if isinstance(ops, str):
        ops = [ops]
    names = tuple(dict.fromkeys(ops))
    unknown = [n for n in names if n not in _OPS]
    if unknown:
        raise ValueError(
            f"{who}: unknown op name(s) {', '.join(map(repr, unknown))}; "
            f"valid names are {', '.join(ALL_OPS)}"
        )
    if not names:
        raise ValueError(
            f"{who}: ops must name at least one op; valid names are {', '.join(ALL_OPS)}"
        )
    return names


def _op_counts(min_ops, max_ops, who: str) -> tuple[int, int]:
    for name, n in (("min_ops", min_ops), ("max_ops", max_ops)):
        if not isinstance(n, int) or isinstance(n, bool) or n < 1:
            raise ValueError(f"{who}: {name} must be an int >= 1, got {n!r}")
    if min_ops > max_ops:
        raise ValueError(f"{who}: min_ops {min_ops} must not exceed max_ops {max_ops}")
    return min_ops, max_ops


def _leaf_list(leaves) -> list[Value]:
    if isinstance(leaves, Value):
        leaves = [leaves]
    if not isinstance(leaves, Iterable):
        raise TypeError(
            f"expressions: leaves must be a list of Values or a strategy, got {leaves!r}"
        )
    got = list(leaves)
    if not got:
        raise ValueError("expressions: leaves must not be empty")
    for i, v in enumerate(got):
        if not isinstance(v, Value):
            raise TypeError(f"expressions: leaves[{i}] must be a Value, got {v!r}")
        if not math.isfinite(v.data):
            raise ValueError(f"expressions: leaves[{i}] must be finite, got {v.data!r}")
    return got
