"""gradcheck and gradgradcheck: they pass on correct rules and catch broken ones.

The broken rules are ops a user might register: an ``autograd.ops.Op`` with a
forward and a (wrong) vector-Jacobian product, turned into a node by
``autograd.value._apply``, exactly as the engine makes its own unary nodes.
"""

from __future__ import annotations

import math
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd
from autograd import Value
from autograd.gradcheck import GradcheckError, gradcheck, gradgradcheck
from autograd.hessian import hessian
from autograd.ops import Op
from autograd.strategies import functions
from autograd.value import _apply

SCALE = max(1, settings.default.max_examples // 100)  # 10x under the "thorough" profile


def user_op(name, forward, vjp):
    """A one-input op as a user would register it: returns a function of a Value."""
    op = Op(name, 1, forward, vjp)
    return lambda x: _apply(op, x)


# d/dx x^2 is 2x; this rule forgets the 2.
bad_square = user_op("bad_square", lambda x: x * x, lambda g, x, out: g * x)
good_square = user_op("square", lambda x: x * x, lambda g, x, out: g * 2.0 * x)
# Right on floats, but float(x) cuts the graph under create_graph=True, so the
# second derivative 6x comes out as 0.
detached_cube = user_op(
    "cube", lambda x: x**3, lambda g, x, out: g * (3.0 * float(x) ** 2)
)
# Gives 2x on floats but 3x when run on Values.
two_faced = user_op(
    "two_faced",
    lambda x: x * x,
    lambda g, x, out: g * 2.0 * x if isinstance(x, float) else g * 3.0 * x,
)


def table_rows(message):
    """The data rows of a GradcheckError table: lists of cells, 'FAIL' appended if marked."""
    lines = message.splitlines()
    start = next(i for i, line in enumerate(lines) if set(line.replace(" ", "")) == {"-"})
    rows = []
    for line in lines[start + 1 :]:
        failed = line.endswith("<-- FAIL")
        cells = line.replace("<-- FAIL", "").split()
        rows.append(cells + (["FAIL"] if failed else []))
    return rows


# --- passing -------------------------------------------------------------------------

CORRECT = [
    (lambda x: x * x, [3.0]),
    (lambda x, y: x * y + x.exp() / (y * y + 1), [0.3, -1.7]),
    (lambda x, y: (x**y).log() + y.tanh(), [1.5, 2.5]),
    (lambda x: x.sqrt() * x.sin(), [2.0]),
    (lambda x, y, z: autograd.dot([x, y], [z, z], bias=x * y).sigmoid(), [0.1, 0.2, -0.3]),
    (lambda x, y: autograd.maximum([x, y * 2]).softplus(), [1.0, 3.0]),
    (lambda x: x.relu() + x.leaky_relu() + x.elu() + x.hardtanh() + abs(x), [0.7]),
    (lambda x: x.relu() + x.leaky_relu() + x.elu() + x.hardtanh() + abs(x), [-0.7]),
    (lambda x: x.step() + x.sign() + x.cos(), [0.4]),
    (good_square, [-2.5]),
]


@pytest.mark.parametrize(("f", "xs"), CORRECT)
def test_gradcheck_passes_on_correct_functions(f, xs):
    assert gradcheck(f, xs) is True


@pytest.mark.parametrize(("f", "xs"), CORRECT)
def test_gradgradcheck_passes_on_correct_functions(f, xs):
    assert gradgradcheck(f, xs) is True


@settings(max_examples=40 * SCALE, deadline=None)
@given(functions(), st.data())
def test_gradcheck_passes_on_random_functions(fn, data):
    f, n = fn
    xs = data.draw(st.lists(st.floats(-10, 10), min_size=n, max_size=n), label="xs")
    assert gradcheck(f, xs)


@settings(max_examples=30 * SCALE, deadline=None)
@given(functions(), st.data())
def test_gradgradcheck_passes_on_random_functions(fn, data):
    f, n = fn
    xs = data.draw(st.lists(st.floats(-10, 10), min_size=n, max_size=n), label="xs")
    assert gradgradcheck(f, xs)


def test_inputs_may_be_values_or_a_lone_number_and_no_grad_is_touched():
    w = Value(3.0)
    x = Value(2.0)
    x.grad = 0.25
    assert gradcheck(lambda a: w * a * a, [x])
    assert gradgradcheck(lambda a: w * a * a, [x])
    assert gradcheck(lambda a: a.exp(), 1.0)
    assert (w.grad, x.grad) == (0.0, 0.25)


# --- catching a wrong first derivative ------------------------------------------------

def test_gradcheck_catches_a_wrong_rule_and_tabulates_it():
    # f = bad_square(x) * y at (3, 2): df/dx should be 2xy = 12, the rule gives
    # xy = 6; df/dy = x^2 = 9 is right.
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda x, y: bad_square(x) * y, [3.0, 2.0])
    message = str(info.value)
    assert "1 of 2" in message
    header = next(line for line in message.splitlines() if "analytic" in line and "input" in line)
    for column in ("input", "analytic", "numeric", "abs error", "rel error"):
        assert column in header
    rows = table_rows(message)
    assert len(rows) == 2
    index, at, analytic, numeric, abs_err, rel_err, mark = rows[0]
    assert (index, float(at), float(analytic), mark) == ("0", 3.0, 6.0, "FAIL")
    assert math.isclose(float(numeric), 12.0, rel_tol=1e-6)
    assert math.isclose(float(abs_err), 6.0, rel_tol=1e-3)
    assert math.isclose(float(rel_err), 0.5, rel_tol=1e-3)
    assert rows[1][0] == "1" and rows[1][-1] != "FAIL"  # the right derivative passes
    assert math.isclose(float(rows[1][2]), 9.0) and math.isclose(float(rows[1][3]), 9.0)
    # the same numbers, structured
    bad, good = info.value.rows
    assert not bad["ok"] and good["ok"]
    assert bad["analytic"] == 6.0 and math.isclose(bad["numeric"], 12.0, rel_tol=1e-6)


def test_gradcheck_error_is_an_assertion_error():
    assert issubclass(GradcheckError, AssertionError)
    with pytest.raises(AssertionError):
        gradcheck(bad_square, [1.0])


def test_tolerances_decide():
    # analytic 1, numeric 2 at x = 1: abs error 1
    with pytest.raises(GradcheckError):
        gradcheck(bad_square, [1.0], atol=0.9, rtol=0.0)
    assert gradcheck(bad_square, [1.0], atol=1.1, rtol=0.0)
    assert gradcheck(bad_square, [1.0], atol=0.0, rtol=0.6)  # 1 <= 0.6 * 2


def test_gradcheck_catches_a_one_sided_derivative_at_a_kink():
    # relu'(0) is 0 by convention; the central difference sees 1/2
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda x: x.relu(), [0.0])
    (row,) = info.value.rows
    assert row["analytic"] == 0.0 and math.isclose(row["numeric"], 0.5)


# --- catching a wrong second derivative ------------------------------------------------

def test_gradgradcheck_catches_a_second_derivative_that_gradcheck_cannot_see():
    f = lambda x, y: detached_cube(x) * y  # d2f/dx2 = 6xy = 18 at (1.5, 2)
    assert gradcheck(f, [1.5, 2.0])
    with pytest.raises(GradcheckError) as info:
        gradgradcheck(f, [1.5, 2.0])
    message = str(info.value)
    assert "1 of 4 second derivatives" in message
    rows = {r[0]: r for r in table_rows(message)}
    assert set(rows) == {"0,0", "0,1", "1,0", "1,1"}
    assert rows["0,0"][-1] == "FAIL"
    assert float(rows["0,0"][2]) == 0.0
    assert math.isclose(float(rows["0,0"][3]), 18.0, rel_tol=1e-6)
    # the mixed partials 3x^2 = 6.75 are right: y multiplies a graph the rule kept
    for key in ("0,1", "1,0", "1,1"):
        assert rows[key][-1] != "FAIL"
    assert math.isclose(float(rows["0,1"][2]), 6.75)


def test_gradgradcheck_catches_first_derivatives_that_depend_on_create_graph():
    assert gradcheck(two_faced, [2.0])
    with pytest.raises(GradcheckError) as info:
        gradgradcheck(two_faced, [2.0])
    message = str(info.value)
    assert "create_graph=True" in message and "create_graph=False" in message
    (row,) = table_rows(message)
    assert float(row[2]) == 6.0 and float(row[3]) == 4.0 and row[-1] == "FAIL"


def test_gradgradcheck_passes_on_a_correct_user_op():
    assert gradgradcheck(lambda x, y: good_square(x * y), [1.5, -0.5])


# --- argument checks ------------------------------------------------------------------

CHECKERS = [gradcheck, gradgradcheck, hessian]


@pytest.mark.parametrize("check", CHECKERS)
def test_f_must_be_callable(check):
    with pytest.raises(TypeError, match="f must be callable"):
        check(3.0, [1.0])


@pytest.mark.parametrize("check", CHECKERS)
@pytest.mark.parametrize("empty", [[], ()])
def test_inputs_must_not_be_empty(check, empty):
    with pytest.raises(ValueError, match=r"(inputs|values) must not be empty"):
        check(lambda x: x, empty)


@pytest.mark.parametrize("check", CHECKERS)
@pytest.mark.parametrize("bad", ["a", None, 1j, [1.0]])
def test_inputs_must_be_real_numbers(check, bad):
    with pytest.raises(TypeError, match=r"(inputs|values)\[1\] must be a real number"):
        check(lambda x, y: x * y, [1.0, bad])


@pytest.mark.parametrize("check", CHECKERS)
@pytest.mark.parametrize("bad", ["1.0", None, object()])
def test_inputs_must_be_a_sequence(check, bad):
    with pytest.raises(TypeError, match=r"(inputs|values) must be a sequence"):
        check(lambda x: x, bad)


@pytest.mark.parametrize("check", CHECKERS)
@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_inputs_must_be_finite(check, bad):
    with pytest.raises(ValueError, match=r"(inputs|values)\[0\] must be finite"):
        check(lambda x: x, [bad])


@pytest.mark.parametrize("check", CHECKERS)
@pytest.mark.parametrize("result", [1.0, None, "x", [Value(1.0)]])
def test_f_must_return_a_value(check, result):
    with pytest.raises(TypeError, match="f must return a Value"):
        check(lambda x: result, [1.0])


@pytest.mark.parametrize("check", [gradcheck, gradgradcheck])
@pytest.mark.parametrize(
    ("kwargs", "error", "name"),
    [
        ({"eps": 0.0}, ValueError, "eps"),
        ({"eps": -1e-6}, ValueError, "eps"),
        ({"eps": math.nan}, ValueError, "eps"),
        ({"eps": "1e-6"}, TypeError, "eps"),
        ({"atol": -1.0}, ValueError, "atol"),
        ({"atol": math.inf}, ValueError, "atol"),
        ({"rtol": -0.1}, ValueError, "rtol"),
        ({"rtol": None}, TypeError, "rtol"),
        ({"eps": Value(1e-6)}, TypeError, "eps"),
    ],
)
def test_tolerances_are_checked(check, kwargs, error, name):
    with pytest.raises(error, match=rf"\b{name}\b"):
        check(lambda x: x * x, [1.0], **kwargs)


@pytest.mark.parametrize("check", [gradcheck, gradgradcheck])
def test_a_point_outside_the_domain_is_reported(check):
    with pytest.raises(ValueError, match="finite"):
        check(lambda x: x - x + math.nan, [1.0])
    # sqrt is defined at 0 but not at 0 - eps
    with pytest.raises(ValueError, match=re.escape("inputs[0] - eps")):
        check(lambda x: (x + 1e-7).sqrt(), [0.0])


def test_a_wrong_number_of_inputs_is_fs_own_error():
    with pytest.raises(TypeError):
        gradcheck(lambda x, y: x * y, [1.0])
