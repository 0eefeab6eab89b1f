"""nn.from_torch: modules built in PyTorch become nn models computing the same function."""

from __future__ import annotations

import math
import random

import pytest
from interop_helpers import assert_same_gradients, batch, max_diff, our_outputs

import nn
from autograd import Value

torch = pytest.importorskip(
    "torch",
    reason='PyTorch is not installed (pip install "chainrule[interop]"; CI installs torch==2.13.0)',
)

tnn = torch.nn


def _outputs(tmodel, X):
    with torch.no_grad():
        return tmodel(torch.tensor(X, dtype=torch.float64)).tolist()


def _built(*modules, seed=0):
    """A float64 torch Sequential with torch's own random initialisation."""
    torch.manual_seed(seed)
    t = tnn.Sequential(*modules).double()
    for m in t.modules():  # made before the seed, by the caller: draw their weights again,
        if isinstance(m, tnn.Linear):  # so no test depends on which tests ran before it
            m.reset_parameters()
    with torch.no_grad():
        for p in t.parameters():
            if p.dim() == 1 and p.numel() > 0:
                p.uniform_(-0.8, 0.8)  # biases and PReLU slopes off their defaults
    return t


# (torch activation factory, the nn activation config it must become)
TORCH_ACTIVATIONS = [
    (lambda n: tnn.ReLU(), "relu"),
    (lambda n: tnn.Tanh(), "tanh"),
    (lambda n: tnn.Sigmoid(), "sigmoid"),
    (lambda n: tnn.LeakyReLU(), {"name": "leaky_relu", "negative_slope": 0.01}),
    (lambda n: tnn.LeakyReLU(0.2), {"name": "leaky_relu", "negative_slope": 0.2}),
    (lambda n: tnn.ELU(), {"name": "elu", "alpha": 1.0}),
    (lambda n: tnn.ELU(alpha=0.7), {"name": "elu", "alpha": 0.7}),
    (lambda n: tnn.Softplus(), "softplus"),
    (lambda n: tnn.Hardtanh(), {"name": "hardtanh", "min_val": -1.0, "max_val": 1.0}),
    (lambda n: tnn.Hardtanh(-0.5, 0.8), {"name": "hardtanh", "min_val": -0.5, "max_val": 0.8}),
    (lambda n: tnn.ReLU6(), {"name": "hardtanh", "min_val": 0.0, "max_val": 6.0}),
    (lambda n: tnn.PReLU(n), "prelu"),
    (lambda n: tnn.RReLU(0.1, 0.3), {"name": "rrelu", "lower": 0.1, "upper": 0.3}),
]
IDS = ["relu", "tanh", "sigmoid", "leaky", "leaky-0.2", "elu", "elu-0.7", "softplus",
       "hardtanh", "hardtanh-bounds", "relu6", "prelu-per-unit", "rrelu"]


@pytest.mark.parametrize("make, config", TORCH_ACTIVATIONS, ids=IDS)
@pytest.mark.parametrize("loss", ["sum", "mse"])
def test_every_activation_module_becomes_an_mlp_with_the_same_function(make, config, loss):
    t = _built(tnn.Linear(3, 5), make(5), tnn.Linear(5, 4), make(4), tnn.Linear(4, 2), make(2))
    t.eval()  # RReLU: the mean slope (nn and torch agree on eval)
    model = nn.from_torch(t)
    assert isinstance(model, nn.MLP)
    assert model.config()["nouts"] == [5, 4, 2]
    assert model.config()["activation"] == config
    assert model.config()["output_activation"] == config
    assert not model.training
    X = batch(3, n=24, seed=1, scale=3.0)
    assert max_diff(our_outputs(model, X), _outputs(t, X)) <= 1e-12
    assert_same_gradients(torch, model, t, X, loss)


def test_weights_are_copied_exactly_and_the_copy_is_independent():
    t = _built(tnn.Linear(3, 4), tnn.Tanh(), tnn.Linear(4, 1))
    model = nn.from_torch(t)
    for k, layer in enumerate(model.layers):
        lin = t[2 * k]
        assert [[w.data for w in n.w] for n in layer.neurons] == lin.weight.tolist()
        assert [n.b.data for n in layer.neurons] == lin.bias.tolist()
    with torch.no_grad():
        t[0].weight.fill_(0.0)
    assert model.layers[0].neurons[0].w[0].data != 0.0


def test_a_float32_module_is_read_exactly():
    torch.manual_seed(3)
    t = tnn.Sequential(tnn.Linear(2, 6), tnn.ELU(), tnn.Linear(6, 1))
    assert t[0].weight.dtype == torch.float32
    model = nn.from_torch(t)
    assert model.layers[0].neurons[2].w[1].data == t[0].weight[2, 1].item()
    X = batch(2, n=6)
    assert max_diff(our_outputs(model, X), _outputs(t.double(), X)) <= 1e-12


def test_bare_linear():
    torch.manual_seed(4)
    lin = tnn.Linear(3, 1).double()
    model = nn.from_torch(lin)
    assert isinstance(model, nn.MLP) and model.config()["nouts"] == [1]
    X = batch(3)
    assert isinstance(model(X[0]), Value)  # one output: one Value, as an MLP gives
    assert max_diff(our_outputs(model, X), _outputs(lin, X)) <= 1e-12


def test_linear_without_bias_and_consecutive_linears():
    t = _built(tnn.Linear(3, 4, bias=False), tnn.Linear(4, 3, bias=False), tnn.Sigmoid(),
               tnn.Linear(3, 2, bias=False))
    model = nn.from_torch(t)
    # hidden activations differ (none, then sigmoid): not an MLP, a Sequential of Layers
    assert isinstance(model, nn.Sequential)
    assert [m.config()["activation"] for m in model.layers] == ["linear", "sigmoid", "linear"]
    assert all(n.b is None for layer in model.layers for n in layer.neurons)
    X = batch(3, seed=2)
    assert max_diff(our_outputs(model, X), _outputs(t, X)) <= 1e-12
    assert_same_gradients(torch, model, t, X, "mse")

    linear_stack = nn.from_torch(_built(tnn.Linear(3, 4), tnn.Linear(4, 2), tnn.Tanh()))
    assert isinstance(linear_stack, nn.MLP)
    assert linear_stack.config()["activation"] == "linear"
    assert linear_stack.config()["output_activation"] == "tanh"


def test_mixed_bias_is_a_sequential():
    t = _built(tnn.Linear(3, 4), tnn.ReLU(), tnn.Linear(4, 2, bias=False))
    model = nn.from_torch(t)
    assert isinstance(model, nn.Sequential)
    X = batch(3, seed=6)
    assert max_diff(our_outputs(model, X), _outputs(t, X)) <= 1e-12
    assert_same_gradients(torch, model, t, X, "sum")


def test_shared_prelu_slope_stays_one_parameter():
    t = _built(tnn.Linear(3, 4), tnn.PReLU(), tnn.Linear(4, 1), tnn.PReLU())
    model = nn.from_torch(t)
    # the 4 units share torch's single slope: a standalone nn.PReLU keeps it shared
    assert isinstance(model, nn.Sequential)
    assert [type(m).__name__ for m in model.layers] == ["Layer", "PReLU", "Layer"]
    assert model.layers[2].config()["activation"] == "prelu"  # one unit: its own slope
    assert model.num_parameters() == sum(p.numel() for p in t.parameters())
    X = batch(3, n=12, seed=7)
    assert max_diff(our_outputs(model, X), _outputs(t, X)) <= 1e-12
    assert_same_gradients(torch, model, t, X, "sum")


def test_prelu_and_rrelu_may_stand_alone():
    t = _built(tnn.PReLU(3), tnn.Linear(3, 4), tnn.Tanh(), tnn.PReLU(4), tnn.Linear(4, 2),
               tnn.Tanh(), tnn.RReLU())
    t.eval()
    model = nn.from_torch(t)
    assert [type(m).__name__ for m in model.layers] == ["PReLU", "Layer", "PReLU", "Layer",
                                                        "RReLU"]
    assert [m.config()["activation"] for m in model.layers[1::2]] == ["tanh", "tanh"]
    X = batch(3, seed=8)
    assert max_diff(our_outputs(model, X), _outputs(t, X)) <= 1e-12
    assert_same_gradients(torch, model, t, X, "sum")


def test_nested_sequentials_and_identity_are_flattened():
    torch.manual_seed(5)
    t = tnn.Sequential(
        tnn.Sequential(tnn.Linear(2, 3), tnn.Identity(), tnn.Tanh()),
        tnn.Identity(),
        tnn.Sequential(tnn.Sequential(tnn.Linear(3, 2)), tnn.Tanh()),
    ).double()
    model = nn.from_torch(t)
    assert isinstance(model, nn.MLP) and model.config()["nouts"] == [3, 2]
    X = batch(2, seed=9)
    assert max_diff(our_outputs(model, X), _outputs(t, X)) <= 1e-12


def test_training_mode_is_copied_and_rrelu_keeps_its_bounds():
    t = _built(tnn.Linear(2, 3), tnn.RReLU(0.2, 0.4), tnn.Linear(3, 1))
    model = nn.from_torch(t)
    assert model.training
    act = model.layers[0].neurons[0].act
    assert (act.lower, act.upper) == (0.2, 0.4)
    assert not nn.from_torch(t.eval()).training


def test_round_trip_back_to_torch_gives_the_same_state_dict():
    t = _built(tnn.Linear(3, 5), tnn.PReLU(5), tnn.Linear(5, 2), tnn.Softplus())
    again = nn.to_torch(nn.from_torch(t))
    assert again.state_dict().keys() == t.state_dict().keys()
    for key, value in t.state_dict().items():
        assert torch.equal(again.state_dict()[key], value), key


def test_softplus_default_threshold_differs_by_less_than_e_to_the_minus_threshold():
    t = _built(tnn.Linear(1, 1), tnn.Softplus())
    with torch.no_grad():
        t[0].weight.fill_(1.0)
        t[0].bias.fill_(0.0)
    model = nn.from_torch(t)
    X = [[v] for v in (-5.0, 0.0, 19.9, 20.5, 25.0, 40.0)]
    ours, theirs = our_outputs(model, X), _outputs(t, X)
    gaps = [abs(a[0] - b[0]) for a, b in zip(ours, theirs, strict=True)]
    assert max(gaps[:3]) <= 1e-12  # below the threshold: the same formula
    assert 0.0 < gaps[3] < math.exp(-20.0)  # above it torch returns x itself
    assert all(g < math.exp(-20.0) for g in gaps)


@pytest.mark.parametrize(
    "softplus, match",
    [(tnn.Softplus(beta=2.0), "beta=2.0.*beta = 1 only"),
     (tnn.Softplus(threshold=5.0), "threshold=5.0.*at least 20")],
)
def test_softplus_that_nn_cannot_represent(softplus, match):
    with pytest.raises(ValueError, match=match):
        nn.from_torch(tnn.Sequential(tnn.Linear(2, 2), softplus))


@pytest.mark.parametrize(
    "module, name",
    [(tnn.Dropout(0.5), "Dropout"), (tnn.GELU(), "GELU"), (tnn.BatchNorm1d(4), "BatchNorm1d"),
     (tnn.Softsign(), "Softsign"), (tnn.Conv1d(1, 1, 1), "Conv1d")],
)
def test_unsupported_layer_is_named_and_the_supported_ones_listed(module, name):
    t = tnn.Sequential(tnn.Linear(3, 4), module, tnn.Linear(4, 1))
    with pytest.raises(ValueError, match=rf"unsupported module {name} \(at 1\); supported: "
                       r"Sequential, Linear, Identity, ReLU, Tanh, Sigmoid, LeakyReLU, ELU, "
                       r"Softplus, Hardtanh, ReLU6, PReLU, RReLU"):
        nn.from_torch(t)
    with pytest.raises(ValueError, match=rf"unsupported module {name} \(at the top\)"):
        nn.from_torch(module)


def test_subclass_with_its_own_forward_is_refused():
    class Scaled(tnn.ReLU):
        def forward(self, x):
            return 2 * super().forward(x)

    class Skipping(tnn.Sequential):
        def forward(self, x):
            return x

    with pytest.raises(ValueError, match=r"unsupported module Scaled \(at 1\)"):
        nn.from_torch(tnn.Sequential(tnn.Linear(2, 2), Scaled()))
    with pytest.raises(ValueError, match=r"unsupported module Skipping \(at the top\)"):
        nn.from_torch(Skipping(tnn.Linear(2, 2)))

    class Named(tnn.Sequential):  # adds nothing to forward: read as a Sequential
        pass

    assert isinstance(nn.from_torch(Named(tnn.Linear(2, 2), tnn.Tanh())), nn.MLP)


def test_activation_before_any_linear_cannot_be_represented():
    with pytest.raises(ValueError, match=r"cannot represent Tanh \(at 0\).*before the first"):
        nn.from_torch(tnn.Sequential(tnn.Tanh(), tnn.Linear(2, 1)))


def test_two_activations_in_a_row_cannot_be_represented():
    with pytest.raises(ValueError, match=r"cannot represent ReLU \(at 2\).*second one"):
        nn.from_torch(tnn.Sequential(tnn.Linear(2, 2), tnn.Tanh(), tnn.ReLU()))


def test_widths_that_do_not_chain_and_modules_without_a_linear():
    with pytest.raises(ValueError, match=r"Linear \(at 1\) takes 5 inputs but the layer "
                       "before it gives 4"):
        nn.from_torch(tnn.Sequential(tnn.Linear(3, 4), tnn.Linear(5, 1)))
    with pytest.raises(ValueError, match="has no Linear layer"):
        nn.from_torch(tnn.Sequential(tnn.ReLU()))
    with pytest.raises(ValueError, match="has no Linear layer"):
        nn.from_torch(tnn.Sequential())


def test_lazy_and_meta_weights_are_refused():
    with pytest.raises(ValueError, match="holds no weights yet"):
        nn.from_torch(tnn.Sequential(tnn.LazyLinear(2)))
    with pytest.raises(ValueError, match="holds no weights yet"):
        nn.from_torch(tnn.Linear(2, 2, device="meta"))


def test_not_a_torch_module():
    with pytest.raises(TypeError, match="nn.from_torch: expected a torch.nn.Sequential"):
        nn.from_torch(nn.MLP(2, [1]))


def test_building_draws_nothing_from_pythons_random():
    t = _built(tnn.Linear(3, 4), tnn.Tanh(), tnn.Linear(4, 1))
    state = random.getstate()
    nn.from_torch(t)
    assert random.getstate() == state
