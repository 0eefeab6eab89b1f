"""fit(compile="scalar") runs batches through generated loops: the same History as eager,
bit for bit (compared with ==), one trace for every label, no quadratic step.
(compile=True takes step.map when numpy is installed: tests/nn/training/test_fit_map.py.)"""

from __future__ import annotations

import pytest
from fit_helpers import assert_identical, run

import nn
import nn.training.compiled as cs
from nn.module import Module
from nn.training.float_losses import cross_entropy_floats, logistic_floats

CASES = {
    "moons, binary logits, validation and early stopping": (
        lambda: nn.MLP(2, [16, 16, 1]), nn.make_moons(80, noise=0.1, seed=0),
        dict(optimizer="adam", lr=0.05, epochs=12, val_split=0.25, early_stopping=3),
    ),
    "digits, 10 classes, 2 epochs": (
        lambda: nn.MLP(64, [12, 10]), nn.load_digits(n=90, seed=1, scale=True),
        dict(loss="cross_entropy", optimizer="adam", lr=0.01, epochs=2, batch_size=16,
             val_split=0.25),
    ),
    "regression, mse with an L2 regulariser, sgd momentum": (
        lambda: nn.MLP(1, [8, 1], activation="tanh"), nn.make_sine(40, seed=4),
        dict(loss="mse", regularizers=lambda m: nn.l2(m, lam=1e-3), optimizer="sgd",
             lr=0.05, momentum=0.9, epochs=6, batch_size=8, val_split=0.2),
    ),
    "sigmoid outputs, bce, mini-batches": (
        lambda: nn.MLP(2, [6, 1], output_activation="sigmoid"), nn.make_moons(40, seed=2),
        dict(loss="bce", batch_size=7, lr=0.05, epochs=5),
    ),
    "three classes, one-hot mse": (
        lambda: nn.MLP(2, [5, 3]), nn.make_spirals(30, k=3, seed=3),
        dict(loss="mse", batch_size=8, epochs=4, val_split=0.2),
    ),
    "hinge, batch size 1": (
        lambda: nn.MLP(2, [4, 1]), nn.make_moons(16, seed=5),
        dict(loss="hinge", batch_size=1, epochs=3),
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_compiled_fit_gives_eager_history_bit_for_bit(name):
    factory, (X, y), options = CASES[name]
    assert_identical(run("scalar", factory, X, y, **options),
                     run(False, factory, X, y, **options))


@pytest.fixture
def steps(monkeypatch):
    made = []

    class Spy(cs.CompiledStep):
        def __init__(self, *a, **k):
            super().__init__(*a, **k)
            made.append(self)

    monkeypatch.setattr(nn.training.loop, "CompiledStep", Spy)
    return made


def test_one_trace_serves_every_class_label_and_validation(steps):
    X, y = nn.load_digits(n=60, seed=2, scale=True)
    assert len(set(y)) == 10
    nn.manual_seed(0)
    nn.fit(nn.MLP(64, [8, 10]), X, y, loss="cross_entropy", epochs=2, batch_size=10,
           val_split=0.25, progress=False, compile="scalar")
    (step,) = steps
    assert step.traces == 1
    assert step.fallbacks == 0


def test_batches_given_back_to_eager_change_no_number(steps, monkeypatch):
    """Every other batch (and validation) eagerly, the rest compiled: the same History."""
    real = cs.CompiledStep.forward
    calls = [0]

    def sometimes(self, X):
        calls[0] += 1
        return real(self, X) if calls[0] % 2 else None

    factory, (X, y), options = CASES["moons, binary logits, validation and early stopping"]
    eager = run(False, factory, X, y, **options)
    monkeypatch.setattr(cs.CompiledStep, "forward", sometimes)
    assert_identical(run("scalar", factory, X, y, **options), eager)
    assert calls[0] > 4


def test_a_generated_backward_that_raises_hands_the_batch_to_eager(steps, monkeypatch):
    real = cs.CompiledStep._build

    def build(self, row):
        ok = real(self, row)
        if ok:
            def boom(*args):
                raise ValueError("the generated backward failed")

            self._code.backward = boom
        return ok

    monkeypatch.setattr(cs.CompiledStep, "_build", build)
    factory, (X, y), options = CASES["regression, mse with an L2 regulariser, sgd momentum"]
    compiled = run("scalar", factory, X, y, **options)
    assert_identical(compiled, run(False, factory, X, y, **options))
    assert steps[0].fallbacks == compiled[0].updates


class _CountingList(list):
    """A list that counts how many times it is iterated."""

    iterations = 0

    def __iter__(self):
        _CountingList.iterations += 1
        return super().__iter__()


@pytest.mark.parametrize("flag", [True, "scalar", False])
def test_fit_never_walks_the_parameter_list_once_per_parameter(flag, monkeypatch):
    """The optimiser's parameters were checked against a set rebuilt per parameter (0.47 s
    per fit at 2,410 parameters): the parameter list was iterated once per parameter."""
    nn.manual_seed(0)
    model = nn.MLP(2, [16, 16, 1])  # 337 parameters
    params = _CountingList(model.parameters())
    monkeypatch.setattr(model, "parameters", lambda: params)
    X, y = nn.make_moons(20, seed=0)
    _CountingList.iterations = 0
    nn.fit(model, X, y, epochs=1, optimizer=nn.Adam(list(params), lr=0.01), progress=False,
           compile=flag)
    assert 0 < _CountingList.iterations < 40


def test_fit_walks_the_modules_once_whatever_the_epochs(monkeypatch):
    walks = [0]
    real = Module.named_modules

    def counted(self, prefix=""):
        walks[0] += 1
        return real(self, prefix)

    monkeypatch.setattr(Module, "named_modules", counted)
    X, y = nn.make_moons(30, seed=0)
    counts = []
    for epochs in (2, 8):
        walks[0] = 0
        nn.manual_seed(0)
        nn.fit(nn.MLP(2, [4, 1]), X, y, epochs=epochs, val_split=0.25, progress=False,
               compile=True)
        counts.append(walks[0])
    assert counts[0] == counts[1]


@pytest.mark.parametrize("rows", [
    [[0.5, -1.0, 2.0], [3.0, 3.0, -1.0], [-2.0, 0.0, 0.0]],  # ties for the max
    [[1e300, 1e300, -1e300], [0.1, 0.2, 0.3]],  # huge logits
    [[0.0, 0.0, 0.0]],
])
def test_cross_entropy_on_floats_is_the_engines_to_the_bit(rows):
    from autograd import Value

    labels = [i % 3 for i in range(len(rows))]
    leaves = [[Value(z) for z in row] for row in rows]
    loss = nn.cross_entropy(leaves, labels)
    loss.backward()
    value, seeds = cross_entropy_floats([[Value(z) for z in row] for row in rows], labels)
    assert value == loss.data
    assert seeds == [[v.grad for v in row] for row in leaves]



@pytest.mark.parametrize("logits", [[0.5, -2.0, 0.0, 40.0, -800.0], [3.0], [-0.0, 1e300]])
def test_logistic_loss_on_floats_is_the_engines_to_the_bit(logits):
    from autograd import Value

    labels = [i % 2 for i in range(len(logits))]
    leaves = [Value(z) for z in logits]
    loss = nn.binary_cross_entropy_with_logits(leaves, [float(t) for t in labels])
    loss.backward()
    value, seeds = logistic_floats([[Value(z)] for z in logits], labels)
    assert value == loss.data
    assert seeds == [[v.grad] for v in leaves]



@pytest.mark.parametrize("bad_row", [(), [0.5], [0.5, 0.5, 0.5]])
def test_a_row_of_another_length_raises_as_eager_does(bad_row):
    """The generated loops read exactly the traced example's numbers: a shorter row
    once raised a bare IndexError from them, and a longer one was cut silently."""
    X = [[0.0, 0.0], bad_row]
    errors = []
    for compile_ in (True, False):
        nn.manual_seed(0)
        model = nn.MLP(2, [3, 1])
        with pytest.raises(ValueError) as err:
            nn.fit(model, X, [0, 1], epochs=1, progress=False, loss="bce_logits",
                   compile=compile_)
        errors.append(str(err.value))
    assert errors[0] == errors[1]
    assert "MLP" in errors[0]
