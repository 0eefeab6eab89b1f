"""numpy in, numbers out: fit, predict, evaluate, the data helpers, metrics and losses
take numpy arrays and numpy scalars as the plain numbers they hold, and nn never
imports numpy itself."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

import nn

np = pytest.importorskip("numpy")

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SERIES = ("epoch", "loss", "val_loss", "accuracy", "val_accuracy", "grad_norm", "lr")


def train(X, y, compile_flag, **options):
    nn.manual_seed(0)
    model = nn.MLP(len(X[0]), [8, 3])
    history = nn.fit(model, X, y, loss="cross_entropy", epochs=3, batch_size=16,
                     val_split=0.25, progress=False, compile=compile_flag, **options)
    return history, [p.data for p in model.parameters()]


def same_run(a, b):
    """Every series (time aside), every summary field and every weight, compared with ==."""
    (ha, wa), (hb, wb) = a, b
    for name in SERIES:
        assert getattr(ha, name) == getattr(hb, name), name
    da, db = ha.to_dict(), hb.to_dict()
    for d in (da, db):
        del d["time"]
    assert da == db
    assert wa == wb
    json.dumps(da)  # still plain JSON: no numpy number slipped into the History


@pytest.fixture(scope="module")
def data():
    X, y = nn.make_spirals(64, k=3, seed=1)
    return X, y


@pytest.mark.parametrize("compile_flag", [False, True, None])
def test_numpy_arrays_train_to_the_history_of_the_same_lists(data, compile_flag):
    X, y = data
    lists = train(X, y, compile_flag)
    same_run(train(np.array(X), np.array(y), compile_flag), lists)
    same_run(train([np.array(row) for row in X], [np.int64(t) for t in y], compile_flag),
             lists)
    same_run(train(np.array(X), y, compile_flag), lists)


@pytest.mark.parametrize("compile_flag", [False, True])
def test_float32_arrays_train_as_the_floats_they_hold(data, compile_flag):
    X, y = data
    X32 = np.array(X, dtype=np.float32)
    as_floats = [[float(v) for v in row] for row in X32]  # float32 -> the same double
    same_run(train(X32, np.array(y, dtype=np.int32), compile_flag),
             train(as_floats, y, compile_flag))


def test_numpy_scalars_as_settings_and_validation_data(data):
    X, y = data
    Xa, ya = np.array(X), np.array(y)
    nn.manual_seed(0)
    model = nn.MLP(2, [8, 3])
    history = nn.fit(model, Xa[:48], ya[:48], val_data=(Xa[48:], ya[48:]),
                     epochs=np.int64(2), batch_size=np.int64(16), lr=np.float32(0.5),
                     seed=np.int64(3), early_stopping=np.int64(5), progress=False)
    nn.manual_seed(0)
    model2 = nn.MLP(2, [8, 3])
    reference = nn.fit(model2, X[:48], y[:48], val_data=(X[48:], y[48:]), epochs=2,
                       batch_size=16, lr=float(np.float32(0.5)), seed=3, early_stopping=5,
                       progress=False)
    same_run((history, [p.data for p in model.parameters()]),
             (reference, [p.data for p in model2.parameters()]))
    assert history.config["seed"] == 3 and type(history.config["batch_size"]) is int


def test_predict_evaluate_and_metrics_take_arrays(data):
    X, y = data
    nn.manual_seed(0)
    model = nn.MLP(2, [8, 3])
    nn.fit(model, X, y, epochs=2, progress=False)
    predicted = nn.predict(model, X)
    assert nn.predict(model, np.array(X)) == predicted
    assert nn.predict(model, [np.array(r, dtype=np.float64) for r in X]) == predicted
    assert nn.evaluate(model, np.array(X), np.array(y)) == nn.evaluate(model, X, y)
    assert nn.accuracy(np.array(predicted), np.array(y)) == nn.accuracy(predicted, y)
    assert nn.confusion_matrix(np.array(predicted), np.array(y)) == nn.confusion_matrix(
        predicted, y)


def test_data_helpers_take_arrays(data):
    X, y = data
    assert nn.train_val_split(np.array(X), np.array(y), 0.25, seed=2) == nn.train_val_split(
        X, y, 0.25, seed=2)
    assert list(nn.batches(np.array(X), np.array(y), 10, seed=1)) == list(
        nn.batches(X, y, 10, seed=1))


def grads(loss_fn, preds, targets):
    """The loss and its gradient with respect to each prediction."""
    from autograd import Value

    ps = [Value(p) for p in preds]
    out = loss_fn(ps, targets)
    out.backward()
    return out.data, [p.grad for p in ps]


@pytest.mark.parametrize(
    "loss_fn, preds, targets",
    [
        (nn.mse_loss, [0.3, -1.2, 2.5], [0.1, 0.2, 0.3]),
        (nn.binary_cross_entropy, [0.3, 0.9, 0.5], [0.0, 1.0, 1.0]),
        (nn.binary_cross_entropy_with_logits, [0.3, -1.2, 2.5], [0.0, 1.0, 1.0]),
        (nn.hinge_loss, [0.3, -1.2, 2.5], [-1.0, 1.0, 1.0]),
    ],
)
def test_losses_take_numpy_targets_and_numpy_scalar_predictions(loss_fn, preds, targets):
    expected = grads(loss_fn, preds, targets)
    assert grads(loss_fn, preds, np.array(targets)) == expected
    assert grads(loss_fn, preds, [np.float64(t) for t in targets]) == expected
    as_float32 = [float(np.float32(t)) for t in targets]  # the doubles float32 holds
    assert grads(loss_fn, preds, np.array(targets, dtype=np.float32)) == grads(
        loss_fn, preds, as_float32)
    assert loss_fn(np.array(preds), np.array(targets)).data == expected[0]
    assert loss_fn([np.float64(p) for p in preds], targets).data == expected[0]


def test_cross_entropy_takes_numpy_logits_and_class_indices():
    logits = [[0.5, -1.0, 2.0], [1.5, 0.25, -0.5]]
    targets = [2, 0]
    expected = nn.cross_entropy(logits, targets).data
    assert nn.cross_entropy(np.array(logits), np.array(targets)).data == expected
    assert nn.cross_entropy([np.array(z) for z in logits],
                            [np.int64(t) for t in targets]).data == expected
    assert nn.cross_entropy(np.array(logits[0]), np.int64(2)).data == nn.cross_entropy(
        logits[0], 2).data
    assert nn.nll_loss(np.array(logits), np.array(targets)).data == nn.nll_loss(
        logits, targets).data
    assert [v.data for v in nn.softmax(np.array(logits[0]))] == [
        v.data for v in nn.softmax(logits[0])]


def test_bad_numpy_input_is_named_like_bad_list_input():
    nn.manual_seed(0)
    model = nn.MLP(2, [3, 1])
    X = np.array([[0.0, 1.0], [np.nan, 2.0]])
    with pytest.raises(ValueError, match=r"fit: X\[1\]\[0\] = nan is not a finite number"):
        nn.fit(model, X, np.array([0, 1]), epochs=1, progress=False)
    with pytest.raises(ValueError, match="X and y must have the same length"):
        nn.fit(model, np.zeros((3, 2)), np.zeros(2, dtype=int), epochs=1, progress=False)
    with pytest.raises(TypeError, match="fit: X must be a list, got float"):
        nn.fit(model, np.array(1.5), [0], epochs=1, progress=False)
    with pytest.raises(ValueError, match=r"cross_entropy: target\[1\] = 7 is out of range"):
        nn.cross_entropy(np.zeros((2, 3)), np.array([0, 7]))


NO_NUMPY = """
import sys
import nn
assert "numpy" not in sys.modules, "import nn imported numpy"
X, y = nn.make_moons(30, seed=0)
for flag in (False, "scalar"):  # compile=True imports numpy, for step.map
    nn.manual_seed(0)
    model = nn.MLP(2, [4, 1])
    nn.fit(model, X, y, epochs=2, batch_size=8, val_split=0.2, progress=False, compile=flag)
    nn.predict(model, X)
    nn.evaluate(model, X, y)
nn.mse_loss([0.5], [1.0]); nn.cross_entropy([0.5, 1.0], 1)
nn.load_digits(n=10)
print("numpy" in sys.modules)
"""


def test_importing_nn_and_training_on_lists_never_imports_numpy():
    proc = subprocess.run([sys.executable, "-c", NO_NUMPY], capture_output=True, text=True,
                          timeout=120, cwd=REPO, env={**os.environ, "PYTHONPATH": REPO})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "False"
