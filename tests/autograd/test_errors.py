"""Every error path: the exception type, and a message naming the op and the value.

``raises(exc, *patterns)`` checks that all the patterns occur in the message, so
a test pins down what must be named (the op, the offending value) without
pinning the exact wording.
"""

from __future__ import annotations

import re
from contextlib import contextmanager

import pytest

import autograd
from autograd import Value


@contextmanager
def raises(exc, *patterns):
    with pytest.raises(exc) as info:
        yield info
    message = str(info.value)
    for p in patterns:
        assert re.search(p, message), f"{p!r} not in message {message!r}"


# --- construction --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bad", "shown"),
    [("a", r"'a'"), (None, r"None"), (1 + 2j, r"\(1\+2j\)"), ([1.0], r"\[1\.0\]"),
     (b"1", r"b'1'"), (Value, r"Value")],
)
def test_value_of_a_non_number_is_a_type_error_naming_it(bad, shown):
    with raises(TypeError, shown, r"Value"):
        Value(bad)


def test_complex_names_its_type():
    with raises(TypeError, r"complex"):
        Value(1 + 2j)
    with raises(TypeError, r"str"):
        Value("1.0")  # strings are not parsed


def test_label_must_be_a_string():
    with raises(TypeError, r"label", r"\b3\b"):
        Value(1.0, label=3)
    with raises(TypeError, r"label"):
        Value(1.0, label=None)


# --- domain errors in the forward pass -------------------------------------------------


def test_log_of_zero_and_negative():
    with raises(ValueError, r"log", r"0\.0"):
        Value(0.0).log()
    with raises(ValueError, r"log", r"-1\.0"):
        Value(-1.0).log()
    with raises(ValueError, r"log", r"-1e-300"):
        Value(-1e-300).log()


def test_sqrt_of_negative():
    with raises(ValueError, r"sqrt", r"-1\.0"):
        Value(-1.0).sqrt()
    assert Value(0.0).sqrt().data == 0.0  # the forward at 0 is fine


def test_negative_base_to_a_fractional_power():
    with raises(ValueError, r"\*\*", r"-8\.0", r"0\.333"):
        Value(-8.0) ** (1 / 3)
    assert (Value(-8.0) ** 3).data == -512.0  # integer exponents are fine
    assert (Value(-8.0) ** 2.0).data == 64.0  # also as integral floats


@pytest.mark.parametrize("base", [-2.0, 0.0, -0.0])
def test_value_to_a_value_power_needs_a_positive_base(base):
    with raises(ValueError, r"\*\*", re.escape(repr(base))):
        Value(base) ** Value(2.0)
    with raises(ValueError, r"\*\*", re.escape(repr(base))):
        base ** Value(0.5)  # number ** Value: the exponent is differentiable too


def test_division_by_zero():
    for make in (lambda: Value(1.0) / 0, lambda: Value(1.0) / Value(0.0),
                 lambda: 1.0 / Value(0.0), lambda: Value(1.0) / 0.0):
        with raises(ZeroDivisionError, r"/", r"1\.0", r"0\.0"):
            make()


def test_zero_to_a_negative_power():
    with raises(ZeroDivisionError, r"\*\*", r"0\.0", r"-1"):
        Value(0.0) ** -1
    with raises(ZeroDivisionError, r"\*\*", r"0\.0", r"-1\.5"):
        Value(0.0) ** -1.5


def test_exp_overflow():
    with raises(OverflowError, r"exp", r"1000\.0"):
        Value(1000.0).exp()
    assert Value(709.0).exp().data > 8e307  # just below the limit


def test_pow_overflow_names_the_op():
    with raises(OverflowError, r"\*\*", r"10\.0", r"400"):
        Value(10.0) ** 400


def test_a_failed_op_leaves_its_operand_unchanged():
    x = Value(-1.0)
    with pytest.raises(ValueError):
        x.log()
    assert x.data == -1.0 and x.grad == 0.0 and x.op == ""


# --- errors in the backward pass --------------------------------------------------------


def test_backward_of_sqrt_at_zero_names_sqrt():
    x = Value(0.0)
    y = x.sqrt()
    with raises(ZeroDivisionError, r"sqrt", r"0\.0"):
        y.backward()


def test_backward_of_fractional_power_at_zero_names_the_op():
    x = Value(0.0)
    y = x**0.5  # forward fine (0), derivative 0.5 / sqrt(0) infinite
    with raises(ZeroDivisionError, r"\*\*", r"0\.0"):
        y.backward()


def test_grad_reports_backward_errors_too():
    x = Value(0.0)
    with raises(ZeroDivisionError, r"sqrt"):
        autograd.grad(x.sqrt(), [x])


# --- operands of the wrong type -----------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "op"),
    [
        (lambda v: v + "s", r"\+"), (lambda v: "s" + v, r"\+"),
        (lambda v: v - "s", r"-"), (lambda v: "s" - v, r"-"),
        (lambda v: v * "s", r"\*"), (lambda v: "s" * v, r"\*"),
        (lambda v: v / "s", r"/"), (lambda v: "s" / v, r"/"),
        (lambda v: v ** "s", r"\*\*"), (lambda v: "s" ** v, r"\*\*"),
    ],
)
def test_arithmetic_with_a_string_is_a_type_error_naming_op_and_operand(make, op):
    with raises(TypeError, op, r"'s'"):
        make(Value(1.0))


@pytest.mark.parametrize("bad", [None, [1.0], 1 + 1j])
def test_arithmetic_with_other_non_numbers(bad):
    with raises(TypeError, re.escape(repr(bad))):
        Value(1.0) * bad
    with raises(TypeError, re.escape(repr(bad))):
        Value(1.0) + bad


def test_comparison_with_a_non_number():
    with raises(TypeError, r"'a'"):
        _ = Value(1.0) < "a"


def test_op_parameters_must_be_numbers():
    with raises(TypeError, r"leaky_relu", r"'x'"):
        Value(1.0).leaky_relu("x")
    with raises(TypeError, r"elu", r"None"):
        Value(1.0).elu(None)
    with raises(TypeError, r"hardtanh"):
        Value(1.0).hardtanh("a", 1.0)


def test_hardtanh_bounds_must_be_ordered():
    with raises(ValueError, r"hardtanh", r"1\.0", r"-1\.0"):
        Value(0.0).hardtanh(1.0, -1.0)


# --- n-ary helpers --------------------------------------------------------------------------


def test_dot_length_mismatch():
    with raises(ValueError, r"dot", r"\b2\b", r"\b1\b"):
        autograd.dot([Value(1.0), Value(2.0)], [Value(3.0)])


def test_maximum_of_nothing():
    with raises(ValueError, r"maximum", r"empty"):
        autograd.maximum([])


def test_nary_helpers_reject_non_iterables_and_bad_items():
    with raises(TypeError, r"sum"):
        autograd.sum(Value(1.0))
    with raises(TypeError, r"sum", r"'s'"):
        autograd.sum([Value(1.0), "s"])
    with raises(TypeError, r"dot", r"None"):
        autograd.dot([Value(1.0)], [None])
    with raises(TypeError, r"maximum"):
        autograd.maximum(3.0)


def test_grad_rejects_non_values():
    x = Value(1.0)
    with raises(TypeError, r"grad", r"output"):
        autograd.grad(2.0, [x])
    with raises(TypeError, r"grad", r"'x'"):
        autograd.grad(x * 2, ["x"])
