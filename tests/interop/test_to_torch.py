"""nn.to_torch: the same function and the same gradients in PyTorch, for every activation."""

from __future__ import annotations

import random

import pytest
from interop_helpers import (
    ACTIVATIONS,
    act_id,
    assert_same_gradients,
    batch,
    max_diff,
    our_outputs,
    randomize,
)

import nn

torch = pytest.importorskip(
    "torch",
    reason='PyTorch is not installed (pip install "chainrule[interop]"; CI installs torch==2.13.0)',
)


def _torch_outputs(tmodel, X):
    with torch.no_grad():
        return tmodel(torch.tensor(X, dtype=torch.float64)).tolist()


def _mlp(activation, nouts=(5, 4, 2), bias=True, seed=1):
    model = nn.MLP(3, list(nouts), activation=activation, output_activation=activation,
                   bias=bias, rng=random.Random(0))
    return randomize(model, seed).eval()


@pytest.mark.parametrize("activation", ACTIVATIONS, ids=act_id)
@pytest.mark.parametrize("loss", ["sum", "mse"])
def test_outputs_and_gradients_match_for_every_activation(activation, loss):
    model = _mlp(activation)
    tmodel = nn.to_torch(model)
    X = batch(3, n=9)
    assert max_diff(our_outputs(model, X), _torch_outputs(tmodel, X)) <= 1e-12
    assert_same_gradients(torch, model, tmodel, X, loss)


@pytest.mark.parametrize("activation", ACTIVATIONS, ids=act_id)
def test_one_output_mlp_gives_a_column(activation):
    model = _mlp(activation, nouts=(4, 1))
    tmodel = nn.to_torch(model)
    X = batch(3, n=16, seed=3)
    out = tmodel(torch.tensor(X, dtype=torch.float64))
    assert tuple(out.shape) == (16, 1)
    assert max_diff(our_outputs(model, X), out.tolist()) <= 1e-12
    assert_same_gradients(torch, model, tmodel, X, "mse")


def test_modules_and_their_arguments():
    model = nn.Sequential(
        nn.Layer(3, 4, {"name": "leaky_relu", "negative_slope": 0.3}),
        nn.Layer(4, 4, {"name": "elu", "alpha": 0.6}),
        nn.Layer(4, 3, {"name": "hardtanh", "min_val": -0.25, "max_val": 2.0}),
        nn.Layer(3, 3, "softplus"),
        nn.Layer(3, 2, "linear"),
    )
    t = nn.to_torch(model)
    assert isinstance(t, torch.nn.Sequential)
    kinds = [type(m).__name__ for m in t]
    assert kinds == ["Linear", "LeakyReLU", "Linear", "ELU", "Linear", "Hardtanh",
                     "Linear", "Softplus", "Linear"]
    assert t[1].negative_slope == 0.3
    assert t[3].alpha == 0.6
    assert (t[5].min_val, t[5].max_val) == (-0.25, 2.0)
    assert t[7].beta == 1.0


def test_parameters_are_float64_copies_of_ours():
    model = _mlp("tanh")
    t = nn.to_torch(model)
    for k, layer in enumerate(model.layers):
        lin = t[2 * k]
        assert lin.weight.dtype == torch.float64 and lin.bias.dtype == torch.float64
        assert lin.weight.tolist() == [[w.data for w in n.w] for n in layer.neurons]
        assert lin.bias.tolist() == [n.b.data for n in layer.neurons]
    # a copy: changing one side leaves the other alone
    with torch.no_grad():
        t[0].weight.fill_(0.0)
    assert model.layers[0].neurons[0].w[0].data != 0.0


def test_prelu_per_unit_slopes_become_one_torch_prelu_per_layer():
    model = _mlp("prelu")
    t = nn.to_torch(model)
    prelu = t[1]
    assert isinstance(prelu, torch.nn.PReLU) and prelu.num_parameters == 5
    assert prelu.weight.tolist() == [n.act.slope[0].data for n in model.layers[0].neurons]


def test_sequential_of_layers_neurons_perceptrons_and_standalone_prelu():
    inner = nn.MLP(2, [3], activation="tanh", output_activation="sigmoid", rng=random.Random(2))
    model = nn.Sequential(
        nn.Layer(3, 4, "tanh", rng=random.Random(3)),
        nn.PReLU(),  # one slope shared by the 4 values
        nn.Layer(4, 2, "linear", bias=False, rng=random.Random(4)),
        nn.PReLU(2),  # one slope per value
        nn.Sequential(inner),
        nn.Neuron(3, "softplus", rng=random.Random(5)),
        nn.Perceptron([0.5], -0.25, activation="tanh"),
    )
    randomize(model, seed=7)
    t = nn.to_torch(model)
    assert [type(m).__name__ for m in t] == [
        "Linear", "Tanh", "PReLU", "Linear", "PReLU", "Linear", "Sigmoid", "Linear",
        "Softplus", "Linear", "Tanh",
    ]
    assert t[3].bias is None
    X = batch(3, n=6, seed=4)
    assert max_diff(our_outputs(model, X), _torch_outputs(t, X)) <= 1e-12
    assert_same_gradients(torch, model, t, X, "sum")
    assert_same_gradients(torch, model, t, X, "mse")


def test_no_bias():
    model = _mlp("relu", bias=False)
    t = nn.to_torch(model)
    assert all(m.bias is None for m in t if isinstance(m, torch.nn.Linear))
    X = batch(3)
    assert max_diff(our_outputs(model, X), _torch_outputs(t, X)) <= 1e-12
    assert_same_gradients(torch, model, t, X, "sum")


def test_rrelu_matches_in_eval_and_the_mode_is_copied():
    model = _mlp({"name": "rrelu", "lower": 0.1, "upper": 0.3})
    t = nn.to_torch(model)
    assert not t.training and not t[1].training
    assert (t[1].lower, t[1].upper) == (0.1, 0.3)
    X = batch(3)
    assert max_diff(our_outputs(model, X), _torch_outputs(t, X)) <= 1e-12
    assert nn.to_torch(model.train()).training


def test_softplus_matches_where_torch_would_switch_to_the_identity():
    # torch's default Softplus returns x above 20; the exported one agrees with
    # nn's log(1 + e^x) on both sides of that, and far out.
    model = nn.MLP(1, [1], output_activation="softplus")
    model.layers[0].neurons[0].w[0].data = 1.0
    X = [[v] for v in (-800.0, -30.0, 0.0, 19.0, 21.0, 25.0, 33.5, 36.0, 45.0, 800.0)]
    t = nn.to_torch(model)
    assert max_diff(our_outputs(model, X), _torch_outputs(t, X)) <= 1e-12
    assert_same_gradients(torch, model, t, X, "sum")
    # torch's own default threshold would be off by about e^-25 at 25
    default = torch.nn.Softplus()(torch.tensor([25.0], dtype=torch.float64)).item()
    assert default == 25.0 and model([25.0]).data > 25.0


def test_building_draws_nothing_from_either_random_generator():
    model = _mlp("tanh")
    torch_state = torch.random.get_rng_state()
    py_state = random.getstate()
    nn.to_torch(model)
    assert torch.equal(torch.random.get_rng_state(), torch_state)
    assert random.getstate() == py_state


def test_round_trip_through_torch_is_exact():
    for activation in ACTIVATIONS:
        model = _mlp(activation)
        back = nn.from_torch(nn.to_torch(model))
        assert isinstance(back, nn.MLP)
        assert back.state_dict() == model.state_dict(), activation
        X = batch(3, seed=5)
        assert our_outputs(back, X) == our_outputs(model, X), activation


@pytest.mark.parametrize("activation", ["sign", "step", "abs"])
def test_activation_without_counterpart_is_named(activation):
    model = nn.MLP(2, [3, 1], activation=activation)
    with pytest.raises(ValueError, match=rf"nn.to_torch: layers.0 uses the activation "
                       rf"'{activation}'.*supported activations: linear, relu, tanh"):
        nn.to_torch(model)


def test_custom_callable_activation_is_refused():
    model = nn.MLP(2, [3, 1], activation=lambda v: v * 2)
    with pytest.raises(ValueError, match="layers.0 uses the custom activation"):
        nn.to_torch(model)


@pytest.mark.parametrize(
    "module, name",
    [(nn.Maxout(2, 3), "Maxout"), (nn.RBF(2), "RBF"),
     (nn.Sequential(nn.Layer(2, 2), nn.RBF(2)), "RBF")],
)
def test_unsupported_module_is_named_with_the_supported_list(module, name):
    with pytest.raises(ValueError, match=rf"cannot export {name} .*supported modules: MLP, "
                       r"Sequential, Layer, Neuron, Perceptron, PReLU, RReLU"):
        nn.to_torch(module)


def test_subclass_with_its_own_forward_is_not_taken_for_its_base():
    class Doubled(nn.MLP):
        def forward(self, x):
            out = super().forward(x)
            return out * 2

    with pytest.raises(ValueError, match="cannot export Doubled"):
        nn.to_torch(Doubled(2, [1]))


def test_widths_that_do_not_chain_are_refused():
    model = nn.Sequential(nn.Layer(3, 4), nn.Layer(5, 1))
    with pytest.raises(ValueError, match="layers.1 takes 5 inputs but the layer before it gives 4"):
        nn.to_torch(model)
    with pytest.raises(ValueError, match="3 PReLU slopes for 4 values"):
        nn.to_torch(nn.Sequential(nn.Layer(3, 4), nn.PReLU(3)))


def test_nothing_to_export_and_not_a_model():
    with pytest.raises(ValueError, match="no weighted layer"):
        nn.to_torch(nn.Sequential(nn.PReLU()))
    with pytest.raises(TypeError, match="nn.to_torch: expected an nn model"):
        nn.to_torch(torch.nn.Linear(2, 1))
