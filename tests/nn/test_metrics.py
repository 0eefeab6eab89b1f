"""accuracy, confusion_matrix, and how each loss name turns outputs into classes."""

from __future__ import annotations

import pytest

import nn
from autograd import Value


class Fixed(nn.Module):
    """A model whose output for input [i] is outputs[i]: predictions checkable by hand."""

    def __init__(self, outputs):
        self._outputs = outputs

    def forward(self, x):
        out = self._outputs[int(x[0])]
        return Value(out) if isinstance(out, float) else [Value(o) for o in out]


# --- accuracy ---------------------------------------------------------------------------


def test_accuracy_hand_examples():
    assert nn.accuracy([0, 1, 1, 0], [0, 1, 0, 0]) == 0.75
    assert nn.accuracy([2, 2, 2], [2, 2, 2]) == 1.0
    assert nn.accuracy([1, 0], [0, 1]) == 0.0
    assert nn.accuracy([-1, 1, 1], [-1, -1, 1]) == pytest.approx(2 / 3)


def test_accuracy_errors():
    with pytest.raises(ValueError, match="2 predictions but 3 labels"):
        nn.accuracy([0, 1], [0, 1, 1])
    with pytest.raises(ValueError, match="empty"):
        nn.accuracy([], [])
    with pytest.raises(TypeError, match="raw model outputs"):
        nn.accuracy([Value(0.3)], [0])


# --- confusion_matrix ---------------------------------------------------------------------------


def test_confusion_matrix_rows_are_true_classes():
    preds = [0, 1, 1, 0, 2, 2, 1]
    labels = [0, 1, 0, 0, 2, 1, 1]
    # true 0: predicted 0, 1, 0 -> [2, 1, 0]; true 1: 1, 2, 1 -> [0, 2, 1]; true 2: 2 -> [0, 0, 1]
    assert nn.confusion_matrix(preds, labels) == [[2, 1, 0], [0, 2, 1], [0, 0, 1]]
    m = nn.confusion_matrix(preds, labels)
    assert sum(m[i][i] for i in range(3)) / len(preds) == nn.accuracy(preds, labels)


def test_confusion_matrix_num_classes():
    assert nn.confusion_matrix([0, 0], [0, 0], num_classes=3) == [[2, 0, 0], [0, 0, 0], [0, 0, 0]]
    assert nn.confusion_matrix([1], [0]) == [[0, 1], [0, 0]]  # K from the largest class seen
    with pytest.raises(ValueError, match="out of range for num_classes=2"):
        nn.confusion_matrix([0, 2], [0, 1], num_classes=2)
    with pytest.raises(ValueError, match="map -1/\\+1 labels to 0/1"):
        nn.confusion_matrix([-1, 1], [1, 1])
    with pytest.raises(ValueError, match="not an int class label"):
        nn.confusion_matrix([0.5], [0])
    with pytest.raises(ValueError, match="positive int"):
        nn.confusion_matrix([0], [0], num_classes=0)


# --- predict: each loss name's rule -------------------------------------------------------------


ONE = Fixed([-0.3, 0.3, 0.7])  # one output per example
POINTS = [[0], [1], [2]]


@pytest.mark.parametrize(("loss", "expected"), [
    ("auto", [0, 1, 1]),         # one output, no labels: a logit, class 1 when > 0
    ("bce_logits", [0, 1, 1]),
    ("logistic", [0, 1, 1]),
    ("hinge", [0, 1, 1]),        # score > 0
    ("mse", [0, 0, 1]),          # the lecture's squared-error classifier: output > 0.5
    ("bce", [0, 0, 1]),          # a probability: p > 0.5
])
def test_predict_one_output(loss, expected):
    assert nn.predict(ONE, POINTS, loss=loss) == expected


def test_predict_k_outputs_is_argmax():
    model = Fixed([[0.1, 2.0, -1.0], [3.0, 3.0, 0.0], [-5.0, -4.0, -1.0]])
    for loss in ("auto", "cross_entropy", "mse", "bce"):
        assert nn.predict(model, POINTS, loss=loss) == [1, 0, 2]  # ties go to the first


def test_predict_with_the_task_fit_resolved():
    X, y = [[0.0], [1.0], [2.0]], [-1, 1, 1]  # -1/+1 labels: auto picks the hinge loss
    model = nn.MLP(1, [1], activation="linear")
    history = nn.fit(model, X, y, epochs=40, lr=0.1, progress=False)
    assert history.task == {"loss": "hinge", "target": "signed", "num_classes": 2}
    assert nn.predict(model, X, loss=history.task) == y  # classes come back as -1/+1
    assert nn.predict(model, X) == [0, 1, 1]  # without the task: 0/1

    Xr, yr = [[0.0], [1.0]], [0.5, 1.5]  # regression: predictions are the outputs
    reg = nn.MLP(1, [1], activation="linear")
    history = nn.fit(reg, Xr, yr, epochs=5, progress=False)
    assert nn.predict(reg, Xr, loss=history.task) == [reg([0.0]).data, reg([1.0]).data]


def test_get_task_auto_rules_and_errors():
    assert nn.get_task("auto", [0.5, 1.0], 1).loss == "mse"
    assert nn.get_task("auto", [0, 1, 2], 3).to_dict() == {
        "loss": "cross_entropy", "target": "index", "num_classes": 3}
    assert nn.get_task("auto", [0, 1], 1).loss == "bce_logits"
    assert nn.get_task("mse", [0, 1, 2], 3).target == "onehot"
    assert nn.get_task("mse", [0, 1], 1).target == "binary"
    task = nn.get_task("cross_entropy", [0, 1], 2)
    assert nn.Task.from_dict(task.to_dict()) == task
    with pytest.raises(ValueError, match="valid names: auto, mse, bce, bce_logits, logistic"):
        nn.get_task("l1")
    with pytest.raises(ValueError, match="needs one output per example"):
        nn.get_task("bce_logits", [0, 1], 3)
    with pytest.raises(ValueError, match="needs K >= 2 outputs"):
        nn.get_task("cross_entropy", [0, 1], 1)
    with pytest.raises(ValueError, match=r"y\[2\] = 3 is out of range for 3 classes"):
        nn.get_task("cross_entropy", [0, 1, 3], 3).check_labels([0, 1, 3])


def test_task_losses_match_the_nn_losses():
    outs = [Value(0.2), Value(-1.0)]
    assert nn.get_task("mse", [0, 1], 1)(outs, [0, 1]).data == pytest.approx(
        nn.mse_loss(outs, [0.0, 1.0]).data)
    assert nn.get_task("hinge", [0, 1], 1)(outs, [0, 1]).data == pytest.approx(
        nn.hinge_loss(outs, [-1.0, 1.0]).data)
    rows = [[Value(1.0), Value(2.0)], [Value(0.5), Value(-0.5)]]
    assert nn.get_task("mse", [0, 1], 2)(rows, [1, 0]).data == pytest.approx(
        nn.mse_loss(rows, [[0.0, 1.0], [1.0, 0.0]]).data)
    assert nn.get_task("auto", [1, 0], 2)(rows, [1, 0]).data == pytest.approx(
        nn.cross_entropy(rows, [1, 0]).data)


def test_margins_are_positive_only_for_the_predicted_class():
    task = nn.get_task("mse", [0, 1], 1)
    assert task.classes == [0, 1]
    assert task.margins(Value(0.7)) == pytest.approx([-0.2, 0.2])  # threshold 0.5
    signed = nn.get_task("hinge", [-1, 1], 1)
    assert signed.classes == [-1, 1] and signed.margins(Value(-2.0)) == [2.0, -2.0]
    multi = nn.get_task("cross_entropy", [0, 1, 2], 3)
    z = [Value(1.0), Value(3.0), Value(2.0)]
    assert multi.margins(z) == [-2.0, 1.0, -1.0] and multi.predict_one(z) == 1
    assert nn.get_task("mse", [0.5], 1).classes == []  # regression
