"""Forward values of every op, the graph each op records, and numerics at the extremes.

Forward values are compared with the ``math`` module. Where the library must
do exactly the float operation (+, *, max, relu, ...), equality is exact; where
it uses a rearranged formula (sigmoid, softplus, sums), the tolerance is a few
units of rounding of the quantities involved, stated at each test.
"""

from __future__ import annotations

import math
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd
from autograd import Value


def examples(fraction: float) -> int:
    """This file's share of the active profile's example count (tests/conftest.py)."""
    return max(10, int(fraction * settings.default.max_examples))


EPS = sys.float_info.epsilon
EXAMPLES = settings(max_examples=examples(0.6), deadline=None)

finite = st.floats(allow_nan=False, allow_infinity=False)
moderate = st.floats(-1e6, 1e6)


def grad_of(method, x, *args):
    """(value, derivative) of ``Value(x).method(*args)`` through backward()."""
    v = Value(x)
    out = getattr(v, method)(*args)
    out.backward()
    return out.data, v.grad


# --- forward values --------------------------------------------------------------


@EXAMPLES
@given(moderate, moderate)
def test_arithmetic_matches_float_arithmetic_exactly(x, y):
    a, b = Value(x), Value(y)
    assert (a + b).data == x + y
    assert (a - b).data == x - y
    assert (a * b).data == x * y
    assert (-a).data == -x
    assert abs(a).data == abs(x)
    assert (a + 2.5).data == x + 2.5 and (2.5 + a).data == 2.5 + x
    assert (a - 2.5).data == x - 2.5 and (2.5 - a).data == 2.5 - x
    assert (a * 3).data == x * 3 and (3 * a).data == 3 * x
    if y != 0:
        assert (a / b).data == x / y
        assert (7 / b).data == 7 / y
    for result in (a + b, a * 2, 2 - a, a / 4):
        assert type(result.data) is float


@EXAMPLES
@given(st.floats(1e-3, 1e3), st.floats(-6, 6))
def test_powers_match_float_pow(x, n):
    assert (Value(x) ** n).data == x**n
    assert (Value(x) ** Value(n)).data == x**n
    assert ((n**2 + 1) ** Value(x / 1e3)).data == (n**2 + 1) ** (x / 1e3)
    assert (Value(-x) ** 3).data == (-x) ** 3
    assert (Value(-x) ** 2.0).data == (-x) ** 2.0


def within_ulps(got: float, ref: float, n: int = 2) -> bool:
    """Within n units in the last place of the math module's (faithful) result."""
    return abs(got - ref) <= n * math.ulp(ref)


@EXAMPLES
@given(st.floats(-700, 700))
def test_transcendentals_match_math(x):
    # The math module's results are within an ulp of the truth; any formula the
    # library uses should be too, so allow 2 ulps (sqrt is correctly rounded: exact).
    v = Value(x)
    assert within_ulps(v.exp().data, math.exp(x))
    assert within_ulps(v.tanh().data, math.tanh(x))
    assert within_ulps(v.sin().data, math.sin(x))
    assert within_ulps(v.cos().data, math.cos(x))
    if x != 0:
        assert within_ulps(abs(v).log().data, math.log(abs(x)))
    assert Value(abs(x) + 1e-3).sqrt().data == math.sqrt(abs(x) + 1e-3)
    assert within_ulps(Value(abs(x) + 1e-3).log().data, math.log(abs(x) + 1e-3))


@EXAMPLES
@given(st.floats(-700, 700))
def test_sigmoid_and_softplus_values(x):
    # Reference in exact-enough form: 1/(1+e^-x) has a few roundings; the library
    # may rearrange it (e^x / (1 + e^x) for x < 0), so allow 4 eps relative.
    ref = 1.0 / (1.0 + math.exp(-x))
    assert Value(x).sigmoid().data == pytest.approx(ref, rel=4 * EPS, abs=0)
    # softplus = log(1 + e^x); log1p keeps the small-x tail accurate. The
    # library's max(x, 0) + log1p(e^-|x|) form differs by a few roundings of |f|.
    ref = math.log1p(math.exp(x)) if x < 30 else x + math.log1p(math.exp(-x))
    assert Value(x).softplus().data == pytest.approx(ref, rel=4 * EPS, abs=0)


@EXAMPLES
@given(finite, st.floats(-3, 3), st.floats(0, 5))
def test_piecewise_units(x, slope, alpha):
    v = Value(x)
    assert v.relu().data == (x if x > 0 else 0.0)
    assert v.leaky_relu(slope).data == (x if x > 0 else slope * x)
    assert v.leaky_relu().data == (x if x > 0 else 0.01 * x)
    assert v.step().data == (1.0 if x >= 0 else 0.0)
    assert v.sign().data == (1.0 if x > 0 else -1.0 if x < 0 else 0.0)
    assert v.hardtanh().data == min(1.0, max(-1.0, x))
    assert v.hardtanh(-2.5, 0.5).data == min(0.5, max(-2.5, x))
    if x > -700:
        expected = x if x > 0 else alpha * math.expm1(x)
        assert v.elu(alpha).data == pytest.approx(expected, rel=2 * EPS, abs=0)
        assert v.elu().data == pytest.approx(x if x > 0 else math.expm1(x), rel=2 * EPS, abs=0)


@EXAMPLES
@given(st.lists(moderate, min_size=1, max_size=8), st.lists(moderate, min_size=1, max_size=8))
def test_nary_values(xs, ys):
    # A float sum of n terms is within (n - 1) u sum|x_i| of the exact sum
    # (math.fsum is correctly rounded), whatever the summation order.
    bound = len(xs) * EPS * math.fsum(map(abs, xs))
    assert abs(autograd.sum([Value(x) for x in xs]).data - math.fsum(xs)) <= bound
    n = min(len(xs), len(ys))
    products = [x * y for x, y in zip(xs[:n], ys[:n], strict=True)]
    bound = (n + 1) * EPS * math.fsum(map(abs, products))
    got = autograd.dot([Value(x) for x in xs[:n]], [Value(y) for y in ys[:n]]).data
    assert abs(got - math.fsum(products)) <= bound
    assert autograd.maximum([Value(x) for x in xs]).data == max(xs)
    assert type(autograd.maximum([Value(x) for x in xs]).data) is float


def test_nary_helpers_accept_numbers_and_empty_sum():
    x = Value(2.0)
    s = autograd.sum([x, 3, 4.5])
    assert s.data == 9.5
    assert autograd.sum([]).data == 0.0
    d = autograd.dot([x, 2], [3, x])
    assert d.data == 2 * 3 + 2 * 2
    d.backward()
    assert x.grad == 3 + 2  # x appears once as a weight (times 3) and once as an input (times 2)
    assert autograd.maximum([1, x, -5]).data == 2.0
    assert autograd.sum(v for v in [x, x]).data == 4.0  # any iterable, not just lists


# --- the graph each op records ------------------------------------------------------


def test_leaf_attributes():
    x = Value(3, label="x")
    assert x.data == 3.0 and type(x.data) is float
    assert x.grad == 0.0 and type(x.grad) is float
    assert x.label == "x"
    assert x.op == ""
    assert x.parents == ()
    x.label = "renamed"
    assert x.label == "renamed"
    assert Value(2.0).label == ""


@pytest.mark.parametrize(
    ("build", "op"),
    [
        (lambda a, b: a + b, "+"),
        (lambda a, b: a * b, "*"),
        (lambda a, b: a - b, None),
        (lambda a, b: a / b, None),
        (lambda a, b: a**b, None),
    ],
)
def test_binary_ops_record_both_operands_in_order(build, op):
    a, b = Value(2.0), Value(3.0)
    out = build(a, b)
    assert out.parents == (a, b)
    assert out.parents[0] is a and out.parents[1] is b
    assert out.op != ""
    if op is not None:
        assert out.op == op


@pytest.mark.parametrize(
    "method",
    ["exp", "log", "sqrt", "tanh", "sigmoid", "relu", "leaky_relu", "elu", "softplus",
     "hardtanh", "sin", "cos", "step", "sign", "__neg__", "__abs__"],
)
def test_unary_ops_record_their_operand(method):
    x = Value(0.5)
    out = getattr(x, method)()
    assert out.parents == (x,) and out.parents[0] is x
    assert out.op != ""
    assert out.grad == 0.0
    if method == "tanh":
        assert out.op == "tanh"


def test_unary_plus_is_identity():
    x = Value(1.5)
    assert (+x) is x


def test_nary_ops_record_every_operand_once_per_use():
    a, b, c = Value(1.0), Value(2.0), Value(3.0)
    s = autograd.sum([a, b, a])
    assert s.parents == (a, b, a)
    m = autograd.maximum([c, a])
    assert m.parents == (c, a)
    d = autograd.dot([a, b], [c, a])
    assert set(map(id, d.parents)) == {id(a), id(b), id(c)}
    assert sum(p is a for p in d.parents) == 2
    for node in (s, m, d):
        assert node.op != ""


# --- numerics at the extremes ------------------------------------------------------


@pytest.mark.parametrize("x", [1e308, -1e308, 1e300, -1e300, 800.0, -800.0, 5e-324, -5e-324])
@pytest.mark.parametrize("method", ["sigmoid", "tanh", "softplus"])
def test_saturating_functions_are_finite_everywhere(method, x):
    value, derivative = grad_of(method, x)
    assert math.isfinite(value) and math.isfinite(derivative)
    if method == "sigmoid":
        assert 0.0 <= value <= 1.0 and 0.0 <= derivative <= 0.25
    if method == "tanh":
        assert -1.0 <= value <= 1.0 and 0.0 <= derivative <= 1.0
    if method == "softplus":
        assert value >= 0.0 and 0.0 <= derivative <= 1.0


@pytest.mark.parametrize("x", [1e308, 1e300, 800.0])
def test_saturating_limits(x):
    assert grad_of("sigmoid", x) == (1.0, 0.0)
    assert grad_of("sigmoid", -x) == (0.0, 0.0)
    assert grad_of("tanh", x) == (1.0, 0.0)
    assert grad_of("tanh", -x) == (-1.0, 0.0)
    assert grad_of("softplus", x) == (x, 1.0)  # log(1 + e^x) = x + log1p(e^-x) = x
    assert grad_of("softplus", -x) == (0.0, 0.0)


def test_saturating_functions_keep_their_tails():
    # e^-40 is far below eps: 1 - sigmoid(40) would be 0, but sigmoid(-40) must not be.
    value, derivative = grad_of("sigmoid", -40.0)
    assert value == pytest.approx(math.exp(-40.0), rel=1e-15)
    assert derivative == pytest.approx(math.exp(-40.0), rel=1e-15)
    value, derivative = grad_of("softplus", -40.0)
    assert value == pytest.approx(math.exp(-40.0), rel=1e-15)
    assert derivative == pytest.approx(math.exp(-40.0), rel=1e-15)
    assert grad_of("softplus", 0.0) == (math.log(2.0), 0.5)
    assert grad_of("sigmoid", 0.0) == (0.5, 0.25)
    assert grad_of("tanh", 0.0) == (0.0, 1.0)


def test_step_and_sign_values_and_zero_derivatives():
    assert grad_of("step", 0.0) == (1.0, 0.0)
    assert grad_of("step", -0.0) == (1.0, 0.0)
    assert grad_of("step", -1e-300) == (0.0, 0.0)
    assert grad_of("step", 5e-324) == (1.0, 0.0)
    assert grad_of("step", -5e-324) == (0.0, 0.0)
    assert grad_of("step", 3.0) == (1.0, 0.0)
    assert grad_of("sign", 0.0) == (0.0, 0.0)
    assert grad_of("sign", -0.0) == (0.0, 0.0)
    assert grad_of("sign", 1e-300) == (1.0, 0.0)
    assert grad_of("sign", -1e-300) == (-1.0, 0.0)
    assert grad_of("sign", -7.0) == (-1.0, 0.0)


def test_one_sided_derivatives_at_kinks():
    assert grad_of("relu", 0.0) == (0.0, 0.0)
    assert grad_of("relu", -0.0)[1] == 0.0
    assert grad_of("relu", 1e-300) == (1e-300, 1.0)
    assert grad_of("__abs__", 0.0) == (0.0, 0.0)
    assert grad_of("__abs__", -0.0)[1] == 0.0
    assert grad_of("__abs__", -2.0) == (2.0, -1.0)
    # hardtanh: 0 at and beyond the bounds, 1 strictly inside
    assert grad_of("hardtanh", -1.0) == (-1.0, 0.0)
    assert grad_of("hardtanh", 1.0) == (1.0, 0.0)
    assert grad_of("hardtanh", 0.999)[1] == 1.0
    assert grad_of("hardtanh", -5.0) == (-1.0, 0.0)
    assert grad_of("hardtanh", 2.0, -2.0, 2.0) == (2.0, 0.0)
    assert grad_of("hardtanh", -2.0, -2.0, 2.0) == (-2.0, 0.0)
    assert grad_of("hardtanh", 0.5, -2.0, 2.0) == (0.5, 1.0)
    # leaky_relu and elu are continuous at 0; the derivative there is one of the sides
    assert grad_of("leaky_relu", 0.0, 0.2)[1] in (0.2, 1.0)
    assert grad_of("elu", 0.0, 2.0)[1] in (2.0, 1.0)


def test_pow_derivative_special_cases():
    # x ** 0 is constant 1: derivative 0 even at 0 (no 0 ** -1).
    assert grad_of("__pow__", 0.0, 0) == (1.0, 0.0)
    assert grad_of("__pow__", 0.0, 2) == (0.0, 0.0)
    assert grad_of("__pow__", -3.0, 2) == (9.0, -6.0)
    assert grad_of("__pow__", -2.0, 3) == (-8.0, 12.0)
    assert grad_of("__pow__", 4.0, 0.5) == (2.0, 0.25)
    assert grad_of("__pow__", 2.0, -1) == (0.5, -0.25)


def test_maximum_gradient_goes_to_first_maximal_input():
    a, b, c = Value(1.0), Value(5.0), Value(5.0)
    m = autograd.maximum([a, b, c])
    m.backward()
    assert (a.grad, b.grad, c.grad) == (0.0, 1.0, 0.0)
    a, b = Value(5.0), Value(5.0)
    m = autograd.maximum([b, a])
    m.backward()
    assert (b.grad, a.grad) == (1.0, 0.0)


def test_prelu_op_values_and_gradients_match_pytorchs_one_sided_rule():
    """x for x > 0, else a x; d/dx at 0 is the slope (PyTorch's prelu), d/da = min(0, x)."""
    from autograd import gradcheck

    for xv, av, want, dx, da in [(2.0, 0.25, 2.0, 1.0, 0.0), (-2.0, 0.25, -0.5, 0.25, -2.0),
                                 (0.0, 0.25, 0.0, 0.25, 0.0)]:
        x, a = Value(xv), Value(av)
        y = x.prelu(a)
        y.backward()
        assert (y.data, x.grad, a.grad) == (want, dx, da)
    assert gradcheck(lambda x, a: x.prelu(a), [-0.7, 0.3])
    assert gradcheck(lambda x, a: x.prelu(a), [0.7, 0.3])
    assert Value(-4.0).prelu(0.5).data == -2.0  # a number slope is a constant
