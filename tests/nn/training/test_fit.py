"""nn.fit: learning, batching, validation, early stopping, regularisers, step 4, Ctrl-C."""

from __future__ import annotations

import io
import json
import math
import sys

import pytest

import nn
from autograd import Value

XOR_X, XOR_Y = nn.datasets.xor_gate()


class Scale(nn.Module):
    """y = w * x with one parameter: gradients small enough to check by hand."""

    def __init__(self, w: float) -> None:
        self.w = Value(w)

    def forward(self, x):
        return self.w * x[0]


class CountingSGD(nn.SGD):
    """SGD that counts its steps (and can raise KeyboardInterrupt on a chosen one)."""

    def __init__(self, params, lr, interrupt_at=None):
        super().__init__(params, lr)
        self.steps = 0
        self.interrupt_at = interrupt_at

    def step(self):
        self.steps += 1
        if self.steps == self.interrupt_at:
            raise KeyboardInterrupt
        super().step()


class Frozen:
    """An optimiser that never moves anything: the loss stays put unless step 4 acts."""

    lr = 0.0

    def step(self):
        pass


def snapshots():
    """A callback recording the weights after every epoch, by epoch number."""
    states = {}

    def record(history, model):
        states[history.epoch[-1]] = model.state_dict()

    return states, record


# --- it learns -------------------------------------------------------------------------------


def test_fit_learns_xor_to_100_percent():
    nn.manual_seed(0)
    model = nn.MLP(2, [8, 1], activation="tanh")
    history = nn.fit(model, XOR_X, XOR_Y, lr=0.1, epochs=300, progress=False)
    assert history.task == {"loss": "bce_logits", "target": "binary", "num_classes": 2}
    assert history.accuracy[-1] == 1.0
    assert nn.predict(model, XOR_X) == XOR_Y
    assert history.loss[-1] < 0.05 < history.loss[0]


def test_fit_learns_moons_to_95_percent_on_held_out_data():
    X, y = nn.make_moons(120, noise=0.1, seed=1)
    nn.manual_seed(0)
    model = nn.MLP(2, [16, 16, 1])
    history = nn.fit(model, X, y, lr=0.05, epochs=60, batch_size=32, val_split=0.25,
                     progress=False)
    assert history.config["n_train"] == 90 and history.config["n_val"] == 30
    assert history.best()["val_accuracy"] >= 0.95
    assert max(history.val_accuracy) >= 0.95


def test_cross_entropy_with_three_classes_and_predict():
    X, y = nn.make_blobs(60, centers=[[0, 0], [4, 0], [0, 4]], std=0.5, seed=0)
    nn.manual_seed(0)
    model = nn.MLP(2, [8, 3])
    history = nn.fit(model, X, y, epochs=40, lr=0.05, progress=False)
    assert history.task["loss"] == "cross_entropy"
    assert nn.accuracy(nn.predict(model, X), y) == history.accuracy[-1] == 1.0


def test_regression_reports_no_accuracy():
    X, y = nn.make_sine(40, noise=0.0, seed=0)
    nn.manual_seed(0)
    model = nn.MLP(1, [16, 1], activation="tanh")
    history = nn.fit(model, X, y, epochs=40, lr=0.02, val_split=0.25, progress=False)
    assert history.task["loss"] == "mse"
    assert history.accuracy == [None] * 40 and history.val_accuracy == [None] * 40
    assert history.loss[-1] < history.loss[0] / 4
    assert nn.evaluate(model, X, y)["accuracy"] is None


# --- batch sizes: what an epoch means --------------------------------------------------------


@pytest.mark.parametrize(("batch_size", "per_epoch", "sizes"), [
    (1, 10, [1] * 10),        # SGD: one example per update
    (3, 4, [3, 3, 3, 1]),     # mini-batch: ceil(10 / 3) updates, the last one short
    (None, 1, [10]),          # full batch: one update per epoch
])
def test_batch_size_modes_count_updates(batch_size, per_epoch, sizes):
    X = [[i / 10] for i in range(10)]
    y = [float(i) for i in range(10)]
    model = Scale(0.5)
    seen = []

    def loss(outputs, targets):
        seen.append(len(outputs))
        return nn.mse_loss(outputs, [0.0] * len(outputs))

    opt = CountingSGD(model.parameters(), lr=0.01)
    steps_per_epoch = []
    history = nn.fit(model, X, y, loss=loss, optimizer=opt, epochs=3, batch_size=batch_size,
                     progress=False,
                     callbacks=lambda h, m: steps_per_epoch.append(opt.steps))
    assert steps_per_epoch == [per_epoch, 2 * per_epoch, 3 * per_epoch]
    assert history.updates == 3 * per_epoch == opt.steps
    assert seen == sizes * 3


def test_batches_are_shuffled_each_epoch_and_seeded():
    X = [[float(i)] for i in range(8)]
    y = list(range(8))

    def order(seed):
        labels = []

        def loss(outputs, targets):
            labels.extend(targets)
            return nn.mse_loss(outputs, [0.0] * len(outputs))

        nn.fit(Scale(0.0), X, y, loss=loss, optimizer=Frozen(), epochs=2, batch_size=1,
               seed=seed, progress=False)
        return labels[:8], labels[8:]

    first, second = order(0)
    assert sorted(first) == sorted(second) == y  # every example once per epoch
    assert first != second  # a new order every epoch
    assert order(0) == (first, second)  # the same seed, the same orders
    assert order(1) != (first, second)


def test_grad_norm_is_the_mean_l2_norm_over_the_epochs_updates():
    # loss = mean((w x)^2), w = 1: for one example x the gradient is 2 w x^2.
    X, y = [[1.0], [2.0]], [0.0, 0.0]
    history = nn.fit(Scale(1.0), X, y, optimizer=Frozen(), epochs=1, batch_size=1,
                     shuffle=False, progress=False)
    assert history.grad_norm == [pytest.approx((2.0 + 8.0) / 2)]
    history = nn.fit(Scale(1.0), X, y, optimizer=Frozen(), epochs=1, progress=False)
    assert history.grad_norm == [pytest.approx((2.0 + 8.0) / 2)]  # full batch: mean gradient
    assert history.loss == [pytest.approx((1.0 + 4.0) / 2)]
    assert history.lr == [0.0] and len(history.time) == 1 and history.time[0] >= 0


# --- validation and early stopping ----------------------------------------------------------


def overfitting_setup():
    X, y = nn.make_moons(24, noise=0.35, seed=3)
    Xv, yv = nn.make_moons(40, noise=0.35, seed=4)
    nn.manual_seed(0)
    return nn.MLP(2, [24, 24, 1]), X, y, Xv, yv


def test_early_stopping_stops_and_restores_the_best_weights():
    model, X, y, Xv, yv = overfitting_setup()
    states, record = snapshots()
    history = nn.fit(model, X, y, lr=0.05, epochs=400, val_data=(Xv, yv), early_stopping=8,
                     callbacks=record, progress=False)
    best = history.best_epoch
    assert history.stopped_early and not history.interrupted
    assert history.epochs_run == best + 8 < 400  # exactly `patience` epochs without a new best
    assert history.val_loss[best - 1] == min(history.val_loss)
    assert model.state_dict() == states[best]  # the best epoch's weights are back
    assert model.state_dict() != states[history.epochs_run]
    again = nn.evaluate(model, Xv, yv)
    assert again["loss"] == pytest.approx(history.val_loss[best - 1], rel=1e-12)
    assert again["accuracy"] == history.val_accuracy[best - 1]


def test_without_validation_early_stopping_monitors_training_loss():
    model = Scale(1.0)
    history = nn.fit(model, [[1.0]], [0.0], optimizer=Frozen(), epochs=50, early_stopping=3,
                     progress=False)
    assert history.config["monitor"] == "loss"
    assert history.stopped_early and history.epochs_run == 4 and history.best_epoch == 1


def test_restore_best_false_keeps_the_last_weights():
    model, X, y, Xv, yv = overfitting_setup()
    states, record = snapshots()
    history = nn.fit(model, X, y, lr=0.05, epochs=20, val_data=(Xv, yv), restore_best=False,
                     callbacks=record, progress=False)
    assert history.best_epoch < history.epochs_run == 20
    assert model.state_dict() == states[20] != states[history.best_epoch]


def test_val_split_and_val_data_are_exclusive():
    with pytest.raises(ValueError, match="not both"):
        nn.fit(Scale(1.0), [[1.0], [2.0]], [0.0, 1.0], val_split=0.5,
               val_data=([[1.0]], [0.0]), progress=False)


# --- regularisers and step 4 -------------------------------------------------------------------


def test_regularizers_are_added_to_every_batch_loss_and_shrink_the_weights():
    def run(regularizers):
        nn.manual_seed(0)
        model = nn.MLP(2, [8, 1], activation="tanh")
        history = nn.fit(model, XOR_X, XOR_Y, lr=0.05, epochs=60, progress=False,
                         regularizers=regularizers)
        return model, history

    plain, h0 = run(None)
    single, h1 = run(lambda m: nn.l2(m, lam=0.5))
    listed, h2 = run([lambda m: nn.l2(m, lam=0.25), lambda m: nn.l2(m, lam=0.25)])

    def norm(m):
        return sum(p.data ** 2 for p in m.parameters())

    assert norm(single) < 0.8 * norm(plain)
    assert h1.loss == pytest.approx(h2.loss)  # two halves are the same penalty
    # The first epoch's loss is the same data loss plus the penalty of the initial weights.
    nn.manual_seed(0)
    initial = nn.MLP(2, [8, 1], activation="tanh")
    assert h1.loss[0] == pytest.approx(h0.loss[0] + nn.l2(initial, lam=0.5).data)


def test_perturb_shakes_the_weights_only_when_the_loss_did_not_go_down():
    nn.manual_seed(0)
    model = nn.MLP(2, [4, 1])
    start = model.state_dict()
    history = nn.fit(model, XOR_X, XOR_Y, optimizer=Frozen(), epochs=12, perturb=0.05,
                     restore_best=False, progress=False)
    expected = [e for e in range(2, 13) if history.loss[e - 1] >= history.loss[e - 2]]
    assert history.perturbed_epochs == expected and history.perturbations == len(expected) >= 1
    moved = [abs(model.state_dict()[k] - v) for k, v in start.items()]
    assert 0 < max(moved) <= 0.05 * history.perturbations

    still = nn.MLP(2, [4, 1])
    before = still.state_dict()
    quiet = nn.fit(still, XOR_X, XOR_Y, optimizer=Frozen(), epochs=5, progress=False)
    assert quiet.perturbations == 0 and still.state_dict() == before


def test_perturb_does_nothing_while_the_loss_keeps_falling():
    model = Scale(1.0)
    history = nn.fit(model, [[1.0]], [0.0], optimizer="sgd", lr=0.1, epochs=10, perturb=0.5,
                     progress=False)
    assert all(b < a for a, b in zip(history.loss, history.loss[1:], strict=False))
    assert history.perturbations == 0 and history.perturbed_epochs == []


# --- Ctrl-C -----------------------------------------------------------------------------------


def test_keyboard_interrupt_from_the_loss_returns_history_and_restores_the_best():
    model, X, y, Xv, yv = overfitting_setup()
    calls = []

    def loss(outputs, targets):
        if len(outputs) == len(X):  # a training batch (validation calls it too)
            calls.append(1)
            if len(calls) == 31:  # full batch: the 31st training call is epoch 31's
                raise KeyboardInterrupt
        return nn.binary_cross_entropy_with_logits(outputs, [float(t) for t in targets])

    states, record = snapshots()
    history = nn.fit(model, X, y, loss=loss, lr=0.05, epochs=100, val_data=(Xv, yv),
                     callbacks=record, progress=False)
    assert history.interrupted and not history.stopped_early
    assert history.epochs_run == 30 and history.updates == 30
    assert all(len(getattr(history, k)) == 30 for k in ("loss", "val_loss", "time", "lr"))
    assert model.state_dict() == states[history.best_epoch]


def test_keyboard_interrupt_in_the_optimizer_mid_epoch():
    X = [[i / 10] for i in range(10)]
    y = [0.0] * 10
    model = Scale(1.0)
    opt = CountingSGD(model.parameters(), lr=0.1, interrupt_at=25)  # epoch 3, 5th batch
    history = nn.fit(model, X, y, optimizer=opt, epochs=10, batch_size=1, progress=False)
    assert history.interrupted
    assert history.epoch == [1, 2]  # the unfinished epoch 3 is not recorded
    assert history.updates == 24  # the steps that did happen
    assert model.w.data < 1.0  # no validation: the current weights are kept


# --- the History -------------------------------------------------------------------------------


def test_history_round_trips_through_json():
    model, X, y, Xv, yv = overfitting_setup()
    history = nn.fit(model, X, y, lr=0.05, epochs=5, val_data=(Xv, yv), perturb=0.01,
                     schedule="linear", progress=False)
    text = json.dumps(history.to_dict(), allow_nan=False)
    back = nn.History.from_dict(json.loads(text))
    assert back == history
    assert back.best() == history.best() and back.best()["epoch"] == history.best_epoch
    with pytest.raises(ValueError, match="unknown keys"):
        nn.History.from_dict({**history.to_dict(), "bogus": 1})


@pytest.mark.parametrize(("key", "value"), [
    ("best_epoch", "x"), ("best_epoch", 0), ("best_epoch", 3), ("best_epoch", True),
    ("task", 5), ("task", {"loss": "mse"}), ("task", {"loss": "bce", "target": "nope",
                                                       "num_classes": 2}),
    ("epoch", [1, "2"]), ("loss", [0.5, math.nan]), ("val_loss", [math.inf, None]),
    ("accuracy", [0.5, 2.0]), ("grad_norm", [None, 1.0]), ("lr", ["0.1", 0.1]),
    ("time", [0.1, -1.0]), ("stopped_early", "no"), ("interrupted", 1), ("updates", -1),
    ("updates", 2.5), ("perturbations", None), ("perturbed_epochs", [0]), ("config", []),
    ("version", 2), ("version", "1"),
])
def test_history_from_dict_validates_every_field(key, value):
    good = nn.fit(Scale(1.0), [[1.0], [2.0]], [0.0, 1.0], epochs=2, progress=False).to_dict()
    nn.History.from_dict(good)
    with pytest.raises(ValueError) as err:
        nn.History.from_dict({**good, key: value})
    assert repr(key) in str(err.value) and "History.from_dict" in str(err.value)


def test_history_from_dict_accepts_what_fit_writes_for_every_task():
    for setup in (lambda: (nn.MLP(2, [3, 3]), *nn.make_blobs(12, centers=3, seed=1)),
                  lambda: (nn.MLP(1, [3, 1]), *nn.make_sine(12, seed=1))):
        model, X, y = setup()
        history = nn.fit(model, X, y, epochs=2, val_split=0.25, progress=False)
        back = nn.History.from_dict(json.loads(json.dumps(history.to_dict(), allow_nan=False)))
        assert back == history


def test_history_records_the_scheduled_learning_rate():
    history = nn.fit(Scale(1.0), [[1.0]], [0.0], optimizer="sgd", lr=0.1, epochs=4,
                     schedule="linear", progress=False)
    # LinearDecay(0.1, 0.01, 4): lr_k = 0.1 - 0.09 k / 4, set after each epoch.
    assert history.lr == pytest.approx([0.1, 0.0775, 0.055, 0.0325])
    sched = nn.StepLR(2, 0.5, base_lr=0.2)
    history = nn.fit(Scale(1.0), [[1.0]], [0.0], optimizer="sgd", lr=0.2, epochs=4,
                     schedule=sched, progress=False)
    assert history.lr == pytest.approx([0.2, 0.2, 0.1, 0.1])


# --- arguments ------------------------------------------------------------------------------


def test_unknown_names_list_the_valid_ones():
    model = Scale(1.0)
    with pytest.raises(ValueError, match="valid names: auto, mse, bce, bce_logits"):
        nn.fit(model, [[1.0]], [0], loss="squared", progress=False)
    with pytest.raises(ValueError, match="sgd, adam, adamw"):
        nn.fit(model, [[1.0]], [0], optimizer="rmsprop", progress=False)
    with pytest.raises(ValueError, match="constant, step, linear, cosine"):
        nn.fit(model, [[1.0]], [0], schedule="exp", progress=False)


def test_bad_arguments_are_rejected_before_training():
    model = Scale(1.0)
    opt = nn.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="lr apply only when optimizer is a name"):
        nn.fit(model, [[1.0]], [0.0], optimizer=opt, lr=0.5, progress=False)
    with pytest.raises(ValueError, match="none of the model's parameters"):
        nn.fit(model, [[1.0]], [0.0], optimizer=nn.SGD([Value(1.0)], lr=0.1), progress=False)
    with pytest.raises(ValueError, match="epochs must be an int >= 1"):
        nn.fit(model, [[1.0]], [0.0], epochs=0, progress=False)
    with pytest.raises(ValueError, match="batch_size must be >= 1"):
        nn.fit(model, [[1.0]], [0.0], batch_size=0, progress=False)
    with pytest.raises(ValueError, match=r"y\[1\] = 2 must be 0 or 1"):
        nn.fit(model, [[1.0], [2.0]], [0, 2], progress=False)
    with pytest.raises(ValueError, match="momentum applies only to the 'sgd'"):
        nn.fit(model, [[1.0]], [0.0], optimizer="adam", momentum=0.9, progress=False)
    assert model.w.data == 1.0


def test_a_diverging_loss_stops_with_a_clear_error():
    model = Scale(1.0)
    with pytest.raises(FloatingPointError, match="smaller learning rate"):
        nn.fit(model, [[1e200]], [0.0], optimizer="sgd", lr=1.0, epochs=3, progress=False)


def diverging_setup(kind):
    """(X, y, model, loss) for each kind of task fit resolves."""
    nn.manual_seed(0)
    if kind in ("bce_logits", "bce", "hinge"):
        X, y = nn.make_moons(24, seed=0)
        act = "sigmoid" if kind == "bce" else None
        return X, y, nn.MLP(2, [4, 1], output_activation=act), kind
    if kind in ("cross_entropy", "onehot_mse"):
        X, y = nn.make_blobs(24, centers=3, seed=0)
        return X, y, nn.MLP(2, [4, 3]), "mse" if kind == "onehot_mse" else kind
    X, y = nn.make_sine(24, seed=0)
    return X, y, nn.MLP(1, [4, 1]), "mse"


KINDS = ["bce_logits", "bce", "hinge", "cross_entropy", "onehot_mse", "regression"]


def fit_diverging(kind, validation, batch_size):
    X, y, model, loss = diverging_setup(kind)
    extra = {"val_split": {"val_split": 0.25}, "val_data": {"val_data": (X[:6], y[:6])},
             None: {}}[validation]
    with pytest.raises(FloatingPointError, match="at epoch .*smaller learning rate") as err:
        nn.fit(model, X, y, loss=loss, optimizer="sgd", lr=1e300, epochs=5,
               batch_size=batch_size, progress=False, **extra)
    return str(err.value)


@pytest.mark.parametrize("kind", [k for k in KINDS if k != "bce"])
@pytest.mark.parametrize("validation", [None, "val_split", "val_data"])
@pytest.mark.parametrize("batch_size", [None, 8])
def test_divergence_is_a_floating_point_error_in_every_configuration(
    kind, validation, batch_size
):
    fit_diverging(kind, validation, batch_size)


@pytest.mark.parametrize("validation", [None, "val_data"])
def test_a_nan_output_under_bce_is_divergence_not_a_bad_probability(validation):
    # With "bce" a saturated sigmoid often just stalls (gradient 0, every number
    # finite); in these runs an output turns NaN, which binary_cross_entropy
    # would refuse with a ValueError about probs.
    message = fit_diverging("bce", validation, 8)
    assert "model output on the training data became nan" in message


def test_a_diverged_validation_loss_is_a_floating_point_error_not_a_nan_history():
    X, y, model, _ = diverging_setup("regression")
    # One update: the training loss was finite before it, the validation loss after it is not.
    with pytest.raises(FloatingPointError, match="validation loss became inf at epoch 1"):
        nn.fit(model, X, y, optimizer="sgd", lr=1e100, epochs=1, val_split=0.25,
               progress=False)


@pytest.mark.parametrize("kind", KINDS)
def test_a_returned_history_is_always_strict_json(kind):
    """Across learning rates up to 1e300: either FloatingPointError, or a History that
    json.dumps accepts with allow_nan=False and a model with finite weights."""
    for lr in (0.1, 1e3, 1e10, 1e100, 1e300):
        for optimizer in ("sgd", "adam"):
            for extra in ({}, {"val_split": 0.25}, {"batch_size": 8},
                          {"batch_size": 8, "val_split": 0.25}):
                for epochs in (1, 3):
                    X, y, model, loss = diverging_setup(kind)
                    try:
                        history = nn.fit(model, X, y, loss=loss, optimizer=optimizer, lr=lr,
                                         epochs=epochs, progress=False, **extra)
                    except FloatingPointError as err:
                        assert "smaller learning rate" in str(err)
                        continue
                    json.dumps(history.to_dict(), allow_nan=False)
                    assert all(math.isfinite(p.data) for p in model.parameters())


# --- the progress bar -------------------------------------------------------------------------


class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_bar_on_a_terminal_only(monkeypatch):
    pytest.importorskip("tqdm")
    X, y = XOR_X, XOR_Y
    term = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", term)
    nn.fit(Scale(1.0), X, y, epochs=3, val_data=(X, y), progress=True)
    text = term.getvalue()
    assert "3/3" in text and "loss" in text and "val_acc" in text and "acc" in text

    term = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", term)
    nn.fit(Scale(1.0), X, y, epochs=3, progress=False)
    assert term.getvalue() == ""

    pipe = io.StringIO()  # not a terminal: no bar
    monkeypatch.setattr(sys, "stderr", pipe)
    nn.fit(Scale(1.0), X, y, epochs=3, progress=True)
    assert pipe.getvalue() == ""


def test_without_tqdm_training_runs_silently(monkeypatch):
    term = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", term)
    monkeypatch.setitem(sys.modules, "tqdm", None)  # "import tqdm" now raises ImportError
    history = nn.fit(Scale(1.0), [[1.0]], [0.0], epochs=2, progress=True)
    assert history.epochs_run == 2 and term.getvalue() == ""
    assert math.isfinite(history.loss[-1])
