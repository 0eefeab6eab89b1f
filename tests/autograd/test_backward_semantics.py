"""What backward() does to .grad, no_grad, detach, constants, and Value's Python protocol.

Most numbers here are small integers or dyadic fractions, so every gradient is
exact and the assertions use ==.
"""

from __future__ import annotations

import math
from fractions import Fraction

import pytest

import autograd
from autograd import Value, no_grad

# --- accumulation ------------------------------------------------------------------


def test_leaves_accumulate_exactly_twice_across_two_calls():
    x, y = Value(3.0), Value(-2.0)
    f = x * y + x  # df/dx = y + 1 = -1, df/dy = x = 3
    f.backward()
    assert (x.grad, y.grad) == (-1.0, 3.0)
    f.backward()
    assert (x.grad, y.grad) == (-2.0, 6.0)  # exactly twice, never more
    f.backward()
    assert (x.grad, y.grad) == (-3.0, 9.0)


def test_twice_is_exact_on_a_deep_shared_graph():
    # micrograd's extra counting shows up when interior grads are not reset: a
    # shared chain makes a third call over-count. Here b is used by c twice.
    a = Value(2.0)
    b = a * a  # 4
    c = b * b + b  # 20; dc/db = 2b + 1 = 9; dc/da = 9 * 2a = 36
    c.backward()
    assert (a.grad, b.grad, c.grad) == (36.0, 9.0, 1.0)
    c.backward()
    assert (a.grad, b.grad, c.grad) == (72.0, 9.0, 1.0)


def test_interior_nodes_hold_the_latest_backward_not_a_sum():
    a = Value(1.5)
    b = a * 2.0  # interior
    c1 = b * 3.0
    c1.backward()
    assert b.grad == 3.0 and a.grad == 6.0
    c2 = b * 5.0
    c2.backward()
    assert b.grad == 5.0  # not 8: interior grads are reset per backward
    assert a.grad == 6.0 + 10.0  # the leaf accumulates
    assert c1.grad == 1.0  # c1 was not part of the second graph: left alone


def test_a_node_used_twice_by_one_op():
    a = Value(3.0)
    b = a + a  # 6, db/da = 2
    c = b * b  # 36, dc/db = 2b = 12
    c.backward()
    assert c.data == 36.0
    assert b.grad == 12.0
    assert a.grad == 24.0


def test_diamond_sums_both_branches():
    x = Value(0.5)
    left, right = x * 4.0, x.exp()
    f = left * right  # 4x e^x -> df/dx = 4 e^x (1 + x)
    f.backward()
    assert x.grad == pytest.approx(4 * math.exp(0.5) * 1.5, rel=1e-15)


def test_backward_on_a_leaf_adds_one():
    x = Value(2.0)
    x.backward()
    assert x.grad == 1.0
    x.grad = 0.5
    x.backward()
    assert x.grad == 1.5


def test_backward_on_an_interior_root_seeds_it_with_one_each_time():
    x = Value(2.0)
    y = x * x
    y.backward()
    y.backward()
    assert y.grad == 1.0
    assert x.grad == 8.0


def test_backward_from_an_intermediate_node_ignores_later_consumers():
    x = Value(2.0)
    y = x * 3.0
    z = y * y  # noqa: F841 -- built but not differentiated
    y.backward()
    assert x.grad == 3.0


def test_zero_grad_resets_a_leaf():
    x = Value(2.0)
    (x * 7.0).backward()
    x.zero_grad()
    assert x.grad == 0.0
    (x * 7.0).backward()
    assert x.grad == 7.0


def test_grad_leaves_dot_grad_untouched_and_returns_values():
    x, y = Value(3.0), Value(4.0)
    f = x * y + y
    dx, dy = autograd.grad(f, [x, y])
    assert isinstance(dx, Value) and isinstance(dy, Value)
    assert (dx.data, dy.data) == (4.0, 4.0)
    assert dx.op == "" and dx.parents == ()  # a plain leaf without create_graph
    assert (x.grad, y.grad, f.grad) == (0.0, 0.0, 0.0)
    (unrelated,) = autograd.grad(f, [Value(1.0)])
    assert unrelated.data == 0.0


def test_grad_with_create_graph_differentiates_again():
    x = Value(3.0)
    f = x**3  # f' = 3x^2 = 27, f'' = 6x = 18, f''' = 6
    (d1,) = autograd.grad(f, [x], create_graph=True)
    assert d1.data == 27.0
    (d2,) = autograd.grad(d1, [x], create_graph=True)
    assert d2.data == 18.0
    (d3,) = autograd.grad(d2, [x])
    assert d3.data == 6.0
    d2.backward()
    assert x.grad == 6.0


# --- recursion-free: a million deep ----------------------------------------------------


def test_chain_a_million_deep_has_the_exact_gradient():
    # y_k = y_{k-1} * w + c, n = 10^6 steps (2 * 10^6 nodes). A recursive
    # topological sort dies at depth ~1000; this must not.
    # The float loop carries d y_k / d w = d_{k-1} * w + y_{k-1} (forward mode),
    # so it computes the same derivative by a different route than backprop's
    # sum over k of y_{k-1} w^(n-k). With w = 1 - 2^-21, w^n ~ 0.62: every step
    # contributes. All terms are positive (no cancellation), so each side is
    # within ~2n eps = 4.4e-10 relative of the truth: rtol 2e-9.
    n = 10**6
    w_, c_, y0_ = 1.0 - 2.0**-21, 0.25, 1.0
    w, c, y0 = Value(w_), Value(c_), Value(y0_)
    y = y0
    for _ in range(n):
        y = y * w + c
    y.backward()

    value, dw, dc = y0_, 0.0, 0.0
    for _ in range(n):
        dw = dw * w_ + value  # uses y_{k-1}
        dc = dc * w_ + 1.0
        value = value * w_ + c_
    assert y.data == value  # same float operations in the same order: bit for bit
    assert w.grad == pytest.approx(dw, rel=2e-9)
    assert c.grad == pytest.approx(dc, rel=2e-9)
    assert y0.grad == pytest.approx(w_**n, rel=2e-9)  # d y_n / d y_0 = w^n
    # the closed forms, to confirm the float loop itself: dc = (1 - w^n)/(1 - w)
    assert dc == pytest.approx((1 - w_**n) / (1 - w_), rel=1e-8)
    del y


# --- no_grad and detach ------------------------------------------------------------------


def test_no_grad_records_nothing():
    x = Value(2.0)
    with no_grad():
        assert not autograd.is_grad_enabled()
        results = [
            x * 3, x + x, -x, x**2, 2**x, x / 4, x.tanh(), x.exp(), x.relu(),
            autograd.sum([x, 1]), autograd.dot([x], [x]), autograd.maximum([x, 1]),
        ]
        with no_grad():  # nesting
            nested = x * x
        assert not autograd.is_grad_enabled()  # still off after the inner block
        after_nested = x * x
    assert autograd.is_grad_enabled()
    for r in [*results, nested, after_nested]:
        assert r.op == "" and r.parents == () and r._prev == ()
    assert [r.data for r in results[:3]] == [6.0, 4.0, -2.0]
    recorded = x * 3
    assert recorded.parents[0] is x  # recording resumes after the block
    results[0].backward()  # a leaf: nothing flows back to x
    assert x.grad == 0.0


def test_no_grad_is_restored_after_an_exception():
    with pytest.raises(ZeroDivisionError), no_grad():
        Value(1.0) / 0
    assert autograd.is_grad_enabled()
    assert (Value(1.0) * 2).op != ""


def test_detach_is_a_new_leaf_with_the_same_data():
    x = Value(2.0)
    y = x * 3
    d = y.detach()
    assert d is not y
    assert d.data == y.data == 6.0
    assert d.op == "" and d.parents == () and d.grad == 0.0
    (d * 5).backward()
    assert d.grad == 5.0
    assert x.grad == 0.0 and y.grad == 0.0  # cut off from the graph


# --- constants, aliases, protocol ------------------------------------------------------------


@pytest.mark.parametrize(
    ("build", "slot"),
    [
        (lambda x: x + 2, 1), (lambda x: 2 + x, 0),
        (lambda x: x - 2, 1), (lambda x: 2 - x, 0),
        (lambda x: x * 2, 1), (lambda x: 2 * x, 0),
        (lambda x: x / 2, 1), (lambda x: 2 / x, 0),
        (lambda x: x**2, 1), (lambda x: 2**x, 0),
    ],
)
def test_plain_numbers_become_constant_leaves(build, slot):
    x = Value(3.0)
    out = build(x)
    assert len(out.parents) == 2
    const, other = out.parents[slot], out.parents[1 - slot]
    assert other is x
    assert isinstance(const, Value)
    assert const.is_constant is True
    assert x.is_constant is False
    assert const.data == 2.0 and const.op == "" and const.parents == ()
    out.backward()
    assert x.grad != 0.0


def test_constants_in_nary_helpers():
    x = Value(1.0)
    s = autograd.sum([x, 4])
    assert [p.is_constant for p in s.parents] == [False, True]
    assert s.parents[1].data == 4.0
    assert Value(4.0).is_constant is False


def test_underscore_aliases_for_micrograd_drawing_code():
    a, b = Value(1.0), Value(2.0)
    c = a * b
    assert c._prev == c.parents == (a, b)
    assert c._op == c.op == "*"
    assert a._prev == () and a._op == ""
    with pytest.raises(AttributeError):
        c._prev = ()
    with pytest.raises(AttributeError):
        c._op = "+"
    with pytest.raises(AttributeError):
        c.op = "+"
    with pytest.raises(AttributeError):
        c.parents = ()


def test_comparisons_compare_data_and_return_bool():
    a, b = Value(1.0), Value(2.0)
    # a number on the left exercises the reflected comparison on purpose
    results = [a < b, a <= b, b > a, b >= a, a < 1.5, a <= 1, 2 > a, 0.5 < a, b >= 2]  # noqa: SIM300
    assert results == [True] * 9
    assert all(type(r) is bool for r in results)
    assert [b < a, b <= a, a > b, a >= b, a > 1.0] == [False] * 5
    c = Value(1.0)  # equal data: the strict comparisons are False, the others True
    assert [a < c, a > c, a < 1.0, a > 1] == [False] * 4
    assert [c <= a, c >= a, a <= 1.0, a >= 1] == [True] * 4
    assert sorted([b, a], key=float) == [a, b]
    assert max(a, b) is b  # uses >, so plain max works on Values


def test_equality_is_identity_and_values_hash():
    a, b = Value(1.0), Value(1.0)
    assert a == a
    assert not (a == b)  # noqa: SIM201 -- __eq__ itself, not __ne__
    assert a != b
    assert len({a, b}) == 2
    assert len({a, a}) == 1
    d = {a: "a", b: "b"}
    assert d[a] == "a" and d[b] == "b"
    a.data = 5.0  # mutating data does not change the hash
    assert a in d


def test_float_conversion():
    v = Value(2.5) * 2
    assert float(v) == 5.0 and type(float(v)) is float
    assert math.sqrt(Value(16.0)) == 4.0  # float() protocol used by math


def test_value_accepts_real_numbers_of_any_kind():
    assert Value(3).data == 3.0 and type(Value(3).data) is float
    assert Value(True).data == 1.0
    assert Value(Fraction(1, 4)).data == 0.25


def test_repr_is_readable():
    x = Value(2.5, label="weight")
    r = repr(x)
    assert "2.5" in r and "weight" in r
    y = x * 2
    r = repr(y)
    assert "5.0" in r and "*" in r
    assert repr(x.tanh()).count("tanh") == 1
