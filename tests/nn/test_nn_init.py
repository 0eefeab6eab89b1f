"""Initialisers: ranges, spreads, constants (and the symmetry they cannot break)."""

import math
import random
import statistics

import pytest

import nn


def weights(model):
    return [p.data for n, p in model.named_parameters() if not n.endswith(".b")]


def biases(model):
    return [p.data for n, p in model.named_parameters() if n.endswith(".b")]


def test_uniform_range():
    ws = weights(nn.Layer(10, 10, init=nn.Uniform(-0.1, 0.1)))
    assert all(-0.1 <= w <= 0.1 for w in ws) and max(ws) > 0.05 and min(ws) < -0.05


@pytest.mark.parametrize("spec", [nn.XavierUniform(), "xavier_uniform", "glorot_uniform"])
def test_xavier_uniform_bound(spec):
    bound = math.sqrt(6 / (20 + 30))
    ws = weights(nn.Layer(20, 30, init=spec, rng=random.Random(0)))
    assert all(abs(w) <= bound for w in ws)
    assert max(abs(w) for w in ws) > 0.9 * bound


@pytest.mark.parametrize(
    "spec, std",
    [
        (nn.XavierNormal(), math.sqrt(2 / (40 + 60))),
        (nn.HeNormal(), math.sqrt(2 / 40)),
        (nn.HeUniform(), math.sqrt(2 / 40)),  # U(-a, a) with a = sqrt(6 / fan_in)
        ("kaiming_normal", math.sqrt(2 / 40)),
    ],
)
def test_spread_of_scaled_initialisers(spec, std):
    ws = weights(nn.Layer(40, 60, init=spec, rng=random.Random(1)))
    assert statistics.pstdev(ws) == pytest.approx(std, rel=0.1)
    assert abs(statistics.fmean(ws)) < 0.1 * std


def test_he_uniform_bound():
    ws = weights(nn.Layer(24, 5, init=nn.HeUniform(), rng=random.Random(2)))
    assert all(abs(w) <= math.sqrt(6 / 24) for w in ws)


def test_constant_zeros_and_bias_constant():
    model = nn.MLP(3, [4, 1], init=nn.Constant(0.5), bias_init=0.1)
    assert set(weights(model)) == {0.5} and set(biases(model)) == {0.1}
    assert set(weights(nn.MLP(3, [4, 1], init=nn.Zeros()))) == {0.0}
    assert set(weights(nn.MLP(3, [4, 1], init=0.25))) == {0.25}


def test_constant_init_draws_nothing_from_random():
    state = random.getstate()
    nn.MLP(3, [4, 1], init="zeros")
    assert random.getstate() == state


def test_constant_weights_never_break_symmetry():
    """The lecture's warning: identical hidden units stay identical under gradient descent."""
    model = nn.MLP(2, [3, 1], activation="tanh", init=nn.Constant(0.3))
    data = [([0.0, 1.0], 1.0), ([1.0, 0.0], 1.0), ([1.0, 1.0], 0.0), ([0.0, 0.0], 0.0)]
    for _ in range(20):
        loss = nn.mse_loss([model(x) for x, _ in data], [y for _, y in data])
        model.zero_grad()
        loss.backward()
        for p in model.parameters():
            p.data -= 0.5 * p.grad
    hidden = [[w.data for w in n.w] + [n.b.data] for n in model.layers[0].neurons]
    assert hidden[0] != [0.3, 0.3, 0.0]  # training did move them...
    assert hidden[0] == hidden[1] == hidden[2]  # ...but all alike


def test_unknown_initialiser_name():
    with pytest.raises(ValueError, match="valid names.*xavier_uniform"):
        nn.Layer(2, 2, init="lecun")
