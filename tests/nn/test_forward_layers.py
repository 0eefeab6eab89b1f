"""MLP.forward_layers: the lectures' s and delta, checked against the delta recursion by hand.

The hand recursion below uses floats only (the model's weights read as numbers,
derivatives of the activations written out), never the engine's gradients:

    delta_j^L = dE/da_j^L * g'(s_j^L)
    delta_j^l = g'(s_j^l) * sum_k w_jk^(l+1) delta_k^(l+1)
    dE/dw_ij^l = x_i^(l-1) delta_j^l,   dE/db_j^l = delta_j^l
"""

import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd
import nn
from autograd import Value

# g'(s) as a float, written out by hand for each activation
DERIVATIVE = {
    "sigmoid": lambda s: (1 / (1 + math.exp(-s))) * (1 - 1 / (1 + math.exp(-s))),
    "tanh": lambda s: 1 - math.tanh(s) ** 2,
    "relu": lambda s: 1.0 if s > 0 else 0.0,
    "leaky_relu": lambda s: 1.0 if s > 0 else 0.01,
    "elu": lambda s: 1.0 if s > 0 else math.exp(s),
    "softplus": lambda s: 1 / (1 + math.exp(-s)),
    "linear": lambda s: 1.0,
    None: lambda s: 1.0,
}
FORWARD = {
    "sigmoid": lambda s: 1 / (1 + math.exp(-s)),
    "tanh": math.tanh,
    "relu": lambda s: max(s, 0.0),
    "leaky_relu": lambda s: s if s > 0 else 0.01 * s,
    "elu": lambda s: s if s > 0 else math.exp(s) - 1,
    "softplus": lambda s: math.log1p(math.exp(s)),
    "linear": lambda s: s,
    None: lambda s: s,
}


def weights(model):
    """Per layer: W[j][i] (unit j, input i) and b[j], as floats."""
    return [([[w.data for w in n.w] for n in layer.neurons], [n.b.data for n in layer.neurons])
            for layer in model.layers]


def hand_forward(model, x, acts):
    """s and a per layer, in floats."""
    out, a = [], [float(v) for v in x]
    for (W, b), g in zip(weights(model), acts, strict=True):
        s = [bj + sum(wji * ai for wji, ai in zip(Wj, a, strict=True))
             for Wj, bj in zip(W, b, strict=True)]
        a_next = [FORWARD[g](v) for v in s]
        out.append((s, a, a_next))  # (sums, the layer's inputs, the layer's outputs)
        a = a_next
    return out


def hand_deltas(model, forward, acts, dE_da_out):
    """The lectures' delta recursion, from the output layer back."""
    Ws = weights(model)
    L = len(Ws)
    deltas = [None] * L
    s_L = forward[-1][0]
    deltas[-1] = [d * DERIVATIVE[acts[-1]](s) for d, s in zip(dE_da_out, s_L, strict=True)]
    for layer in range(L - 2, -1, -1):
        W_next = Ws[layer + 1][0]
        deltas[layer] = [
            DERIVATIVE[acts[layer]](s_j)
            * sum(W_next[k][j] * deltas[layer + 1][k] for k in range(len(W_next)))
            for j, s_j in enumerate(forward[layer][0])
        ]
    return deltas


def close(a, b, tol=1e-12):
    return abs(a - b) <= tol * (1 + abs(a) + abs(b))


def make(nin, widths, act, out_act, seed):
    model = nn.MLP(nin, widths, activation=act, output_activation=out_act, rng=random.Random(seed))
    rng = random.Random(seed + 1000)
    for n in (n for layer in model.layers for n in layer.neurons):  # non-zero biases too
        n.b.data = rng.uniform(-0.5, 0.5)
    return model


def test_pairs_shapes_and_same_function_as_calling_the_model():
    model = make(3, [4, 2, 1], "tanh", "sigmoid", 0)
    x = [0.3, -0.7, 1.1]
    layers = model.forward_layers(x)
    assert len(layers) == 3
    assert [(len(s), len(a)) for s, a in layers] == [(4, 4), (2, 2), (1, 1)]
    for (s, a), op in zip(layers, ["tanh", "tanh", "sigmoid"], strict=True):
        assert all(isinstance(v, Value) for v in s + a)
        assert all(v.op == "dot" for v in s)
        assert all(ai.op == op and ai.parents == (si,) for si, ai in zip(s, a, strict=True))
    assert layers[-1][1][0].data == model(x).data
    # the s of layer l+1 reads the a of layer l, the first s reads the inputs
    for (_, a), (s_next, _) in zip(layers[:-1], layers[1:], strict=True):
        for node in s_next:
            assert all(any(p is v for p in node.parents) for v in a)


def test_linear_output_s_and_a_are_the_same_node():
    model = make(2, [3, 2], "relu", None, 1)
    (s1, a1), (s2, a2) = model.forward_layers([0.5, -0.25])
    assert all(si is ai for si, ai in zip(s2, a2, strict=True))
    assert all(si is not ai for si, ai in zip(s1, a1, strict=True))


@pytest.mark.parametrize("act", ["sigmoid", "tanh", "relu", "leaky_relu", "elu", "softplus"])
@pytest.mark.parametrize("out_act", [None, "sigmoid", "tanh"])
def test_deltas_match_the_hand_recursion_squared_error(act, out_act):
    # lecture 003's J = sum_k (a_k - y_k)^2 on one example; 2 hidden layers, 2 outputs
    model = make(3, [4, 3, 2], act, out_act, 2)
    acts = [act, act, out_act]
    x, y = [0.4, -1.2, 0.7], [0.25, -0.5]
    layers = model.forward_layers(x)
    out = layers[-1][1]
    loss = autograd.sum([(o - t) ** 2 for o, t in zip(out, y, strict=True)])
    loss.backward()

    fwd = hand_forward(model, x, acts)
    for (s, a), (s_h, _, a_h) in zip(layers, fwd, strict=True):
        assert all(close(v.data, h) for v, h in zip(s, s_h, strict=True))
        assert all(close(v.data, h) for v, h in zip(a, a_h, strict=True))
    dE_da = [2 * (a - t) for a, t in zip(fwd[-1][2], y, strict=True)]
    deltas = hand_deltas(model, fwd, acts, dE_da)
    for (s, _), d in zip(layers, deltas, strict=True):
        assert [v.grad for v in s] == pytest.approx(d, rel=1e-12, abs=1e-15)
    # dE/dw_ij = x_i delta_j and dE/db_j = delta_j, for every weight of every layer
    for layer, (_, inputs, _), d in zip(model.layers, fwd, deltas, strict=True):
        for j, neuron in enumerate(layer.neurons):
            for i, w in enumerate(neuron.w):
                assert close(w.grad, inputs[i] * d[j])
            assert close(neuron.b.grad, d[j])


@pytest.mark.parametrize("act", ["tanh", "relu"])
def test_lecture_002_tanh_network_half_squared_error(act):
    # tanh hidden, linear output, L = 1/2 (y - yhat)^2: output delta is yhat - y
    model = make(2, [3, 1], act, None, 3)
    x, y = [0.9, -0.3], 1.5
    layers = model.forward_layers(x)
    (s1, a1), (s2, a2) = layers
    loss = 0.5 * (y - a2[0]) ** 2
    loss.backward()
    yhat = a2[0].data
    assert s2[0].grad == pytest.approx(yhat - y, rel=1e-14)
    assert s2[0].grad != pytest.approx(y - yhat)  # the other sign the lecture also writes
    w2 = [w.data for w in model.layers[1].neurons[0].w]
    for j in range(3):
        # tanh: delta_j = (1 - z_j^2) w_j delta, lecture 002 (with its (1 - z)^2 corrected)
        gprime = 1 - a1[j].data ** 2 if act == "tanh" else DERIVATIVE["relu"](s1[j].data)
        assert close(s1[j].grad, gprime * w2[j] * (yhat - y))


def test_lecture_000_k_sigmoid_cross_entropy_with_l2_over_m_examples():
    # E = -1/m sum_i sum_k [y log sigma + (1 - y) log(1 - sigma)] + lam/(2m) sum w^2
    model = make(3, [4, 2], "sigmoid", "sigmoid", 4)
    X = [[0.2, -0.4, 1.0], [-1.0, 0.5, 0.3], [0.7, 0.7, -0.9]]
    Y = [[1, 0], [0, 1], [1, 1]]
    lam, m = 0.3, len(X)
    runs = [model.forward_layers(x) for x in X]
    outs = [v for layers in runs for v in layers[-1][1]]
    flat_y = [t for row in Y for t in row]
    E = nn.binary_cross_entropy(outs, flat_y, reduction="sum") / m
    E = E + nn.l2(model, lam=lam, m=m, include_bias=False)
    E.backward()

    acts = ["sigmoid", "sigmoid"]
    grad_w = {}
    for x, y, layers in zip(X, Y, runs, strict=True):
        fwd = hand_forward(model, x, acts)
        sig = fwd[-1][2]
        # dE/dsigma_k = (1/m) [-y/sigma + (1 - y)/(1 - sigma)]  (lecture 000 with its sign fixed)
        dE_da = [(-t / p + (1 - t) / (1 - p)) / m for p, t in zip(sig, y, strict=True)]
        deltas = hand_deltas(model, fwd, acts, dE_da)
        # with a sigmoid output this is the familiar (sigma - y) / m
        expected = [(p - t) / m for p, t in zip(sig, y, strict=True)]
        assert deltas[-1] == pytest.approx(expected, rel=1e-12)
        for (s, _), d in zip(layers, deltas, strict=True):
            assert [v.grad for v in s] == pytest.approx(d, rel=1e-12, abs=1e-15)
        for li, (_, inputs, _) in enumerate(fwd):
            for j in range(len(deltas[li])):
                for i, xi in enumerate(inputs):
                    grad_w[li, j, i] = grad_w.get((li, j, i), 0.0) + xi * deltas[li][j]
    # summed over the examples, plus the penalty's (lam / m) w; biases are not penalised
    for li, layer in enumerate(model.layers):
        for j, neuron in enumerate(layer.neurons):
            for i, w in enumerate(neuron.w):
                assert w.grad == pytest.approx(grad_w[li, j, i] + lam / m * w.data, rel=1e-12)


def test_softmax_cross_entropy_output_delta():
    # K linear outputs into softmax cross-entropy: delta_k = p_k - [k == target]
    model = make(2, [5, 3], "tanh", None, 5)
    layers = model.forward_layers([0.3, 0.8])
    logits = layers[-1][0]
    loss = nn.cross_entropy(logits, 2)
    loss.backward()
    z = [v.data for v in logits]
    p = [math.exp(v - max(z)) for v in z]
    p = [v / sum(p) for v in p]
    assert [v.grad for v in logits] == pytest.approx([p[0], p[1], p[2] - 1], rel=1e-12)
    deltas = hand_deltas(model, hand_forward(model, [0.3, 0.8], ["tanh", None]),
                         ["tanh", None], [p[0], p[1], p[2] - 1])
    assert [v.grad for v in layers[0][0]] == pytest.approx(deltas[0], rel=1e-12)


def test_backward_numbers_identical_to_calling_the_model():
    # the same nodes as model(x): every parameter gradient is bit-for-bit the same
    for act, out_act in [("tanh", "sigmoid"), ("relu", None), ("prelu", "tanh")]:
        model = make(3, [4, 3, 2], act, out_act, 6)
        x, y = [0.1, -0.2, 0.3], [0.5, -0.5]
        model.zero_grad()
        nn.mse_loss(model(x), y).backward()
        expected = [p.grad for p in model.parameters()]
        model.zero_grad()
        nn.mse_loss(model.forward_layers(x)[-1][1], y).backward()
        assert [p.grad for p in model.parameters()] == expected


def test_input_values_get_sum_of_w_times_delta():
    model = make(2, [3, 1], "sigmoid", None, 7)
    xs = [Value(0.6), Value(-0.4)]
    (s1, _), (s2, a2) = model.forward_layers(xs)
    (a2[0] * a2[0]).backward()
    for i, x in enumerate(xs):
        units = zip(model.layers[0].neurons, s1, strict=True)
        expected = sum(n.w[i].data * s.grad for n, s in units)
        assert close(x.grad, expected)


def test_bad_input_names_forward_layers():
    model = nn.MLP(2, [3, 1])
    with pytest.raises(ValueError, match=r"MLP.forward_layers: expected 2 inputs, got 3"):
        model.forward_layers([1.0, 2.0, 3.0])
    with pytest.raises(TypeError, match="MLP.forward_layers"):
        model.forward_layers([1.0, "a"])
    with pytest.raises(TypeError, match="MLP.forward_layers"):
        model.forward_layers("ab")


_junk = st.one_of(
    st.none(), st.booleans(), st.text(max_size=3), st.binary(max_size=3),
    st.floats(allow_nan=True, allow_infinity=True), st.integers(-3, 3),
    st.complex_numbers(max_magnitude=2), st.sets(st.integers(0, 2), max_size=2),
    st.dictionaries(st.integers(0, 2), st.integers(0, 2), max_size=2), st.just(10**400),
)


@settings(max_examples=200, deadline=None)
@given(x=st.one_of(st.lists(st.one_of(st.floats(-3, 3), _junk), max_size=4), _junk))
def test_fuzz_inputs(x):
    # junk gives TypeError/ValueError/OverflowError naming forward_layers; NaN and inf propagate
    model = nn.MLP(2, [3, 1], activation="tanh", rng=random.Random(0))
    try:
        layers = model.forward_layers(x)
    except (TypeError, ValueError, OverflowError) as err:
        assert "MLP.forward_layers" in str(err)
        return
    out = model(x).data
    last = layers[-1][1][0].data
    assert last == out or (math.isnan(last) and math.isnan(out))
