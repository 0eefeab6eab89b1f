"""detect_anomaly(): NaN and inf are caught where they first appear, per thread."""

from __future__ import annotations

import inspect
import math
import os
import threading

import pytest

import autograd
from autograd import AnomalyError, Value, detect_anomaly, grad, no_grad

HERE = os.path.basename(__file__)
INF = float("inf")


def next_line() -> str:
    """"file:line" of the line after the caller's: where the next node is made."""
    return f"{HERE}:{inspect.currentframe().f_back.f_lineno + 1}"


def test_anomaly_error_is_a_value_error():
    assert issubclass(AnomalyError, ValueError)


# --- forward ---------------------------------------------------------------------------

def test_nan_in_forward_names_the_op_and_where_the_node_was_made():
    a, b = Value(INF), Value(INF)  # made outside the block: leaves may hold inf
    with detect_anomaly(), pytest.raises(AnomalyError) as info:
        site = next_line()
        a - b
    message = str(info.value)
    assert "'-'" in message and "nan" in message
    assert "(inf, inf)" in message
    assert site in message


def test_overflow_to_inf_in_forward_is_caught():
    with detect_anomaly(), pytest.raises(AnomalyError) as info:
        x, y = Value(1e308), Value(10.0)
        site = next_line()
        x * y
    message = str(info.value)
    assert "'*'" in message and "inf" in message and site in message


def test_a_non_finite_leaf_made_inside_the_block_is_caught():
    with detect_anomaly(), pytest.raises(AnomalyError) as info:
        site = next_line()
        Value(math.nan)
    assert "leaf" in str(info.value) and site in str(info.value)


def test_the_first_bad_node_is_named_not_a_later_one():
    a, b = Value(INF), Value(INF)
    with detect_anomaly(), pytest.raises(AnomalyError) as info:
        site = next_line()
        ((a - b) * 2.0 + 1.0).tanh()
    assert "'-'" in str(info.value) and site in str(info.value)


# --- backward --------------------------------------------------------------------------

def test_inf_gradient_in_backward_names_the_op_and_its_site():
    # log(1e-310) = -713.8 is finite, but its derivative 1/x overflows to inf
    with detect_anomaly():
        x = Value(1e-310)
        site = next_line()
        y = x.log()
        assert math.isfinite(y.data)
        for run in (y.backward, lambda: grad(y, [x])):
            with pytest.raises(AnomalyError) as info:
                run()
            message = str(info.value)
            assert "backward of 'log'" in message and "inf" in message
            assert "1e-310" in message and site in message


def test_inf_gradient_of_division_is_caught():
    # 1/x = 1e200 is finite, d/dx = -1/x^2 = -1e400 is not
    with detect_anomaly():
        x = Value(1e-200)
        site = next_line()
        y = 1.0 / x
        with pytest.raises(AnomalyError) as info:
            y.backward()
    message = str(info.value)
    assert "backward of '/'" in message and "-inf" in message and site in message


def test_second_derivative_overflow_is_caught_under_create_graph():
    # log(1e-200) and its derivative 1/x = 1e200 are finite; the second
    # derivative -1/x^2 = -1e400 is not
    with detect_anomaly():
        x = Value(1e-200)
        y = x.log()
        (d1,) = grad(y, [x], create_graph=True)
        assert d1.data == pytest.approx(1e200)
        with pytest.raises(AnomalyError) as info:
            grad(d1, [x])
    assert "backward of '/'" in str(info.value) and "-inf" in str(info.value)


def test_nodes_made_outside_the_block_are_reported_as_such():
    x = Value(1e-310)
    y = x.log()
    with detect_anomaly(), pytest.raises(AnomalyError) as info:
        y.backward()
    assert "created outside detect_anomaly" in str(info.value)


# --- scope -------------------------------------------------------------------------------

def test_nothing_is_checked_outside_the_block():
    with detect_anomaly():
        pass
    a, b = Value(INF), Value(INF)
    assert math.isnan((a - b).data)
    assert (Value(1e308) * 10.0).data == INF
    x = Value(1e-310)
    x.log().backward()
    assert x.grad == INF


def test_nested_blocks_and_errors_restore_the_outer_state():
    a, b = Value(INF), Value(INF)
    with detect_anomaly():
        with detect_anomaly():
            pass
        with pytest.raises(AnomalyError):  # still on after the inner block
            a - b
    assert math.isnan((a - b).data)  # off after the outer block, though it raised inside
    with pytest.raises(RuntimeError), detect_anomaly():
        raise RuntimeError
    assert math.isnan((a - b).data)


def run_in_threads(inside, outside, block):
    """Run ``inside`` in a thread within ``block()`` and ``outside`` in another, at once.

    The barriers make the outside thread do its work while the inside thread
    is in the block, before it leaves.
    """
    entered, done = threading.Barrier(2, timeout=120), threading.Barrier(2, timeout=120)
    results, errors = {}, []

    def thread_inside():
        try:
            with block():
                entered.wait()
                results["inside"] = inside()
                done.wait()
        except BaseException as err:  # noqa: BLE001 - reported by the main thread
            errors.append(err)

    def thread_outside():
        try:
            entered.wait()
            results["outside"] = outside()
            done.wait()
        except BaseException as err:  # noqa: BLE001
            errors.append(err)

    threads = [threading.Thread(target=thread_inside), threading.Thread(target=thread_outside)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not errors, errors
    return results


def test_anomaly_mode_is_per_thread():
    a, b = Value(INF), Value(INF)

    def caught():
        try:
            a - b
        except AnomalyError as err:
            return str(err)
        return None

    results = run_in_threads(caught, caught, detect_anomaly)
    assert results["inside"] is not None and "'-'" in results["inside"]
    assert results["outside"] is None  # the other thread computed nan undisturbed


def test_no_grad_is_per_thread():
    x, y = Value(2.0), Value(3.0)

    def build():
        z = x * y
        return z.op, z.parents

    results = run_in_threads(build, build, no_grad)
    assert results["inside"] == ("", ())
    op, parents = results["outside"]
    assert op == "*" and parents == (x, y)


@pytest.mark.parametrize("make", [
    lambda vs: autograd.sum(vs),
    lambda vs: autograd.dot(vs, [Value(2.0), Value(3.0)]),
    lambda vs: autograd.maximum(vs),
    lambda vs: autograd.logsumexp(vs),
])
def test_an_n_ary_node_is_not_blamed_for_a_stale_inf_on_its_operand(make):
    """A leaf's .grad already inf from earlier work is not the n-ary node's doing:
    like binary nodes, n-ary nodes check only what they contribute."""
    a, b = Value(1.0), Value(0.5)
    a.grad = math.inf
    with detect_anomaly():
        y = make([a, b])
        y.backward()
        assert math.isfinite(autograd.grad(y, [a, b])[1].data)
        autograd.grad(y, [a, b], create_graph=True)
    assert a.grad == math.inf


def test_an_n_ary_node_that_makes_an_inf_gradient_is_named():
    a, b = Value(1e300), Value(1e-300)
    with detect_anomaly():
        z = autograd.dot([a], [b]) * 1e300  # finite forward; d z/d b = 1e300 * 1e300
        for run in (z.backward, lambda: autograd.grad(z, [a, b])):
            with pytest.raises(AnomalyError, match="backward of 'dot'"):
                run()
