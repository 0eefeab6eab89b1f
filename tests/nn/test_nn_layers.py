"""Neuron, Layer, MLP, Maxout, RBF, Perceptron: outputs, shapes, graph shape, seeding."""

import math
import random

import pytest

import nn
from autograd import Value


def set_neuron(neuron, ws, b):
    for w, v in zip(neuron.w, ws, strict=True):
        w.data = v
    neuron.b.data = b


def graph_nodes(root):
    seen, stack, out = set(), [root], []
    while stack:
        v = stack.pop()
        if v in seen:
            continue
        seen.add(v)
        out.append(v)
        stack.extend(v.parents)
    return out


# --- Neuron / Layer / MLP ----------------------------------------------------------

def test_neuron_computes_activation_of_w_dot_x_plus_b():
    n = nn.Neuron(3, activation="tanh")
    set_neuron(n, [0.5, -1.0, 2.0], 0.25)
    out = n([1.0, 2.0, -0.5])
    assert isinstance(out, Value)
    assert out.data == pytest.approx(math.tanh(0.5 - 2.0 - 1.0 + 0.25))
    relu = nn.Neuron(2)  # relu by default
    set_neuron(relu, [1.0, 1.0], -5.0)
    assert relu([1.0, 2.0]).data == 0.0


def test_neuron_without_bias():
    n = nn.Neuron(2, activation="linear", bias=False)
    assert n.b is None and n.num_parameters() == 2
    n.w[0].data, n.w[1].data = 2.0, 3.0
    assert n([1.0, 1.0]).data == 5.0


def test_layer_returns_one_value_for_one_output_as_micrograd_does():
    out = nn.Layer(2, 1)([0.1, 0.2])
    assert isinstance(out, Value) and out.op == "relu"
    many = nn.Layer(2, 4)([0.1, 0.2])
    assert isinstance(many, list) and len(many) == 4
    # a one-output layer feeds the next layer directly, as in micrograd's MLP
    seq = nn.Sequential(nn.Layer(2, 1), nn.Layer(1, 3))
    assert len(seq([0.1, 0.2])) == 3


def test_micrograd_nonlin_flag():
    random.seed(0)
    assert nn.Neuron(2, nonlin=False)([1.0, -5.0]).op == "dot"
    assert nn.Neuron(2, nonlin=True)([1.0, -5.0]).op == "relu"
    assert nn.Layer(2, 3, nonlin=False)([1.0, 2.0])[0].op == "dot"
    assert nn.Neuron(2, nonlin=False).config()["activation"] == "linear"
    with pytest.raises(ValueError, match="either activation='tanh' or micrograd's nonlin"):
        nn.Neuron(2, activation="tanh", nonlin=True)
    with pytest.raises(TypeError, match="nonlin must be True or False"):
        nn.Layer(2, 2, nonlin="yes")


def test_mlp_returns_a_value_for_one_output_else_a_list():
    assert isinstance(nn.MLP(2, [3, 1])([0.1, 0.2]), Value)
    out = nn.MLP(2, [3, 2])([0.1, 0.2])
    assert isinstance(out, list) and len(out) == 2


def test_mlp_uses_relu_hidden_and_linear_output():
    model = nn.MLP(1, [1, 1])
    set_neuron(model.layers[0].neurons[0], [1.0], 0.0)
    set_neuron(model.layers[1].neurons[0], [-2.0], 0.5)
    assert model([-3.0]).data == 0.5  # hidden relu(-3) = 0
    assert model([2.0]).data == -3.5  # output not rectified
    assert nn.MLP(1, [1, 1], output_activation="sigmoid")([0.0]).data == pytest.approx(0.5)


@pytest.mark.parametrize("nouts", [[1], [3, 1]])
def test_mlp_rejects_an_unknown_activation_even_without_a_hidden_layer(nouts):
    """With one layer the hidden activation is never applied; a typo is still an error."""
    with pytest.raises(ValueError, match="MLP: activation: unknown activation 'definitely-not"):
        nn.MLP(2, nouts, activation="definitely-not-real")
    with pytest.raises(ValueError, match="MLP: activation: activation 'leaky_relu': bad arguments"):
        nn.MLP(2, nouts, activation={"name": "leaky_relu", "slope": 0.2})
    with pytest.raises(ValueError, match="MLP: output_activation: unknown activation 'nope'"):
        nn.MLP(2, nouts, output_activation="nope")


def test_floats_and_values_give_the_same_output_and_input_grads_flow():
    random.seed(4)
    model = nn.MLP(3, [4, 4, 1], activation="tanh")
    xs = [Value(0.1), Value(-0.4), Value(0.9)]
    out = model(xs)
    assert out.data == model([0.1, -0.4, 0.9]).data
    out.backward()
    assert any(x.grad != 0.0 for x in xs)


def test_hidden_width_one_works():
    model = nn.MLP(2, [1, 1, 1])
    assert isinstance(model([0.3, 0.4]), Value)


@pytest.mark.parametrize("make", [lambda: nn.MLP(2, [3, 1]), lambda: nn.Layer(2, 3),
                                  lambda: nn.Neuron(2), lambda: nn.Maxout(2, 2),
                                  lambda: nn.RBF(2), lambda: nn.Perceptron([1.0, 1.0])])
def test_wrong_input_length_names_both_lengths(make):
    with pytest.raises(ValueError, match="expected 2 inputs, got 3"):
        make()([1.0, 2.0, 3.0])


def test_single_input_may_be_a_bare_number():
    model = nn.MLP(1, [2, 1])
    assert model(0.5).data == model([0.5]).data


@pytest.mark.parametrize("bad", [0, -1, 2.5, True])
def test_bad_sizes_raise(bad):
    with pytest.raises(ValueError):
        nn.MLP(2, [bad, 1])
    with pytest.raises(ValueError):
        nn.Layer(bad, 2)


def test_bad_nouts_raise():
    for bad in ([], 3, "31"):
        with pytest.raises(ValueError, match="nouts"):
            nn.MLP(2, bad)


def test_forward_is_one_dot_node_per_neuron_and_inputs_are_converted_once():
    model = nn.MLP(3, [4, 2, 1])
    out = model([0.5, -1.0, 2.0])
    nodes = graph_nodes(out)
    dots = [v for v in nodes if v.op == "dot"]
    assert len(dots) == 4 + 2 + 1
    assert not [v for v in nodes if v.op == "*"]  # no per-weight multiply nodes
    first = [d for d in dots if len(d.parents) == 7]  # 3 weights, 3 inputs, the bias
    assert len(first) == 4
    inputs = {id(p) for d in first for p in d.parents[3:6]}
    assert len(inputs) == 3  # all four neurons read the same three input Values
    weights = {id(w) for n in model.layers[0].neurons for w in n.w}
    assert {id(p) for d in first for p in d.parents[:3]} == weights
    biases = {id(n.b) for n in model.layers[0].neurons}
    assert {id(d.parents[6]) for d in first} == biases
    # per neuron: one dot (bias folded in) and an activation; 6 relus (linear output)
    assert sum(v.op == "+" for v in nodes) == 0
    assert sum(v.op == "relu" for v in nodes) == 6


def test_micrograd_demo_runs_unchanged():
    """The training loop from micrograd's demo notebook, on a tiny data set."""
    random.seed(1337)
    X = [[0.0, 1.0], [1.0, 0.0], [2.0, 2.0], [-1.0, -2.0], [1.5, -0.5], [-2.0, 1.0]]
    y = [1, 1, -1, -1, 1, -1]
    model = nn.MLP(2, [16, 16, 1])
    assert len(model.parameters()) == 337

    def loss():
        inputs = [list(map(Value, xrow)) for xrow in X]
        scores = list(map(model, inputs))
        losses = [(1 + -yi * scorei).relu() for yi, scorei in zip(y, scores, strict=True)]
        data_loss = sum(losses) * (1.0 / len(losses))
        alpha = 1e-4
        reg_loss = alpha * sum(p * p for p in model.parameters())
        total_loss = data_loss + reg_loss
        accuracy = [(yi > 0) == (scorei.data > 0) for yi, scorei in zip(y, scores, strict=True)]
        return total_loss, sum(accuracy) / len(accuracy)

    first, _ = loss()
    for k in range(20):
        total_loss, acc = loss()
        model.zero_grad()
        total_loss.backward()
        learning_rate = 1.0 - 0.9 * k / 100
        for p in model.parameters():
            p.data -= learning_rate * p.grad
    assert total_loss.data < first.data
    assert acc == 1.0


# --- initialisation and seeding -------------------------------------------------------

def test_default_init_is_random_uniform_in_parameter_order_and_zero_biases():
    random.seed(7)
    expected = [random.uniform(-1, 1) for _ in range(2 * 3 + 3 * 1)]
    random.seed(7)
    model = nn.MLP(2, [3, 1])
    named = model.named_parameters()
    assert [p.data for n, p in named if not n.endswith(".b")] == expected
    assert all(p.data == 0.0 for n, p in named if n.endswith(".b"))


def test_random_seed_and_manual_seed_reproduce_a_model():
    random.seed(11)
    a = [p.data for p in nn.MLP(3, [4, 1]).parameters()]
    nn.manual_seed(11)
    b = [p.data for p in nn.MLP(3, [4, 1]).parameters()]
    c = [p.data for p in nn.MLP(3, [4, 1]).parameters()]
    assert a == b and a != c


def test_rng_argument_gives_a_private_stream():
    random.seed(0)
    state = random.getstate()
    a = nn.MLP(2, [3, 1], rng=random.Random(5), init="xavier_normal")
    b = nn.MLP(2, [3, 1], rng=random.Random(5), init="xavier_normal")
    assert random.getstate() == state  # the global stream was not touched
    assert [p.data for p in a.parameters()] == [p.data for p in b.parameters()]


# --- Perceptron, Maxout, RBF ---------------------------------------------------------

def test_perceptron_is_sign_of_bias_plus_w_dot_x():
    p = nn.Perceptron([2.0, -1.0], 0.5)
    assert p([1.0, 1.0]).data == 1.0
    assert p([-1.0, 1.0]).data == -1.0
    assert p([0.0, 0.5]).data == 0.0  # sign(0) = 0
    step = nn.Perceptron([2.0, -1.0], 0.5, activation="step")
    assert [step(x).data for x in ([0.0, 0.5], [-1.0, 1.0])] == [1.0, 0.0]
    logistic = nn.Perceptron([1.0], 0.0, activation="sigmoid")
    assert logistic([0.0]).data == 0.5


def test_maxout_is_the_max_of_its_pieces_and_grads_reach_only_the_winner():
    m = nn.Maxout(1, 1, k=2)
    a, b = m.units[0].neurons
    set_neuron(a, [1.0], 0.0)
    set_neuron(b, [-1.0], 0.0)  # max(x, -x) = |x|: absolute-value rectification
    assert [m([x])[0].data for x in (-3.0, 2.0)] == [3.0, 2.0]
    out = m([-3.0])[0]
    out.backward()
    assert a.w[0].grad == 0.0 and b.w[0].grad == -3.0 and b.b.grad == 1.0


def test_maxout_several_units_return_a_list():
    out = nn.Maxout(3, 4, k=3)([0.1, 0.2, 0.3])
    assert isinstance(out, list) and len(out) == 4


def test_rbf_unit_value_and_learned_centre(fd_check):
    r = nn.RBF(2, gamma=0.5)
    r.centre[0].data, r.centre[1].data = 1.0, -1.0
    out = r([2.0, 1.0])
    assert out.data == pytest.approx(math.exp(-0.5 * (1 + 4)))
    out.backward()
    assert r.centre[0].grad == pytest.approx(0.5 * 2 * 1.0 * out.data)
    assert r.centre[1].grad == pytest.approx(0.5 * 2 * 2.0 * out.data)

    def f(v):
        r.centre[0], r.centre[1] = v
        return r([2.0, 1.0])

    fd_check(f, [0.3, -0.8])
    with pytest.raises(ValueError, match="gamma"):
        nn.RBF(2, gamma=0.0)


def test_sequential_chains_modules():
    seq = nn.Sequential(nn.Layer(2, 3, activation="linear"), nn.PReLU(3), nn.Maxout(3, 1))
    out = seq([0.5, -0.5])
    assert isinstance(out, list) and len(out) == 1
    assert seq.num_parameters() == 9 + 3 + 8
    with pytest.raises(ValueError):
        nn.Sequential("not a module")
