"""Activations by name, by dict and by callable; PReLU learns; RReLU's two modes."""

import math
import random

import pytest

import nn
from autograd import Value

REFERENCE = {
    "linear": lambda z: z,
    "sigmoid": lambda z: 1 / (1 + math.exp(-z)),
    "tanh": math.tanh,
    "relu": lambda z: max(z, 0.0),
    "leaky_relu": lambda z: z if z > 0 else 0.01 * z,
    "elu": lambda z: z if z > 0 else math.expm1(z),
    "softplus": lambda z: math.log1p(math.exp(z)),
    "hardtanh": lambda z: max(-1.0, min(1.0, z)),
    "abs": abs,
    "sign": lambda z: (z > 0) - (z < 0),
    "step": lambda z: 1.0 if z >= 0 else 0.0,
}
FUNCTIONS = {
    "linear": nn.linear, "sigmoid": nn.sigmoid, "tanh": nn.tanh, "relu": nn.relu,
    "leaky_relu": nn.leaky_relu, "elu": nn.elu, "softplus": nn.softplus,
    "hardtanh": nn.hardtanh, "abs": nn.absolute, "sign": nn.sign, "step": nn.step,
}
POINTS = [-2.5, -0.3, 0.0, 0.4, 1.7]


def unit(activation):
    n = nn.Neuron(1, activation=activation)
    n.w[0].data, n.b.data = 1.0, 0.0
    return n


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_each_activation_by_name_and_by_callable(name):
    for spec in (name, FUNCTIONS[name]):
        n = unit(spec)
        assert [n([z]).data for z in POINTS] == pytest.approx([REFERENCE[name](z) for z in POINTS])
    assert FUNCTIONS[name](0.4).data == pytest.approx(REFERENCE[name](0.4))


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "relu", "leaky_relu", "elu", "softplus",
                                  "hardtanh", "abs"])
def test_activation_gradients_match_finite_differences(name, fd_check):
    fn = nn.get_activation(name)
    for z in (-1.3, 0.45):
        fd_check(lambda v: fn(v[0]), [z])


def test_every_name_is_listed_and_accepted_by_a_layer():
    assert set(REFERENCE) | {"prelu", "rrelu"} == set(nn.ACTIVATIONS)
    for name in nn.ACTIVATIONS:
        out = nn.Layer(2, 2, activation=name)([0.3, -0.7])
        assert len(out) == 2 and all(isinstance(v, Value) for v in out)


def test_custom_callable_and_parametrised_dict():
    n = unit(lambda v: v * v)
    assert n([-3.0]).data == 9.0
    leaky = unit({"name": "leaky_relu", "negative_slope": 0.2})
    assert leaky([-2.0]).data == pytest.approx(-0.4)
    clipped = unit({"name": "hardtanh", "min_val": -0.5, "max_val": 2.0})
    assert [clipped([z]).data for z in (-3.0, 3.0)] == [-0.5, 2.0]


def test_unknown_name_lists_the_valid_ones():
    with pytest.raises(ValueError) as err:
        nn.Neuron(2, activation="swish")
    msg = str(err.value)
    assert "'swish'" in msg
    for name in nn.ACTIVATIONS:
        assert name in msg


def test_bad_activation_arguments_and_types():
    with pytest.raises(ValueError, match="leaky_relu"):
        nn.Neuron(2, activation={"name": "leaky_relu", "slope": 0.2})
    with pytest.raises(ValueError, match="name"):
        nn.Neuron(2, activation={"negative_slope": 0.2})
    with pytest.raises(ValueError):
        nn.Neuron(2, activation=42)


# --- PReLU ------------------------------------------------------------------------------

def test_prelu_value_and_learned_slope_per_unit():
    layer = nn.Layer(1, 2, activation="prelu")
    slopes = [n.act.slope[0] for n in layer.neurons]
    assert [s.data for s in slopes] == [0.25, 0.25]
    assert all(s in layer.parameters() for s in slopes)
    assert "neurons.1.act.slope.0" in dict(layer.named_parameters())
    for n, w in zip(layer.neurons, (1.0, -1.0), strict=True):
        n.w[0].data, n.b.data = w, 0.0
    out = layer([-2.0])  # unit 0 sees -2 (negative side), unit 1 sees +2
    assert [v.data for v in out] == pytest.approx([-0.5, 2.0])
    (out[0] + out[1]).backward()
    assert slopes[0].grad == -2.0  # d/da of a * min(0, z)
    assert slopes[1].grad == 0.0
    before = slopes[0].data
    for p in layer.parameters():
        p.data -= 0.1 * p.grad
    assert slopes[0].data == pytest.approx(before + 0.2)


def test_prelu_module_on_lists_and_values(fd_check):
    p = nn.PReLU(3, init=0.1)
    assert [v.data for v in p([-1.0, 2.0, -3.0])] == pytest.approx([-0.1, 2.0, -0.3])
    shared = nn.PReLU()
    assert shared(-4.0).data == pytest.approx(-1.0)
    with pytest.raises(ValueError, match="3 slopes"):
        p([1.0, 2.0])

    def f(v):
        shared.slope[0] = v[0]
        return shared(v[1])

    fd_check(f, [0.3, -1.5])


# --- RReLU ------------------------------------------------------------------------------

def test_rrelu_samples_slopes_in_training_and_uses_the_mean_in_eval():
    r = nn.RReLU()
    lo, hi = 1 / 8, 1 / 3
    nn.manual_seed(3)
    outs = [r(-1.0).data for _ in range(200)]
    assert all(-hi <= o <= -lo for o in outs)
    assert len(set(outs)) > 150  # a fresh slope every call
    assert r(2.0).data == 2.0
    r.eval()
    assert r(-1.0).data == pytest.approx(-(lo + hi) / 2)
    fixed = [r(-3.0).data for _ in range(5)]
    assert len(set(fixed)) == 1 and fixed[0] == pytest.approx(-3 * (lo + hi) / 2)


def test_rrelu_is_seeded_and_built_from_relu():
    r = nn.RReLU(0.1, 0.3)
    nn.manual_seed(9)
    a = [r(-1.0).data for _ in range(5)]
    nn.manual_seed(9)
    b = [r(-1.0).data for _ in range(5)]
    assert a == b
    private = nn.RReLU(rng=random.Random(1))
    again = nn.RReLU(rng=random.Random(1))
    assert [private(-1.0).data for _ in range(3)] == [again(-1.0).data for _ in range(3)]
    out = r(Value(-1.0))
    ops = {out.op} | {p.op for p in out.parents}
    assert "leaky_relu" not in ops and "relu" in ops


def test_rrelu_inside_a_model_follows_model_eval():
    model = nn.MLP(1, [2, 1], activation="rrelu")
    for n in model.layers[0].neurons:
        n.w[0].data, n.b.data = 1.0, 0.0
    model.eval()
    h = model.layers[0]([-2.0])
    assert [v.data for v in h] == pytest.approx([-2 * (1 / 8 + 1 / 3) / 2] * 2)


def test_rrelu_bounds_are_checked():
    with pytest.raises(ValueError, match="lower"):
        nn.RReLU(0.5, 0.1)


def test_rrelu_mean_slope_of_huge_bounds_does_not_overflow():
    half_max = 8.98846567431158e307  # lower + upper overflows; their mean does not
    r = nn.RReLU(half_max, half_max).eval()
    assert r.mean_slope == half_max
    assert r(-1.0).data == -half_max
    big = 1.7976931348623157e308  # the largest float: (0 + big) / 2 is exact
    assert nn.RReLU(0.0, big).mean_slope == big / 2
    assert nn.RReLU(0.125, 1 / 3).mean_slope == (0.125 + 1 / 3) / 2  # unchanged elsewhere
