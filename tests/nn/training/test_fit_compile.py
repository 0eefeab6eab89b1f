"""fit(compile=...): the compiled training step gives the eager History.

These cases compare to 1e-9 relative; tests/nn/training/test_fit_replay.py holds the
compiled path to the stricter rule it meets, identical with ==.
"""

from __future__ import annotations

import pytest
from fit_helpers import assert_close, run

import nn

REL = 1e-9


def assert_same(a, b):
    assert_close(a, b, REL, abs_tol=1e-15)


CASES = {
    "binary bce_logits, validation, early stopping": (
        lambda: nn.MLP(2, [8, 8, 1]), nn.make_moons(60, seed=1),
        dict(epochs=25, val_split=0.25, early_stopping=5, lr=0.05),
    ),
    "binary bce on sigmoid outputs, mini-batches": (
        lambda: nn.MLP(2, [6, 1], output_activation="sigmoid"), nn.make_moons(40, seed=2),
        dict(epochs=10, loss="bce", batch_size=7, lr=0.05),
    ),
    "multi-class cross-entropy, tanh": (
        lambda: nn.MLP(2, [8, 3], activation="tanh"), nn.make_spirals(45, k=3, seed=3),
        dict(epochs=15, loss="cross_entropy", batch_size=16, val_split=0.2),
    ),
    "regression mse with L2": (
        lambda: nn.MLP(1, [8, 1], activation="tanh"), nn.make_sine(40, seed=4),
        dict(epochs=15, loss="mse", regularizers=lambda m: nn.l2(m, lam=1e-3),
             optimizer="sgd", lr=0.05, momentum=0.9),
    ),
    "hinge, batch size 1": (
        lambda: nn.MLP(2, [4, 1]), nn.make_moons(20, seed=5),
        dict(epochs=4, loss="hinge", batch_size=1),
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_compiled_and_eager_training_give_the_same_history(name):
    factory, (X, y), options = CASES[name]
    assert_same(run(True, factory, X, y, **options), run(False, factory, X, y, **options))


def test_the_default_compiles_nn_models_and_matches_eager():
    X, y = nn.make_moons(30, seed=6)
    factory = lambda: nn.MLP(2, [5, 1])  # noqa: E731
    assert_same(run(None, factory, X, y, epochs=5), run(False, factory, X, y, epochs=5))


def test_compile_true_refuses_what_it_cannot_compile_and_says_why():
    X, y = nn.make_moons(10, seed=7)
    custom = nn.MLP(2, [3, 1], activation=lambda v: v * v.sigmoid())
    with pytest.raises(ValueError, match="compile=True.*custom activation"):
        nn.fit(custom, X, y, epochs=1, compile=True, progress=False)
    with pytest.raises(ValueError, match="compile=True.*custom loss"):
        nn.fit(nn.MLP(2, [3, 1]), X, y, epochs=1, compile=True, progress=False,
               loss=lambda outs, ys: nn.mse_loss(outs, ys))
    # the default trains those eagerly instead
    nn.fit(custom, X, y, epochs=1, progress=False)
    with pytest.raises(ValueError, match="compile must be True, False, None or 'scalar'"):
        nn.fit(nn.MLP(2, [3, 1]), X, y, epochs=1, compile="yes", progress=False)
    with pytest.raises(TypeError, match="compile must be .* got 1"):
        nn.fit(nn.MLP(2, [3, 1]), X, y, epochs=1, compile=1, progress=False)


def test_compiled_training_traces_once_for_every_label_and_batch(monkeypatch):
    import nn.training.compiled as cs

    made = []
    real = cs.CompiledStep

    class Spy(real):
        def __init__(self, *a, **k):
            super().__init__(*a, **k)
            made.append(self)

    monkeypatch.setattr(cs, "CompiledStep", Spy)
    monkeypatch.setattr(nn.training.loop, "CompiledStep", Spy)
    X, y = nn.make_moons(40, seed=8)
    nn.fit(nn.MLP(2, [4, 1]), X, y, epochs=6, batch_size=8, val_split=0.25, progress=False,
           compile="scalar")
    (step,) = made
    # one trace for both labels and the validation forward: shuffled batches never retrace
    assert step.traces == 1
    assert step.fallbacks == 0


def test_divergence_is_floating_point_error_when_compiled():
    X, y = nn.make_moons(40, seed=9)
    with pytest.raises(FloatingPointError):
        nn.fit(nn.MLP(2, [8, 1]), X, y, epochs=30, lr=1e300, batch_size=8,
               compile=True, progress=False)
