"""dot and dots, bit for bit: the layer path (dots) against one dot per row, and the
dot rule's backward step against the order it documents.

autograd.compile replays these rules and compares with ==, so "close" is not
enough: every value and every gradient must be the same float, NaN and signed
zeros included, and an operand that appears twice must receive its
contributions in the documented order (w_1, x_1, w_2, x_2, ..., then the bias).
"""

from __future__ import annotations

import math

from hypothesis import example, given, settings
from hypothesis import strategies as st

import autograd
from autograd import Value


def examples(fraction: float) -> int:
    """This file's share of the active profile's example count (tests/conftest.py)."""
    return max(10, int(fraction * settings.default.max_examples))


EXAMPLES = settings(max_examples=examples(0.4), deadline=None)

# Floats that make signed zeros and NaN likely: 0.0 * -x is -0.0, inf * 0.0 is NaN.
floats = st.one_of(
    st.sampled_from([0.0, -0.0, 1.0, -1.0, math.inf, -math.inf, math.nan, 1e308, 5e-324]),
    st.floats(allow_nan=True, allow_infinity=True),
)


def bits(x: float) -> str:
    """A float's exact identity: float.hex tells -0.0 from 0.0 (NaN prints one way)."""
    return float(x).hex()


@st.composite
def layers(draw):
    """Rows of weights over shared inputs, with or without biases; numbers mixed in."""
    n = draw(st.integers(1, 5))  # (dot of nothing is a Constant; dots makes an empty dot node)
    rows = draw(st.integers(1, 4))
    xs = [draw(floats) for _ in range(n)]
    ws = [[draw(floats) for _ in range(n)] for _ in range(rows)]
    bs = [draw(st.one_of(st.none(), floats)) for _ in range(rows)]
    as_numbers = draw(st.booleans())  # some weights given as plain numbers
    g = draw(floats)
    return xs, ws, bs, as_numbers, g


@EXAMPLES
@given(layers())
@example(([1.0, 1.0, 1.0], [[0.1, 0.2, 0.3]], [None], False, 1.0))  # (0.1+0.2)+0.3 != 0.1+(0.2+0.3)
@example(([1.0, 1.0], [[0.1, 0.2], [0.2, 0.1]], [0.3, None], True, -0.0))
def test_dots_is_one_dot_per_row_bit_for_bit(case):
    xs, ws, bs, as_numbers, g = case

    def run(build):
        x = [Value(v) for v in xs]
        w = [[v if as_numbers and i % 2 else Value(v) for i, v in enumerate(r)] for r in ws]
        b = [None if v is None else Value(v) for v in bs]
        outs = build(w, x, b)
        for out in outs:
            out.grad = g
            out._backward()
        leaves = x + [v for r in w for v in r if isinstance(v, Value)] + [v for v in b if v]
        return [(o.op, len(o.parents), bits(o.data)) for o in outs], [bits(v.grad) for v in leaves]

    layer = run(lambda w, x, b: autograd.dots(w, x, b))
    rows = run(lambda w, x, b: [autograd.dot(r, x, bias=c) for r, c in zip(w, b, strict=True)])
    assert layer == rows


def test_dots_records_nothing_under_no_grad():
    with autograd.no_grad():
        (out,) = autograd.dots([[Value(2.0)]], [Value(3.0)], [Value(1.0)])
    assert out.data == 7.0 and out.is_leaf and out.parents == ()


@EXAMPLES
@given(st.lists(floats, min_size=1, max_size=4), floats, st.booleans())
@example([1.0, 1e16, -1e16], 1.0, True)  # bias first would give 4.0, not 3.0
@example([1.0, 1e16, -1e16, 1.0], 1.0, False)  # 1 + 1 + 1e16 - 1e16 + 1, in that order
def test_dot_step_adds_in_documented_order(ws, g, with_bias):
    """One Value used as every weight, every input and the bias: its gradient is the
    float sum of the contributions, added w_i then x_i for each i, then the bias."""
    shared = Value(ws[0])
    others = [Value(v) for v in ws[1:]]
    w = [shared, *others]
    x = [shared] * len(w)
    out = autograd.dot(w, x, bias=shared if with_bias else None)
    out.grad = g
    out._backward()
    expected = {id(v): 0.0 for v in w}
    for wi, xi in zip(w, x, strict=True):
        expected[id(wi)] += g * xi.data
        expected[id(xi)] += g * wi.data
    if with_bias:
        expected[id(shared)] += g
    assert [bits(v.grad) for v in w] == [bits(expected[id(v)]) for v in w]


def test_zero_gradient_keeps_nan_and_signed_zeros():
    w, x = Value(-2.0), Value(math.inf)
    out = autograd.dots([[w]], [x])[0]
    out.grad = 0.0
    out._backward()
    assert math.isnan(w.grad)  # 0 * inf
    assert bits(x.grad) == bits(-0.0 + 0.0)  # 0.0 + (0 * -2) = 0.0 + -0.0 = 0.0
    leaf = Value(1.0)
    leaf.grad = -0.0
    out = autograd.dots([[leaf]], [Value(-3.0)])[0]
    out.grad = 0.0
    out._backward()
    assert bits(leaf.grad) == bits(-0.0)  # -0.0 + (0.0 * -3.0) = -0.0 + -0.0
