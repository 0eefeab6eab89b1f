"""Truth tables of the lecture's perceptron gates and of both XOR networks."""

import itertools
import random

import pytest

import nn
from autograd import Value

T, F = 1.0, -1.0
PAIRS = list(itertools.product((F, T), repeat=2))


def truth(fn, rows):
    return [fn(*row).data for row in rows]


def test_and_or_not_truth_tables():
    assert truth(nn.AND, PAIRS) == [F, F, F, T]
    assert truth(nn.OR, PAIRS) == [F, T, T, T]
    assert truth(nn.NOT, [(F,), (T,)]) == [T, F]


def test_gates_use_the_lecture_weights():
    # AND = sign(-1 + g1 + g2), OR = sign(1 + g1 + g2): at g = (0, 0) they give -1 and +1
    assert nn.AND(0.0, 0.0).data == -1.0
    assert nn.OR(0.0, 0.0).data == 1.0
    assert nn.AND(0.5, 0.6).data == 1.0  # -1 + 1.1 > 0
    assert nn.NOT(0.0).data == 0.0


def test_n_input_gates():
    triples = list(itertools.product((F, T), repeat=3))
    assert truth(nn.AND, triples) == [F] * 7 + [T]
    assert truth(nn.OR, triples) == [F] + [T] * 7


def test_xor_cascade_truth_table():
    assert truth(nn.XOR, PAIRS) == [F, T, T, F]
    assert truth(nn.XOR, [(Value(a), Value(b)) for a, b in PAIRS]) == [F, T, T, F]


def test_gate_modules_match_the_functions():
    for make, fn in ((nn.and_gate, nn.AND), (nn.or_gate, nn.OR)):
        gate = make()
        assert [gate(list(row)).data for row in PAIRS] == truth(fn, PAIRS)
    assert [nn.not_gate()([g]).data for g in (F, T)] == [T, F]


def test_xor_sign_network_truth_table():
    model = nn.xor_network()
    assert [model(list(row)).data for row in PAIRS] == [F, T, T, F]


@pytest.mark.parametrize("x, y", [([0, 0], 0.0), ([0, 1], 1.0), ([1, 0], 1.0), ([1, 1], 0.0)])
def test_relu_xor_network_is_exact(x, y):
    model = nn.xor_relu_network()
    assert model(x).data == y
    hidden = model.layers[0](x)
    assert [h.data for h in hidden] == [max(0.0, x[0] + x[1]), max(0.0, x[0] + x[1] - 1)]


def test_relu_xor_network_is_a_plain_mlp_with_the_lecture_weights():
    model = nn.xor_relu_network()
    assert isinstance(model, nn.MLP)
    assert model.state_dict() == {
        "layers.0.neurons.0.w.0": 1.0, "layers.0.neurons.0.w.1": 1.0,
        "layers.0.neurons.0.b": 0.0,
        "layers.0.neurons.1.w.0": 1.0, "layers.0.neurons.1.w.1": 1.0,
        "layers.0.neurons.1.b": -1.0,
        "layers.1.neurons.0.w.0": 1.0, "layers.1.neurons.0.w.1": -2.0,
        "layers.1.neurons.0.b": 0.0,
    }


def test_building_the_fixed_networks_leaves_random_alone():
    state = random.getstate()
    nn.xor_relu_network()
    nn.xor_network()
    assert random.getstate() == state
