"""Training on the digits: compiled and eager fit agree, and the data trains.

The rule for fit(compile="scalar") is bit for bit: the same History and weights as
eager, since the compiled backward adds every contribution in the engine's order.
fit(compile=True) with numpy runs step.map: the same History to 1e-12 relative.
"""

from __future__ import annotations

import math

import pytest

import nn

SERIES = ("epoch", "loss", "val_loss", "accuracy", "val_accuracy", "grad_norm", "lr")


@pytest.fixture(scope="module")
def runs():
    """2 epochs of MLP(64, [16, 10]) on 120 scaled digits: map, scalar loops, eager."""
    X, y = nn.load_digits(n=120, seed=0, scale=True)
    out = {}
    for flag in (True, "scalar", False):
        nn.manual_seed(0)
        model = nn.MLP(64, [16, 10])
        history = nn.fit(model, X, y, loss="cross_entropy", optimizer="adam", lr=0.01,
                         epochs=2, batch_size=16, val_split=0.25, progress=False,
                         compile=flag)
        out[flag] = history, [p.data for p in model.parameters()]
    return out


def test_scalar_compiled_and_eager_fit_on_digits_give_identical_history(runs):
    (compiled, wc), (eager, we) = runs["scalar"], runs[False]
    for name in SERIES:
        assert getattr(compiled, name) == getattr(eager, name), name
    assert wc == we


def test_compiled_and_eager_fit_on_digits_agree_to_rounding(runs):
    (compiled, wc), (eager, we) = runs[True], runs[False]
    assert compiled.epochs_run == eager.epochs_run == 2
    for name in SERIES:
        for a, b in zip(getattr(compiled, name), getattr(eager, name), strict=True):
            assert (a is None and b is None) or math.isclose(a, b, rel_tol=1e-12), name
    assert compiled.accuracy == eager.accuracy and compiled.val_accuracy == eager.val_accuracy
    assert all(math.isclose(p, q, rel_tol=1e-9, abs_tol=1e-15) for p, q in zip(wc, we,
                                                                                  strict=True))
    assert compiled.best_epoch == eager.best_epoch


def test_scaled_digits_train_well_beyond_chance(runs):
    history, _ = runs[False]
    assert history.loss[1] < history.loss[0]
    assert history.accuracy[1] > history.accuracy[0] and history.accuracy[1] >= 0.2  # chance: 0.1
