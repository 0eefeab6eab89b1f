"""Second and higher derivatives through grad(create_graph=True).

Every op's second derivatives are compared with central differences of its
first derivatives, which are computed with plain grad() at x +- h. Domains are
safe by construction: each strategy only draws points where the op is smooth
on the whole stencil [x - h, x + h] (kinks and domain edges are at least 0.01
away), never by filtering.
"""

from __future__ import annotations

import math
import operator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd
from autograd import Value, grad
from autograd.hessian import hessian
from autograd.strategies import ALL_OPS, expressions, functions, values

# Central-difference step for the first derivatives. Its error is about
# h^2/6 |f''''| (truncation) plus a few ulps of |f'| / h (rounding):
# with h = 1e-5 that is 1.7e-11 |f''''| + ~1e-11 |f'|.
H = 1e-5
# Every domain below keeps |f'| and |f''''| under about 1e4 (noted per case),
# so the error is under 1e-6 + 1e-5 |d2f|: that is the tolerance used.
REL, ABS = 1e-5, 1e-6

SCALE = max(1, settings.default.max_examples // 100)  # 10x under the "thorough" profile
SETTINGS = settings(max_examples=15 * SCALE, deadline=None)


def first_derivatives(f, xs):
    leaves = [Value(x) for x in xs]
    return [g.data for g in grad(f(*leaves), leaves)]


def assert_second_derivatives(f, xs):
    """Analytic Hessian (grad twice) against central differences of plain grad()."""
    leaves = [Value(x) for x in xs]
    out = f(*leaves)
    firsts = grad(out, leaves, create_graph=True)
    plain = [g.data for g in grad(out, leaves)]
    # the same rule on Values and on floats gives the same first derivative
    for g, p in zip(firsts, plain, strict=True):
        assert math.isclose(g.data, p, rel_tol=1e-12, abs_tol=1e-300), (g.data, p)
    analytic = [[d.data for d in grad(g, leaves)] for g in firsts]
    for j in range(len(xs)):
        up, down = list(xs), list(xs)
        up[j] += H
        down[j] -= H
        g_up, g_down = first_derivatives(f, up), first_derivatives(f, down)
        for i in range(len(xs)):
            numeric = (g_up[i] - g_down[i]) / (up[j] - down[j])
            assert math.isclose(analytic[i][j], numeric, rel_tol=REL, abs_tol=ABS), (
                f"d2f/dx{i}dx{j} at {xs}: analytic {analytic[i][j]!r}, numeric {numeric!r}"
            )


def away_from_zero(lo, hi):
    """Floats with lo <= |x| <= hi, either sign: a kink at 0 is never on the stencil."""
    return st.tuples(st.sampled_from([-1.0, 1.0]), st.floats(lo, hi)).map(
        lambda t: t[0] * t[1]
    )


# Plain domains. |f'|, |f''''| bounds per use are in the comments of CASES.
ANY = st.floats(-3, 3)
POSITIVE = st.floats(0.5, 3)  # bases of fractional powers, divisors, log/sqrt
NONZERO = away_from_zero(0.5, 3)  # divisors of either sign


def unary(name, method, domain):
    return [
        (name, method, [domain]),
        # z * op(x): the incoming gradient z is a Value, so d2/dz dx = op'(x)
        # checks that the rule builds its result from g, not from g's number.
        (f"z*{name}", lambda x, z: z * method(x), [domain, ANY]),
    ]


def binary(name, fn, da, db):
    return [
        (name, fn, [da, db]),
        (f"z*({name})", lambda x, y, z: z * fn(x, y), [da, db, ANY]),
    ]


CASES = [
    # + - * / on [-3, 3] and divisors |b| in [0.5, 3]: the fourth derivative of
    # a / b is 24 a / b^5, at most 24 * 3 * 2^5 = 2304.
    *binary("x + y", operator.add, ANY, ANY),
    *binary("x - y", operator.sub, ANY, ANY),
    *binary("x * y", operator.mul, ANY, ANY),
    *binary("x / y", operator.truediv, ANY, NONZERO),
    *binary("x*x + y", lambda x, y: x * x + y, ANY, ANY),
    *unary("x + 2", lambda x: x + 2.0, ANY),
    *unary("2 + x", lambda x: 2.0 + x, ANY),
    *unary("x - 3", lambda x: x - 3.0, ANY),
    *unary("3 - x*x", lambda x: 3.0 - x * x, ANY),
    *unary("2 * x * x", lambda x: 2.0 * x * x, ANY),
    *unary("x * x / 2", lambda x: x * x / 2.0, ANY),
    *unary("2 / x", lambda x: 2.0 / x, NONZERO),
    # ** with a number exponent. Integer powers on any base in [-3, 3]:
    # |f'| <= 4 * 27, f'''' <= 24.
    *unary("x ** 0", lambda x: x**0, ANY),
    *unary("x ** 1", lambda x: x**1, ANY),
    *unary("x ** 2", lambda x: x**2, ANY),
    *unary("x ** 3", lambda x: x**3, ANY),
    *unary("x ** 4", lambda x: x**4, ANY),
    # Fractional and negative powers on bases in [0.5, 3]: the fourth
    # derivative p(p-1)(p-2)(p-3) x^(p-4) is at most 120 * 0.5^-7 = 15360 for
    # p = -2, i.e. a truncation error of 2.6e-7 < ABS.
    *unary("x ** 0.5", lambda x: x**0.5, POSITIVE),
    *unary("x ** 1.5", lambda x: x**1.5, POSITIVE),
    *unary("x ** -0.5", lambda x: x**-0.5, POSITIVE),
    *unary("x ** -1", lambda x: x**-1, POSITIVE),
    *unary("x ** -2", lambda x: x**-2, POSITIVE),
    # ** with a Value exponent: base in [0.5, 3], exponent in [-3, 3], so
    # |x^y log(x)^4| and friends stay below 3^3 * 27 * 4! ~ 2e4 (x = 3, y = 3).
    *binary("x ** y", operator.pow, POSITIVE, st.floats(-2, 2)),
    *unary("2 ** x", lambda x: 2.0**x, ANY),
    *unary("0.5 ** x", lambda x: 0.5**x, ANY),
    # unary ops; tanh, sigmoid, sin, cos and softplus have all derivatives
    # bounded by small constants; exp on [-3, 3] by e^3 = 20.
    *unary("neg", lambda x: -x, ANY),
    *unary("exp", lambda x: x.exp(), ANY),
    # log and sqrt on [0.5, 3]: |log''''| = 6 / x^4 <= 96,
    # |sqrt''''| = 15/16 x^-3.5 <= 11.
    *unary("log", lambda x: x.log(), POSITIVE),
    *unary("sqrt", lambda x: x.sqrt(), POSITIVE),
    *unary("tanh", lambda x: x.tanh(), ANY),
    *unary("sigmoid", lambda x: x.sigmoid(), ANY),
    *unary("softplus", lambda x: x.softplus(), ANY),
    *unary("sin", lambda x: x.sin(), ANY),
    *unary("cos", lambda x: x.cos(), ANY),
    # Piecewise ops, each on points 0.01 or more from its kinks: there the op
    # is linear (second derivative 0), constant, or e^x-like (elu: f'''' <= 1).
    *unary("abs", abs, away_from_zero(0.01, 3)),
    *unary("relu", lambda x: x.relu(), away_from_zero(0.01, 3)),
    *unary("leaky_relu", lambda x: x.leaky_relu(0.1), away_from_zero(0.01, 3)),
    *unary("elu", lambda x: x.elu(), away_from_zero(0.01, 3)),
    *unary("elu(0.5)", lambda x: x.elu(0.5), away_from_zero(0.01, 3)),
    *unary("step", lambda x: x.step(), away_from_zero(0.01, 3)),
    *unary("sign", lambda x: x.sign(), away_from_zero(0.01, 3)),
    *unary(
        "hardtanh",
        lambda x: x.hardtanh(),
        st.one_of(st.floats(-0.99, 0.99), away_from_zero(1.01, 3)),
    ),
    *unary(
        "hardtanh(-2, 0.5)",
        lambda x: x.hardtanh(-2.0, 0.5),
        st.one_of(st.floats(-1.99, 0.49), st.floats(0.51, 3), st.floats(-3, -2.01)),
    ),
    # n-ary ops. Products of terms in [-3, 3]: all derivatives are small.
    *binary("sum", lambda x, y: autograd.sum([x * x, x * y, y, x]), ANY, ANY),
    *binary("sum with repeats", lambda x, y: autograd.sum([x, x * y, x]), ANY, ANY),
    *binary("dot", lambda x, y: autograd.dot([x, y], [y, x * x]), ANY, ANY),
    *binary("dot + bias", lambda x, y: autograd.dot([x], [y], bias=x * x), ANY, ANY),
    *binary("dot with numbers", lambda x, y: autograd.dot([2.0, x], [y, y]), ANY, ANY),
    # logsumexp: every derivative is a polynomial in softmax weights in [0, 1]; small.
    *binary("logsumexp", lambda x, y: autograd.logsumexp([x, x * y, y]), ANY, ANY),
    # prelu away from its kink at x = 0: linear in x, and in the slope y.
    *binary("prelu", lambda x, y: x.prelu(y), away_from_zero(0.01, 3), ANY),
    # maximum: x in [2, 3] always beats y*y <= 1 and the constant (and vice
    # versa below), so no tie is on the stencil.
    *binary(
        "maximum (x wins)",
        lambda x, y: autograd.maximum([x * x, y * y, 0.5]),
        st.floats(2, 3),
        st.floats(-1, 1),
    ),
    *binary(
        "maximum (y wins)",
        lambda x, y: autograd.maximum([x, y * y * y, -5.0]),
        st.floats(-1, 1),
        st.floats(2, 3),
    ),
]


@pytest.mark.parametrize(("name", "f", "domains"), CASES, ids=[c[0] for c in CASES])
@SETTINGS
@given(data=st.data())
def test_second_derivatives_match_central_differences(name, f, domains, data):
    xs = [data.draw(d, label=f"x{i}") for i, d in enumerate(domains)]
    assert_second_derivatives(f, xs)


def test_every_op_has_a_second_derivative_case():
    covered = " ".join(c[0] for c in CASES)
    for op in ALL_OPS:
        word = {"**": "**", "+": "+", "-": "-", "*": "*", "/": "/"}.get(op, op)
        assert word in covered, op


# --- random expressions ----------------------------------------------------------------

@settings(max_examples=40 * SCALE, deadline=None)
@given(functions(arity=st.integers(2, 3), max_ops=8), st.data())
def test_hessian_of_random_functions_is_symmetric(fn, data):
    f, n = fn
    xs = data.draw(st.lists(st.floats(-10, 10), min_size=n, max_size=n), label="xs")
    h = hessian(f, xs)
    # d2f/dxi dxj and d2f/dxj dxi are equal for these smooth functions
    # (Schwarz); both are exact derivative graphs, evaluated in different orders,
    # so they differ only by rounding: a few ulps of the largest term.
    scale = 1.0 + max(abs(v) for row in h for v in row)
    for i in range(n):
        for j in range(i):
            assert math.isclose(h[i][j], h[j][i], rel_tol=1e-9, abs_tol=1e-12 * scale), (i, j)


@settings(max_examples=40 * SCALE, deadline=None)
@given(st.lists(values(-5, 5), min_size=1, max_size=3), st.data())
def test_first_derivatives_agree_across_backward_grad_and_create_graph(leaves, data):
    """backward(), grad() and grad(create_graph=True) run the same rules on one graph."""
    out = data.draw(expressions(leaves, ops=ALL_OPS, max_ops=8), label="out")
    plain = [g.data for g in grad(out, leaves)]
    graph = [g.data for g in grad(out, leaves, create_graph=True)]
    out.backward()
    for leaf, p, g in zip(leaves, plain, graph, strict=True):
        assert math.isclose(p, g, rel_tol=1e-12, abs_tol=1e-300), (p, g)
        assert math.isclose(leaf.grad, p, rel_tol=1e-12, abs_tol=1e-300), (leaf.grad, p)


# --- exact higher derivatives -------------------------------------------------------------

@settings(max_examples=40 * SCALE, deadline=None)
@given(st.integers(-800, 800))
def test_third_derivative_of_a_polynomial_is_exact(k):
    # x = k/8 with |x| <= 100: every intermediate (k^4 / 8^4 times small
    # integers) is a dyadic rational with a short numerator, so float
    # arithmetic is exact and == is the right comparison.
    x = Value(k / 8)
    f = x**4 + 3 * x**3
    d1, = grad(f, [x], create_graph=True)
    d2, = grad(d1, [x], create_graph=True)
    d3, = grad(d2, [x], create_graph=True)
    d4, = grad(d3, [x], create_graph=True)
    d5, = grad(d4, [x], create_graph=True)
    xv = k / 8
    assert d1.data == 4 * xv**3 + 9 * xv**2
    assert d2.data == 12 * xv**2 + 18 * xv
    assert d3.data == 24 * xv + 18
    assert d4.data == 24
    assert d5.data == 0


def test_hessian_of_a_small_function_by_hand():
    # f = x^2 y + y^3: f_xx = 2y, f_xy = 2x, f_yy = 6y; at (1, 2): [[4, 2], [2, 12]]
    assert hessian(lambda x, y: x**2 * y + y**3, [1.0, 2.0]) == [[4.0, 2.0], [2.0, 12.0]]
    # f = x*x*y: [[2y, 2x], [2x, 0]]
    assert hessian(lambda x, y: x * x * y, [3.0, 2.0]) == [[4.0, 6.0], [6.0, 0.0]]
    # f = e^x sin y: [[e^x sin y, e^x cos y], [e^x cos y, -e^x sin y]]
    x, y = 0.5, 1.2
    want = [
        [math.exp(x) * math.sin(y), math.exp(x) * math.cos(y)],
        [math.exp(x) * math.cos(y), -math.exp(x) * math.sin(y)],
    ]
    got = hessian(lambda a, b: a.exp() * b.sin(), [x, y])
    for gr, wr in zip(got, want, strict=True):
        for g, w in zip(gr, wr, strict=True):
            assert math.isclose(g, w, rel_tol=1e-14)


def test_hessian_takes_values_and_leaves_them_alone():
    x = Value(3.0)
    x.grad = 7.0
    assert hessian(lambda a: a**3, [x]) == [[18.0]]
    assert x.grad == 7.0
    assert hessian(lambda a: a**3, 3.0) == [[18.0]]  # a lone number is one input


def test_hessian_of_a_linear_function_is_zero():
    assert hessian(lambda x, y: 2 * x - y + 1, [1.0, 2.0]) == [[0.0, 0.0], [0.0, 0.0]]


# --- grad() semantics ------------------------------------------------------------------------

@pytest.mark.parametrize("create_graph", [False, True])
def test_grad_leaves_every_grad_untouched(create_graph):
    x, y = Value(2.0), Value(-3.0)
    mid = x * y
    out = mid.tanh() + x.exp()
    out.backward()
    before = {v: v.grad for v in (x, y, mid, out)}
    x.grad, y.grad = 1.5, -2.5  # arbitrary values must survive too
    before.update({x: 1.5, y: -2.5})
    first = grad(out, [x, y], create_graph=create_graph)
    if create_graph:
        grad(first[0], [x, y])
        grad(first[1], [x, y], create_graph=True)
    assert {v: v.grad for v in (x, y, mid, out)} == before
    assert all(g.grad == 0.0 for g in first)


def test_create_graph_false_returns_leaves():
    x, y = Value(2.0), Value(-3.0)
    gx, gy = grad(x * y + x.sin(), [x, y])
    for g in (gx, gy):
        assert isinstance(g, Value)
        assert g.op == "" and g.parents == ()
    assert gx.data == -3.0 + math.cos(2.0)
    assert gy.data == 2.0
    # a leaf holds only the number: differentiating it again gives 0
    assert grad(gx, [x, y])[0].data == 0.0


def test_create_graph_true_returns_differentiable_values():
    x = Value(2.0)
    (g,) = grad(x**3, [x], create_graph=True)
    assert g.data == 12.0 and g.parents  # a graph of its own
    assert grad(g, [x])[0].data == 12.0


def test_backward_through_a_derivative_graph_gives_the_second_derivative():
    x = Value(1.5)
    (d1,) = grad(x**3 + x.sin(), [x], create_graph=True)
    d1.backward()
    assert math.isclose(x.grad, 6 * 1.5 - math.sin(1.5), rel_tol=1e-15)


@pytest.mark.parametrize("create_graph", [False, True])
def test_grad_of_an_input_that_does_not_influence_the_output_is_zero(create_graph):
    x, y, z = Value(2.0), Value(5.0), Value(1.0)
    out = x * x + z * 0.0
    gx, gy, gz = grad(out, [x, y, z], create_graph=create_graph)
    assert gx.data == 4.0
    assert isinstance(gy, Value) and gy.data == 0.0
    assert gz.data == 0.0  # influences the graph, but with derivative 0
    # and again, one level up
    (gyy,) = grad(gy, [y])
    assert gyy.data == 0.0


def test_grad_of_the_output_with_respect_to_itself_is_one():
    x = Value(2.0)
    out = x * 3.0
    assert grad(out, [out])[0].data == 1.0
    assert grad(out, [out], create_graph=True)[0].data == 1.0


# --- Newton's method ---------------------------------------------------------------------------

def newton_minimise(f, x0, steps=50):
    """x <- x - f'(x) / f''(x), both from grad(): the first with create_graph=True."""
    x = x0
    for _ in range(steps):
        v = Value(x)
        (d1,) = grad(f(v), [v], create_graph=True)
        (d2,) = grad(d1, [v])
        x_next = x - d1.data / d2.data
        if x_next == x:
            break
        x = x_next
    return x


@pytest.mark.parametrize(("x0", "basin"), [(2.0, (1.0, 1.2)), (-2.0, (-1.4, -1.2))])
def test_newtons_method_finds_the_minima_of_a_quartic(x0, basin):
    # f = x^4 - 3x^2 + x: f' = 4x^3 - 6x + 1 has roots near -1.30, 0.17, 1.13;
    # f'' = 12x^2 - 6 > 0 at the outer two, which are the minima.
    def f(x):
        return x**4 - 3 * x**2 + x

    x = newton_minimise(f, x0)
    assert basin[0] < x < basin[1]
    assert abs(4 * x**3 - 6 * x + 1) < 1e-12  # f'(x) = 0 to rounding
    assert 12 * x**2 - 6 > 0  # a minimum, not a maximum
    # the root agrees with bisection on the hand-written derivative
    lo, hi = basin
    for _ in range(200):
        mid = (lo + hi) / 2
        if (4 * mid**3 - 6 * mid + 1 > 0) == (4 * hi**3 - 6 * hi + 1 > 0):
            hi = mid
        else:
            lo = mid
    assert math.isclose(x, lo, rel_tol=1e-12)
