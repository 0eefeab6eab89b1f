"""Mathematical identities between ops, on values and on gradients.

Each side of an identity is computed through the library, and both the results
and the gradients backward() gives are compared. Tolerances come from counting
roundings: u = eps/2 is the unit roundoff, and each float operation is within
u relative of its exact result (libm functions within about 1 ulp = eps).
"""

from __future__ import annotations

import math
import sys

from hypothesis import given, settings
from hypothesis import strategies as st

from autograd import Value


def examples(fraction: float) -> int:
    """This file's share of the active profile's example count (tests/conftest.py)."""
    return max(10, int(fraction * settings.default.max_examples))


EPS = sys.float_info.epsilon
EXAMPLES = settings(max_examples=examples(1.0), deadline=None)


def value_and_grad(fn, x):
    v = Value(x)
    out = fn(v)
    out.backward()
    return out.data, v.grad


@EXAMPLES
@given(st.floats(-1e307, 1e307))
def test_x_plus_x_is_two_x_exactly(x):
    # Doubling is exact in binary floating point (no overflow below 8.9e307),
    # and both gradients are sums/products of small integers: exact equality.
    left, dleft = value_and_grad(lambda v: v + v, x)
    right, dright = value_and_grad(lambda v: 2 * v, x)
    also, dalso = value_and_grad(lambda v: v * 2.0, x)
    assert left == right == also == 2 * x
    assert dleft == dright == dalso == 2.0


@EXAMPLES
@given(st.floats(-1e6, 1e6))
def test_x_times_x_is_x_squared(x):
    # x*x is correctly rounded; x**2 is the C library's pow, which is within 1 ulp
    # (and is what Python's own x**2 gives). The gradients x + x and 2 * x**1
    # are exact.
    left, dleft = value_and_grad(lambda v: v * v, x)
    right, dright = value_and_grad(lambda v: v**2, x)
    assert left == x * x and right == x**2
    assert abs(left - right) <= math.ulp(left)
    assert dleft == dright == 2 * x


@EXAMPLES
@given(st.one_of(st.floats(1e-300, 1e300), st.floats(-690, 690).map(math.exp)))
def test_exp_of_log_is_identity(x):
    # log(x) is within eps |log x| of the truth; exp multiplies an absolute input
    # error d into a relative output error d, and adds its own rounding eps:
    # |exp(log x) - x| <= (|log x| + 1) eps x, doubled for libm's margin.
    # The gradient exp(log x) * (1/x) is ~1 with the same relative error plus
    # two more roundings.
    y, dy = value_and_grad(lambda v: v.log().exp(), x)
    rel = 2 * (abs(math.log(x)) + 1) * EPS
    assert abs(y - x) <= rel * x
    assert abs(dy - 1.0) <= rel + 4 * EPS
    # and the other way round: log(exp(t)) = t, for t = log(x) in [-690, 690]
    t = math.log(x)
    z, dz = value_and_grad(lambda v: v.exp().log(), t)
    # exp(t) is within eps relative; log turns a relative error r into an
    # absolute error r: |log(exp t) - t| <= 2 eps (+ its own rounding of |t|).
    assert abs(z - t) <= 2 * EPS + 2 * EPS * abs(t)
    # d/dt = (1/exp t) * exp t = 1, up to three roundings
    assert abs(dz - 1.0) <= 4 * EPS


@EXAMPLES
@given(st.floats(-700, 700))
def test_sigmoid_of_minus_x_is_one_minus_sigmoid(x):
    # Both sides lie in [0, 1]. sigmoid is a few roundings of a number <= 1, so
    # each side is within ~2 eps absolute of the truth; 1 - s(x) cancels when
    # s(x) ~ 1, which is why the comparison is absolute, not relative: 4 eps.
    left, dleft = value_and_grad(lambda v: (-v).sigmoid(), x)
    right, dright = value_and_grad(lambda v: 1 - v.sigmoid(), x)
    assert abs(left - right) <= 4 * EPS
    # Gradients: -s(-x)(1 - s(-x)) and -s(x)(1 - s(x)), both in [-1/4, 0]: each a
    # product of numbers within ~2 eps absolute of the truth, so within ~4 eps.
    assert abs(dleft - dright) <= 4 * EPS
    assert dleft <= 0.0 and dright <= 0.0
    # the identity must not hold trivially: the derivative is -s(x)(1 - s(x))
    s = 1 / (1 + math.exp(-x))
    assert abs(dright + s * (1 - s)) <= 4 * EPS


@EXAMPLES
@given(st.floats(-350, 350))
def test_tanh_is_rescaled_sigmoid(x):
    # tanh(x) = 2 sigmoid(2x) - 1. 2x is exact; sigmoid(2x) is within ~2 eps
    # absolute (value <= 1); doubling is exact; subtracting 1 rounds once more
    # (<= u for a result <= 1); tanh itself is within ~1 ulp: all together well
    # under 8 eps absolute. Near 0 the right side cancels, so relative
    # comparison would be wrong there: the tolerance is absolute.
    left, dleft = value_and_grad(lambda v: v.tanh(), x)
    right, dright = value_and_grad(lambda v: 2 * (2 * v).sigmoid() - 1, x)
    assert abs(left - right) <= 8 * EPS
    # Gradients: 1 - tanh^2 versus 4 s(2x)(1 - s(2x)). 1 - t^2 with t within
    # eps of the truth is within ~3 eps; the right side is 4 times a product
    # within ~4 eps of the truth: 16 eps covers both.
    assert abs(dleft - dright) <= 16 * EPS
    assert 0.0 <= dleft <= 1.0


@EXAMPLES
@given(st.floats(-1e3, 1e3))
def test_softplus_derivative_is_sigmoid(x):
    # d/dx softplus(x) = sigmoid(x): same formula, so a few eps (value <= 1).
    _, d = value_and_grad(lambda v: v.softplus(), x)
    s, _ = value_and_grad(lambda v: v.sigmoid(), x)
    assert abs(d - s) <= 4 * EPS


@EXAMPLES
@given(st.floats(-1e3, 1e3))
def test_relu_plus_relu_of_minus_x_is_abs(x):
    # relu(x) + relu(-x) = |x| exactly (one term is 0); derivatives sum to sign(x),
    # and to 0 at the kink (both one-sided derivatives are 0 there).
    left, dleft = value_and_grad(lambda v: v.relu() + (-v).relu(), x)
    right, dright = value_and_grad(lambda v: abs(v), x)
    assert left == right == abs(x)
    assert dleft == dright == (1.0 if x > 0 else -1.0 if x < 0 else 0.0)


@EXAMPLES
@given(st.floats(-1e3, 1e3))
def test_sin_squared_plus_cos_squared_is_one(x):
    # Each square is within ~3 eps of the truth (value <= 1), their sum ~7 eps;
    # the gradient 2 sin cos - 2 cos sin cancels to within ~8 eps (terms <= 1).
    y, dy = value_and_grad(lambda v: v.sin() ** 2 + v.cos() ** 2, x)
    assert abs(y - 1.0) <= 8 * EPS
    assert abs(dy) <= 8 * EPS


@EXAMPLES
@given(st.floats(1e-3, 1e3), st.floats(-20, 20))
def test_value_power_matches_exp_log(a, b):
    # a ** b = exp(b log a). b log a: log a within eps |log a|, product rounds
    # once: absolute error in the exponent <= 2 eps |b log a| + ...; exp turns that
    # into a relative error of the same size plus eps. |b log a| <= 140 here.
    def direct(v):
        return v ** Value(b)

    def via_exp(v):
        return (Value(b) * v.log()).exp()

    left, dleft = value_and_grad(direct, a)
    right, dright = value_and_grad(via_exp, a)
    rel = 4 * EPS * (abs(b * math.log(a)) + 2)
    assert abs(left - right) <= rel * abs(left)
    # d/da = b a^(b-1) versus exp(b log a) * b / a: the same relative error plus
    # a few roundings; plus a few subnormal spacings for a subnormal b.
    assert abs(dleft - dright) <= (rel + 8 * EPS) * abs(dleft) + 4 * math.ulp(0.0)
