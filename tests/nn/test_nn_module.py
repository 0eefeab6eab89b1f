"""Module: registration, dotted names, counts, modes, and state dicts."""

import math

import pytest

import nn
from autograd import Value


class Net(nn.Module):
    """A user module written with no registration boilerplate."""

    def __init__(self):
        self.scale = Value(2.0)
        self.body = [nn.Layer(2, 2, activation="tanh")]
        self.head = nn.Neuron(2, activation="linear")
        self._cache = Value(99.0)  # private: not a parameter
        self.note = "not a parameter"
        self.factor = 3.0

    def forward(self, x):
        return self.head(self.body[0](x)) * self.scale


def test_user_module_registers_values_lists_and_modules_in_order():
    net = Net()
    names = [name for name, _ in net.named_parameters()]
    assert names == [
        "scale",
        "body.0.neurons.0.w.0", "body.0.neurons.0.w.1", "body.0.neurons.0.b",
        "body.0.neurons.1.w.0", "body.0.neurons.1.w.1", "body.0.neurons.1.b",
        "head.w.0", "head.w.1", "head.b",
    ]
    assert net.parameters() == [p for _, p in net.named_parameters()]
    assert net._cache not in net.parameters()
    assert isinstance(net([0.1, 0.2]), Value)


def test_reassigning_or_deleting_an_attribute_unregisters_it():
    net = Net()
    net.scale = 5.0
    assert "scale" not in dict(net.named_parameters())
    del net.head
    assert not any(name.startswith("head") for name, _ in net.named_parameters())
    net.extra = Value(1.0)
    assert net.named_parameters()[-1][0] == "extra"


def test_lists_mutated_after_assignment_are_seen():
    net = Net()
    net.body.append(nn.Layer(2, 1))
    assert "body.1.neurons.0.b" in dict(net.named_parameters())


def test_shared_parameters_and_modules_are_listed_once():
    shared = nn.Neuron(2)
    m = nn.Module()
    m.a = shared
    m.b = shared
    m.w = [shared.w[0]]
    assert m.num_parameters() == 3
    assert [n for n, _ in m.named_parameters()] == ["a.w.0", "a.w.1", "a.b"]


def test_mlp_dotted_names_point_at_the_right_values():
    model = nn.MLP(2, [16, 16, 1])
    named = dict(model.named_parameters())
    assert named["layers.0.neurons.3.w.1"] is model.layers[0].neurons[3].w[1]
    assert named["layers.2.neurons.0.b"] is model.layers[2].neurons[0].b
    assert len(named) == model.num_parameters() == 337
    assert list(named.values()) == model.parameters()


@pytest.mark.parametrize(
    "make, count",
    [
        (lambda: nn.MLP(3, [5, 1], activation="tanh"), 26),  # the lecture's 3-5-1 NNet
        (lambda: nn.MLP(2, [16, 16, 1]), 337),
        (lambda: nn.MLP(3, [4, 2], bias=False), 20),
        (lambda: nn.MLP(2, [1, 1]), 5),
        (lambda: nn.Layer(2, 3, activation="prelu"), 12),
        (lambda: nn.Maxout(3, 2, k=3), 24),
        (lambda: nn.RBF(4), 4),
        (lambda: nn.Perceptron([1.0, 1.0], -1.0), 3),
        (lambda: nn.PReLU(5), 5),
        (lambda: nn.RReLU(), 0),
    ],
)
def test_parameter_counts(make, count):
    assert make().num_parameters() == count


def test_zero_grad_clears_every_gradient():
    model = nn.MLP(2, [3, 1])
    model([1.0, -2.0]).backward()
    assert any(p.grad != 0.0 for p in model.parameters())
    model.zero_grad()
    assert all(p.grad == 0.0 for p in model.parameters())


def test_train_and_eval_recurse_into_every_submodule():
    model = nn.Sequential(nn.Layer(2, 2, activation="rrelu"), nn.PReLU())
    assert model.training and all(m.training for m in model.modules())
    assert model.eval() is model
    assert len(model.modules()) == 1 + 1 + 1 + 2 + 2  # seq, layer, prelu, 2 neurons, 2 rrelus
    assert not any(m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())


def test_state_dict_round_trip():
    a, b = nn.MLP(2, [3, 1]), nn.MLP(2, [3, 1])
    b.load_state_dict(a.state_dict())
    assert [p.data for p in a.parameters()] == [p.data for p in b.parameters()]
    assert a([0.3, 0.7]).data == b([0.3, 0.7]).data


def test_load_state_dict_names_missing_and_extra_keys_and_changes_nothing():
    model = nn.MLP(2, [2, 1])
    before = [p.data for p in model.parameters()]
    state = model.state_dict()
    del state["layers.0.neurons.1.w.0"]
    state["layers.9.bogus"] = 1.0
    state["layers.0.neurons.0.w.0"] = 123.0
    with pytest.raises(ValueError) as err:
        model.load_state_dict(state)
    msg = str(err.value)
    assert "layers.0.neurons.1.w.0" in msg and "layers.9.bogus" in msg
    assert "9 parameters" in msg
    assert [p.data for p in model.parameters()] == before


def test_load_state_dict_rejects_non_numbers():
    model = nn.Neuron(1)
    with pytest.raises(ValueError, match="'w.0'"):
        model.load_state_dict({"w.0": "1.0", "b": 0.0})
    with pytest.raises(ValueError, match="dict"):
        model.load_state_dict([1.0, 0.0])


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, Value(math.nan)])
def test_load_state_dict_refuses_non_finite_weights_as_nn_load_does(bad):
    model = nn.MLP(2, [2, 1])
    before = model.state_dict()
    state = dict(before)
    state["layers.1.neurons.0.b"] = bad
    with pytest.raises(ValueError, match=r"load_state_dict: value for 'layers.1.neurons.0.b' "
                                         r"is (nan|inf|-inf), not a finite number"):
        model.load_state_dict(state)
    assert model.state_dict() == before  # all or nothing


def test_repr_shows_the_architecture():
    assert repr(nn.MLP(3, [5, 1], activation="tanh")).startswith("MLP(nin=3, nouts=[5, 1]")
