"""Programs written for micrograd's Value run unchanged on autograd.Value.

The same function is run with ``micrograd.engine.Value`` and with
``autograd.Value``; results and gradients must agree. The only arithmetic
difference is division: micrograd computes a / b as a * b**-1 (two roundings,
and the derivative through the power rule), autograd divides once. Negation
and subtraction (micrograd: multiply by -1, then add) are exact either way.
Each division thus moves a result by at most ~2 eps relative, and with a few
dozen nodes that stays below 1e-12 relative; gradients that come out small by
cancellation are compared at the scale of the largest gradient instead
(abs_tol = 1e-12 * that scale).
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("micrograd")
from micrograd.engine import Value as MicroValue  # noqa: E402

from autograd import Value  # noqa: E402


def examples(fraction: float) -> int:
    """This file's share of the active profile's example count (tests/conftest.py)."""
    return max(10, int(fraction * settings.default.max_examples))


REL = 1e-12


def program(V, inputs, weights, target):
    """A tiny 3-4-1 MLP and a loss, using only micrograd's API.

    Value(x), + - * / ** (number exponents), unary -, relu(), backward(),
    .grad and .data; numbers on either side of the operators.
    """
    w = [V(x) for x in weights]
    x = [V(v) for v in inputs]
    hidden = []
    for j in range(4):
        row = w[4 * j: 4 * j + 3]
        bias = w[4 * j + 3]
        act = sum((wi * xi for wi, xi in zip(row, x, strict=True)), bias)
        hidden.append(act.relu())
    out = sum((h * w[16 + j] for j, h in enumerate(hidden)), w[20])
    squashed = out / (1 + out**2) ** 0.5  # a soft sign, via / and **
    err = squashed - target
    loss = err**2 + 0.01 * sum(wi * wi for wi in w) / len(w) - (-err) * 0.125
    loss = loss + 1 / (2 + x[0] * x[0]) - 3 * x[1] / (1 + x[2] ** 2)
    loss.backward()
    return loss.data, [wi.grad for wi in w], [xi.grad for xi in x]


def close(a, b, scale):
    return math.isclose(a, b, rel_tol=REL, abs_tol=REL * scale)


@settings(max_examples=examples(1.0), deadline=None)
@given(
    st.lists(st.floats(-2, 2), min_size=3, max_size=3),
    st.lists(st.floats(-1, 1), min_size=21, max_size=21),
    st.floats(-1, 1),
)
def test_same_numbers_as_micrograd(inputs, weights, target):
    ours = program(Value, inputs, weights, target)
    theirs = program(MicroValue, inputs, weights, target)
    assert close(ours[0], theirs[0], 1.0)
    grads_ours, grads_theirs = ours[1] + ours[2], theirs[1] + theirs[2]
    scale = max(1.0, *map(abs, grads_theirs))
    for i, (a, b) in enumerate(zip(grads_ours, grads_theirs, strict=True)):
        assert close(a, b, scale), f"gradient {i}: autograd {a!r}, micrograd {b!r}"


def test_the_program_is_not_trivial():
    # Guard against a program whose gradients are all zero (e.g. every relu dead).
    _, wgrads, xgrads = program(Value, [0.5, -1.0, 2.0], [0.3] * 21, 0.2)
    assert sum(g != 0.0 for g in wgrads) >= 15
    assert all(g != 0.0 for g in xgrads)


def test_micrograd_training_loop_runs_unchanged():
    # The usual micrograd loop: forward, zero grads by assignment, backward, update .data.
    def train(V):
        w, b = V(0.5), V(-0.25)
        data = [(-1.0, -2.0), (0.0, 1.0), (1.0, 4.0), (2.0, 7.0)]  # y = 3x + 1
        history = []
        for _ in range(30):
            loss = sum(((w * x + b) - y) ** 2 for x, y in data) / len(data)
            w.grad = 0.0
            b.grad = 0.0
            loss.backward()
            w.data -= 0.05 * w.grad
            b.data -= 0.05 * b.grad
            history.append(loss.data)
        return history, w.data, b.data

    ours, theirs = train(Value), train(MicroValue)
    assert ours[0] == pytest.approx(theirs[0], rel=1e-12)
    assert ours[1:] == pytest.approx(theirs[1:], rel=1e-12)
    assert ours[0][-1] < ours[0][0] / 10  # it did learn


def nodes_and_edges(root):
    """micrograd-style graph walk, over ``_prev`` and ``_op`` only (iterative)."""
    seen, edges, todo = {id(root): root}, [], [root]
    while todo:
        v = todo.pop()
        for child in v._prev:
            edges.append((id(child), id(v), v._op))
            if id(child) not in seen:
                seen[id(child)] = child
                todo.append(child)
    return seen, edges


def test_drawing_code_written_for_micrograd_walks_the_graph():
    def build(V):
        a, b = V(2.0), V(-3.0)
        c = a * b + a * 2  # + and * only: both engines make the same nodes
        return c, (a, b)

    ours, leaves = build(Value)
    theirs, _ = build(MicroValue)
    nodes_o, edges_o = nodes_and_edges(ours)
    nodes_t, edges_t = nodes_and_edges(theirs)
    assert len(nodes_o) == len(nodes_t) == 6  # a, b, 2, a*b, a*2, c
    assert len(edges_o) == len(edges_t)
    assert sorted(op for *_, op in edges_o) == sorted(op for *_, op in edges_t)
    assert all(id(leaf) in nodes_o for leaf in leaves)
    assert all(isinstance(v._op, str) for v in nodes_o.values())
    assert ours._op == theirs._op == "+"


# --- micrograd's lecture code: user-defined ops and backprop by hand ------------------

def lecture_tanh(self):
    """tanh as micrograd's lecture writes it: a new node and a closure."""
    x = self.data
    t = (math.exp(2 * x) - 1) / (math.exp(2 * x) + 1)
    out = Value(t, (self,), "tanh")

    def _backward():
        self.grad += (1 - t**2) * out.grad

    out._backward = _backward
    return out


def lecture_exp(self):
    out = Value(math.exp(self.data), (self,), "exp")

    def _backward():
        self.grad += out.data * out.grad

    out._backward = _backward
    return out


def lecture_neuron(tanh):
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    n = x1 * w1 + x2 * w2 + b
    return [x1, x2, w1, w2, b], tanh(n)


def test_user_defined_ops_backpropagate_like_built_in_ones():
    leaves, o = lecture_neuron(lecture_tanh)
    assert o.op == o._op == "tanh" and len(o._prev) == 1
    o.backward()
    ref_leaves, ref = lecture_neuron(Value.tanh)
    ref.backward()
    for mine, theirs in zip(leaves, ref_leaves, strict=True):
        assert mine.grad == pytest.approx(theirs.grad, rel=1e-12, abs=1e-15)
    assert [v.grad for v in leaves] == pytest.approx([-1.5, 0.5, 1.0, 0.0, 0.5])


def test_user_defined_op_with_shared_child_accumulates():
    x = Value(0.3)
    y = lecture_exp(x) * lecture_tanh(x) + lecture_exp(lecture_exp(x))
    y.backward()
    ref_x = Value(0.3)
    (ref_x.exp() * ref_x.tanh() + ref_x.exp().exp()).backward()
    assert x.grad == pytest.approx(ref_x.grad, rel=1e-12)


def test_backprop_by_hand_node_by_node_matches_backward():
    """The lecture's manual pass: o.grad = 1, then o._backward(), n._backward(), ..."""
    leaves, o = lecture_neuron(lecture_tanh)
    import autograd

    order = autograd.topological_order(o)
    o.grad = 1.0
    for node in reversed(order):
        node._backward()  # built-in nodes and the user's closure alike; leaves do nothing
    by_hand = [v.grad for v in leaves]
    ref_leaves, ref = lecture_neuron(lecture_tanh)
    ref.backward()
    assert by_hand == [v.grad for v in ref_leaves]


def test_one_built_in_step_by_hand():
    a, b = Value(2.0), Value(-3.0)
    c = a * b
    c.grad = 2.0
    c._backward()
    assert (a.grad, b.grad) == (-6.0, 4.0)
    s = __import__("autograd").dot([a], [b], bias=Value(1.0))
    s.grad = 1.0
    s._backward()
    assert (a.grad, b.grad) == (-9.0, 6.0)


def test_a_node_without_a_closure_passes_nothing_on():
    x = Value(1.5)
    y = Value(x.data * 2, (x,), "double")
    (y * 3.0).backward()
    assert x.grad == 0.0  # as in micrograd, whose default _backward does nothing


def test_grad_runs_user_closures_and_leaves_grads_alone():
    import autograd

    leaves, o = lecture_neuron(lecture_tanh)
    for v in leaves:
        v.grad = 7.0
    gs = autograd.grad(o, leaves)
    assert [g.data for g in gs] == pytest.approx([-1.5, 0.5, 1.0, 0.0, 0.5])
    assert [v.grad for v in leaves] == [7.0] * 5 and o.grad == 0.0


def test_create_graph_through_a_closure_names_the_node():
    import autograd

    leaves, o = lecture_neuron(lecture_tanh)
    with pytest.raises(TypeError, match="create_graph.*'tanh'.*_backward closure"):
        autograd.grad(o, leaves, create_graph=True)


def test_closures_can_be_assigned_only_to_user_made_nodes():
    x = Value(1.0)
    with pytest.raises(AttributeError, match="_backward"):
        x._backward = lambda: None
    with pytest.raises(AttributeError, match="_backward"):
        (x * 2.0)._backward = lambda: None
    y = Value(2.0, (x,), "f")
    with pytest.raises(TypeError, match="callable"):
        y._backward = 3


def test_bad_children_are_refused_with_a_clear_error():
    with pytest.raises(TypeError, match="_children"):
        Value(1.0, "x")  # a label passed positionally
    with pytest.raises(TypeError, match="child"):
        Value(1.0, (2.0,), "f")
    with pytest.raises(TypeError, match="_op"):
        Value(1.0, (Value(1.0),), 5)


def test_micrograd_signature_with_label_and_no_grad():
    import autograd

    x = Value(1.0)
    y = Value(2.0, (x,), "f", label="y")
    assert (y.label, y.op, y.parents) == ("y", "f", (x,))
    with autograd.no_grad():
        z = Value(2.0, (x,), "f")
    assert z.op == "" and z.parents == ()
