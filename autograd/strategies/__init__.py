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

The package: this module holds the three strategies and their argument checks;
builders.py the ops in their safe forms, intervals.py the bounds, source.py the
source text, and recipes.py the drawn steps and ``RandomFunction``.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Sequence

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

from .. import Value
from .builders import ALL_OPS, NONSMOOTH_OPS, OPS, SMOOTH_OPS
from .recipes import RandomFunction, named_lines, recipes

__all__ = [
    "ALL_OPS",
    "NONSMOOTH_OPS",
    "SMOOTH_OPS",
    "RandomFunction",
    "expressions",
    "functions",
    "values",
]


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
        recipe = draw(recipes(bounds, names, min_ops, max_ops))
        labels = [f"x{i}" for i in range(len(got))]
        note(
            "expression over "
            + ", ".join(f"{n} = {v.data!r}" for n, v in zip(labels, got, strict=True))
            + ":\n"
            + "\n".join(named_lines(recipe, labels))
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
        return RandomFunction(draw(recipes([(-b, b)] * n, names, min_ops, max_ops))), n

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
    unknown = [n for n in names if n not in OPS]
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
