"""A Layer's fast forward (one dots call per layer) builds, bit for bit, the graph
that one Neuron call per unit builds: same nodes in the same order, same values,
same gradients after backward (autograd.compile compares with ==)."""

from __future__ import annotations

import math
import random

import pytest

import autograd
import nn
from autograd import Value
from autograd.backward import topological_order


def _graph(root: Value) -> list[tuple]:
    """Every node as (op, operand positions, data bits, grad bits), in backward's order."""
    order = topological_order(root)
    where = {id(v): i for i, v in enumerate(order)}
    return [
        (v.op, tuple(where[id(p)] for p in v.parents), v.data.hex(), v.grad.hex())
        for v in order
    ]


def _per_neuron(model: nn.MLP, x: list[Value]) -> list[Value]:
    for layer in model.layers:
        x = [neuron(x) for neuron in layer.neurons]
    return x


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("activation", ["relu", "tanh", "linear", "sigmoid", "softplus", "prelu"])
def test_mlp_graph_and_gradients_match_one_neuron_at_a_time(seed, activation):
    rng = random.Random(seed)
    nn.manual_seed(seed)
    model = nn.MLP(3, [4, 5, 2], activation=activation, bias=seed % 3 != 0)
    for p in model.parameters()[::7]:
        p.data = rng.choice([0.0, -0.0, 1e16])
    rows = [[rng.choice([0.0, -0.0, math.nan, rng.uniform(-2, 2)]) for _ in range(3)]
            for _ in range(3)]

    def run(forward) -> tuple[list, list[str]]:
        model.zero_grad()
        outs = [o for row in rows for o in forward([Value(v) for v in row])]
        loss = autograd.sum([o * o for o in outs])
        loss.backward()
        return _graph(loss), [p.grad.hex() for p in model.parameters()]

    fast = run(lambda x: model(x))
    reference = run(lambda x: _per_neuron(model, x))
    assert fast == reference
    layers = model.forward_layers(rows[0])
    assert [len(s) for s, _ in layers] == [4, 5, 2]
    assert all(a_j is s_j or a_j.parents[0] is s_j for s, a in layers
               for s_j, a_j in zip(s, a, strict=True))


@pytest.mark.parametrize("method, inputs", [(Value.log, [1.0, -1.0]), (Value.exp, [1.0, 800.0])])
def test_a_failing_activation_raises_what_the_method_raises(method, inputs):
    """Any of Value's one-op methods may be a unit's activation; if one fails, the
    layer raises the method's own error, naming the op and the value."""
    layer = nn.Layer(1, 2, activation=method)
    for neuron, w in zip(layer.neurons, inputs, strict=True):
        neuron.w[0].data = w
    with pytest.raises((ValueError, ArithmeticError)) as layer_error:
        layer([1.0])
    with pytest.raises(type(layer_error.value)) as method_error:
        method(Value(inputs[1]))
    assert str(layer_error.value) == str(method_error.value)


def test_activations_under_anomaly_detection_are_checked_per_node():
    layer = nn.Layer(1, 2, activation=Value.exp)
    layer.neurons[1].w[0].data = 1e3  # exp overflows: the method's error, not an anomaly's
    with autograd.detect_anomaly(), pytest.raises(OverflowError, match="exp"):
        layer([1.0])
