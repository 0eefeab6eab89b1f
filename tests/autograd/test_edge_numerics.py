"""Numerical edge cases of the op table: infinities, NaN, overflow, cancellation.

Each test pins a defect found by probing (issue 12): a rule that raised where the
float answer exists, lost every digit to cancellation, or disagreed between
backward(), grad() and grad(create_graph=True).
"""

from __future__ import annotations

import math

import pytest

import autograd
from autograd import Value, gradgradcheck, hessian

INF, NAN = math.inf, math.nan


def three_ways(f, xs: list[float]) -> list[list[float]]:
    """The gradient of f at xs from backward(), grad() and grad(create_graph=True)."""
    out = []
    vs = [Value(x) for x in xs]
    f(*vs).backward()
    out.append([v.grad for v in vs])
    vs = [Value(x) for x in xs]
    out.append([g.data for g in autograd.grad(f(*vs), vs)])
    vs = [Value(x) for x in xs]
    out.append([g.data for g in autograd.grad(f(*vs), vs, create_graph=True)])
    return out


def same(a: float, b: float) -> bool:
    return (a != a and b != b) or a == b


# --- zero times infinite: x ** n at tiny x --------------------------------------

@pytest.mark.parametrize(
    ("f", "expected"),
    [(lambda x: x**1, 0.0), (lambda x: x**1.0, 0.0), (lambda x: x**2 * 0.5, 1.0)],
)
@pytest.mark.parametrize("x", [1e-310, 5e-324, 0.0])
def test_second_derivative_of_a_power_at_tiny_x(f, expected, x):
    assert hessian(f, [x]) == [[expected]]


def test_mixed_second_derivative_with_power_one_at_tiny_y():
    h = hessian(lambda x, y: x * y**1, [3.0, 1e-310])
    assert h == [[0.0, 1.0], [1.0, 0.0]]


def test_gradgradcheck_of_power_one_at_tiny_x():
    assert gradgradcheck(lambda x: x**1, [1e-310])


def test_zero_upstream_gradient_wins_over_an_overflowing_power():
    x = Value(1e-200)
    y = x**-1.0 * 0.0  # d/dx = 0 * -x**-2, and x**-2 overflows
    y.backward()
    assert x.grad == 0.0


def test_an_overflowing_derivative_names_the_op_in_words():
    x = Value(1e-200)
    y = x**-1.0
    with pytest.raises(OverflowError) as info:
        y.backward()
    msg = str(info.value)
    assert "'**'" in msg and "1e-200" in msg
    assert "34" not in msg and "Numerical result" not in msg


def test_forward_overflow_of_pow_names_the_op_in_words():
    with pytest.raises(OverflowError) as info:
        Value(1e300) ** 2
    msg = str(info.value)
    assert "1e+300 ** 2.0" in msg and "too large" in msg
    assert "(34" not in msg


def test_forward_overflow_of_value_pow_names_the_op_in_words():
    with pytest.raises(OverflowError) as info:
        Value(1e300) ** Value(2.0)
    assert "(34" not in str(info.value) and "too large" in str(info.value)


# --- the overflow policy: Python's float rules ------------------------------------

def test_arithmetic_overflows_to_inf_as_python_floats_do():
    assert (Value(1e200) * 1e200).data == INF
    assert (Value(1e308) + 1e308).data == INF
    assert (Value(-1e308) - 1e308).data == -INF
    assert (Value(1e300) / 1e-300).data == INF
    assert autograd.sum([Value(1e308), Value(1e308)]).data == INF
    assert autograd.dot([Value(1e200)], [Value(1e200)]).data == INF


def test_exp_and_pow_raise_on_overflow_as_python_floats_do():
    with pytest.raises(OverflowError):
        Value(1000.0).exp()
    with pytest.raises(OverflowError):
        Value(10.0) ** 400


# --- sin and cos at infinities ---------------------------------------------------

@pytest.mark.parametrize("name", ["sin", "cos"])
@pytest.mark.parametrize("x", [INF, -INF, NAN])
def test_sin_cos_of_non_finite_are_nan_with_nan_gradient(name, x):
    y = getattr(Value(x), name)()
    assert math.isnan(y.data)
    for grads in three_ways(lambda v: getattr(v, name)(), [x]):
        assert math.isnan(grads[0])


def test_sin_gradient_at_huge_finite_x_is_cos():
    assert three_ways(lambda v: v.sin(), [1e300]) == [[math.cos(1e300)]] * 3


# --- cancellation in rules written with the output ---------------------------------

@pytest.mark.parametrize("x", [-30.0, -40.0, -700.0])
def test_elu_gradient_for_very_negative_x_is_alpha_e_to_the_x(x):
    for alpha in (1.0, 0.5):
        expected = alpha * math.exp(x)
        for grads in three_ways(lambda v, a=alpha: v.elu(a), [x]):
            assert grads[0] == pytest.approx(expected, rel=1e-14, abs=0)
            assert grads[0] > 0.0


@pytest.mark.parametrize("x", [20.0, 30.0, -25.0, 300.0])
def test_tanh_gradient_keeps_its_digits_in_the_tails(x):
    expected = 1.0 / math.cosh(x) ** 2
    for grads in three_ways(lambda v: v.tanh(), [x]):
        assert grads[0] == pytest.approx(expected, rel=1e-13, abs=0)
        assert grads[0] > 0.0


@pytest.mark.parametrize("x", [40.0, 100.0, 700.0, -40.0])
def test_sigmoid_gradient_keeps_its_digits_in_the_tails(x):
    e = math.exp(-abs(x))
    expected = e / (1.0 + e) ** 2
    for grads in three_ways(lambda v: v.sigmoid(), [x]):
        assert grads[0] == pytest.approx(expected, rel=1e-13, abs=0)


def test_tanh_and_sigmoid_second_derivatives_still_exact():
    assert gradgradcheck(lambda x: x.tanh(), [0.3])
    assert gradgradcheck(lambda x: x.tanh(), [2.5])
    assert gradgradcheck(lambda x: x.sigmoid(), [3.0])
    assert gradgradcheck(lambda x: x.sigmoid(), [-0.2])
    assert gradgradcheck(lambda x: x.elu(0.7), [-2.0])


# --- maximum with NaN: every path sends the gradient to the same operand ------------

@pytest.mark.parametrize(
    "xs", [[1.0, NAN, 3.0], [NAN, 2.0], [2.0, 5.0, NAN, NAN], [NAN, NAN]]
)
def test_maximum_with_nan_agrees_on_every_path(xs):
    first_nan = next(i for i, x in enumerate(xs) if x != x)
    expected = [1.0 if i == first_nan else 0.0 for i in range(len(xs))]
    for grads in three_ways(lambda *vs: autograd.maximum(vs), xs):
        assert grads == expected


# --- non-finite op parameters ----------------------------------------------------

@pytest.mark.parametrize("bad", [INF, -INF, NAN])
def test_non_finite_activation_parameters_are_rejected(bad):
    with pytest.raises(ValueError, match="leaky_relu.*negative_slope"):
        Value(-1.0).leaky_relu(bad)
    with pytest.raises(ValueError, match="elu.*alpha"):
        Value(-1.0).elu(bad)


# --- every op at +-inf and NaN: no Python exception where IEEE has an answer --------

UNARY = ["exp", "tanh", "sigmoid", "relu", "softplus", "sin", "cos", "step", "sign",
         "leaky_relu", "elu", "hardtanh", "__neg__", "__abs__"]


@pytest.mark.parametrize("name", UNARY)
@pytest.mark.parametrize("x", [INF, -INF, NAN])
def test_unary_ops_at_non_finite_inputs_follow_ieee(name, x):
    if name == "exp" and x == INF:
        assert Value(x).exp().data == INF
    y = getattr(Value(x), name)()
    ref = {
        "exp": math.exp(x), "tanh": math.tanh(x), "relu": max(x, 0.0) if x == x else x,
        "__neg__": -x, "__abs__": abs(x),
    }.get(name)
    if ref is not None:
        assert same(y.data, ref)
    for grads in three_ways(lambda v: getattr(v, name)(), [x]):
        g = grads[0]
        assert isinstance(g, float)
    paths = three_ways(lambda v: getattr(v, name)(), [x])
    assert same(paths[0][0], paths[1][0]) and same(paths[0][0], paths[2][0]), paths
