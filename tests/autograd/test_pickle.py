"""Graphs survive pickle and copy.deepcopy at any depth, with shared nodes shared."""

from __future__ import annotations

import copy
import pickle

import pytest

import autograd
from autograd import Constant, Value

DEEP = 45_000  # ops; about 101,000 nodes, the longest path over 45,000 deep


def deep_chain(n: int) -> tuple[Value, Value]:
    """A chain n ops deep mixing unary, binary (with constants) and n-ary nodes."""
    x = Value(0.5, label="x")
    y = x
    for i in range(n):
        k = i % 4
        if k == 0:
            y = y * 0.999 + 0.001
        elif k == 1:
            y = y.tanh()
        elif k == 2:
            y = autograd.sum([y, x * 1e-6])
        else:
            y = y.leaky_relu(0.1)
    return x, y


def roundtrips():
    return [
        ("pickle", lambda obj: pickle.loads(pickle.dumps(obj))),
        ("deepcopy", copy.deepcopy),
    ]


@pytest.mark.parametrize(("name", "roundtrip"), roundtrips())
def test_a_graph_of_100k_nodes_round_trips_and_backpropagates_the_same(name, roundtrip):
    x, y = deep_chain(DEEP)
    assert len(autograd.topological_order(y)) > 100_000
    x2, y2 = roundtrip((x, y))
    assert y2.data == y.data and y2.op == y.op and x2.label == "x"
    y.backward()
    y2.backward()
    assert x2.grad == x.grad != 0.0


@pytest.mark.parametrize(("name", "roundtrip"), roundtrips())
def test_shared_nodes_stay_shared_and_types_survive(name, roundtrip):
    a = Value(2.0, label="a")
    h = a * a
    z = h + h * 3
    z.grad, h.grad = 5.0, 7.0
    z2, h2, a2 = roundtrip([z, h, a])
    assert z2.parents[0] is h2 and z2.parents[1].parents[0] is h2
    assert h2.parents == (a2, a2)
    assert isinstance(z2.parents[1].parents[1], Constant)
    assert (z2.grad, h2.grad, a2.grad) == (5.0, 7.0, 0.0)
    z2.backward()
    assert a2.grad == 4 * 2 * 2.0


def test_an_interior_node_pickled_after_its_root_is_still_whole():
    a = Value(3.0)
    h = (a * 2.0).exp()
    z = h.log()
    z2, h2 = pickle.loads(pickle.dumps([z, h]))
    h3 = pickle.loads(pickle.dumps(h))  # a later, separate pickle of an interior node
    for node in (h2, h3):
        assert node.op == "exp" and node.parents[0].op == "*"
    h3.backward()
    assert h3.parents[0].parents[0].grad == pytest.approx(2 * h.data)


def test_copy_copy_is_a_new_node_over_the_same_operands():
    a, b = Value(1.0), Value(2.0)
    y = autograd.dot([a], [b])
    c = copy.copy(y)
    assert c is not y and c.parents == y.parents and c.op == "dot"


def test_nary_and_parametrised_ops_round_trip():
    xs = [Value(float(i)) for i in range(5)]
    y = autograd.logsumexp(xs) + autograd.maximum(xs) + xs[0].elu(0.3) + xs[1].hardtanh(-2, 2)
    y2 = pickle.loads(pickle.dumps(y))
    assert y2.data == y.data
    assert autograd.grad(y2, list(y2.parents[0].parents[0].parents[0].parents))[0].data == (
        pytest.approx(autograd.grad(y, xs)[0].data)
    )
