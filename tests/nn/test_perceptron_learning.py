"""nn.perceptron_learning: Rosenblatt's rule on logic gates, XOR, both label codes, bad input."""

import itertools
import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nn

X01 = [[0, 0], [0, 1], [1, 0], [1, 1]]
XPM = [[-1, -1], [-1, 1], [1, -1], [1, 1]]
GATES = {
    "AND": [0, 0, 0, 1],
    "OR": [0, 1, 1, 1],
    "NAND": [1, 1, 1, 0],
    "NOR": [1, 0, 0, 0],
}


def predictions(run, X):
    return [run.perceptron(x).data for x in X]


@pytest.mark.parametrize("gate", sorted(GATES))
def test_separable_gates_converge_on_0_1_labels(gate):
    y = GATES[gate]
    run = nn.perceptron_learning(X01, y)
    assert run.converged is True
    assert run.cycle is None
    assert run.labels == "0/1"
    assert run.mistakes[-1] == 0 and all(m > 0 for m in run.mistakes[:-1])
    assert run.epochs == len(run.mistakes) < 100
    # the learned unit is a step unit answering in 0/1, right on every example
    assert isinstance(run.perceptron, nn.Perceptron)
    assert predictions(run, X01) == [float(t) for t in y]
    assert "converged" in repr(run) and "NOT" not in repr(run)


@pytest.mark.parametrize("gate", sorted(GATES))
def test_separable_gates_converge_on_signed_labels(gate):
    y = [2 * t - 1 for t in GATES[gate]]
    run = nn.perceptron_learning(XPM, y)
    assert run.converged and run.labels == "+-1"
    assert predictions(run, XPM) == [float(t) for t in y]  # sign unit: +-1, never 0


def test_and_follows_the_rule_step_by_step():
    # zero start; visit (0,0), (0,1), (1,0), (1,1); step(0) = 1, so (0,0) is a mistake
    run = nn.perceptron_learning(X01, GATES["AND"])
    epoch1 = [u for u in run.updates if u[0] == 1]
    assert epoch1[0] == (1, 0, (0.0, 0.0), -1.0)      # (0,0) predicted 1: w -= x, b -= 1
    assert epoch1[1] == (1, 3, (1.0, 1.0), 0.0)       # (1,1) predicted 0: w += x, b += 1
    assert len(run.updates) == sum(run.mistakes)
    last_epoch, _, w, b = run.updates[-1]
    assert (list(w), b) == (run.weights, run.bias)
    assert last_epoch == run.epochs - 1  # the final epoch made no update


def test_xor_never_converges_and_says_so():
    for X, y in [(X01, [0, 1, 1, 0]), (XPM, [-1, 1, 1, -1])]:
        run = nn.perceptron_learning(X, y, max_epochs=50)
        assert run.converged is False
        assert all(m > 0 for m in run.mistakes)
        # the weights came back to an earlier epoch's: a proof it can never converge
        j, k = run.cycle
        assert j < k == run.epochs <= 50
        text = repr(run)
        assert "did NOT converge" in text and "no line separates" in text
        assert run.message in text
        # and the unit it returns gets at least one point wrong
        assert predictions(run, X) != [float(t) for t in y]


def test_cycle_claim_is_true_running_longer_changes_nothing():
    short = nn.perceptron_learning(X01, [0, 1, 1, 0], max_epochs=100)
    for n in (short.cycle[1], 200):
        again = nn.perceptron_learning(X01, [0, 1, 1, 0], max_epochs=n)
        assert not again.converged
        assert again.mistakes == short.mistakes


def test_no_cycle_within_budget_says_max_epochs():
    # noisy non-separable data: float weights never repeat exactly within 3 epochs
    rng = random.Random(0)
    X = [[rng.uniform(-1, 1), rng.uniform(-1, 1)] for _ in range(40)]
    y = [rng.choice([0, 1]) for _ in X]
    run = nn.perceptron_learning(X, y, max_epochs=3)
    assert not run.converged and run.cycle is None and run.epochs == 3
    assert "in 3 epochs" in run.message and "may not be linearly separable" in run.message


def test_random_separable_data_converges_and_separates():
    rng = random.Random(1)
    w_true, b_true = [1.5, -2.0, 0.5], 0.25
    X, y = [], []
    while len(X) < 60:
        x = [rng.uniform(-1, 1) for _ in range(3)]
        s = b_true + sum(a * b for a, b in zip(w_true, x, strict=True))
        if abs(s) > 0.1:                      # a margin, so convergence is guaranteed
            X.append(x)
            y.append(1 if s > 0 else -1)
    run = nn.perceptron_learning(X, y, max_epochs=1000)
    assert run.converged
    assert predictions(run, X) == [float(t) for t in y]


def test_single_class_and_float_labels():
    run = nn.perceptron_learning([[1.0], [2.0]], [1.0, 1.0])
    assert run.converged and run.labels == "+-1"
    run = nn.perceptron_learning([[1.0], [-2.0]], [1.0, 0.0])
    assert run.converged and run.labels == "0/1"
    assert predictions(run, [[1.0], [-2.0]]) == [1.0, 0.0]


@pytest.mark.parametrize(
    "X, y, error, words",
    [
        ([], [], ValueError, "empty"),
        ([[0, 0], [1]], [0, 1], ValueError, "ragged X: X[0] has 2 inputs but X[1] has 1"),
        ([[0, 0], [1, 1]], [0], ValueError, "same length"),
        ([[]], [1], ValueError, "X[0] is empty"),
        ([[0, float("nan")]], [1], ValueError, "X[0][1]"),
        ([[0, math.inf]], [1], ValueError, "X[0][1]"),
        ([[0, "a"]], [1], TypeError, "X[0][1]"),
        ([0, 1], [0, 1], TypeError, "X[0] must be a list"),
        (["ab", "cd"], [0, 1], TypeError, "X[0] must be a list"),
        ([[0], [1]], [0, 2], ValueError, "y[1] = 2"),
        ([[0], [1]], [0, float("nan")], ValueError, "y[1] = nan"),
        ([[0], [1]], [0, 10**400], ValueError, "y[1]"),
        ([[0], [1]], [0, True], TypeError, "y[1]"),
        ([[0], [1]], [0, "1"], TypeError, "y[1]"),
        ([[0], [1], [2]], [-1, 0, 1], ValueError, "mix the two codes"),
        ([[0], [1]], [-1, 0], ValueError, "mix the two codes"),
        ("ab", [0, 1], TypeError, "X must be a list"),
    ],
)
def test_bad_input_is_named(X, y, error, words):
    with pytest.raises(error, match="perceptron_learning") as info:
        nn.perceptron_learning(X, y)
    assert words in str(info.value)


@pytest.mark.parametrize("bad", [0, -3, 1.5, True, "10", None])
def test_bad_max_epochs(bad):
    with pytest.raises((TypeError, ValueError), match="max_epochs"):
        nn.perceptron_learning(X01, GATES["AND"], max_epochs=bad)


def test_huge_inputs_overflow_is_named():
    with pytest.raises(OverflowError, match="perceptron_learning"):
        nn.perceptron_learning([[1e308, 1e308], [-1e308, 1e308]], [1, -1], max_epochs=5)


def test_all_two_input_boolean_functions():
    # 14 of the 16 functions of two bits are linearly separable; XOR and XNOR are not
    failures = []
    for y in itertools.product((0, 1), repeat=4):
        run = nn.perceptron_learning(X01, list(y))
        if not run.converged:
            failures.append(y)
        else:
            assert predictions(run, X01) == [float(t) for t in y]
    assert failures == [(0, 1, 1, 0), (1, 0, 0, 1)]


# --- fuzz: junk anywhere gives a clear error naming the function, never anything else ---

_junk = st.one_of(
    st.none(), st.booleans(), st.text(max_size=3), st.binary(max_size=3),
    st.floats(allow_nan=True, allow_infinity=True), st.integers(-3, 3),
    st.complex_numbers(max_magnitude=2),
    st.dictionaries(st.integers(0, 2), st.integers(0, 2), max_size=2),
    st.sets(st.integers(0, 2), max_size=2), st.just(10**400), st.just(object()),
)
_label = st.one_of(st.sampled_from([-1, 0, 1, -1.0, 0.0, 1.0]), _junk)
_row = st.one_of(st.lists(st.one_of(st.floats(-3, 3), _junk), min_size=0, max_size=3), _junk)


@settings(max_examples=300, deadline=None)
@given(
    X=st.one_of(st.lists(_row, max_size=4), _junk),
    y=st.one_of(st.lists(_label, max_size=4), _junk),
    max_epochs=st.one_of(st.integers(-1, 5), _junk),
)
def test_fuzz_bad_input_is_named(X, y, max_epochs):
    try:
        run = nn.perceptron_learning(X, y, max_epochs=max_epochs)
    except (TypeError, ValueError, OverflowError) as err:
        assert "perceptron_learning" in str(err)
        return
    # a valid call: a verdict that matches the returned unit
    assert 1 <= run.epochs <= max_epochs
    assert len(run.mistakes) == run.epochs and run.mistakes[-1] >= 0
    if run.converged:
        assert run.mistakes[-1] == 0
        signed = run.labels == "+-1"
        for x, t in zip(X, y, strict=True):
            want = float(t) if signed or float(t) == 1.0 else 0.0
            assert run.perceptron(list(x)).data == want


def test_recorded_updates_are_capped(monkeypatch):
    import nn.perceptron as module

    # the cap the docstring states is the one the code uses
    assert f"{module._MAX_RECORDED:,}".replace(",", " ") in nn.PerceptronRun.__doc__
    monkeypatch.setattr(module, "_MAX_RECORDED", 5)
    rng = random.Random(2)
    X = [[rng.uniform(-1, 1), rng.uniform(-1, 1)] for _ in range(30)]
    y = [rng.choice([-1, 1]) for _ in X]
    run = nn.perceptron_learning(X, y, max_epochs=20)
    assert sum(run.mistakes) > 5 and len(run.updates) == 5
    assert run.updates[0][0] == 1  # the first ones are kept
